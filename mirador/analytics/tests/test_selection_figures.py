"""A selection's figures read once as arrays (PostgreSQL) give every table exactly what the
database's GROUP BY gives, and follow imports and rollbacks at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from mirador.analytics import selection_figures
from mirador.analytics.selectors import (
    PERIOD,
    TableQuery,
    dataset_get,
    observations_for,
    public_table,
    table_query,
)
from mirador.flows.models import ImportBatch
from mirador.flows.services import batch_rollback

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: on SQLite the database groups every table",
    ),
]

GROUPINGS: list[tuple[str, ...]] = [
    (PERIOD,),
    ("citizenship",),
    (PERIOD, "demographic"),
    ("citizenship", PERIOD),
    ("encounter_type", "authority"),
]


def database_rows(query: TableQuery, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    rows = (
        observations_for(query).values(*columns, "batch_id").annotate(total=Sum("value")).order_by()
    )
    return sorted(
        (*(row[name] for name in columns), str(row["batch_id"]), row["total"]) for row in rows
    )


def array_rows(query: TableQuery, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    figures = selection_figures.selection_figures(query)
    assert figures is not None
    return sorted(
        (*(row[name] for name in columns), str(row["batch_id"]), row["total"])
        for row in figures.grouped(columns)
    )


@pytest.mark.parametrize(
    "selection",
    [
        {},
        {"filters": {"citizenship": ["MX", "GT"]}},
        {"start": "2023-01", "end": "2024-06", "filters": {"demographic": ["single-adults"]}},
    ],
)
def test_every_grouping_equals_the_databases(
    cbp_batch: ImportBatch, selection: dict[str, Any]
) -> None:
    query = table_query(dataset=dataset_get(code="border-encounters"), **selection)
    for columns in GROUPINGS:
        expected = database_rows(query, columns)
        assert expected, columns
        assert array_rows(query, columns) == expected, columns


def test_groups_summed_by_a_sort_equal_those_summed_by_bincount(
    cbp_batch: ImportBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = table_query(dataset=dataset_get(code="border-encounters"))
    by_bincount = {columns: array_rows(query, columns) for columns in GROUPINGS}
    monkeypatch.setattr(selection_figures, "DENSE_GROUPS", 0)
    for columns in GROUPINGS:
        assert array_rows(query, columns) == by_bincount[columns], columns


def test_a_selection_with_no_figure_gives_no_row(cbp_batch: ImportBatch) -> None:
    query = table_query(
        dataset=dataset_get(code="border-encounters"), start="1990-01", end="1990-12"
    )
    assert array_rows(query, (PERIOD,)) == []


def test_a_rollback_is_seen_at_once(cbp_batch: ImportBatch) -> None:
    query = table_query(dataset=dataset_get(code="border-encounters"))
    before = public_table(query.replace(group_by=(PERIOD,)))
    assert before.protected.values
    batch_rollback(actor=None, batch=cbp_batch)
    after = public_table(query.replace(group_by=(PERIOD,)))
    assert not after.protected.values


def test_too_many_series_are_left_to_the_database(
    cbp_batch: ImportBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = table_query(dataset=dataset_get(code="border-encounters"), group_by=[PERIOD])
    from_arrays = public_table(query)
    monkeypatch.setattr(selection_figures, "MAX_SERIES", 3)
    monkeypatch.setattr(selection_figures, "_kept", type(selection_figures._kept)())
    assert selection_figures.selection_figures(query) is None
    from_database = public_table(query)
    assert from_database.protected.values == from_arrays.protected.values
    assert from_database.batches_of == from_arrays.batches_of


def test_every_entry_of_a_single_file_table_names_that_file(cbp_batch: ImportBatch) -> None:
    query = table_query(
        dataset=dataset_get(code="border-encounters"), group_by=[PERIOD, "demographic"]
    )
    table = public_table(query)
    assert set(table.batches_of) == set(table.protected.values)
    assert set(table.batches_of.values()) == {frozenset({str(cbp_batch.pk)})}


def test_a_process_keeps_no_more_figures_than_its_limit(
    cbp_batch: ImportBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selection_figures, "_kept", type(selection_figures._kept)())
    dataset = dataset_get(code="border-encounters")
    first = selection_figures.selection_figures(table_query(dataset=dataset, start="2023-01"))
    assert first is not None
    monkeypatch.setattr(selection_figures, "KEPT_FIGURES", len(first))
    second = selection_figures.selection_figures(table_query(dataset=dataset, start="2024-01"))
    assert second is not None
    kept = list(selection_figures._kept.values())
    assert kept == [second]  # the older selection made room


def test_tables_summed_from_the_series_by_period_table_equal_those_summed_figure_by_figure(
    cbp_batch: ImportBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selection_figures, "_kept", type(selection_figures._kept)())
    query = table_query(dataset=dataset_get(code="border-encounters"), start="2022-06")
    by_cells = selection_figures.selection_figures(query)
    assert by_cells is not None and by_cells._cells is not None
    monkeypatch.setattr(selection_figures, "_kept", type(selection_figures._kept)())
    monkeypatch.setattr(selection_figures, "CELLS_SLACK", -(10**12))  # never a table
    by_figures = selection_figures.selection_figures(query)
    assert by_figures is not None and by_figures._cells is None
    for columns in GROUPINGS:
        # The same rows in the same order, each total exact.
        assert list(by_cells.grouped(columns)) == list(by_figures.grouped(columns)), columns
        assert array_rows(query, columns) == database_rows(query, columns), columns
