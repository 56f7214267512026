"""Supervised fine-tuning (LoRA, QLoRA or full) with trl's SFTTrainer, top to bottom:
load -> configure -> data -> trainer -> train -> save -> record.

Loss: on the completion only for prompt/completion data (trl's default), on the assistant turns
only for chat `messages` (needs `{% generation %}` in the chat template).
"""
from __future__ import annotations

from pathlib import Path

from tuning.recipes import common
from tuning.spec import JobSpec


def run(spec: JobSpec, run_dir: Path) -> str:
    """Train; returns "completed", or "cancelled" when a cancel request stopped it."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from lm.loading import disable_bnb_cpu_repack, load_model, load_tokenizer, pick_device
    from tuning import memory
    from tuning.completion_positions import score_completion_positions_only
    from tuning.lora import lora_config
    from tuning.progress import ProgressCallback

    # 1. load: the real from_pretrained path, quantized for QLoRA.
    device = pick_device(spec.device)
    tokenizer = load_tokenizer(spec.model)
    model = load_model(spec.model, quant=spec.quant, double_quant=spec.double_quant, device=device)

    # 2. configure: LoRA on the chosen targets, or every weight for full fine-tuning.
    peft_config = None if spec.base_method == "full" else lora_config(
        model, rank=spec.lora_rank, alpha=spec.lora_alpha, dropout=spec.lora_dropout, targets=spec.lora_targets
    )

    # 3. data: the seeded split, in trl's formats.
    train_rows, eval_rows = common.trl_rows(spec, tokenizer, run_dir)
    chat_rows = "messages" in train_rows[0]
    assistant_only = chat_rows and "generation" in (getattr(tokenizer, "chat_template", None) or "")
    if chat_rows and not assistant_only:
        print("note: the chat template has no {% generation %} markers; training on whole conversations")

    # 4. trainer, its loss projecting only the completion's positions onto the vocabulary.
    score_completion_positions_only()
    args = SFTConfig(
        **common.training_args(spec, run_dir, device, has_eval=bool(eval_rows)),
        max_length=spec.max_seq_len,
        packing=spec.packing,
        assistant_only_loss=assistant_only,
    )
    progress = ProgressCallback(run_dir)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[progress],
    )
    disable_bnb_cpu_repack(trainer.model)  # again, on whatever trl wrapped (no-op without 4-bit layers)

    # 5. train, from the newest complete checkpoint when resuming.
    trainer.train(resume_from_checkpoint=common.resume_from(trainer, run_dir))
    if progress.cancelled:
        return "cancelled"
    if eval_rows:
        trainer.evaluate()  # eval_loss goes to metrics.jsonl through the callback

    # 6. save: adapter/ (PEFT format) or model/ (full).
    common.save_result(trainer, tokenizer, spec, run_dir)
    # 7. record: measured peak memory beside the estimator's prediction.
    if trainer.is_world_process_zero():
        memory.record(run_dir, spec)
    return "completed"
