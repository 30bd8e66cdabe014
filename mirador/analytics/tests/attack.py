"""An intruder's tools against a published table: what each suppressed entry can be, given
every published figure, the relations between them (totals are sums) and non-negativity.

Used by the tests of disclosure control; written from the published table only (the values
of suppressed entries are never read here)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import linprog

from mirador.analytics.disclosure import Relation


def by_subtraction(
    published: Mapping[Any, int | None], relations: Sequence[Relation]
) -> dict[Hashable, int]:
    """Entries found by repeated subtraction: a relation with one unknown gives it."""
    known = {key: value for key, value in published.items() if value is not None}
    found: dict[Hashable, int] = {}
    changed = True
    while changed:
        changed = False
        for relation in relations:
            unknown = [entry for entry in relation.entries if entry not in known]
            if len(unknown) != 1:
                continue
            entry = unknown[0]
            parts = sum(known.get(part, 0) for part in relation.parts if part != entry)
            value = parts if entry == relation.total else known[relation.total] - parts
            known[entry] = found[entry] = value
            changed = True
    return found


def feasible_intervals(
    published: Mapping[Any, int | None],
    relations: Sequence[Relation],
    *,
    lower_bound: float = 0.0,
) -> dict[Hashable, tuple[float, float]]:
    """For each suppressed entry, its smallest and largest value over every table consistent
    with the published figures (linear programming). `lower_bound` 1 is an intruder who
    knows that zeros are never suppressed."""
    unknown = sorted((key for key, value in published.items() if value is None), key=repr)
    if not unknown:
        return {}
    column = {key: index for index, key in enumerate(unknown)}
    rows: list[np.ndarray] = []
    right: list[float] = []
    for relation in relations:
        if not any(entry in column for entry in relation.entries):
            continue
        row = np.zeros(len(unknown))
        constant = 0.0
        for entry, sign in [(relation.total, 1.0)] + [(part, -1.0) for part in relation.parts]:
            if entry in column:
                row[column[entry]] += sign
            else:
                constant += sign * (published.get(entry) or 0)
        rows.append(row)
        right.append(-constant)
    a_eq, b_eq = np.array(rows), np.array(right)
    bounds = [(lower_bound, None)] * len(unknown)
    intervals: dict[Hashable, tuple[float, float]] = {}
    for key, index in column.items():
        objective = np.zeros(len(unknown))
        objective[index] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0, low.message
        top = float("inf") if high.status == 3 else -high.fun  # 3: unbounded
        intervals[key] = (low.fun, top)
    return intervals
