"""In a real browser: a "schema dump" uploaded as a document on the Compare page, with sql-exec
chosen, holds a psql shell escape and a COPY ... TO PROGRAM. Launching refuses it in one line
naming the file and the line, before any run exists, and neither command ran."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.e2e.streamlit_driver import (
    EXCEPTION_BOX,
    acting,
    click_button,
    go_to,
    multiselect_tags,
    open_page,
    set_number,
    set_text,
    wait_drawn,
    widget,
)

pytestmark = pytest.mark.browser


def _choose_scorer(page, name: str) -> None:
    """Pick `name` in the Scorers multiselect and check the tag is there; pick again when it is not.
    The page is still drawing its lazy parts just after the expander opens, and a redraw between the
    pick and the rerun it starts can drop the pick (CI, 2026-12-07, twice): a person would simply pick
    again, and so does this."""
    wait_drawn(page)
    combo = widget(page, "stMultiSelect", "Scorers").locator('input[role="combobox"]')
    combo.scroll_into_view_if_needed()
    for _ in range(4):
        try:
            with acting(page):
                combo.click()
                combo.fill(name)
                page.get_by_role("option", name=name, exact=True).first.click(timeout=15_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
        if multiselect_tags(page, "Scorers") == [name]:
            break
    page.keyboard.press("Escape")
    assert multiselect_tags(page, "Scorers") == [name]


def test_a_hostile_dump_uploaded_on_the_compare_page_is_refused_and_runs_nothing(app_url, app_home, page, tmp_path):
    data = app_home / "data" / "sql.jsonl"
    data.parent.mkdir(exist_ok=True)
    data.write_text("".join(json.dumps({"question": f"How many rows in t{i}?", "answer": f"SELECT count(*) FROM t{i}"})
                            + "\n" for i in range(6)))
    witness = tmp_path / "witness"
    witness.mkdir()
    witness.chmod(0o777)
    dump = tmp_path / "schema.sql"
    dump.write_text("CREATE TABLE public.t0 (x int);\n"
                    f"\\! id > {witness}/owned.txt\n"
                    f"COPY (SELECT current_user) TO PROGRAM 'id > {witness}/owned2.txt';\n")
    runs_before = set((app_home / "runs").glob("*")) if (app_home / "runs").exists() else set()

    open_page(page, app_url)
    go_to(page, "Compare")
    page.get_by_text("Task-aware scorers").click()
    _choose_scorer(page, "sql-exec")
    click_button(page, "Use the tiny model")
    set_text(page, "…or a file on this machine", str(data))
    set_number(page, "At most this many held-out questions", 2)
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="Upload documents")
    with acting(page):
        uploader.locator('input[type="file"]').set_input_files(str(dump))
    assert page.locator(EXCEPTION_BOX).count() == 0
    click_button(page, "Launch the comparison")

    refusal = page.locator('[data-testid="stAlertContentError"]', has_text="schema.sql")
    expect(refusal).to_have_text("sql_dumps: schema.sql line 2: refused: \\! is a psql meta-command, not SQL (a dump "
                                 "is loaded as plain SQL: nothing in it runs outside the database)")
    assert page.locator('[data-testid="stAlertContentSuccess"]', has_text="Started:").count() == 0
    assert list(witness.iterdir()) == []
    runs_after = set((app_home / "runs").glob("*")) if (app_home / "runs").exists() else set()
    assert runs_after == runs_before
    assert page.locator(EXCEPTION_BOX).count() == 0
