"""Disclosure control: small cells are suppressed, and no suppressed cell can be worked out
from the published table, its totals and the totals published beside it."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirador.analytics.disclosure import (
    TOTAL,
    Hierarchy,
    ProtectedTable,
    Relation,
    disclosure_threshold,
    protect_table,
    recoverable_entries,
    suppress,
    with_margins,
)
from mirador.analytics.tests.attack import by_subtraction, feasible_intervals

THRESHOLD = 5
# Counts as migration tables have them: many zeros, many small counts, some large ones.
counts = st.one_of(st.just(0), st.integers(1, THRESHOLD - 1), st.integers(THRESHOLD, 400))


def published(table: ProtectedTable) -> dict[tuple[str, ...], int | None]:
    return {key: table.published(key) for key in table.values}


def assert_nothing_recoverable(
    table: ProtectedTable, relations: list[Relation], *, lower_bound: float = 0.0
) -> None:
    shown = published(table)
    assert not by_subtraction(shown, relations)
    for key, (low, high) in feasible_intervals(shown, relations, lower_bound=lower_bound).items():
        assert high - low > 1e-6, f"{key} recovered: between {low} and {high}"


def assert_small_cells_hidden(table: ProtectedTable) -> None:
    for key, value in table.values.items():
        if 0 < value < table.threshold:
            assert table.published(key) is None, key


def table_2d(rows: int, columns: int, values: list[int]) -> dict[tuple[str, ...], int]:
    keys = itertools.product([f"r{i}" for i in range(rows)], [f"c{j}" for j in range(columns)])
    return dict(zip(keys, values, strict=False))


@st.composite
def tables_2d(draw: st.DrawFn) -> dict[tuple[str, ...], int]:
    rows, columns = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    values = draw(st.lists(counts, min_size=rows * columns, max_size=rows * columns))
    return table_2d(rows, columns, values)


@st.composite
def tables_1d(draw: st.DrawFn) -> dict[tuple[str, ...], int]:
    values = draw(st.lists(counts, min_size=1, max_size=8))
    return {(f"c{index}",): value for index, value in enumerate(values)}


@st.composite
def tables_3d(draw: st.DrawFn) -> dict[tuple[str, ...], int]:
    shape = [draw(st.integers(1, 3)) for _ in range(3)]
    keys = list(
        itertools.product(
            *[[f"{axis}{i}" for i in range(n)] for axis, n in zip("abc", shape, strict=True)]
        )
    )
    values = draw(st.lists(counts, min_size=len(keys), max_size=len(keys)))
    return dict(zip(keys, values, strict=True))


@st.composite
def monthly_tables(draw: st.DrawFn) -> tuple[dict[tuple[str, ...], int], Hierarchy]:
    """Months of two years by a code, published with yearly subtotals."""
    months = [
        f"{year}-{month:02d}"
        for year in (2023, 2024)
        for month in range(1, draw(st.integers(1, 4)) + 1)
    ]
    codes = [f"c{i}" for i in range(draw(st.integers(1, 3)))]
    keys = list(itertools.product(months, codes))
    values = draw(st.lists(counts, min_size=len(keys), max_size=len(keys)))
    hierarchy = Hierarchy(parent={month: month[:4] for month in months})
    return dict(zip(keys, values, strict=True)), hierarchy


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(tables_1d())
def test_a_list_with_its_total_never_gives_a_suppressed_cell_away(
    cells: Mapping[tuple[str, ...], int],
) -> None:
    table = protect_table(cells, threshold=THRESHOLD)
    _values, relations = with_margins(cells)
    assert_small_cells_hidden(table)
    assert_nothing_recoverable(table, relations)


@PROPERTY
@given(tables_2d())
def test_a_two_way_table_with_its_margins_never_gives_a_suppressed_cell_away(
    cells: Mapping[tuple[str, ...], int],
) -> None:
    table = protect_table(cells, threshold=THRESHOLD)
    _values, relations = with_margins(cells)
    assert_small_cells_hidden(table)
    assert_nothing_recoverable(table, relations)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables_3d())
def test_a_three_way_table_with_all_its_margins_never_gives_a_suppressed_cell_away(
    cells: Mapping[tuple[str, ...], int],
) -> None:
    table = protect_table(cells, threshold=THRESHOLD)
    _values, relations = with_margins(cells)
    assert_small_cells_hidden(table)
    assert_nothing_recoverable(table, relations)


@PROPERTY
@given(monthly_tables())
def test_months_published_with_their_years_never_give_a_suppressed_cell_away(
    table_and_hierarchy: tuple[dict[tuple[str, ...], int], Hierarchy],
) -> None:
    cells, hierarchy = table_and_hierarchy
    table = protect_table(cells, hierarchies={0: hierarchy}, threshold=THRESHOLD)
    _values, relations = with_margins(cells, hierarchies={0: hierarchy})
    assert_small_cells_hidden(table)
    assert_nothing_recoverable(table, relations)


# --- simple cases -------------------------------------------------------------------------------


def test_a_small_cell_and_the_next_smallest_are_suppressed_in_a_list_with_a_total() -> None:
    table = protect_table({("a",): 3, ("b",): 50, ("c",): 20}, threshold=THRESHOLD)
    assert table.suppressed == {("a",), ("c",)}
    assert table.published((TOTAL,)) == 73
    assert table.published(("b",)) == 50


def test_zeros_are_published_and_never_chosen_to_hide_another_cell() -> None:
    table = protect_table({("a",): 3, ("b",): 0, ("c",): 40}, threshold=THRESHOLD)
    assert table.published(("b",)) == 0
    assert table.suppressed == {("a",), ("c",)}


def test_a_total_is_suppressed_when_no_other_cell_can_hide_a_small_one() -> None:
    table = protect_table({("a",): 3, ("b",): 0}, threshold=THRESHOLD)
    assert table.suppressed == {("a",), (TOTAL,)}


def test_a_table_without_small_cells_is_published_whole() -> None:
    table = protect_table(table_2d(2, 2, [10, 20, 30, 40]), threshold=THRESHOLD)
    assert not table.suppressed
    assert table.published((TOTAL, TOTAL)) == 100
    assert table.published(("r0", TOTAL)) == 30


def test_a_small_total_is_suppressed_itself() -> None:
    table = protect_table(table_2d(1, 2, [2, 1]), threshold=THRESHOLD)
    assert table.published((TOTAL, TOTAL)) is None


def test_in_a_two_way_table_each_row_and_column_with_a_suppression_has_two() -> None:
    cells = table_2d(3, 3, [3, 40, 50, 60, 70, 80, 90, 100, 110])
    table = protect_table(cells, threshold=THRESHOLD)
    assert ("r0", "c0") in table.suppressed
    for position in (0, 1):
        lines: dict[str, int] = {}
        for key in table.suppressed:
            if TOTAL not in key:
                lines[key[position]] = lines.get(key[position], 0) + 1
        assert all(count >= 2 for count in lines.values())


def test_two_blocks_of_suppressions_joined_by_one_cell_are_protected() -> None:
    """Every row and column has two suppressions, yet the joining cell would be the
    difference of the blocks' totals: the row-space check finds it and hides one more."""
    cells: dict[tuple[str, ...], int] = {(str(r), str(c)): 100 for r in range(4) for c in range(4)}
    block = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (0, 2)]
    for r, c in block:
        cells[(str(r), str(c))] = 6
    values, relations = with_margins(cells)
    # Hand-made suppression of the nine cells, as the classic heuristic alone would leave it.
    hidden = {(str(r), str(c)) for r, c in block}
    shown = {key: (None if key in hidden else value) for key, value in values.items()}
    intervals = feasible_intervals(shown, relations)
    low, high = intervals[("0", "2")]
    assert high - low < 1e-6  # the heuristic's pattern gives the joining cell away
    for r, c in block:
        cells[(str(r), str(c))] = 2
    table = protect_table(cells, threshold=THRESHOLD)
    assert_nothing_recoverable(table, relations)


def test_suppress_works_on_relations_given_by_hand() -> None:
    """A total published separately (a yearly figure beside its two half-years)."""
    values = {"year": 30, "h1": 3, "h2": 27}
    hidden = suppress(values, [Relation(total="year", parts=("h1", "h2"))], threshold=5)
    assert hidden == {"h1", "h2"}


@override_settings(MIRADOR_DISCLOSURE_THRESHOLD=10)
def test_the_threshold_comes_from_the_settings() -> None:
    """MIRADOR_DISCLOSURE_THRESHOLD, read from the environment variable of that name when
    Mirador starts (a malformed value stops it then, as every setting does)."""
    with override_settings(MIRADOR_DISCLOSURE_THRESHOLD=11):
        assert disclosure_threshold() == 11
    with override_settings(MIRADOR_DISCLOSURE_THRESHOLD=None):
        assert disclosure_threshold() == 5


@st.composite
def tables_with_a_suppression(
    draw: st.DrawFn,
) -> tuple[dict[tuple[str, ...], int], set[tuple[str, ...]]]:
    cells = draw(tables_2d())
    values, _relations = with_margins(cells)
    keys = sorted(values)
    chosen = draw(st.sets(st.sampled_from(keys), min_size=1, max_size=min(8, len(keys))))
    return cells, chosen


@PROPERTY
@given(tables_with_a_suppression())
def test_the_recoverability_check_agrees_with_linear_programming(
    case: tuple[dict[tuple[str, ...], int], set[tuple[str, ...]]],
) -> None:
    """Any set of hidden entries (not only the ones suppression picks): an entry is found
    recoverable exactly when its feasible interval has width 0 for every true table, i.e.
    when the equations alone fix it (checked with all values moved well inside the bounds,
    so that non-negativity plays no part)."""
    cells, hidden = case
    values, relations = with_margins({key: value + 1000 for key, value in cells.items()})
    member_of: dict[object, list[int]] = {}
    for index, relation in enumerate(relations):
        for entry in relation.entries:
            member_of.setdefault(entry, []).append(index)
    found = set(recoverable_entries(relations, member_of, set(hidden)))
    shown = {key: (None if key in hidden else value) for key, value in values.items()}
    for key, (low, high) in feasible_intervals(shown, relations).items():
        assert (high - low < 1e-6) == (key in found), key
