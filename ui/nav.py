"""The app's pages, and links from a recommendation to the pages that run it.

`app.py` registers `PAGES`; `st.page_link` takes the same file paths, so a link keeps the session
(the advisor's answers travel with it, see `ui.handoff`)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from common.vocabulary import APPROACH_METHOD, FINETUNE_APPROACHES, METHOD_LABELS


class PageInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    title: str
    icon: str
    url_path: str


ADVISOR = PageInfo(path="app_pages/advisor_page.py", title="Advisor", icon=":material/explore:", url_path="advisor")
ESTIMATOR = PageInfo(path="app_pages/estimator_page.py", title="Estimator", icon=":material/calculate:",
                     url_path="estimator")
FINETUNE = PageInfo(path="app_pages/finetune_page.py", title="Fine-tune", icon=":material/model_training:",
                    url_path="finetune")
RAG = PageInfo(path="app_pages/rag_page.py", title="RAG baseline", icon=":material/library_books:", url_path="rag")
COMPARE = PageInfo(path="app_pages/compare_page.py", title="Compare", icon=":material/balance:", url_path="compare")
PAGES = [ADVISOR, ESTIMATOR, FINETUNE, RAG, COMPARE]



class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: PageInfo
    label: str


def links_for(rec) -> list[Link]:
    """The pages that carry out `rec` (an `advisor.Recommendation`), in the order to visit them."""
    approach, uses_rag = rec.primary, rec.primary == "rag" or "rag" in rec.combine_with
    links = []
    if approach in FINETUNE_APPROACHES:
        method = METHOD_LABELS[APPROACH_METHOD[approach]]
        links.append(Link(page=ESTIMATOR, label=f"Size the {method} run: memory, GPUs, cost"))
    else:
        links.append(Link(page=ESTIMATOR, label="Size serving the model: memory and GPUs"))
    if uses_rag:
        links.append(Link(page=RAG, label="Build the RAG baseline on your documents"))
    if approach in FINETUNE_APPROACHES:
        recipe = (rec.recipe or "sft").upper()
        links.append(Link(page=FINETUNE, label=f"Launch the {method} ({recipe}) job"))
    links.append(Link(page=COMPARE, label="Compare prompting, RAG and fine-tuning on your data"))
    return links


def show_links(rec) -> None:
    """One `st.page_link` per page that runs the recommendation."""
    import streamlit as st

    for link in links_for(rec):
        st.page_link(link.page.path, label=link.label, icon=link.page.icon)
