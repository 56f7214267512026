"""The README's screenshots: serve the app, answer the advisor with a realistic scenario (so the
other pages show its pre-filled values), run a small comparison with the tiny offline model, and
save `docs/screenshots/<page>.png` (1400x1000, palette PNG under 300 KB).

    python -m bench.screenshots [--out docs/screenshots] [--no-compare-run]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from tests.e2e.streamlit_driver import (
    REPO, click_button, go_to, launch_chromium, new_page, open_page, screenshot, scroll_to, select, serve_app,
    set_number, set_text,
)

SCENARIO = "daily facts and tone"  # fine-tune for the voice, RAG for the daily facts: every page has a role
USE_CASE = "Support assistant for our online shop: answers in our brand voice about today's orders and policies"
MAX_BYTES = 300_000
CAPITALS = [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Germany", "Berlin"),
            ("Portugal", "Lisbon"), ("Austria", "Vienna"), ("Poland", "Warsaw"), ("Greece", "Athens"),
            ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Finland", "Helsinki"), ("Ireland", "Dublin"),
            ("Hungary", "Budapest"), ("Denmark", "Copenhagen"), ("Belgium", "Brussels"),
            ("Czechia", "Prague"), ("Egypt", "Cairo"), ("Japan", "Tokyo"), ("Kenya", "Nairobi"),
            ("Peru", "Lima")]


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


def run_comparison(page, folder: Path) -> None:
    """The comparison journey with the tiny offline model on 20 capitals (a minute or more on a CPU)."""
    data = folder / "capitals.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is the capital of {c}?", "answer": a}) + "\n"
                            for c, a in CAPITALS))
    click_button(page, "Use the tiny model")
    set_text(page, "…or a file on this machine", str(data))
    set_number(page, "At most this many held-out questions", 4)
    set_number(page, "Stop after this many steps", 10)
    set_number(page, "Most tokens generated per answer", 8)
    click_button(page, "Launch the comparison")
    page.get_by_role("heading", name="Metrics", exact=True).wait_for(timeout=900_000)


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
                run_comparison(page, Path(tmp))
                scroll_to(page.get_by_role("heading", name="Metrics", exact=True), "start")
            print(f"{name}: {save(page, args.out / f'{name}.png')} bytes")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
