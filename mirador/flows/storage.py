"""Writing an import's observations under its batch: the series they belong to
(flows.models.Series) and one narrow SeriesValue row per figure. The caller owns the
transaction.

The observations come in blocks (flows.series): arrays, never a Python object per figure.

PostgreSQL: the values are written with COPY in its binary format, the rows built by numpy
(a structured array of the five columns, big-endian, as COPY reads it). An import of at most
PARTITION_ROWS figures waits for its end, then writes its series (their ids taken from the
series table's own sequence) and its values into the shared partition of SeriesValue. A larger
one is written, as it streams, into a table of its own: no index while the rows arrive, its
primary key built once at the end (a sort, several times cheaper than inserting each key in an
index), then attached to SeriesValue as a partition (its range of series checked by a constraint
created with the table, so attaching reads no row), and analysed, in the same transaction. So a
killed import, a lost connection or a refused file leaves no table and no row behind.

SQLite: the same rows with executemany, in blocks.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from mirador.flows.engine import ReadResult
from mirador.flows.models import (
    OBSERVATION_DIMENSIONS,
    Dataset,
    ImportBatch,
    Series,
    SeriesValue,
)
from mirador.flows.series import ObservationBlock, SeriesRegistry

# An import of more figures than this gets a partition of its own (PostgreSQL).
PARTITION_ROWS = 200_000
# The server's memory for sorting a large import's figures into its key (about 40 bytes each).
INDEX_BUILD_MEMORY = "256MB"
# A partition's series ids: its number (flows_seriesvalue_partition, from 256) shifted left
# by this many bits, plus the import's series numbers (migration 0007).
PARTITION_SERIES_BITS = 28
# COPY's binary format writes a date as its days since 2000-01-01.
_COPY_EPOCH = datetime.date(2000, 1, 1).toordinal()
_SERIES_TABLE = Series._meta.db_table
_VALUE_TABLE = SeriesValue._meta.db_table
_VALUE_COLUMNS = "series_id, period, value, source_row, current_since"
# What makes a series, in the order of the statements that write and match them.
SERIES_COLUMNS = ("dataset_id", "batch_id", "period_type", "source_sheet", *OBSERVATION_DIMENSIONS)
_SERIES_COLUMNS = ("id", *SERIES_COLUMNS)
# COPY's binary format: a signature, a flags word and an empty header extension, then the
# rows (the number of fields, then each field's length and bytes; -1 for NULL), then -1.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("series_length", ">i4"),
        ("series", ">i8"),
        ("period_length", ">i4"),
        ("period", ">i4"),
        ("value_length", ">i4"),
        ("value", ">i8"),
        ("row_length", ">i4"),
        ("row", ">i8"),
        ("since_length", ">i4"),  # current_since: NULL
    ]
)

# Pieces of COPY data waiting for the connection.
_COPY_QUEUE = 64

Integers = npt.NDArray[np.int64]


class StorageError(Exception):
    """What the storage's layout cannot hold (never reached by files of a sane size)."""


def store(
    batch: ImportBatch,
    dataset: Dataset,
    blocks: Iterable[ObservationBlock],
    registry: SeriesRegistry,
    result: ReadResult,
    *,
    keep_valid: bool = False,
) -> None:
    """Write the observations as they stream past. Once a problem is found, keep reading (for
    the report) but stop writing, as the transaction will be rolled back; with `keep_valid`,
    write every observation the stream yields (the engine yields none from a row with a
    problem: those rows are the ones set aside). The rows were checked by the engine as
    Observation.clean would check them (dimensions of the dataset, codes, periods), once per
    distinct value rather than once per row."""
    writer: _Writer
    if connection.vendor == "postgresql":
        writer = _PostgresWriter(batch, dataset, registry)
    else:
        writer = _SqliteWriter(batch, dataset, registry)
    stop_at_first_issue = not keep_valid
    # psycopg's own cursor (COPY) raises psycopg's errors: wrapped, a lost connection is
    # django.db's OperationalError like any other query's (told in one line by the CLI).
    with connection.wrap_database_errors:
        try:
            for block in blocks:
                if (stop_at_first_issue and result.issue_count) or not len(block):
                    continue
                writer.add(block)
            if stop_at_first_issue and result.issue_count:
                writer.abandon()  # rolled back by the caller: no series, no index to build
            else:
                writer.finish()
        except BaseException as error:
            writer.fail(error)
            raise


class _Writer:
    def __init__(self, batch: ImportBatch, dataset: Dataset, registry: SeriesRegistry) -> None:
        self.batch = batch
        self.dataset = dataset
        self.registry = registry
        self.used = np.zeros(1024, dtype=np.bool_)

    def add(self, block: ObservationBlock) -> None:
        if len(self.registry) > len(self.used):
            grown = np.zeros(max(len(self.registry), 2 * len(self.used)), dtype=np.bool_)
            grown[: len(self.used)] = self.used
            self.used = grown
        self.used[block.series] = True
        self.write(block)

    def write(self, block: ObservationBlock) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def abandon(self) -> None:
        """Stop writing: the caller rolls the transaction back."""

    def fail(self, error: BaseException) -> None:
        """Release what writing holds after `error`."""

    def used_series(self) -> Integers:
        return np.flatnonzero(self.used[: len(self.registry)]).astype(np.int64)

    def series_rows(self, numbers: Integers, ids: Integers) -> Iterable[tuple[Any, ...]]:
        dataset_id = self.dataset.pk
        batch_id = self.batch.pk
        for number, series_id in zip(numbers.tolist(), ids.tolist(), strict=True):
            sheet, period_type, coordinates = self.registry.keys[number]
            yield (series_id, dataset_id, batch_id, period_type, sheet, *coordinates)


def copy_rows(series_ids: Integers, block: ObservationBlock) -> bytes:
    """The block's SeriesValue rows in COPY's binary format."""
    rows = np.empty(len(block), dtype=_COPY_ROW)
    rows["fields"] = 5
    rows["series_length"] = 8
    rows["series"] = series_ids
    rows["period_length"] = 4
    rows["period"] = block.periods - _COPY_EPOCH
    rows["value_length"] = 8
    rows["value"] = block.values
    rows["row_length"] = 8
    rows["row"] = block.rows
    rows["since_length"] = -1
    return rows.tobytes()


class _PostgresWriter(_Writer):
    def __init__(self, batch: ImportBatch, dataset: Dataset, registry: SeriesRegistry) -> None:
        super().__init__(batch, dataset, registry)
        self.pending: list[ObservationBlock] = []
        self.pending_rows = 0
        self.partition: int | None = None
        self.copy_context: Any = None
        self.copy: Any = None
        self.cursor: Any = None

    def write(self, block: ObservationBlock) -> None:
        if self.partition is None:
            self.pending.append(block)
            self.pending_rows += len(block)
            if self.pending_rows <= PARTITION_ROWS:
                return
            self._open_partition()
            pending, self.pending = self.pending, []
            for earlier in pending:
                self._copy_block(earlier)
            return
        self._copy_block(block)

    def _copy_block(self, block: ObservationBlock) -> None:
        if len(self.registry) > 1 << PARTITION_SERIES_BITS:
            raise StorageError("more distinct coordinates than a batch's partition holds")
        self.copy.write(copy_rows(self.first_series + block.series, block))

    def _open_partition(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('flows_seriesvalue_partition')")
            (number,) = cursor.fetchone()
            self.partition = int(number)
            self.first_series = self.partition << PARTITION_SERIES_BITS
            low, high = self._range()
            table = self._table()
            cursor.execute(
                f"CREATE TABLE {table} (LIKE {_VALUE_TABLE} INCLUDING DEFAULTS "  # noqa: S608 (names are ours)
                f"INCLUDING CONSTRAINTS, "
                f"CONSTRAINT {table}_series CHECK (series_id >= {low} AND series_id < {high}))"
            )
        self.cursor = connection.cursor()
        self.copy_context = self.cursor.cursor.copy(
            f"COPY {table} ({_VALUE_COLUMNS}) FROM STDIN (FORMAT binary)",
            writer=_bounded_writer(self.cursor.cursor),
        )
        self.copy = self.copy_context.__enter__()
        self.copy.write(_COPY_SIGNATURE)

    def _table(self) -> str:
        return f"{_VALUE_TABLE}_{self.partition}"

    def _range(self) -> tuple[int, int]:
        assert self.partition is not None  # noqa: S101 (set by _open_partition)
        shift = PARTITION_SERIES_BITS
        return self.partition << shift, (self.partition + 1) << shift

    def finish(self) -> None:
        numbers = self.used_series()
        if self.partition is None:
            self._finish_shared(numbers)
        else:
            self._finish_partition(numbers)

    def _finish_shared(self, numbers: Integers) -> None:
        """A small import: its series get ids of the series table's sequence, and its values
        go into the shared partition."""
        if not len(numbers):
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [_SERIES_TABLE, len(numbers)],
            )
            reserved = np.asarray([row[0] for row in cursor.fetchall()], dtype=np.int64)
            ids = np.zeros(len(self.registry), dtype=np.int64)
            ids[numbers] = reserved
            self._copy_series(cursor, numbers, reserved)
            with cursor.cursor.copy(
                f"COPY {_VALUE_TABLE} ({_VALUE_COLUMNS}) FROM STDIN (FORMAT binary)",
                writer=_bounded_writer(cursor.cursor),
            ) as copy:
                copy.write(_COPY_SIGNATURE)
                for block in self.pending:
                    copy.write(copy_rows(ids[block.series], block))
                copy.write(_COPY_TRAILER)
        self.pending = []

    def _finish_partition(self, numbers: Integers) -> None:
        self.copy.write(_COPY_TRAILER)
        self._end_copy(None)
        table = self._table()
        low, high = self._range()
        with connection.cursor() as cursor:
            self._copy_series(cursor, numbers, self.first_series + numbers)
            # The key is built by sorting every figure of the import: in memory rather than in
            # temporary files (for this transaction only; PostgreSQL's default is 64 MB).
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (series_id, period) "
                "INCLUDE (value)"
            )
            cursor.execute(
                f"ALTER TABLE {_VALUE_TABLE} ATTACH PARTITION {table} "
                f"FOR VALUES FROM ({low}) TO ({high})"
            )
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_series")
            # Fresh statistics for the planner (ANALYZE samples: a fraction of a second).
            cursor.execute(f"ANALYZE {table}")
            cursor.execute(f"ANALYZE {_SERIES_TABLE}")

    def _copy_series(self, cursor: Any, numbers: Integers, ids: Integers) -> None:
        columns = ", ".join(_SERIES_COLUMNS)
        with cursor.cursor.copy(f"COPY {_SERIES_TABLE} ({columns}) FROM STDIN") as copy:
            for row in self.series_rows(numbers, ids):
                copy.write_row(row)

    def _end_copy(self, error: BaseException | None) -> None:
        context, self.copy_context, self.copy = self.copy_context, None, None
        try:
            if context is not None:
                if error is None:
                    context.__exit__(None, None, None)
                else:
                    context.__exit__(type(error), error, error.__traceback__)
        finally:
            if self.cursor is not None:
                self.cursor.close()
                self.cursor = None

    def abandon(self) -> None:
        if self.copy is not None:
            self.copy.write(_COPY_TRAILER)
        self._end_copy(None)
        self.pending = []

    def fail(self, error: BaseException) -> None:
        self._end_copy(error)


def _bounded_writer(cursor: Any) -> Any:
    """psycopg's COPY writer, which sends from a thread of its own while this one goes on,
    with a queue of _COPY_QUEUE pieces (of at most 128 KiB) instead of 1024: it holds 8 MiB,
    not 128, when the server is slower than the file is read."""
    from psycopg.copy import QueuedLibpqWriter

    writer = QueuedLibpqWriter(cursor)
    writer._queue = type(writer._queue)(maxsize=_COPY_QUEUE)
    return writer


class _SqliteWriter(_Writer):
    def __init__(self, batch: ImportBatch, dataset: Dataset, registry: SeriesRegistry) -> None:
        super().__init__(batch, dataset, registry)
        self.first_series: int | None = None
        self.dates: dict[int, str] = {}

    def write(self, block: ObservationBlock) -> None:
        if self.first_series is None:
            # The batch was written in this transaction: no other writer until it ends.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT MAX(n) FROM (SELECT MAX(id) AS n FROM {_SERIES_TABLE} UNION ALL "  # noqa: S608 (names are ours)
                    "SELECT seq FROM sqlite_sequence WHERE name = %s)",
                    [_SERIES_TABLE],
                )
                (highest,) = cursor.fetchone()
            self.first_series = int(highest or 0) + 1
        dates = self.dates
        for ordinal in np.unique(block.periods).tolist():
            if ordinal not in dates:
                dates[ordinal] = datetime.date.fromordinal(ordinal).isoformat()
        periods = [dates[ordinal] for ordinal in block.periods.tolist()]
        series = (self.first_series + block.series).tolist()
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {_VALUE_TABLE} ({_VALUE_COLUMNS}) VALUES (%s, %s, %s, %s, NULL)",  # noqa: S608 (names are ours)
                list(zip(series, periods, block.values.tolist(), block.rows.tolist(), strict=True)),
            )

    def finish(self) -> None:
        if self.first_series is None:
            return
        numbers = self.used_series()
        marks = ", ".join(["%s"] * len(_SERIES_COLUMNS))
        dataset_id = Series._meta.get_field("dataset").get_db_prep_value(
            self.dataset.pk, connection
        )
        batch_id = Series._meta.get_field("batch").get_db_prep_value(self.batch.pk, connection)
        rows = [
            (row[0], dataset_id, batch_id, *row[3:])
            for row in self.series_rows(numbers, self.first_series + numbers)
        ]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {_SERIES_TABLE} ({', '.join(_SERIES_COLUMNS)}) VALUES ({marks})",  # noqa: S608 (names are ours)
                rows,
            )


def _database_key(instance: Dataset | ImportBatch) -> Any:
    """A primary key as a raw statement's parameter (a UUID is text on SQLite)."""
    return instance._meta.pk.get_db_prep_value(instance.pk, connection)
