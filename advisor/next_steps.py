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

from advisor import handoff, sizing
from advisor.answers import Answers
from advisor.catalog import model_spec, runnable_model
from advisor.recommendation import MethodFit, NextStep, Recommendation
from advisor.text import method_label
from advisor.training_data import MIN_DPO_PAIRS
from common.vocabulary import ADAPTER_METHODS, APPROACH_METHOD

EXAMPLES = "examples.jsonl"
PREFERENCES = "preferences.jsonl"
LABELS = "teacher-labels.jsonl"
DOCS = "./docs"
SCHEMAS = "./schemas"
STORE = "./rag-store"
LAPTOP_MODEL = "smollm2-135m-instruct"  # `ftadvisor pull` name (a contract)
_SQL = re.compile(r"\bsql\b|text-?to-?sql|nl2sql", re.IGNORECASE)


def is_text_to_sql(answers: Answers) -> bool:
    """The use case generates SQL (its answers are scored by running them)."""
    return bool(_SQL.search(answers.use_case))


def scoring_fields(answers: Answers) -> dict | None:
    """The comparison's task-aware scorer for the use case (compare.scoring.ScorerSpec fields): SQL
    is run, a strict format is parsed as JSON; otherwise None, the default text metrics."""
    if is_text_to_sql(answers):
        return {"names": ["sql-exec"], "sql_db_field": "db_name"}
    if "output_format" in answers.needs:
        return {"names": ["json"]}
    return None


def next_steps(answers: Answers, rec: Recommendation) -> list[NextStep]:
    steps: list[NextStep] = []
    if model_spec(answers.model).source == "size":
        steps.append(NextStep(
            title=f"Pick a real model of that size: `{answers.model}` is a size, not a checkpoint.",
            detail="Replace it below with a Hugging Face id or a local folder "
            "(e.g. meta-llama/Llama-3.1-8B-Instruct for 8b).",
        ))
    if rec.primary == "prompting":
        steps += _prompting(answers)
    elif rec.primary == "rag":
        steps += _rag(answers, rec)
    else:
        steps += _finetune(answers, rec)
        if "rag" in rec.combine_with:
            steps += _rag(answers, rec, hybrid=True)
    if answers.labeled_examples > 0 or rec.primary in APPROACH_METHOD:
        steps.append(_compare(answers, rec))
    steps.append(_serving(answers, rec))
    return steps


def _prompting(answers: Answers) -> list[NextStep]:
    shots = "3-5 of your examples" if answers.labeled_examples else "3-5 worked examples"
    pairs = (f" Your {answers.preference_pairs:,} preference pairs are a ready evaluation set: check that "
             "answers side with the chosen ones." if answers.preference_pairs else "")
    return [NextStep(
        title=f"Write the prompt: clear instructions, the output format, and {shots}.",
        detail="Keep a held-out set of real questions with reference answers and measure every "
        "prompt change on it." + pairs,
    )]


def _local_model(answers: Answers, fits_here: bool) -> tuple[str, str]:
    """(the model a local command loads, a note when it is the laptop stand-in)."""
    if answers.gpu is not None and fits_here:
        return runnable_model(answers.model), ""
    why = ("no GPU was named" if answers.gpu is None
           else f"{answers.model} does not fit {answers.gpu_count} x {answers.gpu}")
    return LAPTOP_MODEL, (f" It runs {LAPTOP_MODEL} here ({why}): a laptop-sized stand-in that checks the "
                          f"pipeline; use {runnable_model(answers.model)} on a GPU that fits.")


def _rag(answers: Answers, rec: Recommendation, hybrid: bool = False) -> list[NextStep]:
    why = "for the facts (the hybrid's retrieval half)" if hybrid else "over your documents"
    model, note = _local_model(answers, rec.serving is not None and rec.serving.fits)
    return [
        NextStep(
            title=f"Index the knowledge base {why}.",
            command=_shell("ftadvisor", "rag", "index", "--docs", DOCS, "--store", STORE),
            detail="Re-run it whenever the documents change; that is how RAG stays fresh.",
        ),
        NextStep(
            title="Ask a real question and check the cited sources.",
            command=_shell("ftadvisor", "rag", "ask", "a real question from your users", "--store", STORE,
                           "--model", model),
            detail=note.strip(),
        ),
    ]


def _finetune(answers: Answers, rec: Recommendation) -> list[NextStep]:
    plan = rec.finetune
    assert plan is not None
    method, dpo = APPROACH_METHOD[rec.primary], rec.recipe == "dpo"
    data = PREFERENCES if dpo else LABELS if rec.distill else EXAMPLES
    steps = []
    if rec.distill is not None:
        distill = rec.distill
        steps.append(NextStep(
            title=f"Label {distill.labels:,} real queries with {distill.teacher} and your working prompt.",
            detail=f"Log real queries, answer each with the teacher, have someone check a sample, and "
            f"save prompt/completion lines to {LABELS}; keep 500 aside as the test set.",
        ))
    kind = ["--kind", "dpo"] if dpo else []
    steps.append(NextStep(
        title=f"Check the {'preference pairs' if dpo else 'labels' if rec.distill else 'examples'} "
              "(format, duplicates, leaks).",
        command=_shell("ftadvisor", "data", "check", data, *kind, "--seq-len", plan.seq_len),
    ))
    steps.append(NextStep(title="See the memory breakdown and which GPUs fit.",
                          command=_shell(*handoff.command("estimate", handoff.estimate_fields(answers, rec)))))
    job = {"model": runnable_model(plan.model), "data": data, **handoff.job_fields(plan),
           "output": f"runs/{'dpo' if dpo else 'sft'}-{method}"}
    steps.append(NextStep(
        title=f"Train the {method_label(method)} {'DPO' if dpo else 'SFT'} job{_where_to_run(plan.fit)} (it runs "
              "in its own process; add --detach to get the prompt back at once).",
        command=_shell(*handoff.command("tune", job)), detail=_tune_detail(answers, rec),
    ))
    if rec.then_dpo and plan.dpo_stage is not None:
        steps.append(_dpo_stage(answers, rec))
    return steps


def _where_to_run(fit: MethodFit) -> str:
    if fit.gpu is None:
        return ""
    return f" on a rented {fit.gpus} x {fit.gpu}" if fit.rented else f" on your {fit.gpus} x {fit.gpu}"


def _tune_detail(answers: Answers, rec: Recommendation) -> str:
    detail = ("Evaluate on held-out examples and on general skills before and after."
              if answers.keep_general_skills else "Evaluate on held-out examples before shipping.")
    plan = rec.finetune
    if plan is not None and not plan.fit.fits:
        detail = (f"It needs {plan.fit.total_gib:.1f} GiB per GPU: run it on a GPU from the "
                  "table above (or a smaller model), not on the GPUs you named. " + detail)
    return detail


def _dpo_stage(answers: Answers, rec: Recommendation) -> NextStep:
    plan, stage = rec.finetune, rec.finetune.dpo_stage
    method = APPROACH_METHOD[rec.primary]
    job = {"model": f"runs/sft-{method}/merged", "data": PREFERENCES, **handoff.dpo_stage_fields(plan),
           "output": f"runs/dpo-{method}"}
    return NextStep(
        title=f"Then align with DPO on your {answers.preference_pairs:,} preference pairs "
              f"({stage.total_gib:.1f} GiB per GPU on {stage.gpus} x {stage.gpu}).",
        command=_shell(*handoff.command("tune", job)),
        detail=f"Start DPO from the SFT model: merge its adapter first (`ftadvisor runs merge "
        f"runs/sft-{method}`). DPO needs at least {MIN_DPO_PAIRS} pairs; a low learning rate "
        "keeps it close to the SFT model.",
    )


def _compare(answers: Answers, rec: Recommendation) -> NextStep:
    """The comparison of the advice's settings (`handoff.compare_fields`, what the Compare page
    starts from) on the user's data, run where the command is typed: the model itself when it fits
    the named GPUs (with the plan's adapter method), else the laptop stand-in with method auto
    (LoRA on a CPU, QLoRA on a GPU)."""
    plan = rec.finetune
    method = plan.method if plan is not None and plan.method in ADAPTER_METHODS else "qlora"
    job = sizing.job_for(answers, rec.recipe or "sft")  # the student when distilling
    fits_here = answers.gpu is not None and sizing.fit(job, method, "sft").fits
    model, note = _local_model(answers.model_copy(update={"model": job.model}), fits_here)
    fields = handoff.compare_fields(answers, rec)
    del fields["advised"]  # the page's record of the advice: a report gets it with --comparison
    fields |= {"data": PREFERENCES if rec.recipe == "dpo" else LABELS if rec.distill else EXAMPLES, "model": model,
               "finetune": fields.get("finetune", {}) | {"method": "auto" if model == LAPTOP_MODEL else method},
               "scoring": scoring_fields(answers), "output": "runs/compare"}
    if rec.recipe == "dpo":
        fields["mapping"] = {"completion_field": "chosen"}  # the comparison trains and scores on the chosen answers
    if is_text_to_sql(answers):
        fields["docs"] = [SCHEMAS]
    elif rec.primary == "rag" or "rag" in rec.combine_with or answers.knowledge_needs():
        fields["docs"] = [DOCS]
    scorer = {"sql-exec": " SQL is scored by running it on the databases (sql-exec, the dumps as --docs).",
              "json": " Answers are scored as JSON (the json scorer): valid, and field by field."}
    return NextStep(
        title="Measure it: prompting with your nearest examples, the RAG baseline and a fine-tuned model "
        "answer the same held-out questions, ranked by right answers; then add the results to this report "
        "with --comparison.",
        command=_shell(*handoff.command("compare", fields)),
        detail=(scorer[fields["scoring"]["names"][0]] if fields["scoring"] else "").strip() + note,
    )


def _serving(answers: Answers, rec: Recommendation) -> NextStep:
    """`ftadvisor estimate --method inference` for the served model: it prints rec.serving."""
    return NextStep(title="Size the serving setup (memory to run the model for inference).",
                    command=_shell(*handoff.command("estimate", handoff.serving_fields(answers, rec))))


def _shell(*argv: object) -> str:
    return shlex.join(str(part) for part in argv)
