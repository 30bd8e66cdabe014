"""Lookups of one row by its key, and the standard reference rows a process keeps.

`row_or_none(queryset)` gives the row of a lookup by a unique key, or None, without the ORDER BY
that `QuerySet.first()` adds (by the primary key, or the model's ordering): building that
clause is a good part of the Python work of a one-row query, and "ORDER BY ... LIMIT 1" can
lead PostgreSQL to walk another index than the key's.

`country_by_code` and `subdivision_by_code`: countries (ISO 3166-1) and subdivisions
(ISO 3166-2) are owned by their standards. No page or endpoint changes them (the admin shows
them read-only); only `load_reference_data`, run at an upgrade, does, and it never deletes one.
So a process keeps the rows it has read for REFERENCE_TTL seconds instead of asking the
database for the same few codes on every request (a registration asks for two or three); a
code not kept is read from the database, so that a row added since is found at once. Each call
gives a new instance, so that what a caller does with it stays its own. Saving or deleting a
row in this process forgets what it kept; another process sees a change within REFERENCE_TTL.
"""

from __future__ import annotations

import threading
import time
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from mirador.core.models import Country, Subdivision

M = TypeVar("M", bound=Model)

REFERENCE_TTL = 300.0  # seconds

_lock = threading.Lock()
# model -> code -> (when read, database alias, field names, values)
_kept: dict[type[Model], dict[str, tuple[float, str, tuple[str, ...], tuple[Any, ...]]]] = {}


def row_or_none(queryset: QuerySet[M]) -> M | None:
    """The first row of `queryset` as the database returns it (no ORDER BY), or None: for
    lookups by a unique key, where there is at most one."""
    for row in queryset.order_by()[:1]:
        return row
    return None


def _reference_row(model: type[M], code: str) -> M | None:
    now = time.monotonic()
    kept = _kept.get(model, {}).get(code)
    if kept is not None and now - kept[0] < REFERENCE_TTL:
        _read_at, alias, names, values = kept
        return model.from_db(alias, list(names), list(values))
    row = row_or_none(model._default_manager.filter(pk=code))
    if row is not None:
        names = tuple(field.attname for field in model._meta.concrete_fields)
        values = tuple(getattr(row, name) for name in names)
        with _lock:
            _kept.setdefault(model, {})[code] = (now, row._state.db or "default", names, values)
    return row


def country_by_code(code: str) -> Country | None:
    """The country of an ISO 3166-1 alpha-2 code as stored (upper case), or None."""
    return _reference_row(Country, code)


def subdivision_by_code(code: str) -> Subdivision | None:
    """The subdivision of an ISO 3166-2 code as stored (upper case, "HN-CR"), or None."""
    return _reference_row(Subdivision, code)


def reference_rows_forget(**_kwargs: Any) -> None:
    """Forget every kept row (connected to the reference models' saves and deletes)."""
    with _lock:
        _kept.clear()
