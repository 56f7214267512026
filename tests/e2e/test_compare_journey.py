"""Journey 3, in a real browser: on the Compare page, take SmolLM2-135M-Instruct with its button,
point at a question/answer file (facts only the documents hold), launch the comparison, watch its
stages progress, and read the result table (every arm, the same numbers as the run's results.json)."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from compare.spec import ARM_TITLES, ARMS
from tests.e2e.streamlit_driver import (
    EXCEPTION_BOX,
    click_button,
    go_to,
    open_page,
    screenshot,
    scroll_to,
    set_number,
    set_text,
    text_value,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FACTS = Path(__file__).resolve().parents[2] / "bench" / "data" / "fictional_facts" / "qa.jsonl"
RUN_TIMEOUT_MS = 600_000  # five arms on 2 shared cores: ~1 min idle, ~4 min under heavy load


def _grid(table) -> list[dict[str, str]]:
    """A st.dataframe's rows, read from the (hidden) accessible table the grid keeps beside its canvas."""
    header = [h.strip() for h in table.locator("thead th").all_text_contents()]
    rows = []
    for row in table.locator("tbody tr").all():
        rows.append(dict(zip(header, [c.strip() for c in row.locator("td").all_text_contents()], strict=True)))
    return rows


def test_launch_the_comparison_watch_it_and_read_the_results(app_url, app_home, page, shots_dir, smollm2_dir):
    # The data where a page may read it (the home's data/ folder); the model already pulled into
    # the app's models folder, as a first click on its button leaves it (a pull takes 30-80 s).
    data = app_home / "data" / "facts.jsonl"
    data.parent.mkdir(exist_ok=True)
    shutil.copy(FACTS, data)
    shutil.copytree(smollm2_dir, app_home / "models" / smollm2_dir.name, dirs_exist_ok=True)
    open_page(page, app_url)
    go_to(page, "Compare")
    click_button(page, "Use SmolLM2-135M-Instruct")
    assert Path(text_value(page, "Base model")) == app_home / "models" / smollm2_dir.name
    set_text(page, "…or a file on this machine", str(data))
    set_number(page, "At most this many held-out questions", 2)
    set_number(page, "Stop after this many steps", 2)
    set_number(page, "Most tokens generated per answer", 12)
    assert page.locator(EXCEPTION_BOX).count() == 0
    click_button(page, "Launch the comparison")
    started = page.locator('[data-testid="stAlertContentSuccess"]', has_text="Started:").inner_text()
    run_dir = Path(started.split("Started:", 1)[1].strip())
    assert run_dir.is_relative_to(app_home)

    # Stages report step/total (and an eta once a step's time is known) while the page stays live.
    progress = page.locator('[data-testid="stProgress"]').first
    expect(progress).to_contain_text(re.compile(r"\w+: \d+/\d+"), timeout=RUN_TIMEOUT_MS)
    scroll_to(progress)
    screenshot(page, shots_dir / "journey3-progress.png")
    # The page is not frozen by the run: go elsewhere and come back to it, still running or done.
    go_to(page, "Advisor")
    expect(page.locator('[data-testid="stAlertContentSuccess"]').first).to_be_visible()
    go_to(page, "Compare")
    expect(page.get_by_role("heading", name=f"Run {run_dir.name}")).to_be_visible()

    metrics = page.get_by_role("heading", name="Metrics", exact=True)
    metrics.wait_for(timeout=RUN_TIMEOUT_MS)
    table = page.locator('[data-testid="stDataFrame"]').filter(
        has=page.locator("th", has_text="exact match")).locator('table[role="grid"]').first
    table.locator("tbody tr").nth(len(ARMS) - 1).wait_for(state="attached")  # the grid fills in after the heading
    rows = _grid(table)
    by_title = {ARM_TITLES[arm]: arm for arm in ARMS}  # the table names arms by their titles
    assert {r["arm"] for r in rows} == set(by_title)
    results = json.loads((run_dir / "results.json").read_text())
    for r in rows:
        arm = results["arms"][by_title[r["arm"]]]
        assert float(r["exact match"]) == pytest.approx(arm["exact_match"])
        assert float(r["correct"]) == pytest.approx(arm["answer_correct"])
        assert float(r["format match"]) == pytest.approx(arm["format_match"]["score"], abs=1e-3)  # shown rounded
        assert 0 <= float(r["token F1"]) <= 1
    side_by_side = page.locator('[data-testid="stDataFrame"]').filter(
        has=page.locator("th", has_text="reference"))
    expect(side_by_side).to_have_count(1)  # the answers of every arm next to the reference
    assert page.locator(EXCEPTION_BOX).count() == 0
    scroll_to(metrics, "start")
    screenshot(page, shots_dir / "journey3-results.png")


def test_a_double_click_on_launch_starts_one_run(app_url, app_home, page, tiny_model_dir):
    import runs
    from tests.e2e.streamlit_driver import mark, multiselect_remove, wait_after

    data = app_home / "data" / "sums.jsonl"
    data.parent.mkdir(exist_ok=True)
    data.write_text("".join(json.dumps({"question": f"What is {i} plus {i}?", "answer": str(2 * i)}) + "\n"
                            for i in range(10)))
    model = shutil.copytree(tiny_model_dir, app_home / "models" / "tiny-dblclick", dirs_exist_ok=True)
    open_page(page, app_url)
    go_to(page, "Compare")
    set_text(page, "…or a file on this machine", str(data))
    set_text(page, "Base model", str(model))
    for arm in ("finetuned_rag", "finetuned", "rag"):  # the base arm alone: a run of seconds
        multiselect_remove(page, "Arms", ARM_TITLES[arm])
    set_number(page, "At most this many held-out questions", 2)
    set_number(page, "Most tokens generated per answer", 4)
    before = {r.run_dir for r in runs.list_runs(app_home / "runs")}
    clicks = mark(page)
    page.locator('[data-testid="stButton"] button', has_text="Launch the comparison").first.dblclick(
        delay=100
    )  # as a person does: ~0.3 s
    wait_after(page, clicks)
    go_to(page, "Compare")  # handled after any rerun the second click queued
    new = [r.run_dir for r in runs.list_runs(app_home / "runs") if r.run_dir not in before]
    assert len(new) == 1, new
    assert page.locator(EXCEPTION_BOX).count() == 0
    assert runs.wait(Path(new[0]), timeout_s=180, poll_s=0.5).state == "completed"
    # The page names the run it started: in its "Started:" line while it runs, in its results once
    # it has ended (a base-only run on the tiny model can end before the page draws again).
    expect(page.get_by_text(Path(new[0]).name).first).to_be_visible()
