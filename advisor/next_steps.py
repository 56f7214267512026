"""Next steps with the exact `ftadvisor ...` commands to run the recommended baseline or job.
File names are placeholders the user replaces: examples.jsonl (input/output pairs),
preferences.jsonl (prompt/chosen/rejected), ./docs (the knowledge base)."""
from __future__ import annotations

import shlex

from advisor.answers import Answers
from advisor.recommendation import TRAIN_METHOD, NextStep, Recommendation
from advisor.rules.data import MIN_DPO_PAIRS
from advisor.sizing import (
    EPOCHS,
    LORA_RANK,
    check_model,
    method_name,
    seq_len_for,
    train_tokens_for,
)

EXAMPLES = "examples.jsonl"
PREFERENCES = "preferences.jsonl"
DOCS = "./docs"
STORE = "./rag-store"


def _cmd(*parts: object) -> str:
    return " ".join(shlex.quote(str(p)) if not str(p).startswith("--") else str(p) for p in parts)


def runnable_model(a: Answers) -> str:
    """What `tune`, `rag ask` and `compare` load: a hub id or folder, not a catalog alias."""
    if "/" in a.model:
        return a.model
    spec = check_model(a.model)
    return getattr(spec, "catalog_id", None) or a.model


def next_steps(a: Answers, rec: Recommendation) -> list[NextStep]:
    steps: list[NextStep] = []
    if check_model(a.model).source == "size":
        steps.append(NextStep(
            title=f"Pick a real model of that size: `{a.model}` is a size, not a checkpoint.",
            detail="Replace it below with a Hugging Face id or a local folder "
            "(e.g. meta-llama/Llama-3.1-8B-Instruct for 8b).",
        ))
    if rec.primary == "prompting":
        steps += _prompting(a)
    elif rec.primary == "rag":
        steps += _rag(a)
    else:
        steps += _finetune(a, rec)
        if "rag" in rec.combine_with:
            steps += _rag(a, hybrid=True)
    if a.labeled_examples > 0 or rec.primary in TRAIN_METHOD:
        steps.append(_compare(a, rec))
    steps.append(NextStep(
        title="Size the serving setup (memory to run the model for inference).",
        command=_cmd("ftadvisor", "estimate", "--model", a.model, "--method", "inference",
                     *(["--gpu", a.gpu, "--gpus", a.gpu_count] if a.gpu else [])),
    ))
    return steps


def _prompting(a: Answers) -> list[NextStep]:
    shots = "3-5 of your examples" if a.labeled_examples else "3-5 worked examples"
    return [NextStep(
        title=f"Write the prompt: clear instructions, the output format, and {shots}.",
        detail="Keep a held-out set of real questions with reference answers and measure every "
        "prompt change on it.",
    )]


def _rag(a: Answers, hybrid: bool = False) -> list[NextStep]:
    why = "for the facts (the hybrid's retrieval half)" if hybrid else "over your documents"
    return [
        NextStep(
            title=f"Index the knowledge base {why}.",
            command=_cmd("ftadvisor", "rag", "index", "--docs", DOCS, "--store", STORE),
            detail="Re-run it whenever the documents change; that is how RAG stays fresh.",
        ),
        NextStep(
            title="Ask a real question and check the cited sources.",
            command=_cmd("ftadvisor", "rag", "ask", "a real question from your users",
                         "--store", STORE, "--model", runnable_model(a)),
        ),
    ]


def _finetune(a: Answers, rec: Recommendation) -> list[NextStep]:
    plan = rec.finetune
    method = TRAIN_METHOD[rec.primary]
    dpo = rec.recipe == "dpo"
    data = PREFERENCES if dpo else EXAMPLES
    seq = plan.seq_len if plan else seq_len_for(a)
    steps = [NextStep(
        title=f"Check the {'preference pairs' if dpo else 'examples'} (format, duplicates, leaks).",
        command=_cmd("ftadvisor", "data", "check", data, *(["--kind", "dpo"] if dpo else []),
                     "--seq-len", seq),
    )]
    est = ["ftadvisor", "estimate", "--model", a.model, "--method", method]
    if method != "full":
        est += ["--rank", LORA_RANK]
    if method == "qlora":
        est += ["--quant", "nf4"]
    batch = plan.batch_size if plan else 1
    gpus = plan.fit.gpus if plan else a.gpu_count
    gpu = plan.fit.gpu if plan else a.gpu
    if plan and plan.precision != "bf16":
        est += ["--precision", plan.precision]
    accum = plan.grad_accum if plan else 8
    sharding = plan.sharding if plan else ("fsdp" if method == "full" and gpus > 1 else "none")
    est += ["--batch-size", batch, "--grad-accum", accum, "--seq-len", seq,
            "--gradient-checkpointing", "--gpus", gpus]
    if sharding != "none":
        est += ["--sharding", sharding]
    if gpu:
        est += ["--gpu", gpu]
    tokens = train_tokens_for(a, rec.recipe or "sft")
    if tokens:
        est += ["--train-tokens", tokens, "--epochs", EPOCHS]
    steps.append(NextStep(title="See the memory breakdown and which GPUs fit.", command=_cmd(*est)))
    tune = ["ftadvisor", "tune", "--model", runnable_model(a), "--data", data]
    tune += ["--method", "dpo", "--dpo-base", method] if dpo else ["--method", method]
    if method != "full":
        tune += ["--rank", LORA_RANK]
    lr = plan.learning_rate if plan else (1e-5 if method == "full" else 2e-4)
    tune += ["--epochs", EPOCHS, "--lr", f"{lr:g}", "--batch-size", batch, "--grad-accum", accum,
             "--seq-len", seq, "--gradient-checkpointing"]
    if gpus > 1:
        tune += ["--gpus", gpus] + (["--sharding", sharding] if sharding != "none" else [])
    tune += ["--output", f"runs/{'dpo' if dpo else 'sft'}-{method}"]
    steps.append(NextStep(
        title=f"Train the {method_name(method)} {'DPO' if dpo else 'SFT'} job (it runs in its own "
              "process; add --detach to get the prompt back at once).",
        command=_cmd(*tune),
        detail=_tune_detail(a, rec),
    ))
    if not dpo and a.preference_pairs >= MIN_DPO_PAIRS:
        steps.append(NextStep(
            title=f"Then align with DPO on your {a.preference_pairs:,} preference pairs.",
            command=_cmd("ftadvisor", "tune", "--model", runnable_model(a), "--data", PREFERENCES,
                         "--method", "dpo", "--dpo-base", method if method != "full" else "lora",
                         "--output", f"runs/dpo-{method}"),
            detail="Start DPO from the SFT model (merge the SFT adapter first: "
            "`ftadvisor runs merge RUN_DIR`).",
        ))
    return steps


def _tune_detail(a: Answers, rec: Recommendation) -> str:
    detail = ("Evaluate on held-out examples and on general skills before and after."
              if a.keep_general_skills else "Evaluate on held-out examples before shipping.")
    plan = rec.finetune
    if plan is not None and not plan.fit.fits:
        detail = (f"It needs {plan.fit.total_gib:.1f} GiB per GPU: run it on a GPU from the "
                  "table above (or a smaller model), not on the GPUs you named. " + detail)
    return detail


def _compare(a: Answers, rec: Recommendation) -> NextStep:
    method = TRAIN_METHOD.get(rec.primary, "qlora")
    cmd = ["ftadvisor", "compare", "--data", EXAMPLES]
    if rec.primary == "rag" or "rag" in rec.combine_with or a.knowledge_needs():
        cmd += ["--docs", DOCS]
    cmd += ["--model", runnable_model(a), "--method", method if method in ("lora", "qlora") else "lora"]
    if a.gpu:
        cmd += ["--gpu", a.gpu]
    cmd += ["--output", "runs/compare"]
    return NextStep(
        title="Measure it: run the RAG baseline and a fine-tuned model on the same held-out "
        "questions, then add the results to this report with --comparison.",
        command=_cmd(*cmd),
    )
