"""Readers for every supported type; bad files are skipped with a reason, never fatal."""
from __future__ import annotations

import json

import pytest

from rag_baseline.errors import RagError
from rag_baseline.ingest import read_document, read_documents


def _pdf(path, lines):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for n, line in enumerate(lines):
        c.drawString(72, 800 - 20 * n, line)
    c.showPage()
    c.save()


def test_every_reader(tmp_path):
    (tmp_path / "a.csv").write_text("name,city\nAda,London\nAlan,Wilmslow\n")
    (tmp_path / "b.json").write_text(json.dumps([{"q": "capital of France?", "a": "Paris"}]))
    (tmp_path / "c.jsonl").write_text('{"q": "one"}\n\n{"q": "two"}\n')
    (tmp_path / "d.html").write_text("<html><head><style>p{}</style><script>var x=1;</script></head>"
                                     "<body><h2>Title</h2><p>Hello <b>world</b></p></body></html>")
    _pdf(tmp_path / "e.pdf", ["The warranty lasts two years."])
    texts = {p.name: read_document(p) for p in sorted(tmp_path.iterdir())}
    assert "name: Ada\ncity: London" in texts["a.csv"].text
    assert "q: capital of France?\na: Paris" == texts["b.json"].text
    assert texts["c.jsonl"].text == "q: one\n\nq: two"
    assert texts["d.html"].text == "## Title\n\nHello world" and texts["d.html"].kind == "markdown"
    assert "warranty lasts two years" in texts["e.pdf"].text


def test_binary_unreadable_and_unsupported_files_are_skipped_and_listed(tmp_path):
    (tmp_path / "good.md").write_text("# Fine\n\nReadable text.")
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (tmp_path / "empty.md").write_text("   \n")
    (tmp_path / "bad.json").write_text("{oops")
    locked = tmp_path / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    docs, skipped = read_documents([tmp_path])
    assert [d.path.name for d in docs] == ["good.md"] + (["locked.txt"] if _can_read(locked) else [])
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in skipped}
    assert "binary" in reasons["blob.txt"]
    assert reasons["latin1.txt"] == "not UTF-8 text (byte 0xe9 at line 1, column 4): re-save it as UTF-8"
    assert "unsupported file type .png" in reasons["image.png"]
    assert "PDF" in reasons["broken.pdf"]
    assert "no text" in reasons["empty.md"]
    assert "invalid JSON" in reasons["bad.json"]
    if not _can_read(locked):
        assert "cannot read" in reasons["locked.txt"]


def _can_read(path) -> bool:
    try:
        path.read_bytes()
        return True
    except OSError:
        return False


def test_empty_folder_and_missing_path_are_clear_errors(tmp_path):
    with pytest.raises(RagError, match="the folder is empty"):
        read_documents([tmp_path])
    with pytest.raises(RagError, match="no such file or folder"):
        read_documents([tmp_path / "nope"])


def test_a_folder_walk_never_follows_a_link_out_of_the_folder(tmp_path):
    outside = tmp_path / "outside"
    (outside / "more").mkdir(parents=True)
    (outside / "secrets.txt").write_text("PASSWORD=hunter2\n")
    (outside / "more" / "keys.md").write_text("PASSWORD=hunter2\n")
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "guide.md").write_text("# Guide\n\nRefunds take 14 days.")
    (docs / "notes.txt").symlink_to(outside / "secrets.txt")           # a file link out
    (docs / "sub" / "more").symlink_to(outside / "more")               # a folder link out
    (docs / "sub" / "again.md").symlink_to(docs / "guide.md")          # a link that stays inside
    (docs / "sub" / "nowhere.md").symlink_to(tmp_path / "absent.md")   # dangling, outside
    documents, skipped = read_documents([docs])
    assert sorted(d.path.name for d in documents) == ["guide.md"]     # the inside link is the same file
    assert all("PASSWORD" not in d.text for d in documents)
    reasons = {s.path: s.reason for s in skipped}
    for link in ("notes.txt", "sub/more", "sub/nowhere.md"):
        assert reasons[str(docs / link)] == f"a symlink that leads out of {docs}: not followed"


def test_a_deeply_nested_json_document_is_skipped_with_why(tmp_path):
    (tmp_path / "good.md").write_text("# Fine\n\nReadable text.")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "deep.jsonl").write_text('{"q": "one"}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    docs, skipped = read_documents([tmp_path])
    assert [d.path.name for d in docs] == ["good.md"]
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in skipped}
    assert reasons["deep.json"] == "invalid JSON: nested too deeply (more levels than Python's JSON reader takes)"
    assert (
        reasons["deep.jsonl"]
        == "invalid JSON on line 2: nested too deeply (more levels than Python's JSON reader takes)"
    )
