"""A dataset's current figures held a second time, one row per series (PostgreSQL), so that a
dashboard reads a selection's few thousand series instead of its hundreds of thousands of
figures.

flows_seriesvalue holds one row per figure: a selection of 300,000 figures costs PostgreSQL an
index scan and an aggregate of 300,000 entries (about 100 ms) on every dashboard request that
no process has kept. A block set holds the same figures as one FigureBlock per series, with
its periods and counts packed as bytes in period order; reading a selection is then one row per
series (a few milliseconds), and analytics.selection_figures unpacks them with numpy.

A block set belongs to one version of the dataset: its imported batches, the same key the
dashboards' caches use (selection_figures.imported_batches), which changes with every import,
revision and rollback. It is built by a background task queued when an import finishes or a
batch is rolled back (`blocks_refresh_after_import`, connected in apps.py), in one statement
reading one snapshot, and a page of a version that has no set yet reads flows_seriesvalue as
before (and queues the build). The two newest sets of a dataset are kept, so that a page that
has just looked up the previous one still reads it; older ones are deleted. SQLite (the
embedded default, with small data) has no block sets.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import threading
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction

from mirador.analytics.models import FigureBlockSet
from mirador.flows.models import BatchStatus, Dataset, ImportBatch

logger = logging.getLogger(__name__)

# Sets kept per dataset: the newest and the one before (see the module's docstring).
KEPT_SETS = 2
# Periods are held as days since this date.
EPOCH = datetime.date(2000, 1, 1)

_asked: set[tuple[str, str, str]] = set()
_asked_lock = threading.Lock()


def blocks_version(batches: Sequence[str]) -> str:
    """The version of a dataset's figures whose imported batches are `batches` (sorted ids)."""
    return hashlib.sha256(",".join(batches).encode("ascii")).hexdigest()


def block_set_for(*, dataset: Dataset, batches: Sequence[str]) -> int | None:
    """The id of the dataset's block set of this version, or None (then the build is queued,
    once per process and version)."""
    if connection.vendor != "postgresql":
        return None
    version = blocks_version(batches)
    found = (
        FigureBlockSet.objects.filter(dataset=dataset, version=version)
        .values_list("pk", flat=True)
        .first()
    )
    if found is None:
        _queue_build_once(dataset_id=str(dataset.pk), version=version)
    return found


def _queue_build_once(*, dataset_id: str, version: str) -> None:
    key = (connection.alias, dataset_id, version)
    with _asked_lock:
        if key in _asked:
            return
        _asked.add(key)
    transaction.on_commit(lambda: _enqueue(dataset_id))


def _enqueue(dataset_id: str) -> None:
    from mirador.analytics.tasks import figure_blocks_build_task

    figure_blocks_build_task.enqueue(dataset_id)


def figure_blocks_build(*, dataset_id: str) -> FigureBlockSet | None:
    """The task's work: the block set of the dataset's current version, built if it is not
    there yet; older sets beyond the KEPT_SETS newest deleted. None on SQLite or for a dataset
    that no longer exists."""
    if connection.vendor != "postgresql":
        return None
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None:
        return None
    outside_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if outside_transaction:
            # The version and the figures read in one snapshot: an import committed between
            # the two would otherwise put its figures under the version before it.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        batches = sorted(
            str(pk)
            for pk in ImportBatch.objects.filter(
                dataset=dataset, status=BatchStatus.IMPORTED
            ).values_list("pk", flat=True)
        )
        version = blocks_version(batches)
        block_set, created = FigureBlockSet.objects.get_or_create(dataset=dataset, version=version)
        if created:
            _write_blocks(block_set=block_set)
            logger.info(
                "figure blocks built",
                extra={
                    "dataset": dataset.code,
                    "series": block_set.series,
                    "figures": block_set.figures,
                },
            )
        newest_first = FigureBlockSet.objects.filter(dataset=dataset).order_by("-built_at", "-pk")
        old = list(newest_first.values_list("pk", flat=True)[KEPT_SETS:])
        if old:
            FigureBlockSet.objects.filter(pk__in=old).delete()
    return block_set


def _write_blocks(*, block_set: FigureBlockSet) -> None:
    statement = """
        INSERT INTO analytics_figureblock (block_set_id, series_id, figures, periods, counts)
        SELECT %(set)s, value.series_id, count(*),
               string_agg(int4send(value.period - DATE '2000-01-01'), ''::bytea
                          ORDER BY value.period),
               string_agg(int8send(value.value::bigint), ''::bytea ORDER BY value.period)
        FROM flows_seriesvalue AS value
        JOIN flows_series AS series ON series.id = value.series_id
        WHERE series.dataset_id = %(dataset)s
        GROUP BY value.series_id
    """
    params: dict[str, Any] = {"set": block_set.pk, "dataset": block_set.dataset_id}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        cursor.execute(
            "SELECT count(*), coalesce(sum(figures), 0) FROM analytics_figureblock "
            "WHERE block_set_id = %s",
            [block_set.pk],
        )
        series, figures = cursor.fetchone()
        # Statistics of the new rows at once, not when autovacuum comes by: without them the
        # planner reads a whole set to find a selection's few thousand series.
        cursor.execute("ANALYZE analytics_figureblock")
    block_set.series, block_set.figures = series, figures
    block_set.save(update_fields=["series", "figures"])


def figures_changed_by(batch: ImportBatch) -> bool:
    """Whether this save of a batch may have changed its dataset's current figures: an import
    that has finished, or a rollback (not a failed import, nor one still running)."""
    if batch.status == BatchStatus.FAILED:
        return False
    return not (batch.status == BatchStatus.IMPORTED and batch.finished_at is None)


def blocks_refresh_after_import(*, instance: ImportBatch, **_kwargs: Any) -> None:
    """Receiver of ImportBatch's post_save (connected in apps.py): once an import has
    finished or a batch is rolled back, the dataset's block set is built again in the
    background, when the change is committed (PostgreSQL)."""
    if connection.vendor != "postgresql" or not figures_changed_by(instance):
        return
    dataset_id = str(instance.dataset_id)
    transaction.on_commit(lambda: _enqueue(dataset_id))


def blocks_coverage(block_set: int) -> tuple[datetime.date | None, datetime.date | None]:
    """The first and last period of a block set's figures: each block's first and last four
    bytes (days since 2000-01-01, signed), a few thousand rows where MIN and MAX over the
    figures read every one."""
    statement = """
        SELECT min(('x' || encode(substring(periods FROM 1 FOR 4), 'hex'))::bit(32)::int),
               max(('x' || encode(substring(periods FROM length(periods) - 3 FOR 4), 'hex'))
                   ::bit(32)::int)
        FROM analytics_figureblock WHERE block_set_id = %s AND figures > 0
    """
    with connection.cursor() as cursor:
        cursor.execute(statement, [block_set])
        first, last = cursor.fetchone()
    return (
        None if first is None else EPOCH + datetime.timedelta(days=first),
        None if last is None else EPOCH + datetime.timedelta(days=last),
    )
