"""Writing the few new rows of a request in one INSERT, without building the query through the
ORM each time.

`row_insert(row)` is `row.save(force_insert=True)` the same way, where saving does nothing
more (no signal receivers, no save of the model's own).

`rows_insert(rows)` does what `QuerySet.bulk_create` does for new instances of one model (the
related objects' ids taken and checked, each field's value as saving gives it: `auto_now`
times, defaults, JSON, addresses; the primary key from RETURNING when the database assigns
it; the instances marked saved; no signals, as bulk_create sends none), but with the
statement's text kept per model, database and row count. Building that statement through
the ORM (its compiler, UNNEST arrays, a transaction of its own) was a good part of an arrival
registration's time, which writes several small batches of rows. What it does not handle (a
field the database fills in besides the primary key, rows with and without a primary key
mixed, a statement over the parameter limit) goes to bulk_create itself.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.constants import OnConflict
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)

# At most this many parameters in one statement: SQLite's oldest limit.
MAX_PARAMETERS = 999

_lock = threading.Lock()
# (model, database alias, row count, primary key given, ignore conflicts) -> statement
_statements: dict[tuple[type[Model], str, int, bool, bool], str] = {}


def _fields(model: type[Model], *, with_pk: bool) -> list[Field[Any, Any]]:
    return [field for field in model._meta.concrete_fields if with_pk or not field.primary_key]


def _statement(
    connection: BaseDatabaseWrapper,
    model: type[Model],
    fields: list[Field[Any, Any]],
    *,
    rows: int,
    with_pk: bool,
    ignore_conflicts: bool,
) -> str:
    key = (model, connection.alias, rows, with_pk, ignore_conflicts)
    statement = _statements.get(key)
    if statement is not None:
        return statement
    # Names from the model, quoted; every value is a parameter.
    ops = connection.ops
    quote = ops.quote_name
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    columns = ", ".join(quote(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    parts = [
        ops.insert_statement(on_conflict=on_conflict),
        quote(model._meta.db_table),
        f"({columns}) VALUES",
        ", ".join([row] * rows),
    ]
    suffix = ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
    if suffix:
        parts.append(suffix)
    if not with_pk and not ignore_conflicts:
        parts += ["RETURNING", quote(model._meta.pk.column)]
    statement = " ".join(parts)
    with _lock:
        _statements[key] = statement
    return statement


def row_insert(row: Model) -> None:
    """`row.save(force_insert=True)` for a new row, in the same one INSERT with its statement
    kept, when that is all saving would do: the model keeps Django's own `save` and nothing
    listens to its pre_save or post_save signals; otherwise through `save` itself."""
    model = type(row)
    if (
        model.save is not Model.save
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    ):
        row.save(force_insert=True)
        return
    rows_insert([row], operation="save")


def rows_insert(
    rows: Sequence[M], *, ignore_conflicts: bool = False, operation: str = "bulk_create"
) -> None:
    """Insert new instances of one model, as `Model.objects.bulk_create(rows,
    ignore_conflicts=...)` would, in one statement. With `ignore_conflicts`, rows that a
    unique constraint refuses are skipped (and the ids of rows the database numbers are not
    read, as bulk_create reads none then). `operation` names the caller's operation in the
    refusal of an unsaved related object, as Django names it."""
    if not rows:
        return
    model = type(rows[0])
    meta = model._meta
    manager = model._default_manager
    pk: Any = meta.pk
    for row in rows:
        if row.pk is None:
            # The default of a primary key drawn in Python (a UUID), as bulk_create does.
            row.pk = pk.get_pk_value_on_save(row)
        row._prepare_related_fields_for_save(operation_name=operation)  # type: ignore[attr-defined]
    given = [row.pk is not None for row in rows]
    with_pk = all(given)
    fields = _fields(model, with_pk=with_pk)
    if (
        (any(given) and not with_pk)
        or len(rows) * len(fields) > MAX_PARAMETERS
        or any(type(row) is not model for row in rows)
        or any(getattr(field, "db_returning", False) and not field.primary_key for field in fields)
        or meta.parents
    ):
        manager.bulk_create(rows, ignore_conflicts=ignore_conflicts)
        return
    connection = connections[router.db_for_write(model, instance=rows[0])]
    values: list[Any] = []
    for row in rows:
        for field in fields:
            values.append(field.get_db_prep_save(field.pre_save(row, True), connection))
    statement = _statement(
        connection,
        model,
        fields,
        rows=len(rows),
        with_pk=with_pk,
        ignore_conflicts=ignore_conflicts,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        ids = [] if with_pk or ignore_conflicts else [found[0] for found in cursor.fetchall()]
    for index, row in enumerate(rows):
        if ids:
            row.pk = ids[index]
        row._state.adding = False
        row._state.db = connection.alias
