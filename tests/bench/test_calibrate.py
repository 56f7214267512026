"""bench/calibrate.py without a GPU: the setups, their rows (exactly the sequence length once
tokenized as the recipe does), the estimate the GPU run compares with, and the table."""
import pytest

from bench import calibrate
from bench.calibrate_cpu import SETUPS


def test_setups_cover_lora_full_checkpointing_and_three_lengths():
    for setups in (SETUPS, calibrate.GPU_SETUPS):
        assert len({s.name for s in setups}) == len(setups)
        assert {s.method for s in setups} == {"lora", "full"} and {s.checkpointing for s in setups} == {True, False}
    assert len({s.seq_len for s in SETUPS}) >= 3 and {s.shape for s in SETUPS} >= {"smollm2-135m", "qwen2.5-0.5b"}


def test_shapes_are_the_real_architectures():
    assert calibrate.shape_config("llama-3.2-1b-4l")["num_hidden_layers"] == 4
    assert calibrate.shape_config("qwen2.5-0.5b")["hidden_size"] == 896
    smol = calibrate.shape_config("smollm2-135m")
    assert (smol["hidden_size"], smol["num_hidden_layers"], smol["vocab_size"]) == (576, 30, 49152)


def test_smollm2_shape_has_smollm2s_parameter_count():
    from estimator.model_catalog import spec_from_config

    spec = spec_from_config(calibrate.shape_config("smollm2-135m"), name="smollm2", source="config")
    assert spec.param_count() == 134_515_008  # SmolLM2-135M's count


@pytest.mark.slow
def test_rows_reach_the_setup_length_and_the_estimate_is_made_there(tiny_model_dir, tmp_path):
    from lm.loading import load_tokenizer
    from tuning.memory import padded_batch_length
    from tuning.recipes.common import trl_rows
    from tuning.spec import JobSpec

    setup = calibrate.Setup("tiny", "lora", 2, 64, False)
    spec = JobSpec(model=str(tiny_model_dir), data=str(calibrate.data_file(setup, tiny_model_dir, tmp_path)),
                   output=str(tmp_path / "run"), max_seq_len=64, batch_size=2, eval_fraction=0.0)
    tokenizer = load_tokenizer(spec.model)
    rows = trl_rows(spec, tokenizer, tmp_path)[0]
    assert len(rows) == 4 and padded_batch_length(spec, tokenizer, rows) == 64
    b = calibrate.estimate_breakdown(spec, "cpu")
    assert b.components["cuda_context"].bytes == 0 and b.total_bytes > 0


def test_table():
    setup = calibrate.Setup("smollm2-135m", "lora", 2, 64, False)
    rows = [calibrate.Row(setup, 1.0, 1.1, {"seconds": "3"}), calibrate.Row(setup, None, 1.0, {"error": "OOM"})]
    table = calibrate.markdown(rows, "Test GPU", ("seconds",))
    assert "## Test GPU" in table and "+10.0%" in table and "OOM" in table
    assert len(table.strip().splitlines()) == 6
    assert rows[0].as_dict() == {"setup": "smollm2-135m lora, 2 x 64", "measured_gib": 1.0, "estimated_gib": 1.1,
                                 "seconds": "3"}
