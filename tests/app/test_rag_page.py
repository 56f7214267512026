"""The RAG page with Streamlit's AppTest: upload + folder -> index (progress) -> stats -> ask,
retrieval only and with the tiny model; bad input shows one error line, never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[2] / "app_pages" / "rag_page.py"


@pytest.fixture
def docs(tmp_path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "refunds.md").write_text("# Refunds\n\nRefunds are paid within 14 days of the request.\n")
    (folder / "blob.txt").write_bytes(b"\x00\x01binary")
    return folder


def test_index_stats_and_ask(pages_may_read, tmp_path, docs, tiny_model_dir):
    at = AppTest.from_file(str(PAGE), default_timeout=180).run()
    assert not at.exception
    at.text_input(key="rag_store_dir").set_value(str(tmp_path / "store"))
    at.text_input(key="rag_docs_dir").set_value(str(docs))
    at.file_uploader(key="rag_upload").set_value(
        ("../shipping notes.txt", b"We ship to France and Spain.", "text/plain")
    )
    at.button(key="rag_index_btn").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "2 file(s) indexed" in at.success[0].value
    assert any("blob.txt" in w.value and "binary" in w.value for w in at.warning)
    assert at.get("progress")  # the bar
    assert at.metric[0].value == "2"  # chunks
    files = at.dataframe[0].value["file"].tolist()
    assert "shipping_notes.txt" in files  # shown by its file name, never its path
    uploads = tmp_path / "ftadvisor-home" / "uploads"
    assert [p.name for p in uploads.iterdir()] == ["shipping_notes.txt"]  # "../" never used as a path

    at.text_input(key="rag_question").set_value("How long do refunds take?")
    at.button(key="rag_ask_btn").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.expander[0].label.startswith("[1] 0.") and "refunds.md" in at.expander[0].label
    assert "retrieval only" in at.caption[-1].value

    at.text_input(key="rag_model").set_value(str(tiny_model_dir))
    at.button(key="rag_ask_btn").click().run()
    assert not at.exception and not at.error
    assert any(m.value == "**Answer**" for m in at.markdown)
    assert "new tokens" in at.caption[-1].value


def test_a_typed_folder_outside_the_readable_folders_is_refused(tmp_path):
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    at.text_input(key="rag_docs_dir").set_value(str(tmp_path))
    at.button(key="rag_index_btn").click().run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith(f"docs: {tmp_path} is outside the folders")


def test_bad_input_shows_clear_errors(pages_may_read, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("milk")
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    at.text_input(key="rag_store_dir").set_value(str(tmp_path / "notes"))
    at.button(key="rag_index_btn").click().run()
    assert "upload documents or give a folder first" in at.error[0].value
    at.text_input(key="rag_docs_dir").set_value(str(tmp_path / "notes"))
    at.button(key="rag_index_btn").click().run()
    assert not at.exception and "is not a Chroma store" in at.error[0].value
    at.text_input(key="rag_collection").set_value("x")
    at.run()
    assert "collection must be 3-512 characters" in at.error[0].value


def test_a_link_in_a_readable_folder_that_leads_out_is_not_indexed(pages_may_read, tmp_path, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "secrets.txt"  # not under FTADVISOR_DATA_DIRS' tmp_path
    outside.write_text("PASSWORD=hunter2 is the admin password.\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "refunds.md").write_text("# Refunds\n\nRefunds are paid within 14 days.\n")
    (docs / "password.txt").symlink_to(outside)
    at = AppTest.from_file(str(PAGE), default_timeout=180).run()
    at.text_input(key="rag_store_dir").set_value(str(tmp_path / "store"))
    at.text_input(key="rag_docs_dir").set_value(str(docs))
    at.button(key="rag_index_btn").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "1 file(s) indexed" in at.success[0].value
    assert [w.value for w in at.warning] == [f"skipped {docs / 'password.txt'}: a symlink that leads out of {docs}: "
                                             "not followed"]
    at.text_input(key="rag_question").set_value("What is the admin password?")
    at.button(key="rag_ask_btn").click().run()
    assert not at.exception and "PASSWORD" not in str([e.label for e in at.expander] + [m.value for m in at.markdown])


def test_a_double_click_on_index_indexes_each_file_once(pages_may_read, tmp_path, docs):
    at = AppTest.from_file(str(PAGE), default_timeout=180).run()
    at.text_input(key="rag_store_dir").set_value(str(tmp_path / "store"))
    at.text_input(key="rag_docs_dir").set_value(str(docs))
    at.button(key="rag_index_btn").click().run()
    at.button(key="rag_index_btn").click().run()
    assert not at.exception and not at.error
    assert "0 file(s) indexed, 1 unchanged" in at.success[0].value and "1 in total" in at.success[0].value
    assert at.metric[0].value == "1"  # chunks: none twice
