"""Per-GPU (or, with device cpu, per-process) peak memory of a training or inference step, as a sum
of named components.

Every term is derived from what PyTorch keeps alive, not from a rule of thumb:
- parameters, gradients and optimizer states: bytes per element of the dtypes the stack keeps
  (estimator/static_memory.py);
- activations: the tensors autograd saves for backward in a Llama-style decoder layer
  (estimator/activations.py: transformers 5 modeling files, peft 0.21 LoRA, bitsandbytes matmuls);
- the logits/loss buffer of the stack's loss (estimator/loss_memory.py);
- on a GPU, the CUDA context and the caching allocator's slack; a CPU has neither.

A step has three moments when memory peaks; the estimate is the largest of them:
  forward+loss  : static + saved activations + the loss buffer (+ the lm_head gradient, full FT)
  backward      : static + saved activations + one recomputed layer (checkpointing) + grad workspace
  optimizer step: static + all gradients + the optimizer's step temporaries
where static = weights + adapter + optimizer states + quantization and communication buffers.
"""
from __future__ import annotations

from dataclasses import dataclass

from common.vocabulary import SHARDING
from estimator.activations import activation_terms, inference_activations
from estimator.loss_memory import loss_terms
from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest
from estimator.static_memory import (
    adapter_term,
    comm_buffers,
    gradients_bytes,
    optimizer_term,
    quant_buffers,
    weights_term,
)
from estimator.step_setup import GIB, Setup, Term, setup

# CUDA context + cuBLAS/cuDNN handles outside the caching allocator: ~0.3-1 GiB by GPU, driver and
# CUDA lazy loading; 0.6 GiB is what a bare `torch.cuda.init()` + one matmul shows on A100/H100.
CUDA_CONTEXT_BYTES = int(0.6 * GIB)
# Caching allocator: reserved minus allocated at the peak. Activation-sized blocks are freed and
# re-used at different sizes; 2 MiB rounding and split blocks leave ~5-8% of the changing bytes idle.
ALLOCATOR_DYNAMIC_FRACTION = 0.06
ALLOCATOR_FIXED_BYTES = 64 * 1024**2


@dataclass
class Breakdown:
    """The peak moment's components (bytes) and every moment's total, for `estimate()`."""

    components: dict[str, Term]
    phases: dict[str, float]
    peak_phase: str
    cpu_bytes: float = 0.0

    @property
    def allocated_bytes(self) -> float:
        skip = {"cuda_context", "allocator_overhead"}
        return sum(t.bytes for k, t in self.components.items() if k not in skip)

    @property
    def total_bytes(self) -> float:
        return sum(t.bytes for t in self.components.values())


def memory_breakdown(req: EstimateRequest, spec: ModelSpec) -> Breakdown:
    """The peak moment's components and every moment's total, in bytes per GPU (or per CPU process)."""
    step_setup = setup(req, spec)
    weights = weights_term(req, spec, step_setup)
    adapter = adapter_term(req, step_setup)
    optim, cpu = optimizer_term(req, spec, step_setup)
    quant, comm = quant_buffers(req, spec, step_setup), comm_buffers(req, spec, step_setup)
    static = weights.bytes + adapter.bytes + optim.bytes + quant.bytes + comm.bytes
    if not req.is_training:
        acts = inference_activations(req, spec, step_setup)
        phases = {"forward": static + acts.bytes}
        parts = {"activations": acts, "logits_loss": Term(0, "inference keeps no loss buffer"),
                 "gradients": Term(0, "inference computes no gradients")}
        peak = "forward"
    else:
        phases, parts, peak, offloaded = _training_phases(req, spec, step_setup, static)
        cpu += offloaded
    components = {"weights": weights, "adapter": adapter, "gradients": parts["gradients"],
                  "optimizer_states": optim, "activations": parts["activations"],
                  "logits_loss": parts["logits_loss"], "quant_buffers": quant, "comm_buffers": comm}
    components.update(_runtime_terms(components, step_setup))
    return Breakdown(components=components, phases=phases, peak_phase=peak, cpu_bytes=cpu)


def _runtime_terms(components: dict[str, Term], step_setup: Setup) -> dict[str, Term]:
    """The caching allocator's slack and the CUDA context; a CPU process has neither (tensors come
    from malloc, freed at once)."""
    if step_setup.cpu:
        return {"allocator_overhead": Term(0, "CPU: no caching allocator"),
                "cuda_context": Term(0, "CPU: no CUDA context")}
    dynamic = sum(t.bytes for k, t in components.items() if k in ("gradients", "activations", "logits_loss"))
    return {
        "allocator_overhead": Term(
            ALLOCATOR_FIXED_BYTES + ALLOCATOR_DYNAMIC_FRACTION * dynamic,
            f"caching allocator reserved-but-free: {ALLOCATOR_DYNAMIC_FRACTION:.0%} of the changing tensors + 64 MiB",
        ),
        "cuda_context": Term(CUDA_CONTEXT_BYTES, "CUDA context and library handles (outside torch's allocator)"),
    }


def _step_temporaries(req: EstimateRequest, step_setup: Setup) -> float:
    if req.optimizer == "adamw" and req.optimizer_foreach and not req.offload_optimizer:
        shard = step_setup.n_shard if SHARDING[step_setup.sharding].optimizer else 1  # state-sized, sharded alike
        return step_setup.trainable * (step_setup.train_bytes or 4) / shard
    return 0.0


def _training_phases(req: EstimateRequest, spec: ModelSpec, step_setup: Setup, static: float):
    acts = activation_terms(req, spec, step_setup)
    loss = loss_terms(req, spec, step_setup)
    grads_all = gradients_bytes(step_setup)
    head_grad = 0.0
    if req.method == "full":  # lm_head's gradient is allocated first in backward, activations still held
        head_params = spec.lm_head_params() or spec.embedding_params()
        grad_shard = step_setup.n_shard if SHARDING[step_setup.sharding].gradients else 1
        head_grad = head_params * step_setup.grad_bytes / grad_shard
    # LoRA gradients are tiny and kept; with gradient accumulation every gradient lives across
    # micro-batches, so it coexists with the next micro-batch's activations.
    early_grads = grads_all if (req.uses_adapter or req.gradient_accumulation > 1) else head_grad
    step_temp = _step_temporaries(req, step_setup)
    saved = acts["saved"].bytes
    phases = {
        "forward+loss": static + saved + loss["loss"].bytes + early_grads,
        "backward": static + saved + acts["backward_extra"].bytes + loss["kept"].bytes + early_grads,
        "optimizer step": static + grads_all + step_temp,
    }
    if req.method == "full" and spec.tie_word_embeddings:
        # A tied lm_head/embedding gets two gradients: the lm_head's, stored first, and the lookup's dense
        # V x H one, alive beside it until AccumulateGrad adds it in (torch/csrc/autograd/functions/
        # accumulate_grad.h: `variable_grad += new_grad`), when every other gradient already exists.
        phases["end of backward"] = static + grads_all + head_grad
    peak = max(phases, key=phases.get)
    grad_how = f"{step_setup.trainable:,} trainable x {step_setup.grad_bytes} B"
    if peak in ("optimizer step", "end of backward"):
        extra = step_temp if peak == "optimizer step" else head_grad
        parts = {"gradients": Term(grads_all + extra, grad_how + (
                     " + foreach AdamW's state-sized temporary" if peak == "optimizer step" and step_temp else
                     " + the tied embedding's second gradient before it is summed" if extra else "")),
                 "activations": Term(0, "freed before the optimizer step"),
                 "logits_loss": Term(0, "freed before the optimizer step")}
    else:
        g_how = grad_how if early_grads == grads_all else f"the lm_head gradient ({head_grad / GIB:.2f} GiB) so far"
        if req.gradient_accumulation > 1 and req.method == "full":
            g_how += f", kept across {req.gradient_accumulation} accumulation steps"
        backward = peak == "backward"
        act = saved + (acts["backward_extra"].bytes if backward else 0)
        act_how = acts["saved"].formula + (f"; + {acts['backward_extra'].formula}" if backward else "")
        loss_part = loss["kept"] if backward else loss["loss"]
        parts = {"gradients": Term(early_grads, g_how), "activations": Term(act, act_how), "logits_loss": loss_part}
    return phases, parts, peak, acts["offloaded"].bytes
