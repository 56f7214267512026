"""Result comparison on hand-made results with known verdicts (sql-eval's semantics, see the module)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from compare.scoring.limits import Limits, Stopped
from compare.scoring.sql_compare import MAX_CHECKS, Match, QueryResult, results_match

PEOPLE = QueryResult(["name", "age"], [("Ann", 30), ("Bob", 25), ("Cid", 35)])


def test_identical_results_match():
    assert results_match(PEOPLE, QueryResult(["name", "age"], list(PEOPLE.rows)))


def test_row_order_does_not_matter_unless_the_reference_orders():
    shuffled = QueryResult(["name", "age"], [("Cid", 35), ("Ann", 30), ("Bob", 25)])
    assert results_match(PEOPLE, shuffled)
    assert not results_match(PEOPLE, shuffled, ordered=True, order_columns=None)
    assert results_match(PEOPLE, QueryResult(["name", "age"], list(PEOPLE.rows)), ordered=True)


def test_column_names_and_order_do_not_matter_and_extra_columns_are_allowed():
    renamed = QueryResult(["years", "id", "who"], [(30, 1, "Ann"), (25, 2, "Bob"), (35, 3, "Cid")])
    assert results_match(PEOPLE, renamed)


def test_a_missing_column_or_an_extra_row_is_wrong():
    assert not results_match(PEOPLE, QueryResult(["name"], [("Ann",), ("Bob",), ("Cid",)]))
    assert not results_match(PEOPLE, QueryResult(["name", "age"], [*PEOPLE.rows, ("Dee", 40)]))
    assert not results_match(PEOPLE, QueryResult(["name", "age"], [("Ann", 30), ("Bob", 26), ("Cid", 35)]))


def test_duplicate_rows_are_dropped_first():
    assert results_match(PEOPLE, QueryResult(["name", "age"], [*PEOPLE.rows, ("Ann", 30)]))


def test_numbers_compare_as_floats_within_tolerance_and_nulls_equal_nulls():
    reference = QueryResult(["avg"], [(Decimal("3.3333333333333333"),), (None,), (True,)])
    generated = QueryResult(["x"], [(10 / 3,), (None,), (1,)])
    assert results_match(reference, generated)
    assert not results_match(reference, QueryResult(["x"], [(3.33,), (None,), (1,)]))  # 1e-3 off
    assert not results_match(QueryResult(["n"], [(1,)]), QueryResult(["n"], [("1",)]))  # text is not a number


def test_dates_compare_exactly():
    day = QueryResult(["d"], [(dt.date(2024, 1, 2),)])
    assert results_match(day, QueryResult(["day"], [(dt.date(2024, 1, 2),)]))
    assert not results_match(day, QueryResult(["day"], [("2024-01-02",)]))


def test_ties_of_the_order_key_may_come_in_any_order():
    reference = QueryResult(["name", "age"], [("Bob", 25), ("Dee", 25), ("Ann", 30)])
    ties_swapped = QueryResult(["name", "age"], [("Dee", 25), ("Bob", 25), ("Ann", 30)])
    assert results_match(reference, ties_swapped, ordered=True, order_columns=["age"])
    assert results_match(reference, ties_swapped, ordered=True, order_columns=[2])
    assert not results_match(reference, ties_swapped, ordered=True, order_columns=None)  # an expression key
    wrong_order = QueryResult(["name", "age"], [("Ann", 30), ("Bob", 25), ("Dee", 25)])
    assert not results_match(reference, wrong_order, ordered=True, order_columns=["age"])


def test_columns_with_equal_values_are_paired_by_trying_every_assignment():
    reference = QueryResult(["a", "b"], [(1, 2), (2, 1)])
    # x, y and z all hold {1, 2}: the first match (a->x, b->y) gives rows (1, 1), (2, 2); a->x, b->z is right.
    generated = QueryResult(["x", "y", "z"], [(1, 1, 2), (2, 2, 1)])
    assert results_match(reference, generated)
    assert not results_match(reference, QueryResult(["x", "y"], [(1, 1), (2, 2)]))


def test_empty_results():
    empty = QueryResult(["a"], [])
    assert results_match(empty, QueryResult(["a", "b"], []))
    assert not results_match(empty, QueryResult(["a"], [(1,)]))
    assert not results_match(QueryResult(["a"], [(1,)]), empty)


@pytest.mark.timeout(60)
def test_equal_columns_are_paired_without_trying_every_assignment():
    # 16 columns of equal values: the exhaustive search would walk 16**16 tuples before one pairing.
    reference = QueryResult([f"c{i}" for i in range(16)], [(1,) * 16, (2,) * 16])
    generated = QueryResult([f"x{i}" for i in range(17)], [(1,) * 16 + (0,), (2,) * 16 + (0,)])
    assert results_match(reference, generated) == Match(True)


def test_the_pairing_search_stops_at_its_cap_with_a_note():
    # 40 columns, each a different order of 0..22: all agree on sorted values, no two on rows.
    rows = 23
    reference = QueryResult([f"r{k}" for k in range(40)],
                            [tuple((i * (k % 22 + 1) + k) % rows for k in range(40)) for i in range(rows)])
    generated = QueryResult([f"g{k}" for k in range(40)],
                            [tuple((i * (k % 22 + 1) + k + 5) % rows for k in range(40)) for i in range(rows)])
    match = results_match(reference, generated)
    assert not match and match.note.startswith(f"column matching stopped after {MAX_CHECKS:,} checks of up to ")


def test_the_limits_stop_a_long_comparison():
    reference = QueryResult(["a"], [(i,) for i in range(100)])
    limits = Limits(answer_s=1e-9)
    limits.start_answer()
    with pytest.raises(Stopped) as info:
        results_match(reference, QueryResult(["a"], list(reference.rows)), limits=limits)
    assert info.value.scope == "answer"
