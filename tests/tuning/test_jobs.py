"""`launch_job`: data that cannot train is refused with its report before any run folder exists."""
import pytest

from tuning.errors import DatasetRefused
from tuning.jobs import launch_job
from tuning.spec import JobSpec


def test_data_that_cannot_train_is_refused_before_any_folder_exists(tiny_model_dir, tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text('{"prompt": "p", "completion": "c"}\n{"prompt": "p"}\n')
    spec = JobSpec(model=str(tiny_model_dir), data=str(data), output=str(tmp_path / "run"), near_dup_threshold=None)
    with pytest.raises(DatasetRefused) as refused:
        launch_job(spec)
    assert any("data.jsonl line 2" in line for line in refused.value.report.error_lines())
    assert str(refused.value).startswith(f"{data}: the dataset failed validation: ")
    assert not (tmp_path / "run").exists()
