"""Answers: the issue's field names, plain-language questions, bounds, loose GPU names, errors."""
import json

import pytest
from pydantic import ValidationError

from advisor import AdvisorError, Answers, load_answers, parse_answers
from advisor.answers import GROUPS, NEED_LABELS

ISSUE_FIELDS = [
    "use_case", "needs", "knowledge_update", "citations_required", "labeled_examples",
    "preference_pairs", "prompting_result", "domain_coverage", "requirements_stable", "model",
    "gpu", "gpu_count", "budget_usd", "queries_per_day", "data_must_stay_on_prem",
    "keep_general_skills",
]
ISSUE_NEEDS = ["tone_style", "output_format", "fresh_facts", "private_knowledge",
               "specialized_reasoning", "task_skill", "alignment", "cost_latency"]


def test_has_every_field_the_issue_names():
    assert set(ISSUE_FIELDS) <= set(Answers.model_fields)
    assert list(NEED_LABELS) == ISSUE_NEEDS


@pytest.mark.parametrize("field", list(Answers.model_fields))
def test_every_field_is_a_question_with_help_and_group(field):
    info = Answers.model_fields[field]
    assert info.description and info.description.endswith("?")
    assert info.json_schema_extra["group"] in GROUPS
    assert info.json_schema_extra["help"]


def test_defaults_validate():
    a = Answers()
    assert a.needs == [] and a.gpu is None and a.gpu_count == 1


@pytest.mark.parametrize("field,value", [
    ("labeled_examples", -1), ("preference_pairs", -5), ("queries_per_day", -1),
    ("gpu_count", 0), ("budget_usd", -10), ("needs", ["telepathy"]),
    ("knowledge_update", "hourly"), ("prompting_result", "meh"), ("surprise", 1),
])
def test_bad_values_name_the_field(field, value):
    with pytest.raises(ValidationError) as exc:
        Answers.model_validate({field: value})
    assert exc.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize("name", ["A100 80GB", "a100-80gb", "a100_80GB", "A100 80 GB"])
def test_gpu_names_match_loosely(name):
    assert Answers(gpu=name).gpu == "A100 80GB"


def test_rtx_4090_and_none():
    assert Answers(gpu="RTX 4090").gpu == "RTX 4090"
    assert Answers(gpu="rtx-4090").gpu == "RTX 4090"
    assert Answers(gpu="none").gpu is None


def test_unknown_gpu_lists_close_names():
    with pytest.raises(ValidationError) as exc:
        Answers(gpu="A100 90GB")
    err = exc.value.errors()[0]
    assert err["loc"] == ("gpu",)
    assert "A100 80GB" in err["msg"]


def test_model_is_a_catalog_name_or_a_size():
    assert Answers(model="llama-3.1-8b").model == "llama-3.1-8b"
    assert Answers(model="70b").model == "70b"
    with pytest.raises(ValidationError) as exc:
        Answers(model="llama-9.9-8b")
    assert exc.value.errors()[0]["loc"] == ("model",)


def test_needs_are_deduplicated():
    assert Answers(needs=["tone_style", "tone_style"]).needs == ["tone_style"]


def test_malformed_json_gives_line_and_column(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text('{\n  "needs": ["tone_style"]\n  "labeled_examples": 5\n}\n')
    with pytest.raises(AdvisorError, match=r"line 3, column 3"):
        load_answers(path)


def test_not_an_object_and_missing_file(tmp_path):
    with pytest.raises(AdvisorError, match="JSON object"):
        parse_answers("[1, 2]")
    with pytest.raises(AdvisorError, match="no such file"):
        load_answers(tmp_path / "nope.json")


def test_round_trips_through_json():
    a = Answers(needs=["alignment"], preference_pairs=3000, gpu="h100-sxm", budget_usd=500)
    again = parse_answers(json.dumps(a.model_dump(mode="json")))
    assert again == a
