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
- every assignment of reference columns to candidate generated columns is tried (up to
  MAX_ASSIGNMENTS), not only sql-eval's greedy first match.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# pandas.testing.assert_series_equal(check_exact=False): rtol=1e-5, atol=1e-8.
REL_TOL = 1e-5
ABS_TOL = 1e-8
MAX_ASSIGNMENTS = 1000
_NAN = float("nan")  # one object, so that NaN rows deduplicate (dict/set look-ups try identity first)


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
        return len(a) == len(b) and all(cells_equal(x, y) for x, y in zip(a, b))
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
    return len(a) == len(b) and all(cells_equal(x, y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def results_match(reference: QueryResult, generated: QueryResult, *, ordered: bool = False,
                  order_columns: list[str | int] | None = None) -> bool:
    """True when `generated` holds the reference's answer (see the module docstring).

    `ordered`: the reference orders its rows; `order_columns`: what its ORDER BY items name
    (`sql_extract.order_keys`), None when unknown (then the whole row order must agree)."""
    ref, gen = distinct_rows(reference), distinct_rows(generated)
    if not ref or not gen:
        return not ref and not gen
    width = len(reference.columns)
    if len(ref) != len(gen) or len(generated.columns) < width:
        return False
    keys = _key_indices(reference.columns, order_columns) if ordered else None
    for assignment in itertools.islice(_assignments(ref, gen, width), MAX_ASSIGNMENTS):
        projected = [tuple(row[j] for j in assignment) for row in gen]
        if _same(ref, projected, ordered, keys):
            return True
    return False


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


def _assignments(ref: list[tuple], gen: list[tuple], width: int):
    """Injective maps reference column -> generated column whose sorted values agree."""
    def column(rows: list[tuple], j: int) -> list:
        return sorted((r[j] for r in rows), key=_sort_key)

    gen_columns = [column(gen, j) for j in range(len(gen[0]))]
    candidates = []
    for i in range(width):
        ref_column = column(ref, i)
        candidates.append([j for j, values in enumerate(gen_columns)
                           if all(cells_equal(x, y) for x, y in zip(ref_column, values))])
    for assignment in itertools.product(*candidates):
        if len(set(assignment)) == width:
            yield assignment
