"""Serve the app as `make run` does and drive it the way a person does, in Debian's Chromium.

Shared by the browser tests (`tests/e2e/`), `bench/bench_app.py` and `bench/screenshots.py`.
Waits read the state the Streamlit front end publishes on its root element
(`data-test-script-state`, the attribute Streamlit's own Playwright tests wait on): an action
waits for the script run it started to finish, never for a fixed time.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.wait import serves, wait_until

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION_BOX = '[data-testid="stException"]'
# A shared 2-core machine under load: a rerun that imports a page's libraries can take seconds.
WAIT_MS = 90_000


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streamlit_command(port: int) -> list[str]:
    """`make run`'s command line. The file watcher is off: other work in the same tree must not
    turn the app into a "source changed, rerun?" prompt in the middle of a test."""
    return [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
            "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 90) -> None:
    wait_until(lambda: serves(f"{url}/_stcore/health", proc, "streamlit"), timeout_s=timeout_s, poll_s=0.2,
               what=f"healthy streamlit at {url}")


@contextlib.contextmanager
def serve_app(home: Path, wait: bool = True) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run app.py` on a free loopback port with FTADVISOR_HOME=home; yields (url, process)."""
    port = free_port()
    env = {**os.environ, "FTADVISOR_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
           "TOKENIZERS_PARALLELISM": "false"}
    home.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with open(home / "streamlit.log", "w") as log:
        proc = subprocess.Popen(streamlit_command(port), cwd=REPO, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            if wait:
                wait_healthy(url, proc)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def launch_chromium(playwright):
    path = chromium_path()
    if path is None:
        raise FileNotFoundError("Debian's chromium is not installed (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


# -- waiting -----------------------------------------------------------------------------------
# Counts script runs from the root element's `data-test-script-state` transitions, so a wait after
# an action ends when the run the action started has finished, however late it starts.
RUN_COUNTER_JS = """
(() => {
  const runs = window.__stRuns = {started: 0, finished: 0, mark: 0};
  let last = null;
  const seen = (state) => {
    if (state === last) return;
    if (state === "running") runs.started++;
    if (last === "running") { runs.finished++; runs.finishedAt = performance.now(); }
    last = state;
  };
  const observe = () => new MutationObserver((records) => {
    for (const r of records) if (r.attributeName) seen(r.target.getAttribute(r.attributeName));
  }).observe(document.documentElement, {subtree: true, attributes: true,
                                        attributeFilter: ["data-test-script-state"]});
  if (document.documentElement) observe(); else document.addEventListener("DOMContentLoaded", observe);
})();
"""
NO_RUN_MS = 5000  # an action that starts no run within this long (on a loaded machine) started none


def new_page(browser, **context_args):
    """A page in its own browser context, counting Streamlit script runs (see `wait_after`)."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, **context_args)
    context.add_init_script(RUN_COUNTER_JS)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def wait_idle(page, timeout_ms: int = WAIT_MS) -> None:
    """Wait until no script run is in progress."""
    page.wait_for_selector(APP_IDLE, timeout=timeout_ms, state="attached")


def mark(page) -> list[int]:
    """Call before an action; pass the result to `wait_after`."""
    return page.evaluate("() => { const r = window.__stRuns; r.mark = performance.now(); "
                         "return [r.started, r.finished]; }")


def wait_after(page, before: list[int], timeout_ms: int = WAIT_MS) -> None:
    """Wait until the script run an action started has finished (or, when none started within
    NO_RUN_MS, until the app is idle)."""
    page.wait_for_function(
        """([started, finished, noRunMs]) => {
            const r = window.__stRuns;
            const app = document.querySelector('[data-testid="stApp"]');
            const idle = app && app.getAttribute("data-test-script-state") === "notRunning";
            if (!idle) return false;
            return r.finished > finished || (r.started === started && performance.now() - r.mark > noRunMs);
        }""", arg=[*before, NO_RUN_MS], timeout=timeout_ms, polling=50)


def wait_drawn(page, timeout_ms: int = WAIT_MS) -> None:
    """Wait until lazily loaded elements (file uploaders, charts) have replaced their skeletons."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')",
                           timeout=timeout_ms, polling=100)


def screenshot(page, path: Path) -> None:
    """What a person sees once the page is drawn; animations off so progress bars are steady."""
    wait_drawn(page)
    page.screenshot(path=path, animations="disabled")


def open_page(page, url: str, path: str = "") -> None:
    page.goto(f"{url}/{path}")
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=WAIT_MS)
    wait_idle(page)


@contextlib.contextmanager
def acting(page) -> Iterator[None]:
    """Wrap an action: on exit, wait for the script run it started to finish."""
    before = mark(page)
    yield
    wait_after(page, before)


def go_to(page, title: str) -> None:
    """Navigate like a person: the sidebar link (keeps the session, unlike a fresh URL)."""
    with acting(page):
        page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()


def exception_count(page) -> int:
    return page.locator(EXCEPTION_BOX).count()


# -- widgets, found by their label ----------------------------------------------------------------
def widget(page, testid: str, label: str):
    return page.locator(f'[data-testid="{testid}"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label)).first


def _combobox(page, testid: str, label: str):
    return widget(page, testid, label).locator('input[role="combobox"]')


def _pick(page, combo, option: str) -> None:
    """Open a combobox (react-aria), type to filter, click the option whose text is `option`."""
    combo.click()
    combo.fill(option)
    page.get_by_role("option", name=option, exact=True).first.click()


def select(page, label: str, option: str) -> None:
    """Choose `option` (its displayed text) in the `st.selectbox` labelled `label`."""
    with acting(page):
        _pick(page, _combobox(page, "stSelectbox", label), option)


def selected(page, label: str) -> str:
    return _combobox(page, "stSelectbox", label).input_value()


def multiselect_add(page, label: str, option: str) -> None:
    """Pick `option` and check its tag is there; pick again when it is not. A redraw between the
    pick and the rerun it starts (lazy parts still drawing on a loaded machine) can drop the pick:
    CI lost one twice on 2026-12-07. A person would pick again, and so does this."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    wait_drawn(page)
    combo = _combobox(page, "stMultiSelect", label)
    combo.scroll_into_view_if_needed()
    for _ in range(4):
        try:
            with acting(page):
                combo.click()
                combo.fill(option)
                page.get_by_role("option", name=option, exact=True).first.click(timeout=15_000)
        except PlaywrightTimeout:
            pass
        page.keyboard.press("Escape")
        if option in multiselect_tags(page, label):
            return
    raise AssertionError(f"{option!r} could not be picked in {label!r}: tags {multiselect_tags(page, label)}")


def multiselect_tags(page, label: str) -> list[str]:
    tags = widget(page, "stMultiSelect", label).locator("[data-tag]")
    return [t.strip() for t in tags.all_inner_texts()]


def multiselect_remove(page, label: str, option: str) -> None:
    """Remove `option`'s tag and check it is gone; remove again when a redraw kept it (as in
    `multiselect_add`)."""
    remove = widget(page, "stMultiSelect", label).get_by_role("button", name=f"Remove {option}")
    for _ in range(4):
        if option not in multiselect_tags(page, label):
            return
        with acting(page):
            remove.click()
    raise AssertionError(f"{option!r} could not be removed from {label!r}: tags {multiselect_tags(page, label)}")


def set_toggle(page, label: str, on: bool) -> None:
    box = widget(page, "stCheckbox", label)
    if box.locator("input").is_checked() != on:
        with acting(page):
            box.locator("label").first.click()


def set_number(page, label: str, value: float) -> None:
    field = widget(page, "stNumberInput", label).locator("input")
    with acting(page):
        field.fill(str(value))
        field.press("Enter")


def number_value(page, label: str) -> str:
    return widget(page, "stNumberInput", label).locator("input").input_value()


def set_text(page, label: str, value: str, testid: str = "stTextInput") -> None:
    """Type into a text input (Enter commits) or a text area (Ctrl+Enter commits)."""
    field = widget(page, testid, label).locator("input, textarea").first
    with acting(page):
        field.fill(value)
        field.press("Enter" if testid == "stTextInput" else "Control+Enter")


def text_value(page, label: str, testid: str = "stTextInput") -> str:
    return widget(page, testid, label).locator("input, textarea").first.input_value()


def click_button(page, text: str) -> None:
    with acting(page):
        page.locator('[data-testid="stButton"] button, [data-testid="stFormSubmitButton"] button',
                     has_text=text).first.click()


def scroll_to(locator, block: str = "center") -> None:
    """Bring an element to the middle of the view (a screenshot shows what surrounds it)."""
    locator.evaluate(f"e => e.scrollIntoView({{block: '{block}'}})")
