"""A stand-in worker kind ("fake", no torch) that lives its life through `runs.run_worker` like
the real workers, and small helpers to watch it. The `fake_kind` fixture (conftest.py) launches it."""
from __future__ import annotations

import os
import sys
import textwrap

import psutil
from pydantic import BaseModel

FAKE_MODULE = "fake_worker_mod"
FAKE_WORKER = textwrap.dedent('''
    import signal, subprocess, sys, time
    import runs

    def job(run_dir):
        mode = runs.read_spec(run_dir)["mode"]
        print("fake worker says hello", flush=True)
        if mode == "complete":
            runs.update_status(run_dir, step=3, total_steps=3)
            return "completed"
        if mode == "fail":
            raise ValueError("the fake job failed")
        if mode == "stubborn":  # ignores SIGTERM and the cancel request, and has a child
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        if mode == "fill":  # writes until the disk is full
            with open(f"{run_dir}/big.bin", "wb", buffering=0) as fh:
                while True:
                    fh.write(bytes(4096))
        if mode == "until_cancel":
            while not runs.cancel_requested(run_dir):
                time.sleep(0.02)
            return "cancelled"
        time.sleep(600)

    run_dir = sys.argv[1]
    sys.exit(runs.run_worker(run_dir, lambda: job(run_dir)))
''')


class FakeSpec(BaseModel):
    kind: str = "fake"
    output: str
    mode: str


def fake_workers(run_dir) -> list[psutil.Process]:
    """The living fake worker processes (not their sh wrappers) working on `run_dir`."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmd = proc.info["cmdline"] or []
        if cmd[:3] == [sys.executable, "-m", FAKE_MODULE] and cmd[3:] == [str(run_dir)] \
                and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def pgid_of(proc):
    try:
        return os.getpgid(proc.pid)
    except (ProcessLookupError, PermissionError):
        return None
