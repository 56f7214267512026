"""The Estimator page through the real app router: inputs from EstimateRequest's fields, the total,
the breakdown chart, the which-GPUs-fit table cheapest first, errors as one line."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from estimator import EstimateRequest, estimate, list_gpus

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture
def page():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run().switch_page("app_pages/estimator_page.py")  # straight to the page, through the real router
    at.run()
    assert not at.exception
    return at


def test_every_request_field_has_a_widget(page):
    keys = {w.key for kind in ("text_input", "selectbox", "number_input", "checkbox")
            for w in getattr(page.sidebar, kind)}
    assert {"est_" + name for name in EstimateRequest.model_fields} <= keys


def test_total_and_fit_table_follow_the_inputs(page):
    page.sidebar.text_input(key="est_model").set_value("meta-llama/Llama-3.1-8B")
    page.sidebar.selectbox(key="est_method").set_value("lora")
    page.sidebar.number_input(key="est_batch_size").set_value(2)
    page.sidebar.number_input(key="est_seq_len").set_value(1024)
    page.sidebar.checkbox(key="est_gradient_checkpointing").check()
    page.sidebar.selectbox(key="est_gpu").set_value("A10G")
    page.sidebar.number_input(key="est_train_tokens").set_value(10_000_000)
    page.run()
    assert not page.exception and not page.error
    expected = estimate(EstimateRequest(model="meta-llama/Llama-3.1-8B", method="lora", batch_size=2, seq_len=1024,
                                        gradient_checkpointing=True, gpu="A10G", train_tokens=10_000_000))
    assert page.metric[0].value == f"{expected.memory_gib['total']:.2f}"
    assert any("Time" in i.value for i in page.info)
    table = page.dataframe[1].value  # [0] is the breakdown
    assert set(table["GPU"]) == {g.name for g in list_gpus()}
    costs = table["cost USD"].dropna().tolist()
    assert costs == sorted(costs) and len(costs) >= 5
    assert len(page.get("vega_lite_chart")) == 1  # the stacked breakdown bar


def test_invalid_input_is_one_error_line(page):
    page.sidebar.selectbox(key="est_method").set_value("qlora")
    page.sidebar.selectbox(key="est_quant").set_value("none")
    page.run()
    assert not page.exception
    assert len(page.error) == 1 and "quant" in page.error[0].value


def test_prefills_from_the_advisor_answers():
    # The page alone: through the router the Advisor page (the default) would set its own answers first.
    at = AppTest.from_file(str(APP.parent / "app_pages" / "estimator_page.py"), default_timeout=60)
    at.session_state["answers"] = {"model": "meta-llama/Llama-3.2-1B", "gpu": "L4", "gpu_count": 2}
    at.run()
    assert not at.exception
    assert at.sidebar.text_input(key="est_model").value == "meta-llama/Llama-3.2-1B"
    assert at.sidebar.selectbox(key="est_gpu").value == "L4"
    assert at.sidebar.number_input(key="est_gpus").value == 2


def test_the_stack_and_the_device_change_the_figure(page):
    shape = dict(model="meta-llama/Llama-3.2-1B", method="qlora", quant="nf4", seq_len=1024, gpu="A10G")
    page.sidebar.text_input(key="est_model").set_value(shape["model"])
    page.sidebar.selectbox(key="est_method").set_value("qlora")
    page.sidebar.selectbox(key="est_quant").set_value("nf4")
    page.sidebar.number_input(key="est_seq_len").set_value(1024)
    page.sidebar.selectbox(key="est_gpu").set_value("A10G")
    page.sidebar.selectbox(key="est_stack").set_value("peft-trainer")
    page.run()
    peft = estimate(EstimateRequest(stack="peft-trainer", **shape))
    assert not page.exception and page.metric[0].value == f"{peft.memory_gib['total']:.2f}"
    page.sidebar.selectbox(key="est_stack").set_value("trl")
    page.sidebar.selectbox(key="est_pure_bf16").set_value("False")  # fp32 adapters instead of trl's bf16
    page.run()
    trl = estimate(EstimateRequest(pure_bf16=False, **shape))
    assert not page.exception and page.metric[0].value == f"{trl.memory_gib['total']:.2f}" != peft.memory_gib["total"]
    page.sidebar.selectbox(key="est_device").set_value("cpu")
    page.run()
    cpu = estimate(EstimateRequest(pure_bf16=False, device="cpu", **shape))
    assert not page.exception and page.metric[0].value == f"{cpu.memory_gib['total']:.2f}"


def test_serving_shows_latency_and_cost(page):
    page.sidebar.selectbox(key="est_method").set_value("inference")
    page.sidebar.selectbox(key="est_gpu").set_value("H100 SXM")
    page.sidebar.number_input(key="est_prompt_tokens").set_value(500)
    page.sidebar.number_input(key="est_output_tokens").set_value(200)
    page.run()
    assert not page.exception and not page.error
    labels = [m.label for m in page.metric]
    assert "Latency per request (s)" in labels and "$ per 1k queries" in labels
