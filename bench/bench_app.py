"""How fast the app answers a person: from `make run` (its `streamlit run app.py` command) to the
Advisor page being interactive in Chromium, and the advisor's recompute after an answer changes
(the browser round trip, and the pure `recommend()` call).

    python -m bench app          # writes bench/results/app.md
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.streamlit_driver import (
    REPO,
    launch_chromium,
    mark,
    new_page,
    open_page,
    serve_app,
    set_number,
    wait_after,
    wait_healthy,
    wait_idle,
    widget,
)

STARTS = 3  # fresh servers
CHANGES = 8  # answer changes in the browser
EXAMPLES_LABEL = "How many good input/output"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_startup(browser, home: Path) -> dict[str, float]:
    """Seconds from launching the server to: health check answered, first widget visible, first
    script run finished (the whole recommendation drawn)."""
    page = new_page(browser)
    try:
        start = time.perf_counter()
        with serve_app(home, wait=False) as (url, proc):
            wait_healthy(url, proc)
            healthy = time.perf_counter() - start
            page.goto(url)
            page.locator('[data-testid="stMainBlockContainer"] input').first.wait_for(timeout=120_000)
            widget = time.perf_counter() - start
            page.wait_for_function("() => window.__stRuns.finished > 0", timeout=120_000)
            wait_idle(page, timeout_ms=120_000)
            idle = time.perf_counter() - start
    finally:
        page.context.close()
    return {"healthy": healthy, "widget": widget, "idle": idle}


def time_browser_recompute(browser, url: str) -> list[float]:
    """Seconds from pressing Enter on a new number of examples to the end of the script run that
    redraws the recommendation, on the page's own clock."""
    page = new_page(browser)
    try:
        open_page(page, url)
        set_number(page, EXAMPLES_LABEL, 1)  # warm: the first sizing loads the estimator's catalogs
        field = widget(page, "stNumberInput", EXAMPLES_LABEL).locator("input")
        out = []
        for i in range(CHANGES):
            field.fill(str(1000 + 500 * i))
            before = mark(page)
            field.press("Enter")
            wait_after(page, before)
            out.append(page.evaluate("() => window.__stRuns.finishedAt - window.__stRuns.mark") / 1000)
    finally:
        page.context.close()
    return out


def time_recommend() -> tuple[float, list[float], list[float]]:
    """(`import advisor` s, calls with new answers s, repeated calls s) of the pure `recommend()`."""
    from advisor import Answers, recommend

    code = "import time; t = time.perf_counter(); import advisor; print(time.perf_counter() - t)"
    imported = float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                    cwd=REPO).stdout)  # a fresh process: nothing imported yet
    cold, warm = [], []
    for i in range(20):  # distinct answers: nothing cached
        answers = Answers(needs=["tone_style", "fresh_facts"], knowledge_update="daily",
                          labeled_examples=1000 + 37 * i, model="llama-3.1-8b", gpu="A100 80GB")
        start = time.perf_counter()
        recommend(answers)
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        recommend(answers)
        warm.append(time.perf_counter() - start)
    return imported, cold, warm


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> str:
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()[0]
    imported, cold, warm = time_recommend()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = launch_chromium(pw)
        starts = [time_startup(browser, Path(tmp) / f"home{i}") for i in range(STARTS)]
        with serve_app(Path(tmp) / "home-recompute") as (url, _proc):
            changes = time_browser_recompute(browser, url)
        browser.close()
    med = {k: statistics.median(s[k] for s in starts) for k in starts[0]}
    return "\n".join([
        "## App responsiveness",
        "",
        f"{os.cpu_count()} CPU cores, load average {load:.1f} when it started; "
        f"medians of {STARTS} fresh starts and {CHANGES} answer changes, Debian Chromium headless.",
        "",
        "| what | time |",
        "|---|---|",
        f"| `make run` command -> server answers `/_stcore/health` | {med['healthy']:.1f} s |",
        f"| `make run` command -> first Advisor widget visible in Chromium | {med['widget']:.1f} s |",
        f"| `make run` command -> Advisor fully drawn (first run finished) | {med['idle']:.1f} s |",
        f"| answer changed in the browser -> recommendation redrawn (median / max) | "
        f"{_ms(statistics.median(changes))} / {_ms(max(changes))} |",
        f"| `recommend()` with new answers (median / p95) | {_ms(statistics.median(cold))} / "
        f"{_ms(_percentile(cold, 0.95))} |",
        f"| `recommend()` again with the same answers (sizing cached; median) | {_ms(statistics.median(warm))} |",
        f"| `import advisor` | {_ms(imported)} |",
        "",
    ])


if __name__ == "__main__":
    print(main())
