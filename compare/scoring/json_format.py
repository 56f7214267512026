"""The `json` scorer: does the answer follow a JSON output format, and does it agree with a JSON reference?

- valid (the score, 0/1): the answer, stripped of surrounding whitespace, is JSON, or is exactly one
  Markdown code fence (```json ... ```) holding JSON; prose around the JSON makes it invalid (the
  format was not followed). With a JSON Schema it must validate (the schema's own draft, from
  `$schema`, else the latest jsonschema knows); with required keys it must be an object that has them.
- field agreement (when the reference is a JSON object or array): the share of the reference's
  leaf fields (scalars, and empty objects/arrays, addressed by their key/index path) that the answer
  has at the same path with an equal value. Strings are equal after collapsing whitespace and
  case-folding, numbers numerically (1 == 1.0, relative tolerance 1e-9), booleans and null exactly;
  types must agree ("1" is not 1, true is not 1). Extra fields in the answer do not lower it; an
  answer that is not JSON agrees on nothing (0).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from compare.scoring.results import AnswerScore, ScoringRow

# A whole answer that is one fence: ``` or ```json (any info string), the body, the closing ```.
_FENCE = re.compile(r"\A```[^\n]*\n(.*?)\n?[ \t]*```\Z", re.DOTALL)
_MISSING = object()


def strip_fence(text: str) -> str:
    """The body of a fenced answer ('```json\\n{...}\\n```' -> '{...}'), else the stripped text."""
    stripped = text.strip()
    match = _FENCE.match(stripped)
    return match.group(1).strip() if match else stripped


def parse_json(text: str) -> tuple[Any, str | None]:
    """(value, None) when `text` (fence stripped) is JSON, else (None, why not)."""
    body = strip_fence(text)
    try:
        return json.loads(body), None
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except RecursionError:  # json's decoder recurses once per level
        return None, "not scored: JSON nested too deeply"


def leaves(value: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """(path, value) of every leaf: {'a': {'b': 1}, 'c': [2]} -> [(('a', 'b'), 1), (('c', 0), 2)]."""
    if isinstance(value, dict) and value:
        return [leaf for key, item in value.items() for leaf in leaves(item, (*path, key))]
    if isinstance(value, list) and value:
        return [leaf for i, item in enumerate(value) for leaf in leaves(item, (*path, i))]
    return [(path, value)]


def _at(value: Any, path: tuple) -> Any:
    for step in path:
        if isinstance(value, dict) and isinstance(step, str) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            return _MISSING
    return value


def values_equal(a: Any, b: Any) -> bool:
    """Leaf equality after normalising (see the module docstring)."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    return type(a) is type(b) and a == b  # empty {} / []


def field_agreement(answer: Any, reference: Any) -> float:
    """Share of the reference's leaves the answer has, equal, at the same path."""
    ref_leaves = leaves(reference)
    same = sum(1 for path, ref in ref_leaves if (got := _at(answer, path)) is not _MISSING and values_equal(got, ref))
    return same / len(ref_leaves)


class JsonScorer:
    """Validity (the score) and field agreement of each answer; `schema` from `spec.load_json_schema`."""

    def __init__(self, schema: dict[str, Any] | bool | None = None, required_keys: list[str] | None = None):
        self.required_keys = list(required_keys or [])
        self._validator = None
        if schema is not None:
            from jsonschema import validators

            from compare.scoring.json_refs import local_registry

            self._validator = validators.validator_for(schema)(schema, registry=local_registry())

    def __call__(self, row: ScoringRow) -> AnswerScore:
        value, parse_error = parse_json(row.answer)
        error = parse_error or self._format_error(value)
        reference, ref_error = parse_json(row.reference)
        agreement = None
        if ref_error is None and isinstance(reference, (dict, list)):
            agreement = 0.0 if parse_error else field_agreement(value, reference)
        return AnswerScore(score=0.0 if error else 1.0, status="error" if error else "ok", error=error,
                           field_agreement=agreement)

    def _format_error(self, value: Any) -> str | None:
        if self.required_keys:
            if not isinstance(value, dict):
                return f"not a JSON object (required keys: {', '.join(self.required_keys)})"
            missing = [k for k in self.required_keys if k not in value]
            if missing:
                return f"missing key(s): {', '.join(missing)}"
        if self._validator is not None:
            from jsonschema.exceptions import best_match
            from referencing.exceptions import Unresolvable

            try:
                found = best_match(self._validator.iter_errors(value))
            except Unresolvable as exc:  # load_json_schema refuses such a schema; this scorer never fetches
                return f"schema: $ref {exc.ref!r} not followed: it points outside the schema"
            except RecursionError:
                return "not scored: JSON nested too deeply"
            if found is not None:
                where = "/".join(str(p) for p in found.absolute_path) or "(root)"
                return f"schema: at {where}: {found.message}"
        return None
