"""The duplicated-coordinate rule of an import: one observation per coordinates in a file.

A second row with the same period and dimensions is an error naming both rows, or, when the
mapping says so (`sum_duplicates`), its count is added to the first.

How the rule is checked without holding the file (an import streams millions of rows, and a
dictionary of every coordinate tuple alone takes 170 bytes an observation, 830 MiB at 5 million
rows): every observation's coordinates become one exact 64-bit key, never a hash, so that two
keys are equal only when the coordinates are, and a collision can never refuse a valid file;
the keys seen so far, each with the row it came from (12 bytes), are kept as sorted runs.

- The key packs the period (its date's ordinal, 22 bits, enough for any date), then the period
  type (2 bits), then a number given to each distinct combination of the other dimensions, a
  "series" (40 bits; flows.series.SeriesRegistry numbers them, ignoring the sheet). A
  statistics table is a set of series over periods, so the registry holds rows / periods
  entries (12 000 for the benchmark's 5-million-row CBP-format file), not one per row. It
  grows with the file only if nearly every row is a series of its own (about 200 bytes a
  series); the key's 40 bits are never the limit.
- The period comes first so that the keys of a file listed period by period (as statistics
  usually are) arrive in increasing ranges: a chunk is only searched in the runs whose range
  of keys overlaps its own, which for such a file is none but the newest.
- Observations are checked a block at a time (flows.series.ObservationBlock) against the runs
  of keys already seen (binary search, in C), before any of the block is passed on: a
  duplicate never reaches the database, whose primary key would otherwise fail the whole
  write with an IntegrityError instead of a report naming both rows.
- Runs are merged as they grow (as in a log-structured merge tree) up to FROZEN_RUN keys. Past
  MEMORY_KEYS keys in memory (12 MiB), the oldest runs are written to a temporary file and
  only every SPARSE_EVERY-th key of each stays in memory, to find the stretch of the file a
  chunk has to read. So memory stays flat whatever the file's size (disk takes 12 bytes an
  observation), and a time-ordered file never reads back what it wrote.
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _

from mirador.flows.engine import ImportIssue, ParsedObservation, ReadResult
from mirador.flows.models import OBSERVATION_DIMENSIONS
from mirador.flows.series import (
    ObservationBlock,
    SeriesRegistry,
    blocks_from_rows,
    empty_block,
    rows_from_blocks,
)

# Runs of keys grow by merging up to this many keys (6 MiB), then stay as they are.
FROZEN_RUN = 1 << 19
# Keys kept in memory before the oldest runs go to a temporary file.
MEMORY_KEYS = 1 << 20
# Of a run in the file, every this-many-th key stays in memory.
SPARSE_EVERY = 1 << 10

# datetime.date.max.toordinal() is 3 652 059 < 2**22: the period takes the top 22 bits.
_SERIES_BITS = 40
_TYPE_BITS = 2
_PERIOD_SHIFT = _SERIES_BITS + _TYPE_BITS
_MAX_SERIES = 1 << _SERIES_BITS
_MAX_ROW = np.iinfo(np.uint32).max

Keys = npt.NDArray[np.uint64]
Rows = npt.NDArray[np.uint32]


def combine_duplicates(
    observations: Iterable[ParsedObservation],
    *,
    sum_duplicates: bool,
    result: ReadResult,
    file_name: str,
) -> Iterator[ParsedObservation]:
    """`combine_duplicate_blocks` for a stream of single observations."""
    registry = SeriesRegistry()
    blocks = combine_duplicate_blocks(
        blocks_from_rows(observations, registry),
        registry,
        sum_duplicates=sum_duplicates,
        result=result,
        file_name=file_name,
    )
    yield from rows_from_blocks(blocks, registry)


def combine_duplicate_blocks(
    blocks: Iterable[ObservationBlock],
    registry: SeriesRegistry,
    *,
    sum_duplicates: bool,
    result: ReadResult,
    file_name: str,
) -> Iterator[ObservationBlock]:
    """One observation per coordinates: a second row with the same coordinates is an error,
    or, when the mapping says so, its count is added to the first (which keeps its row).

    Adding up holds every observation until the end, as totals are only known then (32 bytes
    an observation: it suits the files that ask for it, incident lists of tens of thousands of
    rows). The error rule streams (see the module's docstring)."""
    if sum_duplicates:
        yield _summed(list(blocks), registry)
        return
    seen = _SeenKeys()
    try:
        for block in blocks:
            yield _checked(block, registry, seen, result, file_name)
    finally:
        seen.close()


def _keys(block: ObservationBlock, registry: SeriesRegistry) -> Keys:
    """Each observation's exact 64-bit key: period, period type, coordinates."""
    coordinates, types = registry.coordinates_and_types()
    if len(coordinates) and int(coordinates.max()) >= _MAX_SERIES:  # pragma: no cover
        raise OverflowError("too many distinct coordinates for a 64-bit key")
    if len(types) and int(types.max()) >= 1 << _TYPE_BITS:  # pragma: no cover
        raise OverflowError("too many period types for a 64-bit key")
    series_bits = (types.astype(np.uint64) << np.uint64(_SERIES_BITS)) | coordinates.astype(
        np.uint64
    )
    periods = block.periods.astype(np.uint64) << np.uint64(_PERIOD_SHIFT)
    return periods | series_bits[block.series]


def _summed(blocks: list[ObservationBlock], registry: SeriesRegistry) -> ObservationBlock:
    """The first observation of each coordinates, with the counts of all of them added up, in
    the order the first ones were read."""
    if not blocks:
        return empty_block()
    block = ObservationBlock(
        *(np.concatenate([getattr(b, name) for b in blocks]) for name in _BLOCK_ARRAYS)
    )
    unique_keys, first_at, inverse = np.unique(
        _keys(block, registry), return_index=True, return_inverse=True
    )
    totals = np.zeros(len(unique_keys), dtype=np.int64)
    np.add.at(totals, inverse, block.values)
    order = np.argsort(first_at, kind="stable")
    firsts = first_at[order]
    return ObservationBlock(
        block.series[firsts], block.periods[firsts], totals[order], block.rows[firsts]
    )


_BLOCK_ARRAYS = ("series", "periods", "values", "rows")


def _checked(
    block: ObservationBlock,
    registry: SeriesRegistry,
    seen: _SeenKeys,
    result: ReadResult,
    file_name: str,
) -> ObservationBlock:
    """The block's observations whose coordinates no earlier row had; an issue for each of the
    others naming the first row with the same coordinates."""
    count = len(block)
    if not count:
        return block
    key_array = _keys(block, registry)
    rows = np.minimum(block.rows, _MAX_ROW).astype(np.uint32)
    unique_keys, first_at, inverse = np.unique(key_array, return_index=True, return_inverse=True)
    found, earlier_in_runs = seen.find(unique_keys)
    first_rows = rows[first_at]
    new = ~found
    seen.add(unique_keys[new], first_rows[new])
    if not found.any() and len(unique_keys) == count:
        return block
    earlier = np.where(found, earlier_in_runs, first_rows)[inverse]
    repeated = found[inverse] | (first_at[inverse] != np.arange(count))
    # Two observations of one row with the same coordinates are not a duplicated row.
    repeated &= earlier != rows
    for at in np.flatnonzero(repeated).tolist():
        sheet, _period_type, coordinates = registry.keys[int(block.series[at])]
        result.add(
            ImportIssue(
                file_name,
                sheet,
                int(block.rows[at]),
                "",
                _describe(datetime.date.fromordinal(int(block.periods[at])), coordinates),
                _("Duplicated coordinate: row %(row)s has the same period and dimensions.")
                % {"row": int(earlier[at])},
            )
        )
    return block.take(~repeated)


class _SeenKeys:
    """The keys seen so far, each with the row it came from, as sorted runs of unique keys:
    the newest in memory, the oldest in a temporary file."""

    def __init__(self) -> None:
        self.runs: list[tuple[Keys, Rows]] = []
        self.stored: list[_StoredRun] = []
        self.file: IO[bytes] | None = None

    def find(self, keys: Keys) -> tuple[npt.NDArray[np.bool_], Rows]:
        """Which of the sorted, unique `keys` were seen, and the row each was seen at."""
        found = np.zeros(len(keys), dtype=np.bool_)
        rows = np.zeros(len(keys), dtype=np.uint32)
        if not len(keys):
            return found, rows
        lowest, highest = keys[0], keys[-1]
        for run_keys, run_rows in self.runs:
            if run_keys[0] > highest or run_keys[-1] < lowest:
                continue
            at = np.searchsorted(run_keys, keys)
            np.minimum(at, len(run_keys) - 1, out=at)
            hit = run_keys[at] == keys
            rows[hit] = run_rows[at[hit]]
            found |= hit
        for stored in self.stored:
            if stored.first > highest or stored.last < lowest:
                continue
            hit, hit_rows = stored.find(keys)
            rows[hit] = hit_rows
            found |= hit
        return found, rows

    def add(self, keys: Keys, rows: Rows) -> None:
        """Add sorted keys none of which was seen before."""
        if not len(keys):
            return
        self.runs.append((keys, rows))
        while len(self.runs) >= 2:
            (older_keys, older_rows), (newer_keys, newer_rows) = self.runs[-2:]
            if len(older_keys) > 2 * len(newer_keys):
                break
            if len(older_keys) + len(newer_keys) > FROZEN_RUN:
                break
            merged_keys = np.concatenate((older_keys, newer_keys))
            order = np.argsort(merged_keys, kind="stable")
            self.runs[-2:] = [(merged_keys[order], np.concatenate((older_rows, newer_rows))[order])]
        while len(self.runs) >= 2 and sum(len(run[0]) for run in self.runs) > MEMORY_KEYS:
            if self.file is None:
                self.file = tempfile.TemporaryFile(prefix="mirador-keys-")  # noqa: SIM115 (closed by close())
            self.stored.append(_StoredRun(self.file, *self.runs.pop(0)))

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class _StoredRun:
    """A sorted run of keys and their rows written to a file; every SPARSE_EVERY-th key stays
    in memory, to read only the stretch of keys a lookup needs."""

    def __init__(self, file: IO[bytes], keys: Keys, rows: Rows) -> None:
        self.descriptor = file.fileno()
        file.seek(0, os.SEEK_END)
        self.keys_at = file.tell()
        file.write(keys.tobytes())
        self.rows_at = file.tell()
        file.write(rows.tobytes())
        file.flush()
        self.length = len(keys)
        self.first, self.last = keys[0], keys[-1]
        self.sparse = keys[::SPARSE_EVERY].copy()

    def find(self, keys: Keys) -> tuple[npt.NDArray[np.bool_], Rows]:
        """Which of the sorted `keys` are in the run, and the rows of those that are."""
        first_block = max(int(np.searchsorted(self.sparse, keys[0], side="right")) - 1, 0)
        end_block = int(np.searchsorted(self.sparse, keys[-1], side="right"))
        start = first_block * SPARSE_EVERY
        stop = min(end_block * SPARSE_EVERY, self.length)
        stretch = np.frombuffer(
            os.pread(self.descriptor, (stop - start) * 8, self.keys_at + start * 8),
            dtype=np.uint64,
        )
        at = np.searchsorted(stretch, keys)
        np.minimum(at, len(stretch) - 1, out=at)
        hit = stretch[at] == keys
        rows = np.array(
            [
                int.from_bytes(
                    os.pread(self.descriptor, 4, self.rows_at + (start + index) * 4),
                    sys.byteorder,
                )
                for index in at[hit].tolist()
            ],
            dtype=np.uint32,
        )
        return hit, rows


def _describe(period: datetime.date, coordinates: tuple[str, ...]) -> str:
    parts = [f"{period:%Y-%m}"]
    parts += [
        f"{name}={code}"
        for name, code in zip(OBSERVATION_DIMENSIONS, coordinates, strict=True)
        if code
    ]
    return " ".join(parts)
