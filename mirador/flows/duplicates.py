"""The duplicated-coordinate rule of an import: one observation per coordinates in a file.

A second row with the same period and dimensions is an error naming both rows, or, when the
mapping says so (`sum_duplicates`), its count is added to the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.translation import gettext as _

from mirador.flows.engine import ImportIssue, ParsedObservation, ReadResult
from mirador.flows.models import OBSERVATION_DIMENSIONS


def combine_duplicates(
    observations: Iterable[ParsedObservation],
    *,
    sum_duplicates: bool,
    result: ReadResult,
    file_name: str,
) -> Iterator[ParsedObservation]:
    """One observation per coordinates: a second row with the same coordinates is an error,
    or, when the mapping says so, its count is added to the first (which keeps its row)."""
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
    seen: dict[tuple[Any, ...], int] = {}
    for observation in observations:
        key = (observation.period, observation.period_type, observation.coordinates)
        earlier_row = seen.setdefault(key, observation.row)
        if earlier_row != observation.row:
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
            continue
        yield observation


def _describe(observation: ParsedObservation) -> str:
    parts = [f"{observation.period:%Y-%m}"]
    parts += [
        f"{name}={code}"
        for name, code in zip(OBSERVATION_DIMENSIONS, observation.coordinates, strict=True)
        if code
    ]
    return " ".join(parts)
