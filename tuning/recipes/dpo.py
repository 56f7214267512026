"""Direct Preference Optimization on a LoRA (or QLoRA) base with trl's DPOTrainer, top to bottom:
load -> configure -> data -> trainer -> train -> save -> record.

The reference model is the base itself with the adapter switched off (trl does this when given
a peft_config and no ref_model), so DPO costs one model in memory, not two.
DPO loss: -log sigmoid(beta * (log pi(y_w|x) - log pi(y_l|x) - log ref(y_w|x) + log ref(y_l|x)))
(Rafailov et al. 2023, eq. 7).
"""
from __future__ import annotations

from pathlib import Path

from tuning.recipes import common
from tuning.spec import JobSpec


def run(spec: JobSpec, run_dir: Path) -> str:
    """Train; returns "completed", or "cancelled" when a cancel request stopped it."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from lm.loading import disable_bnb_cpu_repack, load_model, load_tokenizer, pick_device
    from tuning import memory
    from tuning.completion_positions import score_completion_positions_only
    from tuning.lora import lora_config
    from tuning.progress import ProgressCallback

    # 1. load
    device = pick_device(spec.device)
    tokenizer = load_tokenizer(spec.model)
    model = load_model(spec.model, quant=spec.quant, double_quant=spec.double_quant, device=device)

    # 2. configure: DPO always trains an adapter here (dpo_base lora or qlora).
    peft_config = lora_config(
        model, rank=spec.lora_rank, alpha=spec.lora_alpha, dropout=spec.lora_dropout, targets=spec.lora_targets
    )

    # 3. data: prompt/chosen/rejected rows, the seeded split.
    train_rows, eval_rows = common.trl_rows(spec, tokenizer, run_dir)

    # 4. trainer, its loss projecting only the completion's positions onto the vocabulary.
    score_completion_positions_only()
    args = DPOConfig(
        **common.training_args(spec, run_dir, device, has_eval=bool(eval_rows)),
        beta=spec.dpo_beta,
        max_length=spec.max_seq_len,
    )
    progress = ProgressCallback(run_dir)
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[progress],
    )
    disable_bnb_cpu_repack(trainer.model)  # the reference pass is a no-grad forward: the trap's trigger

    # 5. train
    trainer.train(resume_from_checkpoint=common.resume_from(trainer, run_dir))
    if progress.cancelled:
        return "cancelled"
    if eval_rows:
        trainer.evaluate()

    # 6. save, 7. record
    common.save_result(trainer, tokenizer, spec, run_dir)
    if trainer.is_world_process_zero():
        memory.record(run_dir, spec)
    return "completed"
