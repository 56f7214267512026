"""Shared answers for the advisor tests."""
import pytest

from advisor import Answers


@pytest.fixture
def hybrid_answers() -> Answers:
    """Tone + daily facts + 5,000 examples on one A100 80GB: LoRA + RAG (SFT)."""
    return Answers(
        use_case="Support assistant in our voice about today's orders",
        needs=["tone_style", "fresh_facts"],
        knowledge_update="daily",
        labeled_examples=5000,
        prompting_result="inconsistent",
        model="llama-3.1-8b",
        gpu="A100 80GB",
    )
