"""What each training stack decides about memory, with the source lines that decide it.

The same model, rank and batch need different memory under different stacks: which parameters
stay fp32, whether compute runs under autocast, how the loss is computed, where checkpoints live
and which AdamW kernel runs. `EstimateRequest.stack` picks one profile; the request's own fields
(`pure_bf16`, `loss`, `activation_offloading`, `optimizer_foreach`) override it when set.

- trl (the default: what our tuning backend runs, trl 1.16 SFTTrainer + peft 0.21 + transformers 5.23)
  trl/trainer/sft_trainer.py `SFTTrainer.__init__`: "When using QLoRA, the PEFT adapter weights are
  converted to bf16" (`param.data = param.data.to(torch.bfloat16)` for every trainable parameter of a
  quantized model) and `model.enable_input_require_grads()` with checkpointing; it never calls
  peft's `prepare_model_for_kbit_training`. On a 16-bit base peft's `get_peft_model` keeps
  `autocast_adapter_dtype=True`: fp32 adapters under the Trainer's bf16 autocast. Loss:
  `add_fused_lm_head(..., outputs=("log_probs", "entropy", "is_top1"))` and `compute_loss` calls
  `model(**inputs, fused_lm_head=True)` (trl/trainer/utils.py): the lm_head runs in tiles of
  4096 tokens (trl/kernels/chunked_logprob.py TOKEN_CHUNK_SIZE) x 32768 vocabulary entries
  (`_CHUNKED_LOGPROB_CHUNK_SIZE`), never the full logits; Triton folds each tile on CUDA, torch ops
  on a CPU. Full fine-tuning: lm/loading.py loads the weights in the compute dtype (bf16 on a
  GPU, fp32 on a CPU), so weights, gradients and AdamW states (`zeros_like(param)`) share it.
  AdamW: transformers 5.23 training_args.py defaults `optim` to "adamw_torch_fused" on torch >= 2.8.
- peft-trainer (HF Trainer + peft, the QLoRA notebook recipe; axolotl's QLoRA path is the same)
  peft/utils/other.py `prepare_model_for_kbit_training` casts every fp16/bf16 parameter that is
  not `Params4bit` to fp32 (embeddings, lm_head, norms, biases); bitsandbytes nn/modules.py
  `Linear4bit.forward` returns `.to(inp_dtype)`, so with fp32 embeddings the residual stream and
  every 4-bit Linear's output are fp32, and autocast keeps a bf16 copy of the fp32 lm_head weight
  for its backward. Adapters fp32 (`autocast_adapter_dtype=True`). Loss: transformers
  loss/loss_utils.py `ForCausalLMLoss` upcasts the logits to fp32. Full fine-tuning: fp32 weights
  under `bf16=True` autocast (fp32 master weights, gradients and AdamW states).
- torchtune (recipes/lora_finetune_single_device.py, full_finetune_single_device.py)
  `dtype: bf16`: model, LoRA parameters (torchtune/modules/peft/lora.py LoRALinear, built in the
  model dtype) and AdamW states bf16, no autocast. Loss: `CEWithChunkedOutputLoss` (8 chunks;
  modules/loss/ce_chunked_output_loss.py upcasts one chunk at a time, and every chunk's fp32
  log-probs stay saved for backward) -> `chunked`; with `compile: True` the recipe compiles the loss
  (`training.compile_loss`), which fuses the upcast into the kernel: the bf16 chunk logits stay,
  the fp32 log-probs do not -> `fused`. `enable_activation_checkpointing` and
  `enable_activation_offloading` (training/_activation_offloading.py OffloadActivations: saved
  tensors to CPU); configs set `optimizer: torch.optim.AdamW, fused: True`.
- unsloth (unsloth/models/llama.py, unsloth_zoo/training_utils.py)
  `prepare_model_for_training(float32_mixed_precision=True)`: LoRA A/B upcast to fp32, embeddings,
  lm_head and norms frozen in 16-bit. `get_peft_model(use_gradient_checkpointing="unsloth")`:
  checkpointed layer inputs offloaded to CPU (unsloth_zoo/gradient_checkpointing.py
  `Unsloth_Offloaded_Gradient_Checkpointer`) when the sequence is 512 tokens or more
  (unsloth/models/_utils.py `apply_unsloth_gradient_checkpointing`). Loss: `unsloth_fused_ce_loss`
  (unsloth_zoo/fused_losses/cross_entropy_loss.py): chunks whose fp32 logits fit
  `target_gb = min(half the free memory, 4 GiB)`, gradients computed in the forward
  (`torch.func.grad_and_value`) into a hidden-sized `grad_inputs`.
- litgpt (litgpt/finetune/lora.py; the resource tables' commit 8641822)
  `--precision bf16-true`: weights, LoRA and AdamW states bf16. Loss: `model(input_ids,
  lm_head_chunk_size=128)` + `chunked_cross_entropy`: every 128-token logits chunk is kept in bf16
  and `F.cross_entropy` on bf16 keeps bf16 log-probs (no fp32 upcast). AdamW: `torch.optim.AdamW`
  without `fused`, so foreach on CUDA (one state-sized temporary at the step); QLoRA uses
  `bnb.optim.PagedAdamW`, whose states live in CUDA unified memory outside torch's statistics.
"""
from __future__ import annotations

from dataclasses import dataclass

from common.vocabulary import STACKS, Loss, Stack

# The fused losses, by how they hold memory (estimator/loss_memory.py turns them into bytes).
FusedKind = str  # "trl-tiles" | "compiled-chunks" | "unsloth-chunks" | "liger"


@dataclass(frozen=True)
class StackProfile:
    name: Stack
    adapter_fp32: bool  # LoRA A/B in fp32 on a 16-bit base (peft's autocast_adapter_dtype=True)
    qlora_adapter_fp32: bool  # ... on a 4/8-bit base
    kbit_rest_fp32: bool  # quantized base: embeddings, lm_head, norms cast to fp32
    full_master_fp32: bool  # full fine-tuning with fp32 master weights under autocast
    autocast: bool  # 16-bit compute through torch.autocast (else the weights' own dtype)
    loss: Loss  # the loss it computes by default
    fused: FusedKind  # what `loss=fused` means in this stack
    logprob_bytes: int  # bytes per saved log-prob of its chunked loss (fp32 upcast or not)
    offloads_checkpoints: bool  # checkpointing offloads layer inputs to CPU by default
    optimizer_foreach: bool  # AdamW runs the foreach kernel (a state-sized temporary)
    summary: str


PROFILES: dict[str, StackProfile] = {
    "trl": StackProfile("trl", True, False, False, False, True, "fused", "trl-tiles", 4, False, False,
                        "trl 1.16 SFTTrainer + peft: fused lm_head loss, bf16 QLoRA adapters"),
    "peft-trainer": StackProfile("peft-trainer", True, True, True, True, True, "standard", "liger", 4, False,
                                 False, "HF Trainer + peft prepare_model_for_kbit_training: fp32 embeddings, "
                                 "lm_head and norms on a 4-bit base"),
    "torchtune": StackProfile("torchtune", False, False, False, False, False, "chunked", "compiled-chunks", 4,
                              False, False, "torchtune recipes: pure bf16, chunked cross-entropy (fused when "
                              "compiled), activation offloading option"),
    "unsloth": StackProfile("unsloth", True, True, False, False, True, "fused", "unsloth-chunks", 4, True,
                            False, "unsloth: fused chunked cross-entropy, checkpoints offloaded to CPU"),
    "litgpt": StackProfile("litgpt", False, False, False, False, False, "chunked", "liger", 2, False, True,
                           "LitGPT bf16-true: chunked lm_head + bf16 cross-entropy, foreach AdamW"),
}
assert set(PROFILES) == set(STACKS)

# Unsloth offloads checkpoints only from this sequence length on (apply_unsloth_gradient_checkpointing).
UNSLOTH_OFFLOAD_MIN_SEQ = 512


def profile(stack: str) -> StackProfile:
    return PROFILES[stack]
