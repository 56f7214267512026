"""Do two query results hold the same answer? The result comparison of `sql-exec`.

It follows defog-ai/sql-eval (eval/eval.py: `compare_df`, `subset_df`, `normalize_table`), where a
generated query is correct when its result equals the reference's or contains it:
- duplicate rows are dropped from both results first (sql-eval's `normalize_table`);
- column names and column order do not matter: each reference column is matched to a column of
  the generated result holding the same values, and extra generated columns are allowed
  (`subset_df`); the two must have the same number of (distinct) rows;
- values: NULL equals NULL, numbers of any type (int, numeric, float, bool) compare as floats
  within relative 1e-5 / absolute 1e-8 (pandas' `assert_series_equal` default tolerance, which
  `subset_df` uses), everything else (text, dates...) exactly;
- rows are compared as a set, unless the reference orders its result.

Where it differs, and why:
- "the reference orders" means the reference query has an ORDER BY of its own (not in a subquery
  or window). sql-eval decides from the dataset's `query_category == "order_by"` or the words
  order/sort/arrange in the question; a general dataset has neither, and the reference SQL says
  what its author meant. So a reference that orders incidentally makes the order count.
- ties: when the reference's ORDER BY items are output columns (or positions), only the sequence
  of those key values must agree, so rows that tie may come in any order (sql-eval re-sorts by
  the ORDER BY columns it finds with a regex for the same reason). When an item is an
  expression, the rows must come in the reference's order exactly.
- reference columns are paired with generated columns by a search, not sql-eval's greedy first
  match: each reference column may go to a generated column whose sorted values agree; generated
  columns identical row by row count as one choice (they give the same rows); a partial pairing
  goes on only while its rows agree so far. The number of pairings is bounded (a product of the
  choices per column) before any is built, and the search stops after MAX_CHECKS steps (scored no
  match, with a note) or when the scoring's limits say stop (`limits.Stopped`). Ten equal columns
  took the earlier exhaustive version 50 s; each more, ~20x longer.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compare.scoring.limits import Limits

# pandas.testing.assert_series_equal(check_exact=False): rtol=1e-5, atol=1e-8.
REL_TOL = 1e-5
ABS_TOL = 1e-8
MAX_CHECKS = 1000  # steps of the column pairing search (each compares the rows once)
_NAN = float("nan")  # one object, so that NaN rows deduplicate (dict/set look-ups try identity first)


@dataclass(frozen=True)
class Match:
    """The verdict of `results_match`, and why it stopped short when it did (true when it matched)."""

    matched: bool
    note: str | None = None

    def __bool__(self) -> bool:
        return self.matched


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of a query, as the driver returned them."""

    columns: list[str]
    rows: list[tuple]


def canonical(value: Any) -> Any:
    """A hashable, comparable form of one cell: numbers -> float, containers -> tuples/JSON text."""
    if value is None or isinstance(value, (str, bytes, dt.date, dt.time, dt.timedelta)):
        return value
    if isinstance(value, (bool, int, float, Decimal)):
        number = float(value)
        return _NAN if math.isnan(number) else number
    if isinstance(value, (list, tuple)):
        return tuple(canonical(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, memoryview):
        return bytes(value)
    return str(value)  # UUID, ranges, network addresses...


def cells_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(cells_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _sort_key(cell: Any) -> tuple:
    """A total order over mixed cells, coarse on floats (4 significant digits, then exact) so that
    values equal within the tolerance land side by side in both results."""
    if cell is None:
        return (0,)
    if isinstance(cell, float):
        return (1,) if math.isnan(cell) else (2, float(f"{cell:.3e}"), cell)
    if isinstance(cell, str):
        return (3, cell)
    return (4, type(cell).__name__, repr(cell))


def _rows_key(row: tuple) -> tuple:
    return tuple(_sort_key(c) for c in row)


def distinct_rows(result: QueryResult) -> list[tuple]:
    """Canonical rows, duplicates dropped, first occurrences kept in order."""
    return list(dict.fromkeys(tuple(canonical(c) for c in row) for row in result.rows))


def rows_equal(a: Sequence[tuple], b: Sequence[tuple]) -> bool:
    # cells_equal compares rows as tuples: same width, then each cell.
    return len(a) == len(b) and all(cells_equal(ra, rb) for ra, rb in zip(a, b, strict=True))


def results_match(reference: QueryResult, generated: QueryResult, *, ordered: bool = False,
                  order_columns: list[str | int] | None = None, limits: Limits | None = None) -> Match:
    """Whether `generated` holds the reference's answer (see the module docstring).

    `ordered`: the reference orders its rows; `order_columns`: what its ORDER BY items name
    (`sql_extract.order_keys`), None when unknown (then the whole row order must agree);
    `limits`: checked at every step (raises `limits.Stopped`)."""
    ref, gen = distinct_rows(reference), distinct_rows(generated)
    if not ref or not gen:
        return Match(not ref and not gen)
    width = len(reference.columns)
    if len(ref) != len(gen) or len(generated.columns) < width:
        return Match(False)
    keys = _key_indices(reference.columns, order_columns) if ordered else None
    return _pair_columns(ref, gen, width, ordered, keys, limits)


def _same(ref: list[tuple], gen: list[tuple], ordered: bool, keys: list[int] | None) -> bool:
    if ordered and keys is None:
        return rows_equal(ref, gen)
    if not rows_equal(sorted(ref, key=_rows_key), sorted(gen, key=_rows_key)):
        return False
    if not ordered:
        return True
    return rows_equal([tuple(r[k] for k in keys) for r in ref], [tuple(r[k] for k in keys) for r in gen])


def _key_indices(columns: list[str], names: list[str | int] | None) -> list[int] | None:
    """Reference column index of each ORDER BY item; None if one is not an output column."""
    if names is None:
        return None
    indices = []
    for name in names:
        if isinstance(name, int):
            if not 1 <= name <= len(columns):
                return None
            indices.append(name - 1)
        elif name in columns:
            indices.append(columns.index(name))
        else:
            return None
    return indices


def _pair_columns(ref: list[tuple], gen: list[tuple], width: int, ordered: bool, keys: list[int] | None,
                  limits: Limits | None) -> Match:
    """Depth-first search for an injective pairing reference column -> generated column under
    which the rows agree (`_same`); a partial pairing must already agree on its columns."""
    candidates, capacity = _candidates(ref, gen, width, limits)
    bound = math.prod(len(c) for c in candidates)  # pairings at most, counted before any is built
    chosen: list[int] = []
    tried = [0]  # per depth: how many of its candidates were tried
    checks = 0
    while tried:
        depth = len(tried) - 1
        options = candidates[depth]
        while tried[-1] < len(options) and capacity[options[tried[-1]]] == 0:
            tried[-1] += 1
        if tried[-1] == len(options):  # this depth is exhausted: undo the choice above it
            tried.pop()
            if chosen:
                capacity[chosen.pop()] += 1
            continue
        column = options[tried[-1]]
        tried[-1] += 1
        checks += 1
        if checks > MAX_CHECKS:
            most = f"{bound:,}" if bound < 10**12 else f"{bound:.1e}"
            return Match(False, f"column matching stopped after {MAX_CHECKS:,} checks of up to {most} pairings "
                                "of the reference's columns: scored as no match")
        if limits is not None:
            limits.check()
        chosen.append(column)
        capacity[column] -= 1
        projected = [tuple(row[j] for j in chosen) for row in gen]
        if len(chosen) == width and _same(ref, projected, ordered, keys):
            return Match(True)
        if len(chosen) < width and _same([r[:len(chosen)] for r in ref], projected, ordered and keys is None, None):
            tried.append(0)
            continue
        capacity[chosen.pop()] += 1
    return Match(False)


def _candidates(ref: list[tuple], gen: list[tuple], width: int,
                limits: Limits | None) -> tuple[list[list[int]], dict[int, int]]:
    """Per reference column, the generated columns whose sorted values agree with it (one per
    group of identical generated columns), and how many identical columns each stands for."""
    def column(rows: list[tuple], j: int) -> list:
        return sorted((r[j] for r in rows), key=_sort_key)

    groups: dict[tuple, int] = {}
    capacity: dict[int, int] = {}
    for j in range(len(gen[0])):
        first = groups.setdefault(tuple(r[j] for r in gen), j)
        capacity[first] = capacity.get(first, 0) + 1
    gen_columns = {j: column(gen, j) for j in capacity}
    candidates = []
    for i in range(width):
        ref_column = column(ref, i)
        matching = []
        for j, values in gen_columns.items():
            if limits is not None:
                limits.check()
            if all(cells_equal(x, y) for x, y in zip(ref_column, values, strict=True)):
                matching.append(j)
        candidates.append(matching)
    return candidates, capacity
