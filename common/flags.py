"""The command-line flags of `ftadvisor tune`, `estimate` and `compare`: request-model field ->
flag, one table per model. The names are a contract. `cli` builds its options from these tables
(type, choices, bounds, help and default come from the fields: `cli.fields`) and the advisor
writes the commands it suggests with them (`advisor.handoff.command`), so the two cannot drift.

Data only: it lives in `common` because both `cli` and `advisor` read it, and nothing outside
`cli` imports `cli`.
"""
from __future__ import annotations

# FieldMapping (tuning.data.schemas): the column flags of `tune`, `compare` and `data check`.
MAPPING = {
    "prompt_field": "--prompt-field", "completion_field": "--completion-field", "messages_field": "--messages-field",
    "system_field": "--system-field", "chosen_field": "--chosen-field", "rejected_field": "--rejected-field",
    "prompt_template": "--prompt-template",
}

# `ftadvisor tune`: JobSpec (tuning.spec).
TUNE = {
    "model": "--model", "data": "--data", "method": "--method", "dpo_base": "--dpo-base", "dpo_beta": "--dpo-beta",
    "max_steps": "--max-steps", "epochs": "--epochs", "lora_rank": "--rank", "lora_alpha": "--alpha",
    "lora_dropout": "--dropout", "lora_targets": "--targets", "quant": "--quant", "learning_rate": "--lr",
    "batch_size": "--batch-size", "grad_accum": "--grad-accum", "max_seq_len": "--seq-len", "packing": "--packing",
    "gradient_checkpointing": "--gradient-checkpointing", "seed": "--seed", "eval_fraction": "--eval-fraction",
    "near_dup_threshold": "--near-dup-threshold", "save_steps": "--save-steps", "logging_steps": "--logging-steps",
    "eval_steps": "--eval-steps", "merge": "--merge", "gpus": "--gpus", "sharding": "--sharding", "device": "--device",
}
# JobSpec fields whose flag cli/tune.py writes itself: the run folder has a default of its own.
TUNE_BY_HAND = {"output": "--output"}

# `ftadvisor estimate`: EstimateRequest (estimator.request), every field.
ESTIMATE = {
    "model": "--model", "method": "--method", "stack": "--stack", "device": "--device", "lora_rank": "--rank",
    "lora_targets": "--targets", "lora_dropout": "--lora-dropout", "precision": "--precision",
    "pure_bf16": "--pure-bf16", "quant": "--quant", "double_quant": "--double-quant",
    "quant_saves_inputs": "--quant-saves-inputs", "optimizer": "--optimizer",
    "optimizer_foreach": "--optimizer-foreach",
    "batch_size": "--batch-size", "seq_len": "--seq-len", "gradient_accumulation": "--grad-accum",
    "gradient_checkpointing": "--gradient-checkpointing", "activation_offloading": "--activation-offloading",
    "attention": "--attention", "loss": "--loss", "gpus": "--gpus", "sharding": "--sharding",
    "offload_optimizer": "--offload-optimizer", "gpu": "--gpu", "train_tokens": "--train-tokens", "epochs": "--epochs",
    "mfu": "--mfu", "prompt_tokens": "--prompt-tokens", "output_tokens": "--output-tokens",
    "concurrency": "--concurrency", "mbu": "--mbu",
}

# `ftadvisor compare`: CompareSpec (compare.spec) and the settings it holds.
# CompareSpec fields whose flag cli/compare.py writes itself: several paths, a comma list, a run folder.
COMPARE_BY_HAND = {"data": "--data", "docs": "--docs", "model": "--model", "arms": "--arms", "output": "--output"}
COMPARE_SPEC = {
    "relevant_field": "--relevant-field", "eval_fraction": "--eval-fraction", "eval_count": "--eval-count",
    "seed": "--seed", "forgetting_text": "--forgetting-text", "gpu": "--gpu", "concurrency": "--concurrency",
    "primary_metric": "--primary-metric",
}
COMPARE_FINETUNE = {  # FinetuneSettings
    "method": "--method", "max_steps": "--max-steps", "epochs": "--epochs", "lora_rank": "--rank",
    "lora_dropout": "--dropout",
    "learning_rate": "--lr", "batch_size": "--batch-size", "max_seq_len": "--seq-len",
    "train_prompts": "--train-prompts", "cpu_step_budget": "--cpu-step-budget", "train_passages": "--train-passages",
    "distractor_only_share": "--distractor-only-share",
}
COMPARE_GENERATION = {  # GenerationSettings
    "max_new_tokens": "--max-new-tokens", "temperature": "--temperature", "system_prompt": "--system-prompt",
    "batch_size": "--answer-batch-size", "latency_sample": "--latency-sample", "engine": "--engine",
}
COMPARE_SCORER = {  # compare.scoring.ScorerSpec
    "names": "--scorer", "json_schema": "--json-schema", "sql_db_field": "--sql-db-field", "sql_url": "--sql-url",
    "sql_allow_superuser": "--sql-allow-superuser", "sql_timeout_s": "--sql-timeout",
    "sql_answer_deadline_s": "--sql-answer-deadline", "sql_deadline_s": "--sql-deadline",
}
COMPARE_RAG = {"k": "--k", "chunk_size": "--chunk-size", "chunk_overlap": "--chunk-overlap", "mmr": "--mmr"}
COMPARE_PROMPTING = {"fewshot_examples": "--fewshot-examples", "rag_examples": "--rag-examples"}
# CompareSpec field holding a settings model -> that model's table.
COMPARE_SETTINGS = {"finetune": COMPARE_FINETUNE, "generation": COMPARE_GENERATION, "scoring": COMPARE_SCORER,
                    "rag": COMPARE_RAG, "prompting": COMPARE_PROMPTING, "mapping": MAPPING}

# Flags that take several words (`--docs a.md b/`); a list given to any other flag is one comma list.
SEVERAL_WORDS = ("--docs",)
