"""The forgetting stage: perplexity on general text of the base (adapter disabled) and of each
fine-tuned adapter (adapter on), on the same loaded weights; a rise means the adapter eroded
general skills (forgetting.json)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from common.vocabulary import QUANT_OF
from compare import files
from compare.adapters import adapters
from compare.arms import Generator
from compare.errors import CompareError
from compare.metrics import perplexity
from compare.records import Forgetting, Forgettings, TrainRecord

if TYPE_CHECKING:
    from compare.pipeline import Pipeline
    from compare.spec import CompareSpec

GENERAL_TEXT = Path(__file__).parent.parent / "general_text.txt"


def general_texts(spec: CompareSpec) -> list[str]:
    """Paragraphs of general text (the spec's file, else the built-in one)."""
    path = spec.forgetting_text or GENERAL_TEXT
    paragraphs = [text.strip() for text in path.read_text(encoding="utf-8").split("\n\n") if text.strip()]
    if not paragraphs:
        raise CompareError(f"forgetting_text: {path} holds no text")
    return paragraphs


def run(pipeline: Pipeline) -> None:
    """forgetting.json: each adapter's perplexity before and after, and the change in %."""
    spec = pipeline.spec
    texts = general_texts(spec)
    trained = adapters(spec)
    found = {}
    for n, adapter in enumerate(trained, start=1):
        train = pipeline.read(adapter.record_file, TrainRecord)
        generator = Generator(train.run_dir)
        max_length = min(generator.context_limit() or 512, 1024)
        try:
            with generator.model.disable_adapter():
                before = perplexity(generator.model, generator.tokenizer, texts, max_length=max_length)
            after = perplexity(generator.model, generator.tokenizer, texts, max_length=max_length)
        finally:
            generator.close()
        found[adapter.name] = Forgetting(
            perplexity_before=before, perplexity_after=after, change_pct=(after - before) / before * 100,
            texts=len(texts), source=str(spec.forgetting_text or "built-in general text (compare/general_text.txt)"),
            base_precision=QUANT_OF[train.method])
        pipeline.progress(n, len(trained), force=True)
    pipeline.write(files.FORGETTING, Forgettings(adapters=found))
