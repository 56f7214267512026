"""Run folders for any worker kind (tuning jobs, comparison runs and their sub-runs): create,
start, follow, cancel, resume, list, and the life of the worker inside.

A run folder holds `spec.json` (the worker's input, with a `kind`), `status.json` (written
atomically), `metrics.jsonl`, `log.txt` (the worker's stdout and stderr), `worker.lock` (held by
the one living worker), and whatever the worker makes (checkpoints, adapter, results).

Modules, one job each: `files` (atomic writes, JSONL), `status` (the model, read/write),
`lock` (flock on files in the folder), `liveness` (alive? why dead?), `launch` (create, start),
`accelerate` (the `accelerate launch` command of a multi-GPU run), `control` (cancel, resume,
wait), `listing` (list runs), `worker` (the worker's life).
"""
from runs.control import cancel, cancel_requested, request_cancel, reset_for_resume, resume, wait
from runs.errors import RunBusy, RunDamaged, RunsError, RunWriteError
from runs.files import (
    CANCEL_FILE,
    EXIT_CODE_FILE,
    LOG_FILE,
    METRICS_FILE,
    SPEC_FILE,
    STATUS_FILE,
    append_jsonl,
    append_metrics,
    keep_jsonl,
    read_jsonl,
    read_metrics,
    read_spec,
    tail_log,
    write_atomic,
)
from runs.launch import WORKERS, create_run, launch, record_exit, start_child, start_worker, worker_command
from runs.listing import RunSummary, list_runs, spec_method
from runs.liveness import group_alive, refresh_status
from runs.lock import lock_holder, worker_lock
from runs.status import (
    TERMINAL_STATES,
    RunStatus,
    State,
    change_status,
    load_status,
    merge_detail,
    update_status,
    write_status,
)
from runs.worker import EXIT_BUSY, describe_failure, run_worker

__all__ = [
    "CANCEL_FILE", "EXIT_BUSY", "EXIT_CODE_FILE", "LOG_FILE", "METRICS_FILE", "SPEC_FILE", "STATUS_FILE",
    "TERMINAL_STATES", "WORKERS", "RunBusy", "RunDamaged", "RunStatus", "RunSummary", "RunWriteError", "RunsError",
    "State",
    "append_jsonl", "append_metrics", "cancel", "cancel_requested", "change_status", "create_run",
    "describe_failure", "group_alive", "keep_jsonl", "launch", "list_runs", "load_status", "lock_holder",
    "merge_detail", "read_jsonl", "read_metrics", "read_spec", "record_exit", "refresh_status", "request_cancel",
    "reset_for_resume", "resume", "run_worker", "spec_method", "start_child", "start_worker", "tail_log",
    "update_status", "wait", "worker_command", "worker_lock", "write_atomic", "write_status",
]
