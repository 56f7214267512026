"""The sql-eval schemas index cleanly and retrieval finds the right database's schema:
recall@3 (hit@3 by source file) over ALL 210 questions."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from rag_baseline.index import index_documents
from rag_baseline.retrieve import search
from rag_baseline.schemas import StoreConfig

# Measured 0.886 (186/210); 20 questions are about 4 databases whose dumps are not in the set
# (broker, car_dealership, derm_treatment, ewallet), so 190/210 = 0.905 is the ceiling.
RECALL_AT_3_FLOOR = 0.80

pytestmark = pytest.mark.slow  # indexes every sql-eval schema (~50 s)


@pytest.fixture(scope="module")
def sql_store(sql_eval, tmp_path_factory):
    store = StoreConfig(path=tmp_path_factory.mktemp("sql-eval-store"))
    report = index_documents([sql_eval / "schemas"], store)
    return store, report


def test_schemas_index_cleanly(sql_store):
    _, report = sql_store
    assert len(report.files_indexed) == 7 and not report.files_skipped
    assert report.chunks_total == report.chunks_added > 50


def test_recall_at_3_over_all_questions(sql_store, sql_eval):
    store, _ = sql_store
    rows = list(csv.DictReader(open(sql_eval / "questions_gen_postgres.csv", encoding="utf-8")))
    assert len(rows) == 210
    results = search([r["question"] for r in rows], store, k=3)
    hits = [any(Path(h.source).stem == r["db_name"] for h in found) for r, found in zip(rows, results, strict=True)]
    recall = sum(hits) / len(rows)
    print(f"recall@3 = {recall:.3f} ({sum(hits)}/{len(rows)})")
    assert recall >= RECALL_AT_3_FLOOR
