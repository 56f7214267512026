"""The estimate's assumptions in words, for the page and the command: what the stack, the device
and the request's choices mean for the bytes."""
from __future__ import annotations

from common.vocabulary import SHARDING
from estimator.model_spec import ModelSpec
from estimator.peak_memory import ALLOCATOR_DYNAMIC_FRACTION, CUDA_CONTEXT_BYTES
from estimator.request import EstimateRequest
from estimator.stacks import profile
from estimator.step_setup import GIB

_LOSS = {
    "standard": "Loss: full-vocabulary logits upcast to fp32 (transformers' ForCausalLMLoss).",
    "chunked": "Loss: chunked cross-entropy; every chunk's log-probs stay saved for backward.",
    "fused": "Loss: fused (no full-vocabulary fp32 buffer kept for backward)",
}


def sharding_line(sharding: str) -> str:
    """What `sharding` splits over the GPUs, from its row of common.vocabulary.SHARDING."""
    plan = SHARDING[sharding]
    parts = [part for part, sharded in (("weights", plan.weights), ("gradients", plan.gradients),
                                        ("optimizer states (and fp32 masters)", plan.optimizer)) if sharded]
    if not parts:
        return f"{plan.label}: every GPU holds everything plus gradient buckets."
    what = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"{plan.label}: {what} sharded" + ("; one layer gathered at a time." if plan.weights else ".")


def assumptions(req: EstimateRequest, spec: ModelSpec) -> list[str]:
    stack = profile(req.stack)
    out = [f"GiB = 2^30 bytes; peak {'of the CPU process' if req.device == 'cpu' else 'per GPU'} of a steady-state "
           "step (optimizer states already created).",
           f"Stack {req.stack}: {stack.summary}. SDPA/flash attention; k/v kept at their own head count "
           "(a padding mask makes transformers repeat them to all heads: a little more)."]
    if spec.approximate:
        out.append(f"Model shape is representative for {req.model!r}, not an exact architecture.")
    out += _precision_lines(req)
    if req.is_training:
        loss = _LOSS[req.loss] + (f": {stack.fused} kernel." if req.loss == "fused" else "")
        out.append(loss)
        if req.gradient_accumulation > 1:
            out.append(
                f"Gradient accumulation {req.gradient_accumulation}: gradients stay allocated between micro-batches."
            )
        if req.activation_offloading:
            out.append("Activation offloading: saved layer inputs live in CPU memory (cpu_gib), two layers on the GPU.")
    if req.gpus > 1:
        out.append(sharding_line(req.sharding))
    if req.device == "cpu":
        out.append("CPU: live tensor memory only (no CUDA context, no caching allocator); the process's RSS adds "
                   "the Python/torch runtime.")
    else:
        out.append(f"CUDA context {CUDA_CONTEXT_BYTES / GIB:.1f} GiB outside PyTorch's allocator; allocator slack "
                   f"~{ALLOCATOR_DYNAMIC_FRACTION:.0%} of activation/gradient memory.")
    if req.is_training:
        out.append(f"Time: MFU {req.mfu:g} of the GPU's dense {req.precision} peak; QLoRA 1.6x slower "
                   "(dequantization), int8 2x.")
    return out


def _precision_lines(req: EstimateRequest) -> list[str]:
    out = []
    if req.method == "full" and req.precision != "fp32":
        out.append("Pure 16-bit: weights, gradients and AdamW states all 16-bit." if req.pure_bf16 else
                   "Mixed precision: fp32 master weights, gradients and AdamW states; 16-bit autocast copies.")
    if req.uses_adapter:
        dtype = "16-bit" if req.pure_bf16 and req.precision != "fp32" else "fp32"
        out.append(f"LoRA adapters, their gradients and AdamW states in {dtype}.")
    if req.quant != "none" and req.quant_saves_inputs:
        out.append("Older bitsandbytes: every quantized matmul keeps its input for backward.")
    if req.quant == "nf4":
        rest = "fp32 (prepare_model_for_kbit_training)" if profile(req.stack).kbit_rest_fp32 else "16-bit"
        out.append("NF4 (bitsandbytes): decoder-layer Linear weights 4-bit with per-64 absmax"
                   + (" double-quantized" if req.double_quant else "") + f"; embeddings, lm_head and norms {rest}.")
    return out
