"""End to end on CPU with the tiny model and 24 Q/A pairs: every arm runs, every file is
written, the numbers agree with the answers, and a run cancelled during training resumes
without redoing its finished stages.

One run serves every test (module fixture): launched as a real detached worker with a cancel
request already waiting in train/ (so the tuning sub-run is cancelled whatever the machine's
speed), resumed, and waited for (about a minute on 2 cores).
"""
from __future__ import annotations

import json

import pytest

import runs
from compare import metrics
from compare.launch import preflight
from compare.plan import planned_stages
from compare.results import load_results
from compare.spec import ARM_TITLES, ARMS, CompareSpec

pytestmark = pytest.mark.slow
MAX_STEPS = 12


@pytest.fixture(scope="module")
def cancelled_then_resumed(tiny_model_dir, compare_inputs, tmp_path_factory):
    qa, docs = compare_inputs
    base = tmp_path_factory.mktemp("compare-e2e")
    spec = CompareSpec(
        data=qa, docs=[docs], relevant_field="doc",
        model=str(tiny_model_dir), output=base / "run", eval_fraction=0.25,
        finetune={"method": "lora", "max_steps": MAX_STEPS, "batch_size": 4},
        generation={"max_new_tokens": 8}, gpu="A100 80GB",
    )
    preflight(spec)
    run_dir = runs.create_run(spec)
    (run_dir / "train").mkdir()
    runs.request_cancel(run_dir / "train")  # waiting for the tuning worker: it stops at its start
    runs.start_worker(run_dir)
    cancelled = runs.wait(run_dir, timeout_s=300)  # generous: the machine may be shared
    assert cancelled.stage == "train", f"did not stop in the train stage: {cancelled.state} {cancelled.error}"
    before = {
        name: (run_dir / name).stat().st_mtime_ns for name in ("split.json", "retrieval.json", "answers/base.jsonl")
    }
    stages_at_cancel = dict(cancelled.stages)
    train_state = runs.load_status(run_dir / "train").state
    runs.resume(run_dir)
    final = runs.wait(run_dir, timeout_s=420, poll_s=0.5)
    return {"run_dir": run_dir, "cancelled": cancelled, "stages_at_cancel": stages_at_cancel,
            "train_state_at_cancel": train_state, "mtimes_before": before, "final": final}


def test_cancel_stops_the_run_in_the_train_stage(cancelled_then_resumed):
    r = cancelled_then_resumed
    assert r["cancelled"].state == "cancelled"
    assert r["stages_at_cancel"]["split"] == r["stages_at_cancel"]["base"] == "completed"
    assert r["stages_at_cancel"]["train"] == "cancelled"
    assert r["stages_at_cancel"]["finetuned"] == "pending"
    assert r["train_state_at_cancel"] == "cancelled"  # the cancel reached the tuning sub-run


def test_resume_skips_finished_stages_and_completes(cancelled_then_resumed):
    r = cancelled_then_resumed
    run_dir = r["run_dir"]
    assert r["final"].state == "completed", r["final"].error
    assert set(r["final"].stages.values()) == {"completed"}
    for name, mtime in r["mtimes_before"].items():
        assert (run_dir / name).stat().st_mtime_ns == mtime, f"{name} was rewritten on resume"
    log = (run_dir / runs.LOG_FILE).read_text()
    for stage in ("split", "index", "base", "rag"):
        assert f"stage {stage}: already done, skipped" in log
    train = json.loads((run_dir / "train.json").read_text())
    assert train["steps"] == MAX_STEPS  # the resumed training ends with the expected step count


def test_every_file_is_written(cancelled_then_resumed):
    run_dir = cancelled_then_resumed["run_dir"]
    for name in ("spec.json", "status.json", "log.txt", "split.json", "retrieval.json", "train.json",
                 "forgetting.json", "costs.json", "results.json", "answers.jsonl", "metrics.md",
                 "train/adapter/adapter_config.json", "train/memory.json", "train/metrics.jsonl",
                 "train_rag.json", "train_rag/adapter/adapter_config.json", "train_data.jsonl", "train_rag_data.jsonl"):
        assert (run_dir / name).exists(), name
    for arm in ARMS:
        assert (run_dir / "answers" / f"{arm}.jsonl").exists()
    spec = CompareSpec.model_validate_json((run_dir / "spec.json").read_text())
    assert list(runs.load_status(run_dir).stages) == planned_stages(spec)


def test_results_agree_with_the_answers(cancelled_then_resumed):
    run_dir = cancelled_then_resumed["run_dir"]
    results = load_results(run_dir)
    rows = [json.loads(line) for line in (run_dir / "answers.jsonl").read_text().splitlines()]
    split = json.loads((run_dir / "split.json").read_text())
    assert len(rows) == results.eval_examples == len(split["eval"]) == 6  # 25% of 24
    assert results.train_examples == 18
    assert set(results.arms) == set(ARMS)
    for arm, m in results.arms.items():
        same = [metrics.normalize_answer(r["answers"][arm]) == metrics.normalize_answer(r["reference"]) for r in rows]
        assert m.exact_match == pytest.approx(sum(same) / len(rows))
        assert m.token_f1 == pytest.approx(
            sum(metrics.token_f1(r["answers"][arm], r["reference"]) for r in rows) / len(rows)
        )
        assert m.rouge_l == pytest.approx(
            sum(metrics.rouge_l(r["answers"][arm], r["reference"]) for r in rows) / len(rows)
        )
        lat = json.loads((run_dir / "answers" / f"{arm}.latency.json").read_text())["latencies_s"]
        assert len(lat) == 3  # the single-request sample, timed apart from the batches
        assert m.latency_p50_s == pytest.approx(metrics.percentile(lat, 50))
        assert m.latency_p95_s == pytest.approx(metrics.percentile(lat, 95))
        batched = [json.loads(x) for x in (run_dir / "answers" / f"{arm}.jsonl").read_text().splitlines()]
        assert [b["batch_size"] for b in batched] == [6] * 6  # 6 held-out questions, one batch of up to 8
        assert m.seconds_per_answer == pytest.approx(sum(b["latency_s"] / 6 for b in batched) / 6)
        assert 0 < m.generated_tokens <= 8 * len(rows)


def test_retrieval_and_forgetting_figures(cancelled_then_resumed):
    results = load_results(cancelled_then_resumed["run_dir"])
    rows = [json.loads(x) for x in (cancelled_then_resumed["run_dir"] / "answers.jsonl").read_text().splitlines()]
    for arm in ("rag", "finetuned_rag"):
        assert results.arms[arm].hit_at_k == pytest.approx(sum(r["retrieval_hit"] for r in rows) / len(rows))
        assert results.arms[arm].hit_at_k >= 0.5  # one capital per heading: the right document comes back
    for arm in ("base", "finetuned"):
        assert results.arms[arm].hit_at_k is None
    for arm in ("finetuned", "finetuned_rag"):
        assert results.arms[arm].perplexity_before > 1 and results.arms[arm].perplexity_after > 1
    assert results.arms["base"].perplexity_before is None


def test_training_memory_time_and_costs(cancelled_then_resumed):
    results = load_results(cancelled_then_resumed["run_dir"])
    # One adapter per fine-tuned arm, each trained on the prompts its arm sends.
    assert {name: (t.prompts, t.arms) for name, t in results.trainings.items()} == {
        "train": ("bare", ["finetuned"]), "train_rag": ("retrieval", ["finetuned_rag"])}
    for t in results.trainings.values():
        assert t.method == "lora" and t.steps == MAX_STEPS and t.seconds > 0
        assert t.measured_peak_gib > 0 and t.measured_kind
    c = results.costs
    assert c.usd_per_hour > 0 and set(c.arms) == set(ARMS)
    assert c.arms["base"].fixed_usd == 0 and c.arms["rag"].fixed_parts.keys() == {"index"}
    assert c.arms["finetuned"].fixed_usd == pytest.approx(c.training_estimates["train"].cost_usd)
    assert c.arms["finetuned_rag"].fixed_usd == pytest.approx(c.arms["rag"].fixed_usd
                                                              + c.training_estimates["train_rag"].cost_usd)
    assert len(c.break_even) == 10  # every pair of the five arms
    from estimator.serving import ServingRequest, serving_estimate

    run_dir = cancelled_then_resumed["run_dir"]
    for arm in ARMS:  # each arm priced at its own measured prompt and answer lengths
        rows = [json.loads(x) for x in (run_dir / "answers" / f"{arm}.jsonl").read_text().splitlines()]
        est = serving_estimate(ServingRequest(
            model=str(results.model) + "/config.json", gpu="A100 80GB", concurrency=8,
            prompt_tokens=sum(r["prompt_tokens"] for r in rows) / len(rows),
            output_tokens=sum(r["new_tokens"] for r in rows) / len(rows)))
        assert c.arms[arm].per_1k_queries_usd == pytest.approx(est.usd_per_1k_queries)
    assert c.arms["rag"].prompt_tokens > c.arms["base"].prompt_tokens  # the passages are retrieval's real cost
    assert c.arms["fewshot"].prompt_tokens > c.arms["base"].prompt_tokens  # and the demonstrations few-shot's


def test_the_fewshot_arm_gets_the_nearest_training_pairs_never_its_own_question(cancelled_then_resumed):
    run_dir = cancelled_then_resumed["run_dir"]
    split = json.loads((run_dir / "split.json").read_text())
    examples = json.loads((run_dir / "examples.json").read_text())
    assert examples["k"] == 4 and len(examples["questions"]) == len(split["eval"])
    for picked in examples["questions"]:
        question = split["eval"][picked["id"]]["question"]
        demos = [split["train"][i]["question"] for i in picked["train_ids"]]
        assert len(demos) == 4 and question not in demos
        assert picked["similarity"] == sorted(picked["similarity"], reverse=True)  # nearest first


def test_metrics_md_has_the_table(cancelled_then_resumed):
    text = (cancelled_then_resumed["run_dir"] / "metrics.md").read_text()
    assert "| arm | correct | format match | length x ref | exact match | token F1 | ROUGE-L |" in text
    for arm in ARMS:
        assert f"| {ARM_TITLES[arm]} |" in text
