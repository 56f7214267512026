"""The advisor: prompting, RAG, LoRA, QLoRA, full fine-tuning or a hybrid, with its reasons.

`Answers` (the questionnaire) -> `recommend(answers)` -> `Recommendation` -> `render_report(...)`.
`advisor.decide.decide(answers)` is the decision alone (what the what-ifs re-run).
Pure Python: importing it loads no torch, transformers or chromadb (the estimator it consults
is arithmetic on tables)."""
from advisor.answers import Answers, load_answers, parse_answers
from advisor.errors import AdvisorError
from advisor.recommend import recommend
from advisor.recommendation import Recommendation
from advisor.report import render_report

__all__ = [
    "AdvisorError",
    "Answers",
    "Recommendation",
    "load_answers",
    "parse_answers",
    "recommend",
    "render_report",
]
