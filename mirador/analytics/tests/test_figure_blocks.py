"""The dashboards' figure blocks (PostgreSQL): built after an import, they give every table
exactly what the database's GROUP BY gives; a change of the data leaves them aside until they
are built again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from mirador.analytics import figure_blocks, selection_figures
from mirador.analytics.models import FigureBlock, FigureBlockSet
from mirador.analytics.selectors import PERIOD, dataset_get, table_query
from mirador.analytics.tests.test_selection_figures import GROUPINGS, array_rows, database_rows
from mirador.flows.models import ImportBatch, SeriesValue
from mirador.flows.services import batch_rollback
from mirador.flows.tasks import run_pending_tasks

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: SQLite has no figure blocks",
    ),
]

BUILD_TASK = "mirador.analytics.tasks.figure_blocks_build_task"


@pytest.fixture(autouse=True)
def nothing_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test reads the database, not a selection an earlier test left in this process."""
    monkeypatch.setattr(selection_figures, "_kept", type(selection_figures._kept)())
    monkeypatch.setattr(figure_blocks, "_asked", set())


def read_from_blocks(query: Any, columns: tuple[str, ...]) -> tuple[list[Any], bool]:
    """The rows of a grouping, read afresh, and whether they came from the blocks."""
    selection_figures._kept.clear()
    with CaptureQueriesContext(connection) as captured:
        rows = array_rows(query, columns)
    used = any(
        "FROM analytics_figureblock WHERE" in entry["sql"] for entry in captured.captured_queries
    )
    return rows, used


@pytest.mark.parametrize(
    "selection",
    [
        {},
        {"filters": {"citizenship": ["MX", "GT"]}},
        {"start": "2023-01", "end": "2024-06", "filters": {"demographic": ["single-adults"]}},
        {"start": "2024-02"},
    ],
)
def test_blocks_give_every_grouping_the_databases(
    cbp_batch: ImportBatch, selection: dict[str, Any]
) -> None:
    dataset = dataset_get(code="border-encounters")
    block_set = figure_blocks.figure_blocks_build(dataset_id=str(dataset.pk))
    assert block_set is not None
    assert block_set.figures == SeriesValue.objects.filter(series__batch=cbp_batch).count()
    query = table_query(dataset=dataset, **selection)
    for columns in GROUPINGS:
        rows, used = read_from_blocks(query, columns)
        assert used, columns
        assert rows == database_rows(query, columns), columns


def test_a_block_holds_its_series_figures_in_period_order(cbp_batch: ImportBatch) -> None:
    block_set = figure_blocks.figure_blocks_build(dataset_id=str(cbp_batch.dataset_id))
    assert block_set is not None
    block = FigureBlock.objects.filter(block_set=block_set).order_by("-figures").first()
    assert block is not None
    values = list(
        cbp_batch.series.get(pk=block.series_id)
        .values.order_by("period")
        .values_list("period", "value")
    )
    periods = [
        int.from_bytes(bytes(block.periods)[at : at + 4], "big", signed=True)
        for at in range(0, len(bytes(block.periods)), 4)
    ]
    counts = [
        int.from_bytes(bytes(block.counts)[at : at + 8], "big", signed=True)
        for at in range(0, len(bytes(block.counts)), 8)
    ]
    assert block.figures == len(values) == len(periods) == len(counts)
    assert [(selection_figures._day(period), value) for period, value in values] == list(
        zip(periods, counts, strict=True)
    )


def test_a_rollback_leaves_the_blocks_of_the_data_before_it_aside(
    cbp_batch: ImportBatch,
) -> None:
    dataset = dataset_get(code="border-encounters")
    figure_blocks.figure_blocks_build(dataset_id=str(dataset.pk))
    query = table_query(dataset=dataset, group_by=[PERIOD])
    assert read_from_blocks(query, (PERIOD,))[0]
    batch_rollback(actor=None, batch=cbp_batch)
    rows, used = read_from_blocks(query, (PERIOD,))
    assert rows == [] and not used


def test_the_build_is_queued_when_an_import_or_a_rollback_is_committed(
    cbp_batch: ImportBatch, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        batch_rollback(actor=None, batch=cbp_batch)
    queued = list(DBTaskResult.objects.values_list("task_path", flat=True))
    assert BUILD_TASK in queued
    assert run_pending_tasks() == len(queued)
    assert FigureBlockSet.objects.filter(dataset_id=cbp_batch.dataset_id).count() == 1


def test_a_page_that_finds_no_blocks_queues_their_build_once(
    cbp_batch: ImportBatch, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    DBTaskResult.objects.all().delete()
    dataset = dataset_get(code="border-encounters")
    with django_capture_on_commit_callbacks(execute=True):
        assert read_from_blocks(table_query(dataset=dataset), (PERIOD,))[0]
        assert read_from_blocks(table_query(dataset=dataset, start="2024-01"), (PERIOD,))[0]
    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == [BUILD_TASK]
    run_pending_tasks()
    assert read_from_blocks(table_query(dataset=dataset), (PERIOD,))[1]


def test_the_two_newest_sets_of_a_dataset_are_kept(cbp_batch: ImportBatch) -> None:
    dataset_id = str(cbp_batch.dataset_id)
    first = figure_blocks.figure_blocks_build(dataset_id=dataset_id)
    again = figure_blocks.figure_blocks_build(dataset_id=dataset_id)
    assert first is not None and again is not None and again.pk == first.pk  # same version
    batch_rollback(actor=None, batch=cbp_batch)
    second = figure_blocks.figure_blocks_build(dataset_id=dataset_id)
    assert second is not None and second.pk != first.pk and second.figures == 0
    kept = set(FigureBlockSet.objects.filter(dataset_id=dataset_id).values_list("pk", flat=True))
    assert kept == {first.pk, second.pk}
    FigureBlockSet.objects.filter(pk=second.pk).update(version="an older version")
    third = figure_blocks.figure_blocks_build(dataset_id=dataset_id)
    assert third is not None
    kept = set(FigureBlockSet.objects.filter(dataset_id=dataset_id).values_list("pk", flat=True))
    assert kept == {second.pk, third.pk}
    assert not FigureBlock.objects.filter(block_set_id=first.pk).exists()


def test_a_datasets_coverage_read_off_its_blocks_is_its_figures_first_and_last_period(
    cbp_batch: ImportBatch,
) -> None:
    from django.db.models import Max, Min

    from mirador.analytics.selectors import dataset_coverage
    from mirador.flows.models import Observation

    dataset = dataset_get(code="border-encounters")
    expected = Observation.objects.filter(dataset=dataset).aggregate(
        first_period=Min("period"), last_period=Max("period")
    )
    assert dataset_coverage(dataset) == expected  # before the blocks: from the figures
    block_set = figure_blocks.figure_blocks_build(dataset_id=str(dataset.pk))
    assert block_set is not None
    assert figure_blocks.blocks_coverage(block_set.pk) == (
        expected["first_period"],
        expected["last_period"],
    )
