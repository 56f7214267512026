"""The Fine-tune page through the real app router: pre-fill from the advisor, a dataset's
problems as one line each, a real launch (tiny model, detached worker) with live progress, and
the past runs list."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import runs
from tuning.spec import JobSpec

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture
def page():
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run().switch_page("app_pages/finetune_page.py")
    at.run()
    assert not at.exception
    return at


def test_prefilled_from_the_advisors_recommendation():
    from advisor import Answers, recommend

    answers = Answers(needs=["output_format", "specialized_reasoning"], labeled_examples=5000,
                      prompting_result="fails", domain_coverage="proprietary", model="llama-3.1-8b",
                      gpu="rtx-4090", gpu_count=1)
    rec = recommend(answers)
    plan = rec.finetune
    assert plan is not None  # these answers call for a fine-tune
    # The page alone: through the router the Advisor page (the default) would set its own advice first.
    page = AppTest.from_file(str(APP.parent / "app_pages" / "finetune_page.py"), default_timeout=90)
    page.session_state["recommendation"] = rec  # as the Advisor page leaves them
    page.session_state["answers"] = answers
    page.run()
    assert not page.exception
    assert page.selectbox(key="ft_method").value == plan.method
    assert page.number_input(key="ft_lora_rank").value == plan.lora_rank
    assert page.number_input(key="ft_max_seq_len").value == plan.seq_len
    assert page.checkbox(key="ft_gradient_checkpointing").value is plan.gradient_checkpointing
    assert page.text_input(key="ft_model").value == "meta-llama/Llama-3.1-8B"  # the hub id to train


def test_dataset_problems_are_shown_one_line_each(pages_may_read, page, tiny_model_dir, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"prompt": "p", "completion": "c"}\n{"prompt": "p"}\n')
    page.text_input(key="ft_data_path").set_value(str(data))
    page.text_input(key="ft_model").set_value(str(tiny_model_dir))
    page.run()
    page.button(key="ft_launch_btn").click()
    page.run()
    assert not page.exception
    assert any("bad.jsonl line 2" in e.value and "completion" in e.value for e in page.error)
    assert not runs.list_runs(tmp_path / "ftadvisor-home" / "runs")  # nothing launched


@pytest.mark.slow
def test_launch_shows_progress_and_lists_the_run(pages_may_read, page, tiny_model_dir, sft_data, tmp_path):
    page.text_input(key="ft_data_path").set_value(str(sft_data))
    page.text_input(key="ft_model").set_value(str(tiny_model_dir))
    page.number_input(key="ft_max_steps").set_value(3)
    page.number_input(key="ft_batch_size").set_value(2)
    page.number_input(key="ft_lora_rank").set_value(4)
    page.run()
    page.button(key="ft_launch_btn").click()
    page.run()
    assert not page.exception and not page.error
    run_dir = Path(page.session_state["ft_run"])
    assert run_dir.parent == tmp_path / "ftadvisor-home" / "runs"
    spec = JobSpec.model_validate_json((run_dir / "spec.json").read_text())
    assert (spec.max_steps, spec.lora_rank, spec.lora_alpha) == (3, 4, 8)  # alpha follows the rank: 32 before
    assert (run_dir / "dataset_report.md").exists()
    status = runs.wait(run_dir, timeout_s=180)
    assert status.state == "completed", runs.tail_log(run_dir)
    page.run()
    assert not page.exception
    assert "completed: step 3/3" in page.get("progress")[0].proto.text
    assert page.get("arrow_vega_lite_chart") or page.get("vega_lite_chart")  # the loss chart
    assert page.dataframe[0].value["state"].tolist() == ["completed"]


@pytest.fixture
def sft_data(tmp_path):
    import json

    rows = [{"prompt": f"What is {i} plus 1?", "completion": f"{i + 1}."} for i in range(12)]
    path = tmp_path / "sft.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.slow
def test_a_double_click_on_launch_starts_one_training(pages_may_read, page, tiny_model_dir, sft_data, tmp_path):
    page.text_input(key="ft_data_path").set_value(str(sft_data))
    page.text_input(key="ft_model").set_value(str(tiny_model_dir))
    page.number_input(key="ft_max_steps").set_value(2)
    page.run()
    page.button(key="ft_launch_btn").click().run()
    page.button(key="ft_launch_btn").click().run()
    assert not page.exception and not page.error
    launched = [r.run_dir for r in runs.list_runs(tmp_path / "ftadvisor-home" / "runs")]
    assert launched == [page.session_state["ft_run"]]
    assert runs.wait(Path(launched[0]), timeout_s=180).state == "completed"


def test_an_upload_of_every_type_the_readers_read_is_kept(page, tmp_path):
    from tuning.data.readers import FORMATS

    for suffix in FORMATS:  # .ndjson and .pq too
        page.file_uploader(key="ft_upload").set_value((f"train{suffix}", b"{}\n", "application/octet-stream"))
        page.run()
        assert not page.exception and not page.error, (suffix, [e.value for e in page.error])
    kept = sorted(p.suffix for p in (tmp_path / "ftadvisor-home" / "uploads").iterdir())
    assert kept == sorted(FORMATS)
