"""Writing a stream of parsed observations under a batch: PostgreSQL's COPY there, bulk_create
elsewhere. The caller owns the transaction."""

from __future__ import annotations

import datetime
import re
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


# What COPY's text format gives a meaning to inside a value (backslash escapes, the column
# and row separators); any other character is written as it is.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# Lines are sent to the server in blocks of about this many characters.
_COPY_BLOCK = 1 << 20


def _copy_text(value: str) -> str:
    """A value as COPY's text format reads it back exactly."""
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


def _copy(
    batch: ImportBatch,
    dataset: Dataset,
    rows: Iterator[ParsedObservation],
    result: ReadResult,
    stop_at_first_issue: bool,
) -> None:
    """COPY in its text format, the lines built here: psycopg's write_row formats each value
    of each row through its adapters (6 µs a row, a quarter of the import); the dataset and
    batch are the same on every line, a period is formatted once, the codes (checked codes,
    which rarely need an escape) are joined as they are."""
    from psycopg import sql

    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
        table=sql.Identifier(Observation._meta.db_table),
        columns=sql.SQL(", ").join(sql.Identifier(column) for column in _COPY_COLUMNS),
    )
    prefix = f"{_copy_text(str(dataset.pk))}\t{_copy_text(str(batch.pk))}\t"
    periods: dict[tuple[datetime.date, str], str] = {}
    sheets: dict[str, str] = {}
    separators = len(OBSERVATION_DIMENSIONS) - 1
    # psycopg's own cursor raises psycopg's errors: wrapped, a lost connection is django.db's
    # OperationalError like any other query's (told in one line by the command line).
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(statement) as copy,
    ):
        lines: list[str] = []
        size = 0
        for row in rows:
            if stop_at_first_issue and result.issue_count:
                continue
            period = periods.get((row.period, row.period_type))
            if period is None:
                period = f"{row.period.isoformat()}\t{_copy_text(row.period_type)}\t"
                periods[(row.period, row.period_type)] = period
            codes = "\t".join(row.coordinates)
            # Only the tabs the join put there, and nothing else to escape (checks in C).
            if codes.count("\t") != separators or "\\" in codes or "\n" in codes or "\r" in codes:
                codes = "\t".join(_copy_text(code) for code in row.coordinates)
            sheet = sheets.get(row.sheet)
            if sheet is None:
                sheet = sheets[row.sheet] = _copy_text(row.sheet)
            line = f"{prefix}{period}{codes}\t{row.value}\t{sheet}\t{row.row}\n"
            lines.append(line)
            size += len(line)
            if size >= _COPY_BLOCK:
                copy.write("".join(lines))
                lines.clear()
                size = 0
        if lines:
            copy.write("".join(lines))


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
