"""Stages run in-process on the tiny model: an answering stage answers in batches and takes what the
run's answer cache holds instead of generating it again (a resumed stage, a stage run again; a
changed setting misses), the split is the one every arm shares, and the adapter's training rows
follow `finetune.train_prompts`."""
from __future__ import annotations

import json

import pytest

import runs
from compare.adapters import Adapter, adapters
from compare.finetune_setup import finetune_method, write_training_file
from compare.pipeline import Pipeline
from compare.plan import BY_NAME
from compare.records import LatencySample, Split
from compare.spec import CompareSpec

pytestmark = pytest.mark.slow


@pytest.fixture
def pipeline(qa_file, tiny_model_dir, tmp_path):
    spec = CompareSpec(data=qa_file, model=str(tiny_model_dir), output=tmp_path / "run", arms=["base"],
                       eval_fraction=0.25, generation={"max_new_tokens": 3, "batch_size": 4, "latency_sample": 2})
    return Pipeline(runs.create_run(spec))


def test_split_is_seeded_and_disjoint(pipeline):
    BY_NAME["split"].run(pipeline)
    split = pipeline.read("split.json", Split)
    assert (len(split.train), len(split.eval)) == (18, 6)
    assert {e.question for e in split.eval}.isdisjoint({t.question for t in split.train})
    assert [e.id for e in split.eval] == list(range(6))


def _answers(pipeline, arm="base") -> list[dict]:
    return [json.loads(line) for line in (pipeline.run_dir / "answers" / f"{arm}.jsonl").read_text().splitlines()]


def _cache_keys(pipeline) -> list[str]:
    return [json.loads(line)["key"] for line in (pipeline.run_dir / "answers" / "cache.jsonl").read_text().splitlines()]


def _rerun(pipeline, arm="base") -> list[str]:
    """Run an answering stage again as a resumed run does (its outputs gone); what it said."""
    for name in (f"{arm}.jsonl", f"{arm}.latency.json"):
        (pipeline.run_dir / "answers" / name).unlink()
    said = []
    pipeline.log = said.append
    BY_NAME[arm].run(pipeline)
    return said


def test_an_answering_stage_answers_in_batches_and_times_a_sample_alone(pipeline):
    BY_NAME["split"].run(pipeline)
    BY_NAME["base"].run(pipeline)
    rows = _answers(pipeline)
    assert [r["id"] for r in rows] == list(range(6))
    assert [r["batch_size"] for r in rows] == [4, 4, 4, 4, 2, 2]
    assert all(0 < r["new_tokens"] <= 3 for r in rows)
    sample = LatencySample.model_validate_json((pipeline.run_dir / "answers" / "base.latency.json").read_text())
    assert sample.questions == 2 and len(sample.latencies_s) == 2 and all(t > 0 for t in sample.latencies_s)
    assert sample.same_as_batched == 2  # greedy: the one-at-a-time answers equal the batched ones
    assert len(_cache_keys(pipeline)) == len(set(_cache_keys(pipeline))) == 6 + 2


def test_a_stage_run_again_takes_every_answer_from_the_cache_and_loads_no_model(pipeline, monkeypatch):
    BY_NAME["split"].run(pipeline)
    BY_NAME["base"].run(pipeline)
    first, cached = _answers(pipeline), _cache_keys(pipeline)
    import lm.generate

    monkeypatch.setattr(lm.generate, "load_chosen", None)  # loading a model would raise
    assert _rerun(pipeline) == ["base: 8 answers from the run's cache, 0 generated"]
    assert _answers(pipeline) == first and _cache_keys(pipeline) == cached


def test_a_resumed_stage_generates_only_the_answers_the_cache_lacks(pipeline):
    BY_NAME["split"].run(pipeline)
    BY_NAME["base"].run(pipeline)
    first = _answers(pipeline)
    cache = pipeline.run_dir / "answers" / "cache.jsonl"
    lines = cache.read_text().splitlines(keepends=True)
    cache.write_text("".join(lines[:3]) + lines[3][:20])  # killed while writing the 4th answer
    assert _rerun(pipeline) == ["base: 3 answers from the run's cache, 5 generated"]
    again = _answers(pipeline)
    assert again[:3] == first[:3]
    assert [r["batch_size"] for r in again[3:]] == [3, 3, 3]  # the three left, in one batch
    assert [(r["answer"], r["new_tokens"]) for r in again] == [(r["answer"], r["new_tokens"]) for r in first]
    keys = _cache_keys(pipeline)
    assert len(keys) == len(set(keys)) == 8


def test_a_changed_generation_setting_generates_again(pipeline):
    BY_NAME["split"].run(pipeline)
    BY_NAME["base"].run(pipeline)
    spec = pipeline.spec.model_copy(update={"generation": pipeline.spec.generation.model_copy(
        update={"max_new_tokens": 2})})
    (pipeline.run_dir / runs.SPEC_FILE).write_text(spec.model_dump_json())
    changed = Pipeline(pipeline.run_dir)
    assert _rerun(changed) == ["base: 0 answers from the run's cache, 8 generated"]
    assert all(r["new_tokens"] <= 2 for r in _answers(changed))
    assert len(set(_cache_keys(changed))) == 16


def test_auto_trains_lora_on_a_cpu(pipeline):
    assert pipeline.spec.finetune.method == "auto"
    assert finetune_method(pipeline.spec) == "lora"  # no CUDA here (the gpu-marked tests cover QLoRA there)


def test_separate_adapters_one_per_fine_tuned_arm(qa_file, tmp_path):
    def plan(arms, prompts="separate"):
        spec = CompareSpec(
            data=qa_file, model="m", output=tmp_path / "r", arms=arms, finetune={"train_prompts": prompts}
        )
        return adapters(spec)

    assert plan(["finetuned", "finetuned_rag"]) == [Adapter("train", "bare", ("finetuned",)),
                                                   Adapter("train_rag", "retrieval", ("finetuned_rag",))]
    assert plan(["base", "finetuned_rag"]) == [Adapter("train_rag", "retrieval", ("finetuned_rag",))]
    assert plan(["finetuned", "finetuned_rag"], "mix") == [Adapter("train", "mix", ("finetuned", "finetuned_rag"))]
    assert plan(["finetuned"], "mix") == [Adapter("train", "bare", ("finetuned",))]  # no retrieval arm, no passages
    assert plan(["base", "rag"]) == []


@pytest.mark.parametrize("style, per_question", [("bare", 1), ("retrieval", 1), ("mix", 2)])
def test_training_rows_follow_the_prompt_style(compare_inputs, tiny_model_dir, tmp_path, style, per_question):
    qa, docs = compare_inputs
    spec = CompareSpec(data=qa, docs=[docs], model=str(tiny_model_dir), output=tmp_path / "run",
                       eval_fraction=0.25, finetune={"train_prompts": style, "max_seq_len": 256})
    pipeline = Pipeline(runs.create_run(spec))
    BY_NAME["split"].run(pipeline)
    BY_NAME["index"].run(pipeline)
    split = pipeline.read("split.json", Split)
    [adapter] = adapters(spec)
    assert write_training_file(pipeline, adapter) == per_question * len(split.train)
    rows = [json.loads(line) for line in pipeline.path(adapter.data_file).read_text().splitlines()]
    from lm.loading import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    with_passages = [r for r in rows if "Passages:" in r["prompt"]]
    assert len(with_passages) == (0 if style == "bare" else len(split.train))
    for row in with_passages:  # the hybrid arm's prompt, fitted so the answer survives max_seq_len
        text = tok.apply_chat_template([{"role": "user", "content": row["prompt"]},
                                        {"role": "assistant", "content": row["completion"]}], tokenize=False)
        assert len(tok(text, add_special_tokens=False)["input_ids"]) <= 256
        assert "/" not in row["prompt"].split("Question:")[0].split("source: ")[-1].split(")")[0]
    assert {r["completion"] for r in rows} == {t.reference for t in split.train}


def test_an_answer_that_leaves_no_room_for_passages_still_trains(compare_inputs, tiny_model_dir, tmp_path):
    # sql-eval has references of 380 tokens: at --seq-len 512 the prompt keeps ~110 tokens, less than
    # the instructions and the question need; the row trains without passages (RAFT trains some
    # rows without the oracle document too) and the data check judges its length.
    qa, docs = compare_inputs
    rows = [json.loads(line) for line in qa.read_text().splitlines()]
    rows[0]["answer"] = " ".join(["Paris"] * 200)
    long_qa = tmp_path / "qa.jsonl"
    long_qa.write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = CompareSpec(data=long_qa, docs=[docs], model=str(tiny_model_dir), output=tmp_path / "run",
                       eval_fraction=0.25, seed=1, finetune={"train_prompts": "retrieval", "max_seq_len": 128})
    pipeline = Pipeline(runs.create_run(spec))
    BY_NAME["split"].run(pipeline)
    BY_NAME["index"].run(pipeline)
    split = pipeline.read("split.json", Split)
    assert rows[0]["answer"] in {t.reference for t in split.train}
    [adapter] = adapters(spec)
    assert write_training_file(pipeline, adapter) == len(split.train)
    written = [json.loads(line) for line in pipeline.path(adapter.data_file).read_text().splitlines()]
    long_row = next(r for r in written if r["completion"] == rows[0]["answer"])
    assert "Passages:\n\n" in long_row["prompt"] and "(source:" not in long_row["prompt"]


def test_a_cpu_trains_each_adapter_at_most_the_step_budget(qa_file, tmp_path):
    from compare.finetune_setup import step_limit

    def limit(rows, **finetune):
        return step_limit(CompareSpec(data=qa_file, model="m", output=tmp_path / "r", finetune=finetune), rows)

    # sql-eval: 168 training rows, batch 4, 2 epochs -> 84 steps; the CPU budget (30) stops it earlier.
    assert limit(168) == (30, 84)
    assert limit(18) == (None, 10)  # fewer steps than the budget: the epochs as asked
    assert limit(168, cpu_step_budget=0) == (None, 84)
    assert limit(168, max_steps=50) == (50, 84)  # the user's max_steps wins
    assert limit(168, epochs=0.5, batch_size=8) == (None, 11)


def _training_prompts(compare_inputs, tiny_model_dir, tmp_path, relevant_field=None, **finetune):
    """(split.train, the hybrid adapter's training prompts in split order) for these settings."""
    qa, docs = compare_inputs
    spec = CompareSpec(data=qa, docs=[docs], model=str(tiny_model_dir), output=tmp_path / "run", arms=["finetuned_rag"],
                       relevant_field=relevant_field, eval_fraction=0.25, finetune={"max_seq_len": 512, **finetune})
    pipeline = Pipeline(runs.create_run(spec))
    BY_NAME["split"].run(pipeline)
    BY_NAME["index"].run(pipeline)
    [adapter] = adapters(spec)
    write_training_file(pipeline, adapter)
    rows = [json.loads(line) for line in pipeline.path(adapter.data_file).read_text().splitlines()]
    return pipeline.read("split.json", Split).train, [row["prompt"] for row in rows]


def _passages(prompt: str) -> list[tuple[str, str]]:
    """(source, text) of each passage in a RAG prompt (rag_baseline.build_rag_prompt's layout)."""
    body = prompt.split("Passages:\n", 1)[1].rsplit("\n\nQuestion:", 1)[0]
    parts = body.split("(source: ")[1:]
    return [(part.split(")", 1)[0], part.split(")", 1)[1]) for part in parts]


@pytest.mark.parametrize("relevant_field", [None, "doc"])
def test_by_default_a_training_prompt_holds_the_oracle_and_one_distractor(compare_inputs, tiny_model_dir, tmp_path,
                                                                          relevant_field):
    # Three documents, one chunk each, k = 3: held-out questions get all three; a training prompt
    # gets the passage that answers it (by the relevant document, else by the answer) and the
    # best-ranked other one (RAFT's oracle + distractor).
    train, prompts = _training_prompts(compare_inputs, tiny_model_dir, tmp_path, relevant_field)
    for row, prompt in zip(train, prompts, strict=True):
        passages = _passages(prompt)
        assert len(passages) == 2
        assert sum(row.reference in text for _, text in passages) == 1
        if relevant_field:
            assert f"{row.relevant}.md" in [source for source, _ in passages]


def test_train_passages_sets_how_many_and_zero_keeps_the_k_retrieved(compare_inputs, tiny_model_dir, tmp_path):
    train, alone = _training_prompts(compare_inputs, tiny_model_dir, tmp_path / "one", train_passages=1)
    assert all([row.reference in text for _, text in _passages(p)] == [True]
               for row, p in zip(train, alone, strict=True))
    _, retrieved = _training_prompts(compare_inputs, tiny_model_dir, tmp_path / "all", train_passages=0)
    assert {len(_passages(p)) for p in retrieved} == {3}


def test_a_seeded_share_of_training_prompts_gets_distractors_only(compare_inputs, tiny_model_dir, tmp_path):
    train, prompts = _training_prompts(compare_inputs, tiny_model_dir, tmp_path / "a", train_passages=2,
                                       distractor_only_share=0.5)
    without = [row for row, p in zip(train, prompts, strict=True)
               if not any(row.reference in text for _, text in _passages(p))]
    assert len(without) == len(train) // 2 == 9
    assert {len(_passages(p)) for p in prompts} == {2}
    _, again = _training_prompts(compare_inputs, tiny_model_dir, tmp_path / "b", train_passages=2,
                                 distractor_only_share=0.5)
    assert again == prompts  # drawn with the seed: a rerun (or a resume) trains on the same rows
