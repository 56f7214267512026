"""GPU memory, time and cost estimates for LLM fine-tuning and inference. Pure arithmetic: no torch."""
