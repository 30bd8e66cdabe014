"""Lookups of one row by its key, and the standard reference rows a process keeps.

`KeyedLookup`: a lookup of one row by a key that a request makes every time (a centre by its
id, an arrival by its idempotency key), with its joins, whose query is built and compiled
once per thread and database instead of on each call; each call sends the kept SQL with the
key and builds the instances as the ORM does (the same converters and joined rows). Building
and compiling such a query was about two thirds of its cost in Python.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]

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


@dataclass(frozen=True)
class _Compiled:
    model: Any
    sql: str
    params: tuple[Any, ...]
    positions: tuple[int, ...]  # where the key stands among the parameters
    compiler: Any
    converters: dict[int, Any]
    init_list: list[str]
    start: int
    end: int
    related_populators: list[Any]
    annotation_col_map: dict[str, int]


class KeyedLookup(Generic[M]):
    """`build(key)` is the queryset of the row with `key` (a filter on `field`, with its
    select_related); `get(key)` gives that row, or None, as `row_or_none(build(key))` would.

    The query is compiled once per thread and database for `examples[0]`, and the key's
    place among its parameters found by compiling it for `examples[1]` too (two valid keys,
    used for nothing else): if anything else differs between the two, or the key is not
    passed as the field prepares it, the lookup goes through the ORM every time instead."""

    def __init__(
        self, build: Callable[[Any], QuerySet[M]], *, field: str, examples: tuple[Any, Any]
    ) -> None:
        self._build = build
        self._field = field
        self._examples = examples
        self._model: type[Model] | None = None
        self._local = threading.local()

    def _prepared(self, model: type[Model], key: Any, connection: Any) -> Any:
        field: Any = model._meta.pk if self._field == "pk" else model._meta.get_field(self._field)
        return field.get_db_prep_value(key, connection, prepared=False)

    def _compile(self, alias: str) -> _Compiled | None:
        connection = connections[alias]
        first, second = (
            self._build(example).order_by()[:1].query.get_compiler(using=alias)
            for example in self._examples
        )
        sql, params = first.as_sql()
        other_sql, other_params = second.as_sql()
        model = first.query.model
        prepared = [self._prepared(model, example, connection) for example in self._examples]
        positions = tuple(
            index
            for index, (one, two) in enumerate(zip(params, other_params, strict=False))
            if one != two
        )
        if (
            sql != other_sql
            or len(params) != len(other_params)
            or not positions
            or any(params[i] != prepared[0] or other_params[i] != prepared[1] for i in positions)
            or first.klass_info is None
        ):
            return None
        select = first.select
        klass_info = first.klass_info
        fields = klass_info["select_fields"]
        return _Compiled(
            model=model,
            sql=sql,
            params=tuple(params),
            positions=positions,
            compiler=first,
            converters=first.get_converters([column[0] for column in select[: first.col_count]]),
            init_list=[column[0].target.attname for column in select[fields[0] : fields[-1] + 1]],
            start=fields[0],
            end=fields[-1] + 1,
            related_populators=get_related_populators(klass_info, select, alias),
            annotation_col_map=dict(first.annotation_col_map or {}),
        )

    def get(self, key: Any) -> M | None:
        if self._model is None:
            self._model = self._build(self._examples[0]).model
        alias = router.db_for_read(self._model)
        kept: dict[str, _Compiled | None] = self._local.__dict__.setdefault("kept", {})
        if alias not in kept:
            kept[alias] = self._compile(alias)
        compiled = kept[alias]
        if compiled is None:
            return row_or_none(self._build(key))
        connection = connections[alias]
        params = list(compiled.params)
        value = self._prepared(compiled.model, key, connection)
        for position in compiled.positions:
            params[position] = value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:
            row = next(compiled.compiler.apply_converters([row], compiled.converters))
        instance = compiled.model.from_db(
            alias, compiled.init_list, row[compiled.start : compiled.end]
        )
        for populator in compiled.related_populators:
            populator.populate(row, instance)
        for name, position in compiled.annotation_col_map.items():
            setattr(instance, name, row[position])
        return instance
