"""The Compare page through the real app router: pre-filled from the advisor, a real (small)
comparison launched from the page, its stages, and its results rendered."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import runs

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture
def page():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.run().switch_page("app_pages/compare_page.py")
    at.run()
    assert not at.exception
    return at


def test_page_renders_every_setting(page):
    keys = {w.key for kind in ("text_input", "selectbox", "number_input", "checkbox", "multiselect")
            for w in getattr(page, kind)}
    assert {"cmp_data_path", "cmp_model", "cmp_arms", "cmp_gpu", "cmp_ft_method", "cmp_ft_max_steps",
            "cmp_eval_count", "cmp_rag_k", "cmp_gen_max_new_tokens"} <= keys
    assert page.button(key="cmp_launch_btn").disabled  # nothing to launch yet
    assert page.number_input(key="cmp_ft_lora_alpha").value is None  # empty: 2 x the rank typed beside it


def test_prefilled_from_the_advisor():
    from advisor import Answers, recommend
    from advisor.handoff import trainable_model

    answers = Answers(needs=["output_format", "specialized_reasoning"], labeled_examples=5000,
                      prompting_result="fails", domain_coverage="proprietary", model="llama-3.1-8b",
                      gpu="rtx-4090", gpu_count=1)
    rec = recommend(answers)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["answers"] = answers
    at.session_state["recommendation"] = rec
    at.run()
    at.run().switch_page("app_pages/compare_page.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key="cmp_gpu").value == "RTX 4090"
    assert rec.finetune is not None  # these answers call for a fine-tune
    assert at.selectbox(key="cmp_ft_method").value == "auto"  # QLoRA on a GPU, LoRA on this CPU
    assert at.number_input(key="cmp_ft_lora_rank").value == rec.finetune.lora_rank
    assert at.text_input(key="cmp_model").value == trainable_model(rec.finetune.model)  # the hub id


def test_a_typed_path_outside_the_readable_folders_is_refused(page, tmp_path):
    secret = tmp_path / "elsewhere" / "credentials.json"
    secret.parent.mkdir()
    secret.write_text("{}")
    page.text_input(key="cmp_data_path").set_value(str(secret)).run()
    assert not page.exception
    assert [e.value for e in page.error] == [
        e.value for e in page.error if e.value.startswith(f"data: {secret} is outside the folders this app may read")]
    assert len(page.error) == 1 and "FTADVISOR_DATA_DIRS" in page.error[0].value
    assert page.button(key="cmp_launch_btn").disabled


@pytest.mark.slow
def test_launch_from_the_page_and_see_the_results(pages_may_read, page, tiny_model_dir, tmp_path):
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {i} plus {i}?", "answer": str(2 * i)}) + "\n"
                            for i in range(10)))
    page.text_input(key="cmp_data_path").set_value(str(data))
    page.text_input(key="cmp_model").set_value(str(tiny_model_dir))
    page.multiselect(key="cmp_arms").set_value(["base", "fewshot"])  # no index, no training: a quick real run
    page.number_input(key="cmp_eval_count").set_value(2)
    page.number_input(key="cmp_gen_max_new_tokens").set_value(4)
    page.number_input(key="cmp_ft_lora_rank").set_value(64)
    page.run()
    assert not page.exception and not page.error
    page.button(key="cmp_launch_btn").click().run()
    assert not page.exception and not page.error
    run_dir = Path(page.session_state["cmp_run"])
    assert json.loads((run_dir / "spec.json").read_text())["finetune"]["lora_alpha"] == 128  # failed before: 32
    status = runs.wait(run_dir, timeout_s=180, poll_s=0.5)
    assert status.state == "completed", status.error
    page.run()
    assert not page.exception and not page.error
    tables = [df.value for df in page.dataframe]
    metric_table = next(t for t in tables if "exact match" in t.columns)
    assert list(metric_table.index) == ["Base model (zero-shot)", "Few-shot prompting"]  # arms by their titles
    assert "correct" in metric_table.columns and "format match" in metric_table.columns
    assert any(i.value.startswith("The arms are ranked by correct answers") for i in page.info)  # the evidence, first
    assert page.get("image")  # the quality-against-cost picture
    side_by_side = next(t for t in tables if "reference" in t.columns)
    assert len(side_by_side) == 2 and "Few-shot prompting" in side_by_side.columns
    assert any("Comparison runs" in s.value for s in page.subheader)


@pytest.mark.parametrize("model", ["m" * 300, "org/" + "m" * 300, "./" + "m" * 300, "a\x00b", "/" + "m/" * 3000])
def test_an_impossible_model_name_is_one_short_line(pages_may_read, page, tmp_path, model):
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"question": f"q{i}?", "answer": f"a{i}"}) + "\n" for i in range(4)))
    page.text_input(key="cmp_data_path").set_value(str(data))
    page.text_input(key="cmp_model").set_value(model).run()
    assert not page.exception, page.exception
    assert len(page.error) == 1 and page.error[0].value.startswith("model: ") and len(page.error[0].value) < 400, \
        [e.value for e in page.error]
    assert page.button(key="cmp_launch_btn").disabled


@pytest.mark.slow
def test_a_double_click_on_launch_starts_one_run(pages_may_read, page, tiny_model_dir, tmp_path):
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {i} plus {i}?", "answer": str(2 * i)}) + "\n"
                            for i in range(10)))
    page.text_input(key="cmp_data_path").set_value(str(data))
    page.text_input(key="cmp_model").set_value(str(tiny_model_dir))
    page.multiselect(key="cmp_arms").set_value(["base"])
    page.number_input(key="cmp_eval_count").set_value(2)
    page.number_input(key="cmp_gen_max_new_tokens").set_value(4)
    page.run()
    root = tmp_path / "ftadvisor-home" / "runs"
    # Two clicks reach the server as two reruns with the button pressed, the second after the first launched.
    page.button(key="cmp_launch_btn").click().run()
    page.button(key="cmp_launch_btn").click().run()
    assert not page.exception and not page.error
    launched = [r.run_dir for r in runs.list_runs(root)]
    assert launched == [page.session_state["cmp_run"]]
    assert page.button(key="cmp_launch_btn").disabled  # while that run goes on
    assert runs.wait(Path(launched[0]), timeout_s=180, poll_s=0.5).state == "completed"
    page.run()
    assert not page.button(key="cmp_launch_btn").disabled  # it ended: the same form may run again
    page.button(key="cmp_launch_btn").click().run()
    assert len(runs.list_runs(root)) == 2
    runs.wait(Path(page.session_state["cmp_run"]), timeout_s=180, poll_s=0.5)


@pytest.mark.parametrize("typed, start", [
    ("/data/train\x00.jsonl", "data: /data/train\\x00.jsonl holds a NUL byte"),
    ("/tmp/" + "a" * 100_000, "data: the path is 100,005 characters long: at most 4,096 (PATH_MAX)"),
])
def test_a_typed_path_with_a_nul_byte_or_100k_characters_is_one_short_line(page, typed, start):
    page.text_input(key="cmp_data_path").set_value(typed).run()
    assert not page.exception
    assert [e.value[:len(start)] for e in page.error] == [start] and len(page.error[0].value) < 250


def test_uploads_of_every_type_the_readers_read_are_kept(page, tmp_path):
    from rag_baseline.ingest import READERS
    from tuning.data.readers import FORMATS

    for suffix in FORMATS:  # .ndjson and .pq too
        page.file_uploader(key="cmp_data_upload").set_value((f"qa{suffix}", b"{}\n", "application/octet-stream"))
        page.run()
        assert not page.exception and not page.error, (suffix, [e.value for e in page.error])
    page.file_uploader(key="cmp_docs_upload").set_value(
        [(f"doc{suffix}", suffix.encode(), "application/octet-stream") for suffix in READERS])  # .markdown too
    page.run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    uploads = tmp_path / "ftadvisor-home" / "uploads"
    assert sorted(p.suffix for p in uploads.iterdir() if p.is_file()) == sorted(FORMATS)
    assert sorted(p.suffix for p in (uploads / "documents").glob("*/*")) == sorted(READERS)
