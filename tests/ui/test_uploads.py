"""The one upload saver of every page (common.uploads)."""
from __future__ import annotations

import pytest

from common.uploads import UploadError, save_upload

SUFFIXES = (".jsonl", ".csv")


def test_a_name_is_reduced_to_a_safe_stem_and_kept(tmp_path):
    path = save_upload("../../etc/My data (v2).CSV", b"a,b\n", tmp_path, max_bytes=100, suffixes=SUFFIXES)
    assert path == tmp_path / "My_data_v2.csv" and path.read_bytes() == b"a,b\n"


def test_the_same_upload_twice_is_one_file_and_another_file_of_that_name_a_second(tmp_path):
    first = save_upload("qa.jsonl", b"{}\n", tmp_path, max_bytes=100, suffixes=SUFFIXES)
    again = save_upload("qa.jsonl", b"{}\n", tmp_path, max_bytes=100, suffixes=SUFFIXES)
    other = save_upload("qa.jsonl", b"[]\n", tmp_path, max_bytes=100, suffixes=SUFFIXES)
    assert first == again and other == tmp_path / "qa-2.jsonl" and other.read_bytes() == b"[]\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qa-2.jsonl", "qa.jsonl"]  # no temporary left


@pytest.mark.parametrize("name, data, message", [
    ("notes.exe", b"x", "unsupported file type .exe: use one of .jsonl, .csv"),
    ("big.csv", b"x" * 101, "big.csv is 0.0 MB: the limit is 0 MB"),
])
def test_refused_uploads_say_why_in_one_line(tmp_path, name, data, message):
    with pytest.raises(UploadError, match=message.replace(".", r"\.")):
        save_upload(name, data, tmp_path, max_bytes=100, suffixes=SUFFIXES)
    assert not any(tmp_path.iterdir())


def test_a_planted_link_in_the_uploads_folder_is_neither_read_nor_written_through(tmp_path):
    folder, outside = tmp_path / "uploads", tmp_path / "outside.jsonl"
    folder.mkdir()
    outside.write_text('{"secret": 1}\n')
    (folder / "qa.jsonl").symlink_to(outside)          # same bytes as the upload: it must not be taken as it
    (folder / ".qa-2.jsonl.part").symlink_to(outside)  # a temporary name: writing must not go through it
    path = save_upload("qa.jsonl", b'{"secret": 1}\n', folder, max_bytes=100, suffixes=SUFFIXES)
    assert path == folder / "qa-2.jsonl" and not path.is_symlink() and path.read_bytes() == b'{"secret": 1}\n'
    other = save_upload("qa.jsonl", b"{}\n", folder, max_bytes=100, suffixes=SUFFIXES)
    assert other == folder / "qa-3.jsonl" and outside.read_text() == '{"secret": 1}\n'
