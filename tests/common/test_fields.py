"""The training settings the request models share: one bound for each, in every model that has it,
where the forms and the flags read it (the field's metadata)."""
from __future__ import annotations

import pytest
from pydantic.fields import FieldInfo

from advisor.answers import Answers
from advisor.recommendation import FineTunePlan
from common import fields
from compare.spec import FinetuneSettings
from estimator import EstimateRequest
from tuning.spec import JobSpec

SITES = {
    fields.LoraRank: [(JobSpec, "lora_rank"), (FinetuneSettings, "lora_rank"), (EstimateRequest, "lora_rank")],
    fields.LoraAlpha: [(JobSpec, "lora_alpha"), (FinetuneSettings, "lora_alpha")],
    fields.LoraDropout: [(JobSpec, "lora_dropout"), (EstimateRequest, "lora_dropout")],
    fields.LearningRate: [(FinetuneSettings, "learning_rate"), (FineTunePlan, "learning_rate")],
    fields.LearningRateOrDefault: [(JobSpec, "learning_rate")],
    fields.Epochs: [(JobSpec, "epochs"), (FinetuneSettings, "epochs"), (EstimateRequest, "epochs")],
    fields.MaxSteps: [(JobSpec, "max_steps"), (FinetuneSettings, "max_steps")],
    fields.BatchSize: [(JobSpec, "batch_size"), (FinetuneSettings, "batch_size"), (EstimateRequest, "batch_size"),
                       (FineTunePlan, "batch_size")],
    fields.GradAccum: [(JobSpec, "grad_accum"), (EstimateRequest, "gradient_accumulation"),
                       (FineTunePlan, "grad_accum")],
    fields.SeqLen: [(JobSpec, "max_seq_len"), (FinetuneSettings, "max_seq_len"), (EstimateRequest, "seq_len"),
                    (FineTunePlan, "seq_len")],
    fields.GpuCount: [(JobSpec, "gpus"), (EstimateRequest, "gpus"), (Answers, "gpu_count")],
}


@pytest.mark.parametrize("kind, model, field", [
    pytest.param(kind, model, field, id=f"{model.__name__}.{field}")
    for kind, sites in SITES.items() for model, field in sites
])
def test_a_setting_has_the_same_bounds_in_every_model(kind, model, field):
    shared = FieldInfo.from_annotation(kind)
    assert model.model_fields[field].metadata == shared.metadata
    assert model.model_fields[field].annotation == shared.annotation  # `int | None` stays optional, with bounds
