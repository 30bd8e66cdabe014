"""Writing a stream of parsed observations under a batch: PostgreSQL's COPY there, bulk_create
elsewhere. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from django.db import connection

from mirador.flows.engine import ParsedObservation, ReadResult
from mirador.flows.models import OBSERVATION_DIMENSIONS, Dataset, ImportBatch, Observation

CHUNK_SIZE = 5_000


def store(
    batch: ImportBatch,
    dataset: Dataset,
    rows: Iterator[ParsedObservation],
    result: ReadResult,
    *,
    keep_valid: bool = False,
) -> None:
    """Write the observations as they stream past: PostgreSQL's COPY there (an import is bound
    by writing, and COPY writes several times faster than multi-row INSERTs), bulk_create in
    chunks elsewhere. Once a problem is found, keep reading (for the report) but stop writing,
    as the transaction will be rolled back. The rows were checked by the engine as
    Observation.clean would check them (dimensions of the dataset, codes, periods), once per
    distinct value rather than once per row.

    With `keep_valid` every observation the engine yields is written even after a problem:
    the engine yields none from a row with a problem, so those rows are the ones set aside."""
    stop_at_first_issue = not keep_valid
    if connection.vendor == "postgresql":
        _copy(batch, dataset, rows, result, stop_at_first_issue)
        return
    while True:
        chunk = list(islice(rows, CHUNK_SIZE))
        if not chunk:
            return
        # The engine yields no observation from a row with a problem; any problem anywhere
        # means the whole batch is rolled back, so writing more would be wasted.
        if stop_at_first_issue and result.issue_count:
            continue
        Observation.objects.bulk_create(
            [_observation(batch, dataset, row) for row in chunk], batch_size=CHUNK_SIZE
        )


_COPY_COLUMNS = (
    "dataset_id",
    "batch_id",
    "period",
    "period_type",
    *OBSERVATION_DIMENSIONS,
    "value",
    "source_sheet",
    "source_row",
)


def _copy(
    batch: ImportBatch,
    dataset: Dataset,
    rows: Iterator[ParsedObservation],
    result: ReadResult,
    stop_at_first_issue: bool,
) -> None:
    from psycopg import sql

    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
        table=sql.Identifier(Observation._meta.db_table),
        columns=sql.SQL(", ").join(sql.Identifier(column) for column in _COPY_COLUMNS),
    )
    # psycopg's own cursor raises psycopg's errors: wrapped, a lost connection is django.db's
    # OperationalError like any other query's (told in one line by the command line).
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(statement) as copy,
    ):
        for row in rows:
            if stop_at_first_issue and result.issue_count:
                continue
            copy.write_row(
                (
                    dataset.pk,
                    batch.pk,
                    row.period,
                    row.period_type,
                    *row.coordinates,
                    row.value,
                    row.sheet,
                    row.row,
                )
            )


def _observation(batch: ImportBatch, dataset: Dataset, row: ParsedObservation) -> Observation:
    return Observation(
        dataset=dataset,
        batch=batch,
        period=row.period,
        period_type=row.period_type,
        value=row.value,
        source_row=row.row,
        source_sheet=row.sheet,
        **dict(zip(OBSERVATION_DIMENSIONS, row.coordinates, strict=True)),
    )
