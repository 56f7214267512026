"""Training recipes: one top-to-bottom module per method (sft: lora/qlora/full, dpo)."""
