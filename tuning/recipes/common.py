"""Small steps the SFT and DPO recipes share: rows for trl, the Trainer arguments, the checkpoint
to resume from, saving the result. Functions only; each recipe stays one readable top-to-bottom
module."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuning.checkpoints import CHECKPOINTS, resume_point
from tuning.errors import DatasetError
from tuning.spec import JobSpec

ADAPTER, FULL_MODEL = "adapter", "model"


def trl_rows(spec: JobSpec, tokenizer: Any, run_dir: Path) -> tuple[list[dict], list[dict]]:
    """Train and eval rows in trl's dataset formats: the split the saved dataset report describes
    (seeded, duplicate groups on one side), or a fresh seeded split when there is no report.

    With a chat template, plain prompt/completion rows become conversational (a user turn and an
    assistant turn) so training sees the same template `generate_answers` uses.
    """
    from tuning.data import DatasetReport, load_examples, split_examples

    loaded = load_examples(spec.data, spec.mapping, kind=spec.kind_of_data)
    if not loaded.examples:
        first = loaded.problems[0].message if loaded.problems else "no examples"
        raise DatasetError(f"no usable examples in {spec.data}: {first}", file=spec.data)
    report_path = run_dir / "dataset_report.json"
    if report_path.exists():
        eval_lines = set(DatasetReport.model_validate_json(report_path.read_text()).eval_lines)
        train = [e for e in loaded.examples if e.source_line not in eval_lines]
        held_out = [e for e in loaded.examples if e.source_line in eval_lines]
    else:
        train, held_out = split_examples(loaded.examples, spec.eval_fraction, spec.seed)
    chat = bool(getattr(tokenizer, "chat_template", None))
    return [e.to_trl(chat=chat) for e in train], [e.to_trl(chat=chat) for e in held_out]


def training_args(spec: JobSpec, run_dir: Path, device: str, has_eval: bool) -> dict[str, Any]:
    """Keyword arguments common to SFTConfig and DPOConfig (both extend TrainingArguments)."""
    import torch

    from lm.loading import compute_dtype

    dtype = compute_dtype(device)
    evaluate_during = has_eval and spec.eval_steps is not None
    return dict(
        output_dir=str(run_dir / CHECKPOINTS),
        per_device_train_batch_size=spec.batch_size,
        per_device_eval_batch_size=spec.batch_size,
        gradient_accumulation_steps=spec.grad_accum,
        learning_rate=spec.lr,
        num_train_epochs=spec.epochs,
        max_steps=spec.max_steps or -1,
        logging_steps=spec.logging_steps,
        logging_first_step=True,
        save_steps=spec.save_steps,
        save_total_limit=2,
        eval_strategy="steps" if evaluate_during else "no",
        eval_steps=spec.eval_steps if evaluate_during else None,
        activation_checkpointing=spec.gradient_checkpointing,  # trl 1.16's name for gradient checkpointing
        seed=spec.seed,
        data_seed=spec.seed,
        use_cpu=device == "cpu",
        bf16=dtype == torch.bfloat16,
        fp16=dtype == torch.float16,
        report_to="none",
        disable_tqdm=True,  # progress goes to status.json; keep log.txt readable
        include_num_input_tokens_seen="non_padding",  # for tokens_per_s in metrics.jsonl
        dataloader_num_workers=0,
    )


def resume_from(trainer: Any, run_dir: Path) -> str | None:
    """For `trainer.train(resume_from_checkpoint=...)`: the newest complete checkpoint, or None."""
    return resume_point(run_dir, writer=trainer.is_world_process_zero())


def save_result(trainer: Any, tokenizer: Any, spec: JobSpec, run_dir: Path) -> Path:
    """The adapter (PEFT format) in adapter/, or the whole model in model/ for full fine-tuning.
    Every rank calls this (ZeRO-3/FSDP gather the shards); only rank 0 writes files."""
    out = run_dir / (FULL_MODEL if spec.base_method == "full" else ADAPTER)
    trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out))
    return out


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str))
