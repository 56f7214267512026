"""The json scorer on hand-made answers: validity, schema and required keys, field agreement."""
from __future__ import annotations

import json

import pytest

from compare.scoring.json_format import JsonScorer, field_agreement, leaves, strip_fence
from compare.scoring.results import ScoringRow
from compare.scoring.spec import load_json_schema


def _score(answer: str, reference: str = "n/a", **kwargs):
    return JsonScorer(**kwargs)(ScoringRow(question="q", answer=answer, reference=reference))


@pytest.mark.parametrize("answer, valid", [
    ('{"a": 1}', True),
    ('  ```json\n{"a": 1}\n```  ', True),
    ('```\n[1, 2]\n```', True),
    ('Here you go: {"a": 1}', False),                 # prose around it: the format was not followed
    ('```json\n{"a": 1}\n```\nHope this helps!', False),
    ("{'a': 1}", False),
    ('{"a": 1', False),
])
def test_valid_when_the_answer_is_json_or_one_fence_of_json(answer, valid):
    result = _score(answer)
    assert result.score == float(valid) and result.status == ("ok" if valid else "error")
    assert (result.error is None) == valid


def test_an_invalid_answer_says_where_it_broke():
    assert _score('{"a": 1,\n "b": }').error == "not JSON: Expecting value (line 2, column 7)"


def test_required_keys():
    assert _score('{"name": "x", "age": 3}', required_keys=["name", "age"]).score == 1.0
    assert _score('{"name": "x"}', required_keys=["name", "age"]).error == "missing key(s): age"
    assert _score("[1]", required_keys=["name"]).error == "not a JSON object (required keys: name)"


def test_a_json_schema_is_enforced_with_the_first_problem_reported(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["city"],
        "properties": {"city": {"type": "string"}, "population": {"type": "integer", "minimum": 0}},
    }))
    schema = load_json_schema(path)
    assert _score('{"city": "Oslo", "population": 700000}', schema=schema).score == 1.0
    result = _score('{"city": "Oslo", "population": -1}', schema=schema)
    assert (result.score, result.error) == (0.0, "schema: at population: -1 is less than the minimum of 0")
    assert _score('{"population": 1}', schema=schema).error == "schema: at (root): 'city' is a required property"


def test_leaves_are_addressed_by_path():
    assert leaves({"a": {"b": 1}, "c": [2, {}], "d": None}) == [(("a", "b"), 1), (("c", 0), 2), (("c", 1), {}),
                                                                  (("d",), None)]


def test_field_agreement_is_the_share_of_reference_leaves_the_answer_has_equal():
    reference = {"city": "New  York", "population": 8, "tags": ["big", "old"], "capital": False}
    answer = {"city": "new york", "population": 8.0, "tags": ["big", "new"], "capital": 0, "extra": 1}
    # city (normalised) and population (8 == 8.0) agree; tags[1] differs; False is not 0.
    assert field_agreement(answer, reference) == pytest.approx(3 / 5)
    assert field_agreement(reference, reference) == 1.0
    assert field_agreement({"population": "8"}, {"population": 8}) == 0.0


def test_field_agreement_is_reported_only_when_the_reference_is_json():
    reference = '```json\n{"a": 1, "b": 2}\n```'
    assert _score('{"a": 1, "b": 3}', reference).field_agreement == 0.5
    assert _score("not json at all", reference).field_agreement == 0.0
    assert _score('{"a": 1}', "Paris").field_agreement is None
    assert _score('{"a": 1}', "42").field_agreement is None   # a bare number is not a JSON record


def test_strip_fence_leaves_other_text_alone():
    assert strip_fence(" plain ") == "plain"
    assert strip_fence("```json\n{}\n```") == "{}"


def test_scoring_never_follows_a_ref_out_of_the_schema(tmp_path, loopback_http):
    # A schema that did not go through load_json_schema (which refuses it): the scorer still
    # reads no file and asks no server, and the answer gets an error note, not the stage.
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"type": "string", "const": "PASSWORD=hunter2"}))
    schema = {"type": "object", "properties": {"a": {"$ref": secret.as_uri()},
                                               "b": {"$ref": f"{loopback_http.url}/b.json"}}}
    for answer in ('{"a": "x"}', '{"b": "x"}'):
        result = _score(answer, schema=schema)
        assert result.status == "error" and result.error.startswith("schema: $ref ")
        assert "not followed" in result.error and "PASSWORD" not in result.error
    assert loopback_http.hits == []


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_a_deeply_nested_answer_scores_0_with_a_note(depth):
    result = _score("[" * depth + "]" * depth, reference="[" * depth + "]" * depth)
    assert (result.score, result.status) == (0.0, "error") and "nested" in result.error
