"""The logits and cross-entropy's memory at the loss (its largest moment) and what stays into the
backward pass, for each loss kind and stack (estimator/stacks.py says which stack runs which).

  standard  transformers loss/loss_utils.py ForCausalLMLoss: `logits.float()`, so at the loss
            backward the 16-bit logits, fp32 log-probs, their gradient and the logits' fp32
            gradient are alive together: tokens x vocab x (2 + 12) B.
  chunked   an eager chunked cross-entropy: the logits stay, every chunk's log-probs stay saved for
            backward (fp32 in torchtune's CEWithChunkedOutputLoss, bf16 in LitGPT's
            chunked_cross_entropy), and one chunk's fp32 work is alive at a time.
  fused     no full-vocabulary fp32 buffer kept for backward; how much stays depends on the kernel:
    trl-tiles        trl/kernels/chunked_logprob.py ChunkedLogProbFunction: no logits at all; the
                     hidden states it scores are saved; backward fills an fp32 hidden-sized gradient
                     through one (4096 tokens x 32768 vocab) tile (Triton), or on a CPU through
                     several tile-sized torch temporaries (`_backward_tile`).
    compiled-chunks  torchtune's chunked loss under torch.compile: the 16-bit chunk logits stay
                     (the loss saves its input), the fp32 upcast is fused into the kernel.
    unsloth-chunks   unsloth_zoo fused_losses/cross_entropy_loss.py: chunks whose fp32 logits fit
                     4 GiB (`target_gb`), gradients computed in the forward into `grad_inputs`.
    liger            liger_kernel ops/fused_linear_cross_entropy.py: chunks of
                     next_pow2(tokens / ceil(vocab / hidden)) tokens, gradients in the forward.
"""
from __future__ import annotations

import math

from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest
from estimator.step_setup import GIB, Setup, Term

TORCHTUNE_CHUNKS = 8  # CEWithChunkedOutputLoss(num_output_chunks=8)
LITGPT_CHUNK_TOKENS = 128  # finetune/lora.py: model(input_ids, lm_head_chunk_size=128)
TRL_TILE_TOKENS, TRL_TILE_VOCAB = 4096, 32768  # TOKEN_CHUNK_SIZE, _CHUNKED_LOGPROB_CHUNK_SIZE
# trl's CPU `_backward_tile`: y, z, log_p, p and grad are named tile-sized fp32 tensors, and the
# one-hot mask's float copy and `(one_hot - p)` are two more while `grad +=` runs; plus mm_buf.
TRL_CPU_BACKWARD_TILES = 8
TRL_PER_TOKEN_FP32 = 8  # running max, sum-exp, entropy sum, target logit, log Z, ... (fp32 each)
UNSLOTH_TARGET_BYTES = 4 * GIB  # target_gb = min(half the free memory, 4 GiB): the cap


def loss_terms(req: EstimateRequest, spec: ModelSpec, s: Setup) -> dict[str, Term]:
    """{"loss": bytes at the loss moment, "kept": bytes still held while the layers run backward}."""
    kind = req.loss if req.loss != "fused" else s.stack.fused
    t, v, h = s.tokens, spec.vocab_size, spec.hidden_size
    a = 2 if s.autocast else s.dtype_bytes  # the logits' dtype
    head_trains = req.method == "full"
    if kind == "standard":
        loss, how, kept = t * v * (a + 12), (f"logits {a} B + fp32 log-probs 4 B + their gradient 4 B + logits "
                                              f"gradient 4 B, x vocab {v:,} (ForCausalLMLoss upcasts to fp32)"), 0.0
    elif kind == "chunked":
        loss, how, kept = _chunked(t, v, a, s)
    elif kind == "trl-tiles":
        loss, how, kept = _trl_tiles(t, v, h, a, s, head_trains)
    elif kind == "compiled-chunks":
        chunk = math.ceil(t / TORCHTUNE_CHUNKS)
        loss = t * (v * a + 4) + chunk * v * (4 + a)
        how, kept = f"logits {a} B x vocab {v:,} kept + one of {TORCHTUNE_CHUNKS} chunks' fused fp32 work", 0.0
    else:
        loss, how, kept = _gradient_in_forward(kind, t, v, h, a, head_trains)
    head_cast = 0.0
    if s.rest_fp32:  # autocast's bf16 copy of the fp32 lm_head weight, saved by its matmul for backward
        head_cast = 2 * (spec.lm_head_params() or spec.embedding_params())
        how += f" + autocast's bf16 copy of the fp32 lm_head ({head_cast / GIB:.2f} GiB)"
    return {"loss": Term(loss + head_cast, f"{t:,} tokens: {how}"),
            "kept": Term(kept, "the fused loss's gradient buffers, held into backward")}


def _chunked(t: int, v: int, a: int, s: Setup) -> tuple[float, str, float]:
    litgpt = s.stack.name == "litgpt"
    chunk = min(t, LITGPT_CHUNK_TOKENS) if litgpt else math.ceil(t / TORCHTUNE_CHUNKS)
    lp = s.stack.logprob_bytes
    loss = t * v * (a + lp) + chunk * v * 3 * lp  # + one chunk's log-prob gradient and logits gradients
    return loss, f"logits {a} B + saved log-probs {lp} B x vocab {v:,} + one {chunk:,}-token chunk's work", 0.0


def _trl_tiles(t: int, v: int, h: int, a: int, s: Setup, head_trains: bool) -> tuple[float, str, float]:
    tile = min(t, TRL_TILE_TOKENS) * min(v, TRL_TILE_VOCAB)
    hidden = t * h * a  # the scored hidden states, saved by ChunkedLogProbFunction
    grad = t * h * (4 + a) + (v * h * 4 if head_trains else 0)  # fp32 accumulators + the cast back
    if s.cpu:
        work = TRL_CPU_BACKWARD_TILES * tile * 4
        how = f"{TRL_CPU_BACKWARD_TILES} fp32 tiles of {tile:,} (torch fallback on a CPU)"
    else:
        work = tile * a
        how = f"one {a}-byte tile of {tile:,} (Triton)"
    loss = hidden + t * TRL_PER_TOKEN_FP32 * 4 + grad + work
    return loss, f"no logits: hidden states {a} B x h={h} + fp32 gradient accumulators + {how}", 0.0


def _gradient_in_forward(kind: str, t: int, v: int, h: int, a: int, head_trains: bool) -> tuple[float, str, float]:
    """Unsloth's and Liger's fused losses compute the gradients in the forward, one chunk at a time."""
    kept = t * h * a + (v * h * a if head_trains else 0)  # grad_inputs (+ the lm_head's gradient)
    if kind == "unsloth-chunks":
        full = t * v * 4
        chunks = 1 if full <= UNSLOTH_TARGET_BYTES else math.ceil(full / UNSLOTH_TARGET_BYTES / 4) * 4
        chunk = math.ceil(t / chunks)
        work = chunk * v * (a + 8)  # 16-bit logits, their fp32 upcast and fp32 gradient
        how = f"{chunks} chunk(s) of {chunk:,} tokens x vocab {v:,} ({a} + 8 B)"
    else:
        chunk = 2 ** math.ceil(math.log2(max(1, math.ceil(t / math.ceil(v / h)))))
        work = min(chunk, t) * v * a
        how = f"chunks of {min(chunk, t):,} tokens x vocab {v:,} x {a} B"
    return kept + t * 4 + work, f"{how} + hidden-sized gradient {a} B x h={h}", kept
