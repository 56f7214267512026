"""LoRA alpha follows the rank (2 x rank) unless given, the same through `ftadvisor tune` and
`ftadvisor compare`: read in the spec.json each command saves in its run folder."""
from __future__ import annotations

import json

import pytest

import runs
from cli import compare, tune
from cli.main import build_parser


def saved_spec(command, argv: list[str], tmp_path) -> dict:
    """The spec.json the command writes before its worker starts (the real parser, the command's
    own spec builder, the run folder it creates); no dataset check, no training."""
    args = build_parser().parse_args([*argv, "--output", str(tmp_path / "run")])
    run_dir = runs.create_run(command.spec_from_args(args))
    return json.loads((run_dir / runs.SPEC_FILE).read_text())


@pytest.mark.parametrize("given, alpha", [([], 128), (["--alpha", "16"], 16)])
def test_tune_with_rank_64_trains_alpha_128_unless_given(given, alpha, tmp_path):
    """Failed before: `tune --rank 64` saved alpha 32.0, the default of rank 16."""
    spec = saved_spec(tune, ["tune", "--model", "some/model", "--data", "train.jsonl", "--rank", "64", *given],
                      tmp_path)
    assert spec["lora_alpha"] == alpha and isinstance(spec["lora_alpha"], int)


def test_compare_with_rank_64_trains_alpha_128(tmp_path):
    spec = saved_spec(compare, ["compare", "--model", "some/model", "--data", "qa.jsonl", "--rank", "64"], tmp_path)
    assert spec["finetune"]["lora_rank"] == 64
    assert spec["finetune"]["lora_alpha"] == 128 and isinstance(spec["finetune"]["lora_alpha"], int)

