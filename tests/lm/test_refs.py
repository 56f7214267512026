"""A model reference is resolved once, where the spec is built: offline names are pulled, folders
made absolute (the worker runs elsewhere), /dev/zero or a file is not a model folder, and a hub id
no hub or cache can give fails in one line."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from compare.spec import CompareSpec
from lm.errors import ModelError
from lm.refs import check_available, resolve_model
from tuning.spec import JobSpec

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "is not in the local Hugging Face cache and no model hub is reachable"


def _specs(model: str, tmp_path: Path) -> tuple[JobSpec, CompareSpec]:
    return (JobSpec(model=model, data="d.jsonl", output=str(tmp_path / "run")),
            CompareSpec(model=model, data=tmp_path / "qa.jsonl", output=tmp_path / "cmp"))


def test_a_relative_folder_is_made_absolute(tiny_model_dir, monkeypatch):
    monkeypatch.chdir(tiny_model_dir.parent)
    assert resolve_model(f"./{tiny_model_dir.name}") == str(tiny_model_dir)
    assert resolve_model(tiny_model_dir.name) == str(tiny_model_dir)  # an existing folder needs no ./


@pytest.mark.parametrize("ref", ["/dev/zero", "FILE"])
def test_a_device_or_a_file_is_not_a_model_folder(ref, tmp_path):
    if ref == "FILE":
        ref = str(tmp_path / "weights.bin")
        Path(ref).write_bytes(b"\0")
    with pytest.raises(ModelError, match=r"is not a model folder \(no config.json\)"):
        resolve_model(ref)
    for build in (JobSpec, CompareSpec):
        with pytest.raises(ValueError, match=r"not a model folder \(no config.json\)"):
            build(model=ref, data="d.jsonl", output=str(tmp_path / "r"))


def test_a_folder_without_config_or_missing_says_so(tmp_path):
    with pytest.raises(ModelError, match="it has no config.json"):
        resolve_model(str(tmp_path))
    with pytest.raises(ModelError, match="no such folder './nope'"):
        resolve_model("./nope")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(ModelError, match="is a symlink loop"):
        resolve_model(str(tmp_path / "loop"))


def test_an_offline_name_is_pulled_into_the_models_folder(tmp_path):
    job, cmp = _specs("tiny", tmp_path)
    folder = tmp_path / "ftadvisor-home" / "models" / "tiny"
    assert job.model == cmp.model == str(folder) and (folder / "config.json").is_file()


def test_a_hub_id_is_kept_and_a_bad_one_refused():
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    with pytest.raises(ModelError, match="neither a folder, a hub id"):
        resolve_model("bad id!")


def test_a_hub_id_offline_fails_in_one_line_naming_it(tmp_path, capsys):
    with pytest.raises(ModelError, match=f"'org/missing' {UNREACHABLE} \\(HF_HUB_OFFLINE is set\\)"):
        check_available("org/missing")
    (tmp_path / "d.jsonl").write_text('{"prompt": "a", "completion": "b"}\n' * 4)
    assert main(["tune", "--model", "org/missing", "--data", str(tmp_path / "d.jsonl"), "--no-near-dup",
                 "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "'org/missing'" in err[0] and UNREACHABLE in err[0]


def test_a_hub_that_refuses_connections_fails_at_once_in_one_line(tmp_path):
    """Online mode against a closed loopback port: one request, no retries, one line."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: connections are refused
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HOME": str(tmp_path / "hf"),
           "HF_ENDPOINT": f"http://127.0.0.1:{port}", "FTADVISOR_HOME": str(tmp_path / "home")}
    code = "from lm.refs import check_available\ntry:\n    check_available('org/missing')\n" \
           "except ValueError as e:\n    print(e)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.strip().endswith("(`ftadvisor pull NAME`)") and len(done.stdout.splitlines()) == 1
    assert f"{UNREACHABLE} (http://127.0.0.1:{port}: ConnectError)" in done.stdout
    assert "Retry" not in done.stderr


def test_a_page_reads_a_model_folder_only_where_it_may(tmp_path, monkeypatch):
    from common.paths import PathNotAllowed
    from common.settings import load_settings
    from lm.refs import readable_model_ref

    monkeypatch.chdir(tmp_path)  # "" and "." name the working folder: an empty field is no folder
    settings = load_settings()
    assert readable_model_ref("", settings) == ""
    assert readable_model_ref(" smollm2-135m-instruct ", settings) == "smollm2-135m-instruct"
    assert readable_model_ref("HuggingFaceTB/SmolLM2-135M-Instruct", settings) == "HuggingFaceTB/SmolLM2-135M-Instruct"
    pulled = settings.models_dir / "mine"
    assert readable_model_ref(str(pulled), settings) == str(pulled)  # the folder `pull` fills
    with pytest.raises(PathNotAllowed, match=r"^model: .* is outside the folders this app may read"):
        readable_model_ref(str(tmp_path / "elsewhere"), settings)
