"""Start a comparison: check what can be checked before any model loads, then launch the worker
(`python -m compare.worker RUN_DIR`, detached) through the tuning backend's run machinery."""
from __future__ import annotations

from pathlib import Path

from compare.errors import CompareError
from compare.spec import CompareSpec


def preflight(spec: CompareSpec) -> int:
    """Fail before launching on what the user can fix: missing files, a dataset with problems
    (file, line, field), an unknown column, a scorer that cannot run (a dump refused, with its
    file and line; a sql_url that does not answer; a user scorer that does not import or define its
    function), an unknown GPU, a model folder without config.json. Returns the number of usable
    examples."""
    from tuning.data import load_examples

    spec.check_inputs()
    loaded = load_examples(spec.data, spec.mapping, kind="sft")
    errors = [p for p in loaded.problems if p.severity == "error"]
    if errors or not loaded.examples:
        lines = "; ".join(str(p) for p in errors[:5]) or f"{spec.data.name}: no examples"
        more = f" (and {loaded.problems_total - 5} more)" if loaded.problems_total > 5 else ""
        raise CompareError(f"data: {lines}{more}")
    if spec.relevant_field and spec.relevant_field not in loaded.columns:
        raise CompareError(f"relevant_field: no column {spec.relevant_field!r} in {spec.data.name} "
                           f"(columns: {', '.join(loaded.columns)})")
    if len(loaded.examples) < 2:
        raise CompareError(f"data: {len(loaded.examples)} example(s): a comparison needs at least 2 (train + held-out)")
    if spec.needs_training:
        _refuse_untrainable(spec)
    from compare.scoring.preflight import validate_scoring

    validate_scoring(spec)  # dumps parse, a sql_url answers with a role that may run there, user scorers import
    from lm.refs import check_available

    check_available(spec.model)  # a folder without config.json, a hub id no hub or cache can give
    from estimator.gpus import load_gpu

    load_gpu(spec.gpu)  # an unknown name raises, listing close names
    return len(loaded.examples)


def _refuse_untrainable(spec: CompareSpec) -> None:
    """Refuse data the fine-tuned arms would not train on at all (every prompt alone fills
    max_seq_len: trl drops such rows). Counted in tokens when the model folder has a tokenizer,
    else in words (at most as many as tokens, so a refusal in words holds in tokens)."""
    from tuning.data import validate_dataset

    folder = Path(spec.model)
    has_tokenizer = any((folder / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json"))
    report = validate_dataset(spec.data, spec.mapping, tokenizer=spec.model if has_tokenizer else None,
                              max_seq_len=spec.finetune.max_seq_len, near_dup=False, eval_fraction=0.0)
    if not report.ok:
        raise CompareError(f"data: {report.error_lines()[0]}")


def launch_comparison(spec: CompareSpec) -> Path:
    """Preflight, then create the run folder and start its worker; returns the folder at once."""
    import runs

    preflight(spec)
    return runs.launch(spec)
