"""A recommendation links to the pages that carry it out."""
from __future__ import annotations

from advisor import Answers, recommend
from ui.nav import COMPARE, ESTIMATOR, FINETUNE, PAGES, RAG, links_for

REPO_PAGES = {p.path for p in PAGES}


def _pages(**answers) -> list[str]:
    return [link.page.title for link in links_for(recommend(Answers(**answers)))]


def test_fine_tuning_links_to_sizing_training_and_comparing():
    assert _pages(needs=["tone_style"], labeled_examples=2000) == [ESTIMATOR.title, FINETUNE.title, COMPARE.title]


def test_the_hybrid_adds_the_rag_baseline():
    pages = _pages(needs=["tone_style", "fresh_facts"], knowledge_update="daily", labeled_examples=2000)
    assert pages == [ESTIMATOR.title, RAG.title, FINETUNE.title, COMPARE.title]


def test_rag_links_to_the_rag_baseline_and_never_to_training():
    assert _pages(needs=["fresh_facts"], knowledge_update="daily") == [ESTIMATOR.title, RAG.title, COMPARE.title]


def test_every_page_file_exists():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert all((root / p).is_file() for p in REPO_PAGES)
