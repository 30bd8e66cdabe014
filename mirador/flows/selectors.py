"""Reads of the flows app: the figures as they were at any moment, and where a figure came
from (its batch, file, SHA-256, sheet and row).

`Observation` holds exactly the current figures; `ObservationHistory` the earlier ones with
the interval during which each was current (see flows.models). The figures current at a moment
are therefore the current rows current since before it plus the history rows whose interval
contains it: the same two indexed filters on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from mirador.flows.models import (
    OBSERVATION_DIMENSIONS,
    BatchStatus,
    Dataset,
    ImportBatch,
    Observation,
    ObservationHistory,
)

# What a figure is, and where it came from: the fields observations_as_of returns.
FIGURE_FIELDS = (
    "dataset_id",
    "period",
    "period_type",
    *OBSERVATION_DIMENSIONS,
    "value",
    "batch_id",
    "source_sheet",
    "source_row",
)


def current_observations_as_of(*, dataset: Dataset, when: datetime.datetime) -> QuerySet[Any]:
    """The rows of Observation that were already current at `when`."""
    return Observation.objects.filter(dataset=dataset).filter(
        Q(current_since__lte=when) | Q(current_since__isnull=True, batch__finished_at__lte=when)
    )


def past_observations_as_of(
    *, dataset: Dataset, when: datetime.datetime
) -> QuerySet[ObservationHistory]:
    """The rows of ObservationHistory that were current at `when`."""
    return ObservationHistory.objects.filter(
        dataset=dataset, valid_from__lte=when, valid_to__gt=when
    )


def observations_as_of(*, dataset: Dataset, when: datetime.datetime) -> QuerySet[Any]:
    """The figures of `dataset` that were current at `when`, as dictionaries of FIGURE_FIELDS
    (a UNION ALL of the two tables, to aggregate or list)."""
    current = current_observations_as_of(dataset=dataset, when=when).values(*FIGURE_FIELDS)
    past = past_observations_as_of(dataset=dataset, when=when).values(*FIGURE_FIELDS)
    return current.union(past, all=True)


@dataclass(frozen=True)
class FigureSource:
    """Where one figure came from, and while it was current."""

    value: int
    period: datetime.date
    coordinates: dict[str, str]
    batch_id: str
    format_code: str
    source: str
    file_name: str
    sha256: str
    sheet: str
    row: int | None
    imported_at: datetime.datetime | None
    imported_by: str
    current_from: datetime.datetime | None
    current_until: datetime.datetime | None  # None: current now
    reason_ended: str  # "", "revised" or "rolled_back"
    ended_by_batch_id: str


def observation_sources(
    *,
    dataset: Dataset,
    period: datetime.date,
    when: datetime.datetime | None = None,
    include_history: bool = False,
    coordinates: dict[str, str] | None = None,
) -> list[FigureSource]:
    """The lineage of the figures of `dataset` at `period` and the given coordinates
    (dimension=code; those not given may be anything): by default the ones current now, or
    at `when`; with `include_history`, every figure that ever was, oldest first."""
    coordinates = coordinates or {}
    unknown = set(coordinates) - set(OBSERVATION_DIMENSIONS)
    if unknown:
        raise ValueError(f"not dimensions: {', '.join(sorted(unknown))}")
    where = {"dataset": dataset, "period": period, **coordinates}
    if include_history:
        current = Observation.objects.filter(**where)
        past = ObservationHistory.objects.filter(**where)
    elif when is None:
        current = Observation.objects.filter(**where)
        past = ObservationHistory.objects.none()
    else:
        current = current_observations_as_of(dataset=dataset, when=when).filter(**where)
        past = past_observations_as_of(dataset=dataset, when=when).filter(**where)
    sources = [
        _source(row, current_until=None, reason="", ended_by="")
        for row in current.select_related("batch", "batch__created_by").annotate(
            since=Coalesce(F("current_since"), F("batch__finished_at"))
        )
    ]
    sources += [
        _source(
            row,
            current_until=row.valid_to,
            reason=row.reason,
            ended_by=str(row.ended_by_id or ""),
        )
        for row in past.select_related("batch", "batch__created_by").annotate(since=F("valid_from"))
    ]
    return sorted(sources, key=lambda source: source.current_from or timezone.now())


def _source(row: Any, *, current_until: Any, reason: str, ended_by: str) -> FigureSource:
    batch: ImportBatch = row.batch
    return FigureSource(
        value=row.value,
        period=row.period,
        coordinates={
            name: getattr(row, name) for name in OBSERVATION_DIMENSIONS if getattr(row, name)
        },
        batch_id=str(batch.pk),
        format_code=batch.format_code,
        source=batch.source,
        file_name=batch.file_name,
        sha256=batch.sha256,
        sheet=row.source_sheet,
        row=row.source_row,
        imported_at=batch.finished_at,
        imported_by=batch.created_by.get_username() if batch.created_by else "",
        current_from=row.since,
        current_until=current_until,
        reason_ended=reason,
        ended_by_batch_id=ended_by,
    )


def observation_lineage(*, observation: Observation) -> FigureSource:
    """Where one current observation came from (found by its series and period, the stored
    key; the view's id is computed from them, not indexed)."""
    row = (
        Observation.objects.select_related("batch", "batch__created_by")
        .annotate(since=Coalesce(F("current_since"), F("batch__finished_at")))
        .get(series_id=observation.series_id, period=observation.period)
    )
    return _source(row, current_until=None, reason="", ended_by="")


def batch_replaced_batches(*, batch: ImportBatch) -> QuerySet[ImportBatch]:
    """The batches whose figures `batch` replaced as a corrected revision."""
    replaced = ObservationHistory.objects.filter(ended_by=batch).values("batch_id").distinct()
    return ImportBatch.objects.filter(pk__in=replaced).order_by("started_at")


def batches_of_source(*, dataset: Dataset, source: str) -> QuerySet[ImportBatch]:
    """The stored and rolled-back batches of a source, oldest first: its revisions."""
    return ImportBatch.objects.filter(
        dataset=dataset,
        source=source,
        status__in=[BatchStatus.IMPORTED, BatchStatus.ROLLED_BACK],
    ).order_by("started_at")
