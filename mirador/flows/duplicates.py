"""The duplicated-coordinate rule of an import: one observation per coordinates in a file.

A second row with the same period and dimensions is an error naming both rows, or, when the
mapping says so (`sum_duplicates`), its count is added to the first.

How the rule is checked without holding the file (an import streams millions of rows, and a
dictionary of every coordinate tuple alone would take several hundred MiB at 5 million rows):
every observation's coordinates become one exact 64-bit key, never a hash, so that two keys are
equal only when the coordinates are; the keys seen so far, with the row each came from, are
kept in sorted numpy arrays, 12 bytes an observation (60 MiB at 5 million rows).

- The key packs the period (its date's ordinal, 22 bits, enough for any date), the period type
  (2 bits) and a number given to each distinct combination of the other dimensions, a
  "series" (40 bits). A statistics table is a set of series over periods, so the series
  dictionary holds rows / periods entries (4 000 for a 5-million-row CBP-format file), not
  one per row. It grows with the file only if nearly every row is a series of its own; the
  key's 40 bits (a trillion series) are never the limit, memory is (about 200 bytes a series).
- Observations are checked in chunks of CHUNK_SIZE against the runs of keys already seen
  (binary search in C), before any of the chunk is passed on: a duplicate never reaches the
  database, whose unique constraint would otherwise fail the whole write with an
  IntegrityError instead of a report naming both rows. Runs are merged as they grow (as in a
  log-structured merge tree) up to FROZEN_RUN keys, so that a merge never copies more than
  that many keys, and a chunk is searched in a few dozen runs at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _

from mirador.flows.engine import ImportIssue, ParsedObservation, ReadResult
from mirador.flows.models import OBSERVATION_DIMENSIONS

# Observations read before the chunk is checked and passed on: large enough for numpy to pay
# off, small enough to hold (a few MiB).
CHUNK_SIZE = 8_192
# Runs of keys grow by merging up to this many keys (12 MiB), then stay as they are.
FROZEN_RUN = 1 << 20

_PERIOD_BITS = 22  # datetime.date.max.toordinal() is 3 652 059 < 2**22
_TYPE_BITS = 2
_SERIES_SHIFT = _PERIOD_BITS + _TYPE_BITS
_MAX_SERIES = 1 << (64 - _SERIES_SHIFT)
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
    """One observation per coordinates: a second row with the same coordinates is an error,
    or, when the mapping says so, its count is added to the first (which keeps its row).

    Adding up keeps every distinct observation in a dictionary until the end, as totals are
    only known then: about 400 bytes an observation, so it suits the files that ask for it
    (incident lists, tens of thousands of rows) and stops fitting in a few hundred MiB beyond
    about a million distinct coordinates. The error rule streams (see the module's docstring).
    """
    if sum_duplicates:
        totals: dict[tuple[Any, ...], ParsedObservation] = {}
        for observation in observations:
            key = (observation.period, observation.period_type, observation.coordinates)
            earlier = totals.get(key)
            totals[key] = (
                observation
                if earlier is None
                else earlier._replace(value=earlier.value + observation.value)
            )
        yield from totals.values()
        return
    # The loop below runs once per observation of the largest files: kept flat on purpose.
    seen = _SeenKeys()
    series_keys: dict[tuple[str, ...], int] = {}  # coordinates -> the series' bits of a key
    period_types: dict[str, int] = {}
    chunk: list[ParsedObservation] = []
    keys: list[int] = []
    for observation in observations:
        coordinates, period_type = observation.coordinates, observation.period_type
        series = series_keys.get(coordinates)
        if series is None:
            series = series_keys[coordinates] = _series_key(len(series_keys))
        type_bits = period_types.get(period_type)
        if type_bits is None:
            type_bits = period_types[period_type] = _type_bits(len(period_types))
        keys.append(series | (observation.period.toordinal() << _TYPE_BITS) | type_bits)
        chunk.append(observation)
        if len(chunk) == CHUNK_SIZE:
            yield from _checked(chunk, keys, seen, result, file_name)
            chunk, keys = [], []
    if chunk:
        yield from _checked(chunk, keys, seen, result, file_name)


def _series_key(number: int) -> int:
    if number >= _MAX_SERIES:  # pragma: no cover (memory runs out long before)
        raise OverflowError("too many distinct coordinates for a 64-bit key")
    return number << _SERIES_SHIFT


def _type_bits(number: int) -> int:
    if number >= 1 << _TYPE_BITS:  # pragma: no cover (there are two period types)
        raise OverflowError("too many period types for a 64-bit key")
    return number


def _checked(
    chunk: list[ParsedObservation],
    keys: list[int],
    seen: _SeenKeys,
    result: ReadResult,
    file_name: str,
) -> list[ParsedObservation]:
    """The chunk's observations whose coordinates no earlier row had; an issue for each of the
    others naming the first row with the same coordinates."""
    count = len(chunk)
    key_array = np.fromiter(keys, dtype=np.uint64, count=count)
    rows = np.minimum(
        np.fromiter((observation.row for observation in chunk), dtype=np.int64, count=count),
        _MAX_ROW,
    ).astype(np.uint32)
    unique_keys, first_at, inverse = np.unique(key_array, return_index=True, return_inverse=True)
    found, earlier_in_runs = seen.find(unique_keys)
    first_rows = rows[first_at]
    new = ~found
    seen.add(unique_keys[new], first_rows[new])
    if not found.any() and len(unique_keys) == count:
        return chunk
    earlier = np.where(found, earlier_in_runs, first_rows)[inverse]
    repeated = found[inverse] | (first_at[inverse] != np.arange(count))
    # Two observations of one row with the same coordinates are not a duplicated row.
    repeated &= earlier != rows
    kept = []
    for observation, is_repeated, earlier_row in zip(
        chunk, repeated.tolist(), earlier.tolist(), strict=True
    ):
        if not is_repeated:
            kept.append(observation)
            continue
        result.add(
            ImportIssue(
                file_name,
                observation.sheet,
                observation.row,
                "",
                _describe(observation),
                _("Duplicated coordinate: row %(row)s has the same period and dimensions.")
                % {"row": earlier_row},
            )
        )
    return kept


class _SeenKeys:
    """The keys seen so far, each with the row it came from, as sorted runs of unique keys."""

    def __init__(self) -> None:
        self.runs: list[tuple[Keys, Rows]] = []

    def find(self, keys: Keys) -> tuple[npt.NDArray[np.bool_], Rows]:
        """Which of the sorted, unique `keys` were seen, and the row each was seen at."""
        found = np.zeros(len(keys), dtype=np.bool_)
        rows = np.zeros(len(keys), dtype=np.uint32)
        if not len(keys):
            return found, rows
        for run_keys, run_rows in self.runs:
            if run_keys[0] > keys[-1] or run_keys[-1] < keys[0]:
                continue
            at = np.searchsorted(run_keys, keys)
            np.minimum(at, len(run_keys) - 1, out=at)
            hit = run_keys[at] == keys
            rows[hit] = run_rows[at[hit]]
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
                return
            if len(older_keys) + len(newer_keys) > FROZEN_RUN:
                return
            merged_keys = np.concatenate((older_keys, newer_keys))
            order = np.argsort(merged_keys, kind="stable")
            self.runs[-2:] = [(merged_keys[order], np.concatenate((older_rows, newer_rows))[order])]


def _describe(observation: ParsedObservation) -> str:
    parts = [f"{observation.period:%Y-%m}"]
    parts += [
        f"{name}={code}"
        for name, code in zip(OBSERVATION_DIMENSIONS, observation.coordinates, strict=True)
        if code
    ]
    return " ".join(parts)
