"""`ftadvisor estimate` and `ftadvisor gpus`: the table, the JSON contract, one-line errors, exit 2."""
import json
import re

import pytest

from cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract(capsys):
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.1-8b", "--method", "lora", "--gpu", "h100-sxm",
                       "--train-tokens", "100000000", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["params_total"] == 8_030_261_248 and data["params_trainable"] == 41_943_040
    mem = data["memory_gib"]
    for key in ("weights", "adapter", "gradients", "optimizer_states", "activations", "logits_loss",
                "quant_buffers", "comm_buffers", "cuda_context", "total"):
        assert isinstance(mem[key], float)
    assert mem["total"] == pytest.approx(sum(v for k, v in mem.items() if k != "total"), abs=0.01)
    assert data["fits"]["H200"] is True and set(data["fits"]) >= {"T4", "RTX 4090", "A100 80GB"}
    assert data["time_hours"] > 0 and data["cost_usd"] > 0


def test_no_time_without_gpu_and_tokens(capsys):
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.2-1b", "--json")
    data = json.loads(out)
    assert code == 0 and data["time_hours"] is None and data["cost_usd"] is None


def test_every_flag_reaches_the_request(capsys):
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.1-8b", "--method", "qlora", "--rank", "8",
                       "--targets", "q_proj,v_proj", "--precision", "fp16", "--quant", "nf4", "--no-double-quant",
                       "--optimizer", "paged-adamw-8bit", "--batch-size", "2", "--seq-len", "1024",
                       "--gradient-checkpointing", "--attention", "eager", "--loss", "chunked", "--gpus", "2",
                       "--sharding", "zero2", "--gpu", "T4", "--train-tokens", "1000000", "--epochs", "2",
                       "--lora-dropout", "0.1", "--grad-accum", "4", "--json")
    data = json.loads(out)
    assert code == 0 and data["params_trainable"] == 8 * 32 * (4096 + 4096 + 4096 + 1024)
    assert data["gpu"] == "T4" and data["fits_gpu"] is True  # fp16 runs on a T4
    assert "NF4 0.5625" in data["components"]["weights"]


def test_readable_table(capsys):
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.1-8b", "--method", "full", "--gpu", "RTX 4090")
    assert code == 0
    assert "weights" in out and "total" in out and "GiB" in out and "does NOT fit" in out and "to fit:" in out


@pytest.mark.parametrize("argv,field", [
    (["--rank", "0"], "lora_rank"),
    (["--batch-size", "-1"], "batch_size"),
    (["--method", "qlora", "--quant", "none"], "quant"),
    (["--method", "qlora"], "quant"),
    (["--model", "no-such-model-xyz"], "model"),
    (["--gpu", "H300"], "gpu"),
    (["--targets", "q_proj,nope"], "lora_targets"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, field):
    args = ["estimate", "--model", "llama-3.1-8b", *argv] if "--model" not in argv else ["estimate", *argv]
    code, out, err = run(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1
    assert lines[0].startswith("ftadvisor estimate: error: ") and field in lines[0]


def test_config_missing_fields_exits_2(capsys, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "llama", "hidden_size": 64}))
    code, _, err = run(capsys, "estimate", "--model", str(cfg))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "vocab_size" in err


def test_gpus_listing(capsys, tmp_path, monkeypatch):
    from estimator.gpus import DEFAULT_CATALOG

    monkeypatch.setenv("FTADVISOR_GPU_CATALOG", str(DEFAULT_CATALOG))  # undone after: --gpu-catalog sets it
    code, out, _ = run(capsys, "gpus", "--json")
    rows = json.loads(out)
    assert (
        code == 0 and len(rows) == 12 and {"memory_gib", "bf16_tflops", "usd_per_hour", "price_source"} <= set(rows[0])
    )
    code, out, _ = run(capsys, "gpus")
    assert code == 0 and "H100 SXM" in out and "RTX 3090" in out
    custom = tmp_path / "gpus.json"
    custom.write_text(json.dumps({"gpus": [dict(rows[0], name="Mine", aliases=[])]}))
    code, out, _ = run(capsys, "gpus", "--gpu-catalog", str(custom), "--json")
    assert [r["name"] for r in json.loads(out)] == ["Mine"]


def test_stack_device_and_loss_flags(capsys):
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.2-1b", "--method", "qlora", "--quant", "nf4",
                       "--stack", "peft-trainer", "--loss", "fused", "--no-pure-bf16", "--device", "cpu",
                       "--activation-offloading", "--gradient-checkpointing", "--json")
    data = json.loads(out)
    assert code == 0 and (data["stack"], data["device"]) == ("peft-trainer", "cpu")
    assert data["resolved"] == {"precision": "fp32", "pure_bf16": False, "loss": "fused", "optimizer_foreach": False,
                                "activation_offloading": True}
    assert data["memory_gib"]["cuda_context"] == 0 and data["cpu_gib"] > 0


def test_serving_json_contract(capsys):
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.1-8b", "--method", "inference", "--prompt-tokens",
                       "500", "--output-tokens", "200", "--concurrency", "8", "--gpu", "H100", "--json")
    serving = json.loads(out)["serving"]
    assert code == 0
    for key in ("prefill_s", "decode_tokens_per_s", "latency_s", "usd_per_1k_queries"):
        assert serving[key] > 0, key
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.1-8b", "--method", "inference", "--prompt-tokens",
                       "500", "--output-tokens", "200", "--gpu", "H100")
    assert code == 0 and "serving on H100 SXM: prefill" in out and "per 1k queries" in out


# The flags `ftadvisor estimate` had when they were written by hand (a contract): name -> a value
# to give (None: a switch), the EstimateRequest field it sets and the value that field gets.
FLAGS_BEFORE = {
    "--model": ("llama-3.2-1b", "model", "llama-3.2-1b"), "--method": ("qlora", "method", "qlora"),
    "--stack": ("unsloth", "stack", "unsloth"), "--device": ("cpu", "device", "cpu"),
    "--rank": ("8", "lora_rank", 8), "--targets": ("q_proj,v_proj", "lora_targets", ["q_proj", "v_proj"]),
    "--lora-dropout": ("0.1", "lora_dropout", 0.1), "--precision": ("fp16", "precision", "fp16"),
    "--pure-bf16": (None, "pure_bf16", True), "--no-pure-bf16": (None, "pure_bf16", False),
    "--quant": ("nf4", "quant", "nf4"), "--double-quant": (None, "double_quant", True),
    "--no-double-quant": (None, "double_quant", False), "--quant-saves-inputs": (None, "quant_saves_inputs", True),
    "--optimizer": ("sgd", "optimizer", "sgd"), "--optimizer-foreach": (None, "optimizer_foreach", True),
    "--no-optimizer-foreach": (None, "optimizer_foreach", False), "--batch-size": ("2", "batch_size", 2),
    "--seq-len": ("1024", "seq_len", 1024), "--grad-accum": ("4", "gradient_accumulation", 4),
    "--gradient-checkpointing": (None, "gradient_checkpointing", True),
    "--no-gradient-checkpointing": (None, "gradient_checkpointing", False),
    "--activation-offloading": (None, "activation_offloading", True),
    "--no-activation-offloading": (None, "activation_offloading", False),
    "--attention": ("eager", "attention", "eager"), "--loss": ("chunked", "loss", "chunked"),
    "--gpus": ("2", "gpus", 2), "--sharding": ("zero2", "sharding", "zero2"),
    "--offload-optimizer": (None, "offload_optimizer", True), "--gpu": ("L4", "gpu", "L4"),
    "--train-tokens": ("1000", "train_tokens", 1000), "--epochs": ("2.5", "epochs", 2.5),
    "--mfu": ("0.5", "mfu", 0.5), "--prompt-tokens": ("100", "prompt_tokens", 100),
    "--output-tokens": ("50", "output_tokens", 50), "--concurrency": ("4", "concurrency", 4),
    "--mbu": ("0.7", "mbu", 0.7),
}
OTHER_OPTIONS = {"--help", "--gpu-catalog", "--json"}


def test_the_flags_keep_their_names_and_gain_only_two_no_forms(capsys):
    with pytest.raises(SystemExit):
        main(["estimate", "--help"])
    listed = set(re.findall(r"(?<![\w-])--[a-z0-9-]+", capsys.readouterr().out.split("options:", 1)[1]))
    assert listed == set(FLAGS_BEFORE) | OTHER_OPTIONS | {"--no-quant-saves-inputs", "--no-offload-optimizer"}


@pytest.mark.parametrize("flag", sorted(FLAGS_BEFORE))
def test_each_flag_sets_its_field_with_its_type(flag):
    from cli.estimate import request_from_args
    from cli.main import build_parser

    value, field, expected = FLAGS_BEFORE[flag]
    argv = ["estimate", *(["--model", "llama-3.2-1b"] if flag != "--model" else []), flag, *([value] if value else [])]
    if field in ("method", "quant"):  # qlora takes nf4; nf4 needs qlora
        argv += ["--quant", "nf4"] if field == "method" else ["--method", "qlora"]
    request = request_from_args(build_parser().parse_args(argv))
    assert getattr(request, field) == expected and type(getattr(request, field)) is type(expected)


def test_flags_not_given_keep_the_requests_defaults():
    from cli.estimate import request_from_args
    from cli.main import build_parser
    from estimator.request import EstimateRequest

    parsed = request_from_args(build_parser().parse_args(["estimate", "--model", "llama-3.2-1b"]))
    assert parsed == EstimateRequest(model="llama-3.2-1b")
