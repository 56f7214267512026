"""Start a tuning job, the one way the command line and the Fine-tune page do it: check the data
(reads the data and the tokenizer only: no model is loaded), create the run folder, save the
report there (the worker reuses it), start the detached worker."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

import runs
from tuning.data.report import DatasetReport
from tuning.errors import DatasetRefused
from tuning.spec import JobSpec
from tuning.worker import validate


class LaunchedJob(BaseModel):
    """A started job: its run folder and the dataset report it was checked with."""

    model_config = ConfigDict(extra="forbid")

    run_dir: Path
    report: DatasetReport


def launch_job(spec: JobSpec) -> LaunchedJob:
    """Validate, create, write the report, start. Raises DatasetRefused (with the report) when
    the data cannot train, before any run folder exists; RunsError when the folder holds a run."""
    report = validate(spec)
    if not report.ok:
        raise DatasetRefused(report, file=spec.data)
    run_dir = runs.create_run(spec)
    report.write(run_dir)
    runs.start_worker(run_dir)
    return LaunchedJob(run_dir=run_dir, report=report)
