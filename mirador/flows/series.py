"""Observations in blocks: how an import carries millions of figures from the file to the
database without a Python object per figure.

A `SeriesRegistry` numbers, for one import, each distinct (sheet, period type, coordinates) it
meets: a series (flows.models.Series), numbered 0, 1, 2, ... in the order they first appear. An
`ObservationBlock` is a run of observations as four numpy arrays: the series number, the
period (a date's ordinal), the count and the source row. The engine's row-by-row reader and the
column-by-column reader of plain CSV files (flows.columnar) both give blocks; the duplicate
rule, the checks of what an importer may store, and the writer (flows.storage) work on whole
blocks; `rows_from_blocks` turns them back into ParsedObservation where single figures are
wanted (an upload's preview).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mirador.flows.engine import ParsedObservation

# Observations per block from the row-by-row reader: large enough for numpy to pay off, small
# enough to hold. Until then a block is an eighth of what was read so far (at least
# FIRST_BLOCK), so that storing a small file, with its progress, still follows the reading.
BLOCK_SIZE = 8_192
FIRST_BLOCK = 32

Integers = npt.NDArray[np.int64]
SeriesKey = tuple[str, str, tuple[str, ...]]  # (sheet, period type, coordinates)


@dataclass(frozen=True)
class ObservationBlock:
    """Observations as arrays of equal length, in the order they were read."""

    series: Integers  # numbers of the import's SeriesRegistry
    periods: Integers  # date ordinals (datetime.date.toordinal())
    values: Integers
    rows: Integers  # 1-based record numbers of the file

    def __len__(self) -> int:
        return len(self.series)

    def take(self, kept: npt.NDArray[np.bool_]) -> ObservationBlock:
        return ObservationBlock(
            self.series[kept], self.periods[kept], self.values[kept], self.rows[kept]
        )


def empty_block() -> ObservationBlock:
    nothing = np.zeros(0, dtype=np.int64)
    return ObservationBlock(nothing, nothing, nothing, nothing)


class _Growing:
    """An int64 array appended to in place (capacity doubling): views of it cost nothing."""

    def __init__(self) -> None:
        self.array = np.zeros(1024, dtype=np.int64)
        self.length = 0

    def extend(self, values: list[int]) -> None:
        end = self.length + len(values)
        if end > len(self.array):
            grown = np.zeros(max(end, 2 * len(self.array)), dtype=np.int64)
            grown[: self.length] = self.array[: self.length]
            self.array = grown
        self.array[self.length : end] = values
        self.length = end

    def view(self) -> Integers:
        return self.array[: self.length]


class SeriesRegistry:
    """The series of one import, numbered in the order they first appear, and for each the
    number of its coordinates alone (the duplicate rule ignores the sheet)."""

    def __init__(self) -> None:
        self.numbers: dict[SeriesKey, int] = {}
        self.keys: list[SeriesKey] = []
        self.coordinate_numbers: dict[tuple[str, ...], int] = {}
        self._period_types: dict[str, int] = {}
        # Per series, as far as numbered so far (extended on demand): the number of its
        # coordinates, of its period type, and per dimension position the index of its code
        # among that dimension's distinct codes.
        self._coordinates_of = _Growing()
        self._type_of = _Growing()
        self._codes: dict[int, tuple[dict[str, int], _Growing]] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def number(self, sheet: str, period_type: str, coordinates: tuple[str, ...]) -> int:
        key = (sheet, period_type, coordinates)
        number = self.numbers.get(key)
        if number is None:
            number = self.numbers[key] = len(self.keys)
            self.keys.append(key)
        return number

    def coordinates_and_types(self) -> tuple[Integers, Integers]:
        """Per series: the number of its coordinates alone and of its period type."""
        new = self.keys[self._coordinates_of.length :]
        if new:
            numbers, types = self.coordinate_numbers, self._period_types
            self._coordinates_of.extend(
                [numbers.setdefault(coordinates, len(numbers)) for _s, _t, coordinates in new]
            )
            self._type_of.extend(
                [types.setdefault(period_type, len(types)) for _s, period_type, _c in new]
            )
        return self._coordinates_of.view(), self._type_of.view()

    def codes_at(self, position: int) -> tuple[list[str], Integers]:
        """The distinct codes of one dimension (by its position in OBSERVATION_DIMENSIONS)
        and, per series, the index of its code among them."""
        codes, indexes = self._codes.setdefault(position, ({}, _Growing()))
        new = self.keys[indexes.length :]
        if new:
            indexes.extend(
                [codes.setdefault(coordinates[position], len(codes)) for _s, _t, coordinates in new]
            )
        return list(codes), indexes.view()


def blocks_from_rows(
    rows: Iterable[ParsedObservation], registry: SeriesRegistry
) -> Iterator[ObservationBlock]:
    """Blocks of the observations a row-by-row reader yields, growing from FIRST_BLOCK to
    BLOCK_SIZE observations."""
    series: list[int] = []
    periods: list[int] = []
    values: list[int] = []
    source_rows: list[int] = []
    block_size, done = FIRST_BLOCK, 0
    number = registry.number
    for observation in rows:
        series.append(number(observation.sheet, observation.period_type, observation.coordinates))
        periods.append(observation.period.toordinal())
        values.append(observation.value)
        source_rows.append(observation.row)
        if len(series) >= block_size:
            yield _block(series, periods, values, source_rows)
            done += len(series)
            series, periods, values, source_rows = [], [], [], []
            block_size = min(max(done // 8, FIRST_BLOCK), BLOCK_SIZE)
    if series:
        yield _block(series, periods, values, source_rows)


def _block(
    series: list[int], periods: list[int], values: list[int], rows: list[int]
) -> ObservationBlock:
    return ObservationBlock(
        np.asarray(series, dtype=np.int64),
        np.asarray(periods, dtype=np.int64),
        np.asarray(values, dtype=np.int64),
        np.asarray(rows, dtype=np.int64),
    )


def rows_from_blocks(
    blocks: Iterable[ObservationBlock], registry: SeriesRegistry
) -> Iterator[ParsedObservation]:
    dates: dict[int, datetime.date] = {}
    for block in blocks:
        for series, ordinal, value, row in zip(
            block.series.tolist(),
            block.periods.tolist(),
            block.values.tolist(),
            block.rows.tolist(),
            strict=True,
        ):
            sheet, period_type, coordinates = registry.keys[series]
            period = dates.get(ordinal)
            if period is None:
                period = dates[ordinal] = datetime.date.fromordinal(ordinal)
            yield ParsedObservation(period, period_type, coordinates, value, row, sheet)
