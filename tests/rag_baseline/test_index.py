"""Index, re-index, change, delete, query and answer against a real embedded Chroma and a real
`chroma run` server; a store reopened in a new process still has its data."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from rag_baseline.answer import NOT_COVERED, answer, answer_many
from rag_baseline.errors import RagError
from rag_baseline.index import index_documents
from rag_baseline.retrieve import search
from rag_baseline.schemas import StoreConfig
from rag_baseline.store import store_stats, write_lock

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["embedded", "server"])
def store(request, tmp_path) -> StoreConfig:
    collection = f"t-{uuid.uuid4().hex[:12]}"  # the server is shared by the session
    if request.param == "server":
        return StoreConfig(url=request.getfixturevalue("chroma_server"), collection=collection)
    return StoreConfig(path=tmp_path / "store", collection=collection)


def _sources(hits) -> set[str]:
    return {Path(h.source).name for h in hits}


def test_index_reindex_change_delete_and_query(store, docs):
    first = index_documents([docs], store, chunk_size=300, chunk_overlap=30)
    assert sorted(Path(p).name for p in first.files_indexed) == ["orders.sql", "refunds.md", "shipping.txt"]
    assert first.chunks_added == first.chunks_total > 0

    again = index_documents([docs], store, chunk_size=300, chunk_overlap=30)
    assert again.chunks_added == again.chunks_deleted == 0 and len(again.files_unchanged) == 3
    assert again.chunks_total == first.chunks_total  # no duplicates

    [hits] = search(["How long does a refund take?"], store, k=2)
    assert Path(hits[0].source).name == "refunds.md" and "14 days" in hits[0].text
    assert hits[0].score >= hits[1].score and hits[0].rank == 1

    (docs / "refunds.md").write_text("# Refund policy\n\nRefunds now take 30 days and go to store credit.\n")
    changed = index_documents([docs], store, chunk_size=300, chunk_overlap=30)
    assert [Path(p).name for p in changed.files_indexed] == ["refunds.md"] and changed.chunks_deleted >= 1
    texts = [h.text for h in search(["How long does a refund take?"], store, k=10)[0]]
    assert any("30 days" in t for t in texts) and not any("14 days" in t for t in texts)

    (docs / "shipping.txt").unlink()
    removed = index_documents([docs], store, chunk_size=300, chunk_overlap=30)
    assert [Path(p).name for p in removed.sources_removed] == ["shipping.txt"]
    assert "shipping.txt" not in _sources(search(["Which countries do you ship to?"], store, k=10)[0])
    stats = store_stats(store)
    assert sorted(Path(s.source).name for s in stats.sources) == ["orders.sql", "refunds.md"]
    assert stats.chunks == removed.chunks_total


def test_answer_cites_the_retrieved_sources(store, docs, tiny_model_dir):
    index_documents([docs], store)
    result = answer("How long does a refund take?", store, str(tiny_model_dir), k=2, max_new_tokens=8)
    assert result.covered and result.hits and Path(result.hits[0].source).name == "refunds.md"
    assert "[1] (source: refunds.md)" in result.prompt  # a file name, never a path of this machine
    assert str(docs) not in result.prompt
    assert result.timings.new_tokens > 0 and result.timings.generate_s > 0 and result.timings.prompt_tokens > 0
    assert result.timings.retrieve_s > 0


def test_threshold_says_the_documents_do_not_cover_it(tmp_path, docs, tiny_model_dir):
    store = StoreConfig(path=tmp_path / "store")
    index_documents([docs], store)
    off_topic, on_topic = answer_many(["What is the airspeed velocity of an unladen swallow?",
                                       "Which countries do you ship to?"], store, None, min_score=0.5)
    assert not off_topic.covered and off_topic.answer == NOT_COVERED and not off_topic.hits
    assert on_topic.covered and Path(on_topic.hits[0].source).name == "shipping.txt"


def test_mmr_keeps_the_best_hit_and_drops_near_duplicates(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    for n in range(3):
        (folder / f"copy{n}.txt").write_text("Our office opens at nine in the morning on weekdays.")
    (folder / "other.txt").write_text("The office is closed on public holidays and weekends.")
    store = StoreConfig(path=tmp_path / "store")
    index_documents([folder], store)
    [plain] = search(["When does the office open?"], store, k=2)
    [diverse] = search(["When does the office open?"], store, k=2, mmr=True)
    assert plain[0].text == diverse[0].text and plain[1].text == plain[0].text
    assert diverse[1].text != diverse[0].text and Path(diverse[1].source).name == "other.txt"


def test_bad_files_are_skipped_and_listed_and_the_rest_indexed(tmp_path, docs):
    (docs / "blob.txt").write_bytes(b"\x00\xff\x00")
    report = index_documents([docs], StoreConfig(path=tmp_path / "store"))
    assert [Path(s.path).name for s in report.files_skipped] == ["blob.txt"]
    assert "binary" in report.files_skipped[0].reason and len(report.files_indexed) == 3
    assert "skipped" in report.summary() and "blob.txt" in report.summary()


def test_only_bad_files_is_an_error(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "blob.txt").write_bytes(b"\x00")
    with pytest.raises(RagError, match="no readable documents.*binary"):
        index_documents([tmp_path / "d"], StoreConfig(path=tmp_path / "store"))


def test_one_writer_at_a_time(tmp_path, docs):
    store = StoreConfig(path=tmp_path / "store")
    with write_lock(store):
        with pytest.raises(RagError, match="another process .* is writing"):
            index_documents([docs], store)
    index_documents([docs], store)  # released


def test_folder_that_is_not_a_chroma_store(tmp_path, docs):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("buy milk")
    store = StoreConfig(path=tmp_path / "notes")
    with pytest.raises(RagError, match="is not a Chroma store"):
        index_documents([docs], store)
    with pytest.raises(RagError, match="is not a Chroma store"):
        search(["anything"], store)
    with pytest.raises(RagError, match="no Chroma store at .*index documents first"):
        store_stats(StoreConfig(path=tmp_path / "empty"))


def test_damaged_store_file_is_a_clear_error(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "chroma.sqlite3").write_text("this is not sqlite")
    with pytest.raises(RagError, match="Chroma store"):
        store_stats(StoreConfig(path=tmp_path / "bad"))


def test_unreachable_server_is_a_clear_error(docs):
    import socket

    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = StoreConfig(url=f"http://127.0.0.1:{port}")
    with pytest.raises(RagError, match="cannot reach the Chroma server.*chroma run"):
        index_documents([docs], store)


@pytest.mark.slow  # indexes, then a second process loads the embedder (~13 s)
def test_store_reopened_in_a_new_process_has_the_data(tmp_path, docs):
    store = StoreConfig(path=tmp_path / "store", collection="kbase")
    index_documents([docs], store)
    out = subprocess.run(
        [sys.executable, "-m", "cli", "rag", "search", "How long does a refund take?", "--store",
         str(store.path), "--collection", "kbase", "--k", "2", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )
    assert out.returncode == 0, out.stderr
    [entry] = json.loads(out.stdout)
    assert Path(entry["hits"][0]["source"]).name == "refunds.md" and entry["hits"][0]["score"] > 0.3
    assert set(entry["hits"][0]) >= {"source", "score", "text"}


def test_unknown_collection_lists_the_existing_ones(chroma_server, docs):
    store = StoreConfig(url=chroma_server, collection=f"k-{uuid.uuid4().hex[:8]}")
    index_documents([docs], store)
    missing = store.model_copy(update={"collection": "no-such-collection"})
    with pytest.raises(RagError, match=f"no collection 'no-such-collection'.*{store.collection}"):
        search(["refunds"], missing)
