"""The figures of one selection held as arrays, so that a dashboard's several tables of the same
selection read the database once (PostgreSQL).

A dashboard request publishes six or seven tables of one selection (its series by month, its
shares, its breakdowns, its map), each a GROUP BY of the same filtered figures. In the database
each of them scans every figure of the selection again, joined to its series: with 10 million
figures, about a second each. Here the selection is read once:
- its series (flows_series, filtered by the dataset, the period type and the dimension codes:
  a few thousand rows for a filtered selection), with their codes and batches;
- their figures in the period range from flows_seriesvalue, as three arrays in PostgreSQL's
  binary format parsed by numpy (no Python object per figure). The values' primary key holds
  the count, so this reads the index alone once the table is vacuumed.
Each table is then a sum by group of those arrays (bincount for tables of few groups, a sort
otherwise; exact).

Kept for the few last selections asked (at most KEPT_FIGURES figures in all), under the set of
the dataset's imported batches (which changes with every import, revision and rollback); a
selection of more than MAX_SERIES series (an unfiltered dataset of millions of figures) is left
to the database's GROUP BY instead, so that a web process never holds more than a few tens of
MiB for it.
"""

from __future__ import annotations

import datetime
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from django.db import connection

from mirador.analytics.figure_blocks import EPOCH, block_set_for
from mirador.flows.models import OBSERVATION_DIMENSIONS, BatchStatus, ImportBatch, Series

if TYPE_CHECKING:
    from mirador.analytics.selectors import TableQuery

PERIOD = "period"
# More series than this: the database groups (see the module's docstring).
MAX_SERIES = 10_000
# Tables of at most this many possible groups are summed by bincount, not by a sort.
DENSE_GROUPS = 1 << 20
# A selection's series x period table is made where it has at most twice as many cells as the
# selection has figures, and this many more (a small selection's table is cheap however sparse).
CELLS_SLACK = 1 << 16
# Selections kept per process.
KEPT_SELECTIONS = 8
# and at most this many figures in all (16 bytes each: about 64 MB).
KEPT_FIGURES = 4_000_000
# array_send's header for one dimension: dimensions, null flag, element type, length, lower bound.
_ARRAY_HEADER_BYTES = 20
# Periods are sent as days from 2000-01-01.
_EPOCH = EPOCH.toordinal()

Integers = npt.NDArray[np.int64]
T = TypeVar("T")


class SelectionFigures:
    """One selection's series (their codes and batches) and figures (arrays, one entry per
    figure: the series' position, the period's position, the count)."""

    def __init__(
        self,
        series: list[tuple[Any, ...]],
        figures: tuple[Integers, Integers, Integers],
    ) -> None:
        # series rows: (id, batch_id, *OBSERVATION_DIMENSIONS); figures: each figure's series'
        # position in `series`, its period as days since 2000-01-01, its count.
        self.series = series
        series_at, days_since_2000, values = figures
        # Positions held narrow (at most MAX_SERIES series, a few hundred periods): 16 bytes
        # a figure with its count.
        self.series_at = series_at.astype(np.int32)
        days, period_at = _positions(days_since_2000)
        self.period_at = period_at
        self.periods = [datetime.date.fromordinal(int(day) + _EPOCH) for day in days]
        self.values: Integers = values
        # Every sum of these counts is exact in float64 (integers below 2**53).
        self.exact_in_floats = int(values.sum()) < (1 << 53) if len(values) else True
        self._codes: dict[int, tuple[list[Any], Integers]] = {}

    def __len__(self) -> int:
        return len(self.values)

    def _series_codes(self, column: int) -> tuple[list[Any], Integers]:
        """The distinct values of one column of the series rows, and each series' index."""
        found = self._codes.get(column)
        if found is None:
            index: dict[Any, int] = {}
            at = np.asarray(
                [index.setdefault(row[column], len(index)) for row in self.series], dtype=np.int64
            )
            found = self._codes[column] = (list(index), at)
        return found

    def grouped(self, columns: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Rows as the database's GROUP BY of `columns` and the batch gives them:
        {column: code or period, "batch_id": ..., "total": sum}, in the order of the groups'
        positions (each column's values in the order first met)."""
        if not len(self.values):
            return
        names = (*columns, "batch_id")
        labels = [
            self.periods if name == PERIOD else self._series_codes(_column(name))[0]
            for name in names
        ]
        cells = self._cells
        if cells is None:
            groups, totals = self._groups_of_figures(names, labels)
        else:
            groups, totals = self._groups_of_cells(names, labels, cells)
        for combined, total in zip(groups.tolist(), totals.tolist(), strict=True):
            row: dict[str, Any] = {"total": total}
            for name, label in zip(reversed(names), reversed(labels), strict=True):
                combined, position = divmod(combined, len(label))
                row[name] = label[position]
            yield row

    @functools.cached_property
    def _cells(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]] | None:
        """The sums and the presence of figures by series and period (a series x period
        table), made once, where that table is not much larger than the figures (else None):
        every table of the selection is then summed from it, not from each figure again."""
        shape = (len(self.series), len(self.periods))
        size = shape[0] * shape[1]
        if not self.exact_in_floats or size > 2 * len(self.values) + CELLS_SLACK:
            return None
        cell = self.series_at.astype(np.int64) * shape[1] + self.period_at
        # float64 sums: exact while every sum stays below 2**53 (exact_in_floats).
        sums = cast(npt.NDArray[np.float64], np.bincount(cell, weights=self.values, minlength=size))
        present = np.zeros(size, dtype=bool)
        present[cell] = True
        return sums.reshape(shape), present.reshape(shape)

    def _groups_of_cells(
        self,
        names: Sequence[str],
        labels: Sequence[Sequence[Any]],
        cells: tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]],
    ) -> tuple[Integers, Integers]:
        """The groups (positions combined as `grouped` decodes them) and their totals, from
        the series x period table: the series of a group are added up row by row."""
        sums, present = cells
        by_series = [
            (name, label) for name, label in zip(names, labels, strict=True) if name != PERIOD
        ]
        series_key = np.zeros(len(self.series), dtype=np.int64)
        for name, label in by_series:
            series_key = series_key * len(label) + self._series_codes(_column(name))[1]
        keys, group_of_series = np.unique(series_key, return_inverse=True)
        order = np.argsort(group_of_series, kind="stable")
        ordered = group_of_series[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        if PERIOD not in names:  # one column: the series' totals over the periods
            sums = sums.sum(axis=1, keepdims=True)
            present = np.asarray(present.any(axis=1, keepdims=True))
        group_sums = np.add.reduceat(sums[order], starts, axis=0)
        group_present = np.asarray(np.logical_or.reduceat(present[order], starts, axis=0))
        at_group, at_period = np.nonzero(group_present)
        totals = np.rint(group_sums[at_group, at_period]).astype(np.int64)
        # Each group's positions, combined in the order of `names` as `grouped` decodes them.
        positions: dict[str, Integers] = {PERIOD: at_period}
        remaining = keys[at_group]
        for name, label in reversed(by_series):
            remaining, positions[name] = np.divmod(remaining, len(label))
        combined = np.zeros(len(totals), dtype=np.int64)
        for name, label in zip(names, labels, strict=True):
            combined = combined * len(label) + positions[name]
        order = np.argsort(combined, kind="stable")
        return combined[order], totals[order]

    def _groups_of_figures(
        self, names: Sequence[str], labels: Sequence[Sequence[Any]]
    ) -> tuple[Integers, Integers]:
        """The groups and their totals, figure by figure (a selection whose series x period
        table would be too sparse)."""
        key = np.zeros(len(self.values), dtype=np.int64)
        space = 1
        for name, label in zip(names, labels, strict=True):
            part: npt.NDArray[np.integer[Any]] = (
                self.period_at
                if name == PERIOD
                else self._series_codes(_column(name))[1][self.series_at]
            )
            key = key * len(label) + part
            space *= len(label)
        if space <= DENSE_GROUPS and self.exact_in_floats:
            # Few possible groups (a dashboard's tables): one pass instead of a sort. bincount
            # adds in float64, exact while every sum stays below 2**53 (exact_in_floats).
            present = np.flatnonzero(np.bincount(key, minlength=space))
            sums = np.bincount(key, weights=self.values, minlength=space)
            return present, np.rint(sums[present]).astype(np.int64)
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        return ordered[starts], np.add.reduceat(self.values[order], starts)


def _column(name: str) -> int:
    """The position of a series attribute in the series rows (id, batch_id, *dimensions)."""
    return 1 if name == "batch_id" else 2 + OBSERVATION_DIMENSIONS.index(name)


_kept: OrderedDict[tuple[Any, ...], SelectionFigures] = OrderedDict()
_kept_lock = threading.Lock()


# Within `one_reading()`: each dataset's imported batches, read once.
_batches_read: ContextVar[dict[tuple[str, str], tuple[str, ...]] | None] = ContextVar(
    "batches_read", default=None
)


@contextmanager
def one_reading() -> Iterator[None]:
    """Within it, each dataset's imported batches are read once: a page's many tables and
    facts all ask, and all must see the same version anyway."""
    token = _batches_read.set({})
    try:
        yield
    finally:
        _batches_read.reset(token)


def imported_batches(dataset: Any) -> tuple[str, ...]:
    """The dataset's imported batches: what its current figures may have changed with."""
    read = _batches_read.get()
    key = (connection.alias, str(dataset.pk))
    if read is not None and key in read:
        return read[key]
    found = tuple(
        sorted(
            str(pk)
            for pk in ImportBatch.objects.filter(
                dataset=dataset, status=BatchStatus.IMPORTED
            ).values_list("pk", flat=True)
        )
    )
    if read is not None:
        read[key] = found
    return found


_facts: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


def dataset_fact(name: str, dataset: Any, compute: Callable[[], T]) -> T:
    """`compute()`, a fact of the dataset's figures as a whole (the months it covers), kept
    per process until an import, a revision or a rollback changes its imported batches."""
    key = (connection.alias, name, str(dataset.pk), imported_batches(dataset))
    with _kept_lock:
        if key in _facts:
            _facts.move_to_end(key)
            return cast(T, _facts[key])
    found = compute()
    with _kept_lock:
        _facts[key] = found
        while len(_facts) > KEPT_SELECTIONS:
            _facts.popitem(last=False)
    return found


def selection_figures(query: TableQuery) -> SelectionFigures | None:
    """The figures of the query's selection (its filters and period range, whatever its
    breakdown), or None where the database should group them itself: SQLite (the embedded
    default, with small data), or a selection of more than MAX_SERIES series."""
    if connection.vendor != "postgresql":
        return None
    batches = imported_batches(query.dataset)
    key = (
        connection.alias,
        str(query.dataset.pk),
        query.stored_period_type,
        query.start,
        query.end,
        query.filters,
        batches,
    )
    with _kept_lock:
        found = _kept.get(key)
        if found is not None:
            _kept.move_to_end(key)
            return found
    series = Series.objects.filter(dataset=query.dataset, period_type=query.stored_period_type)
    for name, codes in query.filters:
        series = series.filter(**{f"{name}__in": codes})
    rows = list(series.values_list("id", "batch_id", *OBSERVATION_DIMENSIONS)[: MAX_SERIES + 1])
    if len(rows) > MAX_SERIES:
        return None
    series_ids = np.asarray([row[0] for row in rows], dtype=np.int64)
    if not rows:
        figures = SelectionFigures(rows, _no_figures())
    else:
        # From the dataset's figure blocks where they are built for this version.
        block_set = block_set_for(dataset=query.dataset, batches=batches)
        if block_set is not None:
            figures = SelectionFigures(rows, _read_blocks(block_set, series_ids, query))
        else:
            figures = SelectionFigures(rows, _read_values(series_ids, query))
    with _kept_lock:
        _kept[key] = figures
        while len(_kept) > 1 and (
            len(_kept) > KEPT_SELECTIONS or sum(len(kept) for kept in _kept.values()) > KEPT_FIGURES
        ):
            _kept.popitem(last=False)
    return figures


def _positions_in(series_ids: Integers, found: Integers) -> Integers:
    """The position in `series_ids` (distinct) of each of `found` (all of them among those)."""
    order = np.argsort(series_ids, kind="stable")
    return order[np.searchsorted(series_ids[order], found)]


def _positions(days: Integers) -> tuple[Integers, npt.NDArray[np.int32]]:
    """The distinct days, ascending, and each entry's position among them: np.unique's answer
    without its sort (a dashboard's periods span a few thousand days at most)."""
    if not len(days):
        return days, np.zeros(0, dtype=np.int32)
    first = int(days.min())
    span = int(days.max()) - first + 1
    if span > 1 << 22:  # over 11,000 years: only a corrupt period would; sort instead
        distinct, at = np.unique(days, return_inverse=True)
        return distinct, at.astype(np.int32)
    present = np.zeros(span, dtype=bool)
    present[days - first] = True
    rank = np.cumsum(present, dtype=np.int32) - 1
    return np.flatnonzero(present).astype(np.int64) + first, rank[days - first]


def _no_figures() -> tuple[Integers, Integers, Integers]:
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty, empty


def _day(date: datetime.date) -> int:
    return date.toordinal() - _EPOCH


def _binary_row(statement: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """One row of a statement with its results in PostgreSQL's binary format (bytea as the
    bytes themselves, not twice their size in hexadecimal), through Django's cursor wrapper so
    that the query is logged and timed like any other. Django's own cursors bind parameters on
    the client, which binary results need not to."""
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    raw.format = psycopg.pq.Format.BINARY
    unwrapped = cast(Any, raw)
    wrapped = (
        connection.make_debug_cursor(unwrapped)
        if connection.queries_logged
        else connection.make_cursor(unwrapped)
    )
    with wrapped as cursor:
        cursor.execute(statement, params)
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


def _read_blocks(
    block_set: int, series_ids: Integers, query: TableQuery
) -> tuple[Integers, Integers, Integers]:
    """The figures of the series from the dataset's block set (analytics.figure_blocks): one
    row per series, sent as four values (the series, their number of figures, their periods
    and counts packed end to end), the period range applied here."""
    statement = (
        "SELECT array_send(array_agg(series_id ORDER BY series_id)), "
        "array_send(array_agg(figures ORDER BY series_id)), "
        "string_agg(periods, ''::bytea ORDER BY series_id), "
        "string_agg(counts, ''::bytea ORDER BY series_id) "
        "FROM analytics_figureblock WHERE block_set_id = %s AND series_id = ANY(%s)"
    )
    row = _binary_row(statement, [block_set, series_ids.tolist()])
    if row is None or row[0] is None:
        return _no_figures()
    found = _array(row[0], ">i8")
    lengths = _array(row[1], ">i4")
    days = np.frombuffer(bytes(row[2]), dtype=">i4").astype(np.int64)
    values = np.frombuffer(bytes(row[3]), dtype=">i8").astype(np.int64)
    series_at = np.repeat(_positions_in(series_ids, found), lengths)
    if query.start or query.end:
        wanted = np.ones(len(days), dtype=bool)
        if query.start:
            wanted &= days >= _day(query.start)
        if query.end:
            wanted &= days <= _day(query.end)
        series_at, days, values = series_at[wanted], days[wanted], values[wanted]
    return series_at, days, values


def _read_values(series_ids: Integers, query: TableQuery) -> tuple[Integers, Integers, Integers]:
    """The figures of the series in the query's period range from flows_seriesvalue: series
    positions, periods (days since 2000-01-01) and counts, each column sent as one array in
    PostgreSQL's binary format (one row of three values: no Python object per figure, and no
    message per row as COPY sends)."""
    where = ["series_id = ANY(%s)"]
    params: list[Any] = [series_ids.tolist()]
    if query.start:
        where.append("period >= %s")
        params.append(query.start)
    if query.end:
        where.append("period <= %s")
        params.append(query.end)
    statement = (
        "SELECT array_send(array_agg(series_id)), "  # noqa: S608 (constant names; values are parameters)
        "array_send(array_agg(period - DATE '2000-01-01')), array_send(array_agg(value)) "
        f"FROM flows_seriesvalue WHERE {' AND '.join(where)}"
    )
    row = _binary_row(statement, params)
    if row is None or row[0] is None:
        return _no_figures()
    found = _array(row[0], ">i8")
    return (
        _positions_in(series_ids, found),
        _array(row[1], ">i4"),
        _array(row[2], ">i8"),
    )


def _array(sent: bytes | memoryview, element: str) -> Integers:
    """A one-dimensional array without NULLs as array_send writes it: a 20-byte header (number
    of dimensions, null flag, element type, length, lower bound), then each element's length
    and bytes."""
    layout = np.dtype([("length", ">i4"), ("value", element)])
    data = bytes(sent)
    entries = np.frombuffer(data, dtype=layout, offset=_ARRAY_HEADER_BYTES)
    return entries["value"].astype(np.int64)
