"""Next steps with the exact `ftadvisor ...` commands to run the recommended baseline or job.
File names are placeholders the user replaces: examples.jsonl (input/output pairs),
preferences.jsonl (prompt/chosen/rejected), teacher-labels.jsonl (real queries answered by the
large model), ./docs (the knowledge base), ./schemas (database dumps for Text-to-SQL).

Every command can run where it is suggested: a model that does not fit the GPUs named (or a
laptop with none) is compared and asked with `smollm2-135m-instruct`, a laptop-sized instruct
model (`ftadvisor pull` fetches it), and the sizing of the real model stays in the estimate."""
from __future__ import annotations

import re
import shlex

from advisor import sizing
from advisor.answers import Answers
from advisor.catalog import load_gpu, model_spec, runnable_model
from advisor.recommendation import NextStep, Recommendation
from advisor.text import method_label
from advisor.training_data import MIN_DPO_PAIRS
from common.vocabulary import APPROACH_METHOD, DEFAULT_EPOCHS, DEFAULT_LORA_RANK, DEFAULT_LR

EXAMPLES = "examples.jsonl"
PREFERENCES = "preferences.jsonl"
LABELS = "teacher-labels.jsonl"
DOCS = "./docs"
SCHEMAS = "./schemas"
STORE = "./rag-store"
LAPTOP_MODEL = "smollm2-135m-instruct"  # `ftadvisor pull` name (a contract)
_SQL = re.compile(r"\bsql\b|text-?to-?sql|nl2sql", re.IGNORECASE)


def _cmd(*parts: object) -> str:
    return " ".join(shlex.quote(str(p)) if not str(p).startswith("--") else str(p) for p in parts)


def is_text_to_sql(a: Answers) -> bool:
    """The use case generates SQL (its answers are scored by running them)."""
    return bool(_SQL.search(a.use_case))


def scorer_flags(a: Answers) -> list[str]:
    """The comparison's scorer for the use case (issue 15's flags): SQL is run, a strict
    format is parsed as JSON; otherwise the default text metrics."""
    if is_text_to_sql(a):
        return ["--scorer", "sql-exec", "--sql-db-field", "db_name"]
    if "output_format" in a.needs:
        return ["--scorer", "json"]
    return []


def next_steps(a: Answers, rec: Recommendation) -> list[NextStep]:
    steps: list[NextStep] = []
    if model_spec(a.model).source == "size":
        steps.append(NextStep(
            title=f"Pick a real model of that size: `{a.model}` is a size, not a checkpoint.",
            detail="Replace it below with a Hugging Face id or a local folder "
            "(e.g. meta-llama/Llama-3.1-8B-Instruct for 8b).",
        ))
    if rec.primary == "prompting":
        steps += _prompting(a)
    elif rec.primary == "rag":
        steps += _rag(a, rec)
    else:
        steps += _finetune(a, rec)
        if "rag" in rec.combine_with:
            steps += _rag(a, rec, hybrid=True)
    if a.labeled_examples > 0 or rec.primary in APPROACH_METHOD:
        steps.append(_compare(a, rec))
    steps.append(_serving(a, rec))
    return steps


def _prompting(a: Answers) -> list[NextStep]:
    shots = "3-5 of your examples" if a.labeled_examples else "3-5 worked examples"
    pairs = (f" Your {a.preference_pairs:,} preference pairs are a ready evaluation set: check that "
             "answers side with the chosen ones." if a.preference_pairs else "")
    return [NextStep(
        title=f"Write the prompt: clear instructions, the output format, and {shots}.",
        detail="Keep a held-out set of real questions with reference answers and measure every "
        "prompt change on it." + pairs,
    )]


def _local_model(a: Answers, fits_here: bool) -> tuple[str, str]:
    """(the model a local command loads, a note when it is the laptop stand-in)."""
    if a.gpu is not None and fits_here:
        return runnable_model(a.model), ""
    why = "no GPU was named" if a.gpu is None else f"{a.model} does not fit {a.gpu_count} x {a.gpu}"
    return LAPTOP_MODEL, (f" It runs {LAPTOP_MODEL} here ({why}): a laptop-sized stand-in that checks the "
                          f"pipeline; use {runnable_model(a.model)} on a GPU that fits.")


def _rag(a: Answers, rec: Recommendation, hybrid: bool = False) -> list[NextStep]:
    why = "for the facts (the hybrid's retrieval half)" if hybrid else "over your documents"
    model, note = _local_model(a, rec.serving is not None and rec.serving.fits)
    return [
        NextStep(
            title=f"Index the knowledge base {why}.",
            command=_cmd("ftadvisor", "rag", "index", "--docs", DOCS, "--store", STORE),
            detail="Re-run it whenever the documents change; that is how RAG stays fresh.",
        ),
        NextStep(
            title="Ask a real question and check the cited sources.",
            command=_cmd("ftadvisor", "rag", "ask", "a real question from your users",
                         "--store", STORE, "--model", model),
            detail=note.strip(),
        ),
    ]


def _finetune(a: Answers, rec: Recommendation) -> list[NextStep]:
    plan = rec.finetune
    assert plan is not None
    method, dpo = APPROACH_METHOD[rec.primary], rec.recipe == "dpo"
    data = PREFERENCES if dpo else LABELS if rec.distill else EXAMPLES
    steps = []
    if rec.distill is not None:
        d = rec.distill
        steps.append(NextStep(
            title=f"Label {d.labels:,} real queries with {d.teacher} and your working prompt.",
            detail=f"Log real queries, answer each with the teacher, have someone check a sample, and "
            f"save prompt/completion lines to {LABELS}; keep 500 aside as the test set.",
        ))
    kind = ["--kind", "dpo"] if dpo else []
    steps.append(NextStep(
        title=f"Check the {'preference pairs' if dpo else 'labels' if rec.distill else 'examples'} "
              "(format, duplicates, leaks).",
        command=_cmd("ftadvisor", "data", "check", data, *kind, "--seq-len", plan.seq_len),
    ))
    steps.append(NextStep(title="See the memory breakdown and which GPUs fit.",
                          command=_cmd(*estimate_command(plan.model, plan.fit, plan.batch_size,
                                                         plan.grad_accum, plan.train_tokens, a.stack))))
    where = _where_to_run(plan.fit)
    tune = ["ftadvisor", "tune", "--model", runnable_model(plan.model), "--data", data,
            *tune_flags(plan), "--output", f"runs/{'dpo' if dpo else 'sft'}-{method}"]
    steps.append(NextStep(
        title=f"Train the {method_label(method)} {'DPO' if dpo else 'SFT'} job{where} (it runs in its "
              "own process; add --detach to get the prompt back at once).",
        command=_cmd(*tune), detail=_tune_detail(a, rec),
    ))
    if rec.then_dpo and plan.dpo_stage is not None:
        steps.append(_dpo_stage(a, rec))
    return steps


# JobSpec field -> `ftadvisor tune` flag, for the fields the advice decides.
_TUNE_FLAGS = {"method": "--method", "dpo_base": "--dpo-base", "lora_rank": "--rank", "lora_alpha": "--alpha",
               "epochs": "--epochs", "learning_rate": "--lr", "batch_size": "--batch-size",
               "grad_accum": "--grad-accum", "max_seq_len": "--seq-len", "gpus": "--gpus", "sharding": "--sharding"}


def tune_flags(plan) -> list:
    """`ftadvisor tune` flags from `tuning.from_advice.job_fields` (the one advice -> job mapping),
    with the GPU count and sharding always spelled out."""
    from tuning.from_advice import job_fields  # pure: no torch

    fields = {"gpus": plan.fit.gpus, "sharding": plan.fit.sharding} | job_fields(plan)
    out: list = []
    for name, flag in _TUNE_FLAGS.items():
        if name in fields:
            value = fields[name]
            out += [flag, f"{value:g}" if isinstance(value, float) else value]
    return out + (["--gradient-checkpointing"] if fields.get("gradient_checkpointing") else [])


def estimate_command(model: str, f, batch: int, accum: int, tokens: int, stack: str = "trl") -> list:
    """`ftadvisor estimate` for a sized job: it prints the same per-GPU total."""
    est = ["ftadvisor", "estimate", "--model", model, "--method", f.method]
    if stack != "trl":  # the estimator's default stack is trl
        est += ["--stack", stack]
    if f.method != "full":
        est += ["--rank", DEFAULT_LORA_RANK]
    if f.quant != "none":
        est += ["--quant", f.quant]
    if f.gpu and not load_gpu(f.gpu).bf16:
        est += ["--precision", "fp16"]
    est += ["--batch-size", batch, "--grad-accum", accum, "--seq-len", f.seq_len,
            "--gradient-checkpointing", "--gpus", f.gpus, "--sharding", f.sharding]
    if f.gpu:
        est += ["--gpu", f.gpu]
    if tokens:
        est += ["--train-tokens", tokens, "--epochs", DEFAULT_EPOCHS]
    return est


def _where_to_run(f) -> str:
    if f.gpu is None:
        return ""
    return f" on a rented {f.gpus} x {f.gpu}" if f.rented else f" on your {f.gpus} x {f.gpu}"


def _tune_detail(a: Answers, rec: Recommendation) -> str:
    detail = ("Evaluate on held-out examples and on general skills before and after."
              if a.keep_general_skills else "Evaluate on held-out examples before shipping.")
    plan = rec.finetune
    if plan is not None and not plan.fit.fits:
        detail = (f"It needs {plan.fit.total_gib:.1f} GiB per GPU: run it on a GPU from the "
                  "table above (or a smaller model), not on the GPUs you named. " + detail)
    return detail


def _dpo_stage(a: Answers, rec: Recommendation) -> NextStep:
    plan, stage = rec.finetune, rec.finetune.dpo_stage
    base = plan.method if plan.method != "full" else "lora"
    method = APPROACH_METHOD[rec.primary]
    cmd = ["ftadvisor", "tune", "--model", f"runs/sft-{method}/merged", "--data", PREFERENCES,
           "--method", "dpo", "--dpo-base", base, "--rank", DEFAULT_LORA_RANK,
           "--epochs", DEFAULT_EPOCHS, "--lr", f"{DEFAULT_LR['dpo']:g}", "--batch-size", 1,
           "--grad-accum", plan.grad_accum, "--seq-len", stage.seq_len, "--gradient-checkpointing",
           "--gpus", stage.gpus, "--sharding", stage.sharding, "--output", f"runs/dpo-{method}"]
    return NextStep(
        title=f"Then align with DPO on your {a.preference_pairs:,} preference pairs "
              f"({stage.total_gib:.1f} GiB per GPU on {stage.gpus} x {stage.gpu}).",
        command=_cmd(*cmd),
        detail=f"Start DPO from the SFT model: merge its adapter first (`ftadvisor runs merge "
        f"runs/sft-{method}`). DPO needs at least {MIN_DPO_PAIRS} pairs; a low learning rate "
        "keeps it close to the SFT model.",
    )


def _compare(a: Answers, rec: Recommendation) -> NextStep:
    plan = rec.finetune
    method = plan.method if plan is not None and plan.method in ("lora", "qlora") else "qlora"
    job = sizing.job_for(a, rec.recipe or "sft")  # the student when distilling
    fits_here = a.gpu is not None and sizing.fit(job, method, "sft").fits
    model, note = _local_model(a.model_copy(update={"model": job.model}), fits_here)
    if rec.recipe == "dpo":
        cmd = ["ftadvisor", "compare", "--data", PREFERENCES, "--completion-field", "chosen"]
    else:
        cmd = ["ftadvisor", "compare", "--data", LABELS if rec.distill else EXAMPLES]
    if is_text_to_sql(a):
        cmd += ["--docs", SCHEMAS]
    elif rec.primary == "rag" or "rag" in rec.combine_with or a.knowledge_needs():
        cmd += ["--docs", DOCS]
    # The laptop stand-in runs where there may be no GPU: `auto` trains LoRA on a CPU, QLoRA on a GPU.
    cmd += ["--model", model, "--method", "auto" if model == LAPTOP_MODEL else method, *scorer_flags(a)]
    if a.gpu:
        cmd += ["--gpu", a.gpu]
    cmd += ["--output", "runs/compare"]
    scorer = {"sql-exec": " SQL is scored by running it on the databases (sql-exec, the dumps as --docs).",
              "json": " Answers are scored as JSON (the json scorer): valid, and field by field."}
    flags = scorer_flags(a)
    return NextStep(
        title="Measure it: prompting with your nearest examples, the RAG baseline and a fine-tuned model "
        "answer the same held-out questions, ranked by right answers; then add the results to this report "
        "with --comparison.",
        command=_cmd(*cmd),
        detail=(scorer[flags[1]] if flags else "").strip() + note,
    )


def _serving(a: Answers, rec: Recommendation) -> NextStep:
    """`ftadvisor estimate --method inference` for the served model: it prints rec.serving."""
    s = rec.serving
    cmd = ["ftadvisor", "estimate", "--model", sizing.serving_job(a).model, "--method", "inference"]
    if s is not None:
        if s.gpu and not load_gpu(s.gpu).bf16:
            cmd += ["--precision", "fp16"]
        cmd += ["--batch-size", 1, "--seq-len", s.seq_len, "--gpus", s.gpus, "--sharding", s.sharding]
        if s.gpu:
            cmd += ["--gpu", s.gpu]
    return NextStep(title="Size the serving setup (memory to run the model for inference).", command=_cmd(*cmd))
