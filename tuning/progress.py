"""A transformers `TrainerCallback` that makes a run visible, stoppable and resumable from
outside: status.json after each step (throttled), one metrics.jsonl line per log, a cancel
request honoured at the end of the current step (a checkpoint is saved first), and every saved
checkpoint marked complete once the Trainer has finished writing it (`tuning.checkpoints`);
between steps, the pause point `tune-step-N` where tests hold the worker (`common.pause`)."""
from __future__ import annotations

import time
from pathlib import Path

from transformers import TrainerCallback

import runs
from common.pause import pause_point
from tuning import checkpoints

STATUS_EVERY_S = 0.5  # status.json rewrites at most this often (plus the first and last step)


def _world_size() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


class ProgressCallback(TrainerCallback):
    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.cancelled = False
        self._t0 = self._last_write = self._last_log_t = 0.0
        self._step0 = 0
        self._cpu0 = 0.0
        self._last_tokens = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self._t0 = self._last_log_t = time.time()
        self._cpu0 = time.process_time()  # CPU seconds of this process (all threads): robust to a busy machine
        self._step0 = state.global_step  # > 0 when resuming from a checkpoint
        self._last_tokens = state.num_input_tokens_seen or 0
        if state.is_world_process_zero:
            runs.update_status(self.run_dir, state="running", step=state.global_step, total_steps=state.max_steps)

    def on_step_begin(self, args, state, control, **kwargs):
        """Between steps: the previous step has logged and saved what it logs and saves (the
        Trainer logs and saves after `on_step_end`), so a test held here finds its files whole."""
        if state.is_world_process_zero:
            pause_point(f"tune-step-{state.global_step}", self.run_dir)

    def _cancel_now(self, args) -> bool:
        """Whether to stop now; with several ranks they all agree (MAX all-reduce), or the ones
        still stepping would wait forever in the next gradient all-reduce."""
        flag = runs.cancel_requested(self.run_dir)
        if _world_size() > 1:
            import torch
            import torch.distributed as dist

            votes = torch.tensor([float(flag)], device=args.device)
            dist.all_reduce(votes, op=dist.ReduceOp.MAX)
            flag = bool(votes.item())
        return flag

    def on_step_end(self, args, state, control, **kwargs):
        if self._cancel_now(args):
            self.cancelled = True
            control.should_save = True  # the Trainer saves checkpoint-N right after this hook
            control.should_training_stop = True
        now = time.time()
        last = state.global_step >= state.max_steps
        if state.is_world_process_zero and (now - self._last_write >= STATUS_EVERY_S or last or self.cancelled):
            done = state.global_step - self._step0
            eta = (now - self._t0) / done * (state.max_steps - state.global_step) if done else None
            runs.update_status(self.run_dir, step=state.global_step, total_steps=state.max_steps,
                               epoch=state.epoch, eta_s=eta)
            self._last_write = now

    def on_save(self, args, state, control, **kwargs):
        """Fired right after `Trainer._save_checkpoint` returns: checkpoint-N is whole now."""
        if _world_size() > 1:
            import torch.distributed as dist

            dist.barrier()  # every rank has written its part (ZeRO/FSDP shards) before the marker
        if state.is_world_process_zero:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():  # the Trainer saved it there (a marker never makes a folder up)
                checkpoints.mark_complete(folder, state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        now = time.time()
        tokens = state.num_input_tokens_seen or 0
        if "train_loss" in logs and "loss" not in logs:  # the end-of-training summary, for benches/compare
            runs.append_metrics(self.run_dir, {
                "step": state.global_step, "time": now, "train_runtime_s": float(logs["train_runtime"]),
                "train_cpu_s": time.process_time() - self._cpu0,
                "train_loss": float(logs.get("train_loss", "nan")), "input_tokens": tokens,
            })
            return
        record = {"step": state.global_step, "epoch": state.epoch, "time": now}
        for key in ("loss", "learning_rate", "grad_norm", "eval_loss"):
            if logs.get(key) is not None:
                record[key] = float(logs[key])
        if "loss" in record and tokens > self._last_tokens and now > self._last_log_t:
            record["tokens_per_s"] = (tokens - self._last_tokens) / (now - self._last_log_t)
            self._last_tokens, self._last_log_t = tokens, now
        if len(record) > 3:  # only lines that carry a figure (not the final train summary)
            runs.append_metrics(self.run_dir, record)
            if "loss" in record:
                runs.update_status(self.run_dir, loss=record["loss"])
