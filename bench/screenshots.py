"""The README's screenshots: serve the app, answer the advisor with a realistic scenario (so the
other pages show its pre-filled values), run a small comparison with SmolLM2-135M-Instruct on facts
only its documents hold, and
save `docs/screenshots/<page>.png` (1400x1000, palette PNG under 300 KB).

    python -m bench.screenshots [--out docs/screenshots] [--no-compare-run]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from tests.e2e.streamlit_driver import (
    REPO,
    click_button,
    go_to,
    launch_chromium,
    new_page,
    open_page,
    screenshot,
    scroll_to,
    select,
    serve_app,
    set_number,
    set_text,
)

SCENARIO = "daily facts and tone"  # fine-tune for the voice, RAG for the daily facts: every page has a role
USE_CASE = "Support assistant for our online shop: answers in our brand voice about today's orders and policies"
MAX_BYTES = 300_000
FACTS = REPO / "bench" / "data" / "fictional_facts"  # facts only its documents hold


def save(page, path: Path) -> int:
    """A screenshot as a 256-colour PNG (UI colours are flat: no visible loss, a third of the bytes)."""
    from PIL import Image

    screenshot(page, path)
    Image.open(path).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
        path, optimize=True)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ValueError(f"{path} is {size} bytes; keep screenshots under {MAX_BYTES}")
    return size


def answer_advisor(page) -> None:
    select(page, "Start from an example", SCENARIO)
    set_text(page, "What do you want the model to do?", USE_CASE, testid="stTextArea")


def run_comparison(page, home: Path) -> None:
    """The comparison journey with SmolLM2-135M-Instruct (pulled by its button) on the fictional
    facts and their documents, copied where a page may read (home/data): a few minutes on a CPU."""
    shutil.copytree(FACTS, home / "data" / "facts")
    click_button(page, "Use SmolLM2-135M-Instruct")
    set_text(page, "…or a file on this machine", str(home / "data" / "facts" / "qa.jsonl"))
    set_text(page, "…or a file or folder on this machine", str(home / "data" / "facts" / "docs"))
    set_number(page, "At most this many held-out questions", 6)
    set_number(page, "Stop after this many steps", 20)
    set_number(page, "Most tokens generated per answer", 24)
    click_button(page, "Launch the comparison")
    page.get_by_role("heading", name="Metrics", exact=True).wait_for(timeout=1_800_000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--no-compare-run", action="store_true", help="Show the Compare form without a run.")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, serve_app(Path(tmp) / "home") as (url, _proc), \
            sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = new_page(browser)
        page.set_default_timeout(120_000)
        open_page(page, url)
        answer_advisor(page)
        shots = {"advisor": None, "estimator": "Estimator", "finetune": "Fine-tune", "rag": "RAG baseline",
                 "compare": "Compare"}
        for name, title in shots.items():
            if title:
                go_to(page, title)
            if name == "compare" and not args.no_compare_run:
                run_comparison(page, Path(tmp) / "home")
                scroll_to(page.get_by_role("heading", name="Metrics", exact=True), "start")
            print(f"{name}: {save(page, args.out / f'{name}.png')} bytes")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
