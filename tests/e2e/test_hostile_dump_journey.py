"""In a real browser: a "schema dump" uploaded as a document on the Compare page, with sql-exec
chosen, holds a psql shell escape and a COPY ... TO PROGRAM. Launching refuses it in one line
naming the file and the line, before any run exists, and neither command ran."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.streamlit_driver import (
    EXCEPTION_BOX,
    acting,
    click_button,
    go_to,
    multiselect_add,
    multiselect_tags,
    open_page,
    set_number,
    set_text,
)

pytestmark = pytest.mark.browser


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
    multiselect_add(page, "Scorers", "sql-exec")
    assert multiselect_tags(page, "Scorers") == ["sql-exec"]
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
