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
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from django.db import connection

from mirador.flows.models import OBSERVATION_DIMENSIONS, BatchStatus, ImportBatch, Series

if TYPE_CHECKING:
    from mirador.analytics.selectors import TableQuery

PERIOD = "period"
# More series than this: the database groups (see the module's docstring).
MAX_SERIES = 10_000
# Tables of at most this many possible groups are summed by bincount, not by a sort.
DENSE_GROUPS = 1 << 20
# Selections kept per process.
KEPT_SELECTIONS = 8
# and at most this many figures in all (16 bytes each: about 64 MB).
KEPT_FIGURES = 4_000_000
# array_send's header for one dimension: dimensions, null flag, element type, length, lower bound.
_ARRAY_HEADER_BYTES = 20
# Periods are sent as days from 2000-01-01.
_EPOCH = datetime.date(2000, 1, 1).toordinal()

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
        # series rows: (id, batch_id, *OBSERVATION_DIMENSIONS)
        self.series = series
        ids = np.asarray([row[0] for row in series], dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        series_ids, days_since_2000, values = figures
        # Positions held narrow (at most MAX_SERIES series, a few hundred periods): 16 bytes
        # a figure with its count.
        self.series_at = order[np.searchsorted(ids[order], series_ids)].astype(np.int32)
        days, period_at = np.unique(days_since_2000, return_inverse=True)
        self.period_at = period_at.astype(np.int32)
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
        {column: code or period, "batch_id": ..., "total": sum}."""
        if not len(self.values):
            return
        labels: list[list[Any]] = []
        keys: list[npt.NDArray[np.integer[Any]]] = []
        for name in (*columns, "batch_id"):
            if name == PERIOD:
                labels.append(self.periods)
                keys.append(self.period_at)
            else:
                column = 1 if name == "batch_id" else 2 + OBSERVATION_DIMENSIONS.index(name)
                codes, at = self._series_codes(column)
                labels.append(codes)
                keys.append(at[self.series_at])
        key = np.zeros(len(self.values), dtype=np.int64)
        space = 1
        for label, part in zip(labels, keys, strict=True):
            key = key * len(label) + part
            space *= len(label)
        if space <= DENSE_GROUPS and self.exact_in_floats:
            # Few possible groups (a dashboard's tables): one pass instead of a sort. bincount
            # adds in float64, exact while every sum stays below 2**53 (exact_in_floats).
            present = np.flatnonzero(np.bincount(key, minlength=space))
            sums = np.bincount(key, weights=self.values, minlength=space)
            groups, totals = present, np.rint(sums[present]).astype(np.int64)
        else:
            order = np.argsort(key, kind="stable")
            ordered = key[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            groups, totals = ordered[starts], np.add.reduceat(self.values[order], starts)
        names = (*columns, "batch_id")
        for combined, total in zip(groups.tolist(), totals.tolist(), strict=True):
            row: dict[str, Any] = {"total": total}
            for name, label in zip(reversed(names), reversed(labels), strict=True):
                combined, position = divmod(combined, len(label))
                row[name] = label[position]
            yield row


_kept: OrderedDict[tuple[Any, ...], SelectionFigures] = OrderedDict()
_kept_lock = threading.Lock()


def imported_batches(dataset: Any) -> tuple[str, ...]:
    """The dataset's imported batches: what its current figures may have changed with."""
    return tuple(
        sorted(
            str(pk)
            for pk in ImportBatch.objects.filter(
                dataset=dataset, status=BatchStatus.IMPORTED
            ).values_list("pk", flat=True)
        )
    )


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
    figures = SelectionFigures(rows, _read_values([row[0] for row in rows], query))
    with _kept_lock:
        _kept[key] = figures
        while len(_kept) > 1 and (
            len(_kept) > KEPT_SELECTIONS or sum(len(kept) for kept in _kept.values()) > KEPT_FIGURES
        ):
            _kept.popitem(last=False)
    return figures


def _read_values(series_ids: list[int], query: TableQuery) -> tuple[Integers, Integers, Integers]:
    """The figures of the series in the query's period range: series ids, periods (days since
    2000-01-01) and counts, each column sent as one array in PostgreSQL's binary format (one
    row of three values: no Python object per figure, and no message per row as COPY sends)."""
    where = ["series_id = ANY(%s)"]
    params: list[Any] = [series_ids]
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
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None or row[0] is None:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return _array(row[0], ">i8"), _array(row[1], ">i4"), _array(row[2], ">i8")


def _array(sent: bytes | memoryview, element: str) -> Integers:
    """A one-dimensional array without NULLs as array_send writes it: a 20-byte header (number
    of dimensions, null flag, element type, length, lower bound), then each element's length
    and bytes."""
    layout = np.dtype([("length", ">i4"), ("value", element)])
    data = bytes(sent)
    entries = np.frombuffer(data, dtype=layout, offset=_ARRAY_HEADER_BYTES)
    return entries["value"].astype(np.int64)
