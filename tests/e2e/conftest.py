"""A real `streamlit run app.py` on a free loopback port, driven by Debian's headless Chromium
through Playwright (its own browser download is impossible here, so `executable_path` is set)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `pytest` (not `python -m pytest`) leaves the repo off sys.path
    sys.path.insert(0, str(REPO))

from tests.e2e.streamlit_driver import chromium_path, launch_chromium, new_page, serve_app  # noqa: E402


@pytest.fixture(scope="session")
def app_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("app-home")


@pytest.fixture(scope="session")
def app_url(app_home):
    """The app served exactly as `make run` serves it, with its home in a temp folder."""
    with serve_app(app_home) as (url, _proc):
        yield url


@pytest.fixture(scope="session")
def browser():
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    p = new_page(browser)
    yield p
    p.context.close()


@pytest.fixture(scope="session")
def shots_dir(tmp_path_factory) -> Path:
    """Screenshots go to the session's output folder, or to FTADVISOR_SCREENSHOTS when set."""
    root = Path(os.environ.get("FTADVISOR_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {root}")
    return root


# A shared 2-core machine under load: page content can take seconds to follow an action.
expect.set_options(timeout=30_000)
