"""Disclosure control of every public table: small cells suppressed, and enough other cells
suppressed with them that none can be worked out from what is published.

A public table is a set of *entries* (its cells and every total published with them) and of
*relations* between them: a total equals the sum of its parts (a row total, a column total,
the grand total, a year as the sum of its months, ...). Suppression works on that model, so
that it protects tables of any number of dimensions, totals published beside them, and
several tables sharing their totals, the same way.

1. Primary suppression: an entry with 0 < value < the threshold (settings
   MIRADOR_DISCLOSURE_THRESHOLD, or the environment variable of that name; 5 by default).
   Zeros are published: a count of nobody identifies nobody, and every published source
   prints them.
2. Secondary suppression, the classic way: in every relation with exactly one suppressed
   entry, the smallest other entry that is not zero is suppressed too; and where a relation's
   total is published, its suppressed parts (whose sum the total gives away) must add up to
   at least the threshold, or another part is suppressed. Repeated until stable.
3. Then a check no heuristic gives: the suppressed entries are unknowns of the linear system
   of the relations, and an entry is recoverable exactly when its unit vector lies in the
   row space of that system (the value is then the same in every solution), found by sparse
   elimination. Such entries
   exist even when every relation has two suppressions (two blocks of suppressions joined
   by one cell: the joining cell is the difference of the blocks' totals). For each one,
   the smallest non-zero entry sharing a relation with it is suppressed, and steps 2 and 3
   run again. The system splits into independent parts (suppressed entries linked through
   relations), each checked on its own.

Why that is enough: zeros are never suppressed, so every suppressed entry is at least 1; the
true table is then an interior point of the non-negative solutions, and an entry that is not
fixed by the equations can move both ways along some direction of their null space: its
feasible interval (by linear programming, with the published figures and non-negativity)
has a width above 0. The tests try exactly that attack (by subtraction and by linear
programming) on generated tables.

Not covered: an intruder who also uses the fact that suppressed entries are never zero (a
lower bound of 1 instead of 0) can, in rare tables, pin a cell (a column whose only non-zero
cell is small, its total suppressed with it, and little else around). Closing that needs a
linear-programming check of each suppression; it is left for later (docs/open-data.md).

Which suppressed entries were small is not published: every suppressed entry is marked the
same way (SDMX CONF_STATUS "C"), so that the published flags give no bound either.

Out of reach of this module: several *different* tables asked of the same figures (the API
lets a user choose the breakdown and the filters) are each protected on their own; their
secondary suppressions may differ, and subtracting one table from another can then reveal
a cell. docs/open-data.md says so; the remedy (protecting a fixed set of published tables
together) is left for later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from mirador import config

DEFAULT_THRESHOLD = 5
# The SDMX code for a total over a dimension (SDMX's cross-domain code list CL_TOTAL style).
TOTAL = "_T"
# Numerical tolerance of the row-space test (coefficients are 0, 1 and -1).
_TOLERANCE = 1e-8


def disclosure_threshold() -> int:
    """Cells with a value from 1 to threshold - 1 are suppressed: settings'
    MIRADOR_DISCLOSURE_THRESHOLD, else the environment variable of that name (a malformed
    value stops with the configuration's message, never falls back silently), else 5."""
    configured = getattr(settings, "MIRADOR_DISCLOSURE_THRESHOLD", None)
    if configured is None:
        configured = config.env_int(
            "MIRADOR_DISCLOSURE_THRESHOLD", DEFAULT_THRESHOLD, minimum=1, maximum=1000
        )
    return max(1, int(configured))


@dataclass(frozen=True)
class Relation:
    """`total` equals the sum of `parts` (parts not listed are zero)."""

    total: Hashable
    parts: tuple[Hashable, ...]

    @property
    def entries(self) -> tuple[Hashable, ...]:
        return (self.total, *self.parts)


def suppress(
    values: Mapping[Any, int], relations: Sequence[Relation], *, threshold: int
) -> frozenset[Any]:
    """The entries to leave out of a table with these values and relations."""
    member_of: dict[Hashable, list[int]] = defaultdict(list)
    for index, relation in enumerate(relations):
        for entry in relation.entries:
            member_of[entry].append(index)
    suppressed = {key for key, value in values.items() if 0 < value < threshold}
    if not suppressed:
        return frozenset()
    while True:
        _complete_relations(values, relations, member_of, suppressed, threshold)
        recoverable = recoverable_entries(relations, member_of, suppressed)
        if not recoverable:
            return frozenset(suppressed)
        added = _protect(values, relations, member_of, suppressed, recoverable)
        if not added:  # nothing left to suppress: cannot happen with positive entries
            return frozenset(suppressed)


def _candidate(
    values: Mapping[Any, int], entries: Iterable[Hashable], suppressed: set[Any]
) -> Hashable | None:
    """The smallest published non-zero entry among `entries` (parts before totals at equal
    value, then by key for a stable choice)."""
    best: tuple[int, str] | None = None
    chosen: Hashable | None = None
    for entry in entries:
        value = values.get(entry, 0)
        if entry in suppressed or value <= 0:
            continue
        rank = (value, repr(entry))
        if best is None or rank < best:
            best, chosen = rank, entry
    return chosen


def _complete_relations(
    values: Mapping[Any, int],
    relations: Sequence[Relation],
    member_of: Mapping[Hashable, list[int]],
    suppressed: set[Any],
    threshold: int,
) -> None:
    """Until stable: a relation with exactly one suppressed entry gets a second one; and
    where its total is published, the suppressed parts (whose sum the total then discloses)
    add up to 0 or at least the threshold."""
    pending = {index for entry in suppressed for index in member_of.get(entry, ())}
    while pending:
        index = pending.pop()
        relation = relations[index]
        hidden = [entry for entry in relation.entries if entry in suppressed]
        if not hidden:
            continue
        hidden_sum = sum(values.get(entry, 0) for entry in hidden)
        if len(hidden) == 1:
            parts = [entry for entry in relation.parts if entry != hidden[0]]
            chosen = _candidate(values, parts, suppressed)
            if chosen is None and relation.total != hidden[0]:
                chosen = _candidate(values, [relation.total], suppressed)
        elif relation.total not in suppressed and 0 < hidden_sum < threshold:
            chosen = _candidate(values, relation.parts, suppressed)
            if chosen is None:
                chosen = relation.total
        else:
            continue
        if chosen is None:
            continue
        suppressed.add(chosen)
        pending.update(member_of.get(chosen, ()))


def recoverable_entries(
    relations: Sequence[Relation],
    member_of: Mapping[Hashable, list[int]],
    suppressed: set[Any],
) -> list[Hashable]:
    """The suppressed entries whose value the relations fix, given every published entry."""
    found: list[Hashable] = []
    for component, indexes in _components(relations, member_of, suppressed):
        position = {entry: column for column, entry in enumerate(component)}
        rows: list[dict[int, float]] = []
        for index in indexes:
            relation = relations[index]
            row: dict[int, float] = {}
            if relation.total in position:
                row[position[relation.total]] = 1.0
            for part in relation.parts:
                if part in position:
                    column = position[part]
                    row[column] = row.get(column, 0.0) - 1.0
            rows.append(row)
        found.extend(component[column] for column in fixed_columns(rows))
    return found


def fixed_columns(rows: Sequence[Mapping[int, float]]) -> set[int]:
    """The unknowns that the linear system of these (sparse) rows fixes: those whose unit
    vector lies in its row space. In the reduced row echelon form that is a pivot row with
    nothing but its pivot. Built one row at a time, sparse, in plain Python: the systems
    are large and very sparse, and dense linear algebra on them is slow and depends on the
    machine's BLAS threads."""
    pivots: dict[int, dict[int, float]] = {}
    # column -> pivot columns whose row has a non-zero there (outside its pivot)
    holders: dict[int, set[int]] = defaultdict(set)
    # Fill-in is what makes elimination slow: short rows first, and as pivot the column
    # found in the fewest rows (a column of one row needs no elimination at all).
    degree: dict[int, int] = defaultdict(int)
    for given in rows:
        for column in given:
            degree[column] += 1
    for given in sorted(rows, key=len):
        row = {column: value for column, value in given.items() if abs(value) > _TOLERANCE}
        # Pivot rows hold no other pivot column, so one pass of reductions is enough.
        for column in [column for column in row if column in pivots]:
            factor = row.pop(column, 0.0)
            for other, value in pivots[column].items():
                if other == column:
                    continue
                updated = row.get(other, 0.0) - factor * value
                if abs(updated) > _TOLERANCE:
                    row[other] = updated
                else:
                    row.pop(other, None)
        if not row:
            continue
        pivot = min(
            row,
            key=lambda column: (
                degree[column] + len(holders.get(column, ())),
                -abs(row[column]),
                column,
            ),
        )
        scale = row[pivot]
        row = {column: value / scale for column, value in row.items()}
        for holder in list(holders.pop(pivot, ())):
            target = pivots[holder]
            factor = target.pop(pivot)
            for other, value in row.items():
                if other == pivot:
                    continue
                updated = target.get(other, 0.0) - factor * value
                if abs(updated) > _TOLERANCE:
                    target[other] = updated
                    holders[other].add(holder)
                else:
                    target.pop(other, None)
                    holders[other].discard(holder)
        pivots[pivot] = row
        for other in row:
            if other != pivot:
                holders[other].add(pivot)
    return {pivot for pivot, row in pivots.items() if len(row) == 1}


def _components(
    relations: Sequence[Relation],
    member_of: Mapping[Hashable, list[int]],
    suppressed: set[Any],
) -> list[tuple[list[Hashable], list[int]]]:
    """Suppressed entries linked through the relations holding them, with those relations."""
    seen: set[Hashable] = set()
    components: list[tuple[list[Hashable], list[int]]] = []
    for start in sorted(suppressed, key=repr):
        if start in seen:
            continue
        entries: list[Hashable] = []
        indexes: set[int] = set()
        stack = [start]
        seen.add(start)
        while stack:
            entry = stack.pop()
            entries.append(entry)
            for index in member_of.get(entry, ()):
                if index in indexes:
                    continue
                indexes.add(index)
                for other in relations[index].entries:
                    if other in suppressed and other not in seen:
                        seen.add(other)
                        stack.append(other)
        components.append((entries, sorted(indexes)))
    return components


def _protect(
    values: Mapping[Any, int],
    relations: Sequence[Relation],
    member_of: Mapping[Hashable, list[int]],
    suppressed: set[Any],
    recoverable: list[Hashable],
) -> int:
    """Suppress, for each recoverable entry, the smallest non-zero entry sharing a relation
    with it (looking further along the suppressed entries' relations if none does)."""
    added = 0
    touched: set[int] = set()
    for entry in recoverable:
        if touched.intersection(member_of.get(entry, ())):
            continue  # a suppression of this round already changed its relations
        chosen = _nearest_candidate(values, relations, member_of, suppressed, entry)
        if chosen is None:
            continue
        suppressed.add(chosen)
        touched.update(member_of.get(chosen, ()))
        added += 1
    return added


def _nearest_candidate(
    values: Mapping[Any, int],
    relations: Sequence[Relation],
    member_of: Mapping[Hashable, list[int]],
    suppressed: set[Any],
    entry: Hashable,
) -> Hashable | None:
    seen_entries = {entry}
    frontier = [entry]
    seen_relations: set[int] = set()
    while frontier:
        ring = [
            index
            for item in frontier
            for index in member_of.get(item, ())
            if index not in seen_relations
        ]
        seen_relations.update(ring)
        candidates = [other for index in ring for other in relations[index].entries]
        chosen = _candidate(values, candidates, suppressed)
        if chosen is not None:
            return chosen
        frontier = [
            other for other in candidates if other in suppressed and other not in seen_entries
        ]
        seen_entries.update(frontier)
    return None


# --- tables with their margins ----------------------------------------------------------------


@dataclass(frozen=True)
class Hierarchy:
    """Intermediate totals along one position of a table's keys: `parent[code]` is the total
    `code` is part of (a month's year); the parents add up to the grand total."""

    parent: Mapping[str, str]


def with_margins(
    cells: Mapping[tuple[str, ...], int],
    *,
    hierarchies: Mapping[int, Hierarchy] | None = None,
) -> tuple[dict[tuple[str, ...], int], list[Relation]]:
    """Every total of a table of cells keyed by codes: over each position (TOTAL in its
    place), over every combination of positions, and at each level of a hierarchy; with the
    relations saying which entries add up to which."""
    hierarchies = hierarchies or {}
    entries: dict[tuple[str, ...], int] = {}
    for key, value in cells.items():
        for ancestor in entry_ancestors(key, hierarchies):
            entries[ancestor] = entries.get(ancestor, 0) + value
    children: dict[tuple[tuple[str, ...], int], list[tuple[str, ...]]] = defaultdict(list)
    for key in entries:
        for position, code in enumerate(key):
            if code == TOTAL:
                continue
            hierarchy = hierarchies.get(position)
            parent_code = hierarchy.parent.get(code, TOTAL) if hierarchy else TOTAL
            parent = (*key[:position], parent_code, *key[position + 1 :])
            children[(parent, position)].append(key)
    relations = [
        Relation(total=parent, parts=tuple(sorted(parts)))
        for (parent, _position), parts in sorted(children.items())
    ]
    return entries, relations


def entry_ancestors(
    key: tuple[str, ...], hierarchies: Mapping[int, Hierarchy]
) -> list[tuple[str, ...]]:
    """The key itself and every total it counts in."""
    levels: list[list[str]] = []
    for position, code in enumerate(key):
        chain = [code]
        hierarchy = hierarchies.get(position)
        while hierarchy and chain[-1] in hierarchy.parent:
            chain.append(hierarchy.parent[chain[-1]])
        chain.append(TOTAL)
        levels.append(chain)
    keys: list[tuple[str, ...]] = [()]
    for chain in levels:
        keys = [(*prefix, code) for prefix in keys for code in chain]
    return keys


@dataclass(frozen=True)
class ProtectedTable:
    """A table after disclosure control: every entry (cells and totals) with its value, and
    which are suppressed (their value is never to be published)."""

    values: dict[tuple[str, ...], int]
    suppressed: frozenset[tuple[str, ...]]
    threshold: int

    def published(self, key: tuple[str, ...]) -> int | None:
        """The value to publish, or None when it is suppressed; 0 for an absent entry."""
        if key in self.suppressed:
            return None
        return self.values.get(key, 0)


def protect_table(
    cells: Mapping[tuple[str, ...], int],
    *,
    hierarchies: Mapping[int, Hierarchy] | None = None,
    threshold: int | None = None,
) -> ProtectedTable:
    """A table of cells with all its totals, after primary and secondary suppression."""
    limit = disclosure_threshold() if threshold is None else threshold
    values, relations = with_margins(cells, hierarchies=hierarchies)
    return ProtectedTable(
        values=values,
        suppressed=suppress(values, relations, threshold=limit),
        threshold=limit,
    )
