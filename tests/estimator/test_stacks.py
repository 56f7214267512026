"""The stack profiles against the libraries that decide them (the pinned trl, peft, transformers
and bitsandbytes, on CPU): what each keeps in which dtype, and trl's fused-loss tile."""
import pytest

from estimator import EstimateRequest, load_model_spec
from estimator.loss_memory import TRL_TILE_TOKENS, TRL_TILE_VOCAB
from estimator.stacks import PROFILES
from estimator.static_memory import weights_term
from estimator.step_setup import setup

pytestmark = pytest.mark.slow


def test_trl_tile_and_default_optimizer_are_the_libraries():
    from transformers import TrainingArguments
    from trl.kernels.chunked_logprob import TOKEN_CHUNK_SIZE
    from trl.trainer.utils import _CHUNKED_LOGPROB_CHUNK_SIZE

    assert (TRL_TILE_TOKENS, TRL_TILE_VOCAB) == (TOKEN_CHUNK_SIZE, _CHUNKED_LOGPROB_CHUNK_SIZE)
    optim = TrainingArguments(output_dir="unused", report_to="none").optim
    assert str(getattr(optim, "value", optim)) == "adamw_torch_fused"
    assert not PROFILES["trl"].optimizer_foreach and not PROFILES["peft-trainer"].optimizer_foreach


def _four_bit(tiny_model_dir):
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                bnb_4bit_compute_dtype=torch.bfloat16)
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir, quantization_config=config, dtype=torch.bfloat16,
                                                device_map={"": "cpu"})


def _param_bytes(model) -> int:
    """Parameter storage plus each 4-bit weight's quantization state (absmax, nested absmax)."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    for p in model.parameters():
        state = getattr(p, "quant_state", None)
        if state is not None:
            total += state.absmax.numel() * state.absmax.element_size()
            if state.nested:
                total += state.state2.absmax.numel() * state.state2.absmax.element_size()
    return total


def test_peft_trainer_qlora_weights_are_what_prepare_model_for_kbit_training_leaves(tiny_model_dir):
    from peft import prepare_model_for_kbit_training

    model = prepare_model_for_kbit_training(_four_bit(tiny_model_dir), use_gradient_checkpointing=False)
    spec = load_model_spec(tiny_model_dir)
    req = EstimateRequest(model=str(tiny_model_dir), method="qlora", quant="nf4", stack="peft-trainer")
    assert weights_term(req, spec, setup(req, spec)).bytes == pytest.approx(_param_bytes(model), rel=0.01)
    trl = EstimateRequest(model=str(tiny_model_dir), method="qlora", quant="nf4")
    assert weights_term(trl, spec, setup(trl, spec)).bytes == pytest.approx(_param_bytes(_four_bit(tiny_model_dir)),
                                                                            rel=0.01)


def test_trl_casts_a_quantized_models_adapters_to_bf16(tiny_model_dir, tmp_path):
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", max_steps=1)
    trainer = SFTTrainer(model=_four_bit(tiny_model_dir), args=args,
                         train_dataset=Dataset.from_list([{"prompt": "a", "completion": "b"}]),
                         peft_config=LoraConfig(r=8, target_modules="all-linear"))
    trained = [p for p in trainer.model.parameters() if p.requires_grad]
    assert trained and {p.dtype for p in trained} == {torch.bfloat16}
    spec = load_model_spec(tiny_model_dir)
    req = EstimateRequest(model=str(tiny_model_dir), method="qlora", quant="nf4", lora_rank=8)
    s = setup(req, spec)
    assert (s.adapter_bytes, s.trainable) == (2, sum(p.numel() for p in trained))
