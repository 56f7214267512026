"""The one flag table: every entry names a field of its model, no command has a flag twice, and
`estimate` has a flag for every field of its request."""
from __future__ import annotations

import pytest

from common import flags


def _models():
    from compare.scoring import ScorerSpec
    from compare.spec import CompareSpec, FinetuneSettings, GenerationSettings, PromptingSettings, RagSettings
    from estimator.request import EstimateRequest
    from tuning.data import FieldMapping
    from tuning.spec import JobSpec

    return {
        "MAPPING": FieldMapping, "TUNE": JobSpec, "TUNE_BY_HAND": JobSpec, "ESTIMATE": EstimateRequest,
        "COMPARE_BY_HAND": CompareSpec, "COMPARE_SPEC": CompareSpec, "COMPARE_FINETUNE": FinetuneSettings,
        "COMPARE_GENERATION": GenerationSettings, "COMPARE_SCORER": ScorerSpec, "COMPARE_RAG": RagSettings,
        "COMPARE_PROMPTING": PromptingSettings,
    }


@pytest.mark.parametrize("table", sorted(_models()))
def test_every_key_is_a_field_of_its_model(table):
    model = _models()[table]
    assert set(getattr(flags, table)) <= set(model.model_fields), f"{table}: not fields of {model.__name__}"


@pytest.mark.parametrize("command, tables", [
    ("tune", ["TUNE", "TUNE_BY_HAND", "MAPPING"]),
    ("estimate", ["ESTIMATE"]),
    ("compare", ["COMPARE_BY_HAND", "COMPARE_SPEC", "COMPARE_FINETUNE", "COMPARE_GENERATION", "COMPARE_SCORER",
                 "COMPARE_RAG", "COMPARE_PROMPTING", "MAPPING"]),
])
def test_a_command_has_each_flag_once(command, tables):
    spelled = [flag for table in tables for flag in getattr(flags, table).values()]
    assert len(spelled) == len(set(spelled)), sorted(f for f in spelled if spelled.count(f) > 1)


def test_every_estimate_request_field_has_a_flag():
    from estimator.request import EstimateRequest

    assert set(flags.ESTIMATE) == set(EstimateRequest.model_fields)


@pytest.mark.parametrize("section", sorted(flags.COMPARE_SETTINGS))
def test_each_compare_settings_table_belongs_to_the_model_its_spec_field_holds(section):
    from typing import get_args

    from compare.spec import CompareSpec

    annotation = CompareSpec.model_fields[section].annotation
    model = next(a for a in (annotation, *get_args(annotation)) if hasattr(a, "model_fields"))  # `X | None` -> X
    assert set(flags.COMPARE_SETTINGS[section]) <= set(model.model_fields)
