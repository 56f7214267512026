"""Project only the completion's positions onto the vocabulary, on every device.

trl 1.16's fused LM head (`add_fused_lm_head`, used by SFTTrainer and DPOTrainer) scores only the
positions whose next-token label counts when Triton runs its tiles (CUDA, XPU); elsewhere it scores
every position, so that compilers such as Neuron's see fixed tile shapes. On a CPU the tiles run
eagerly in torch and the extra positions are pure waste: the completion-only loss reads ~20 of a
retrieval prompt's ~430 positions, yet projecting all of them onto SmolLM2's 49,152-token vocabulary
took 4.0 of 13.6 s per step (4 prompts, 2 cores, profiled 2026-12-07). The compact path gives the
same loss and gradients (tests/tuning/test_completion_positions.py).
"""
from __future__ import annotations


def score_completion_positions_only() -> None:
    """Make trl's fused LM head take its compact path (`hidden_states[mask]`) on every device. Only
    that choice reads `trl.trainer.utils._use_triton`; the kernels read their own module's copy, so
    Triton still runs only where it exists."""
    import trl.trainer.utils as trl_utils

    trl_utils._use_triton = lambda device: True
