"""The one function through which every access to personal data is recorded.

Case apps call `audit_record` from their services and selectors. Where the request came from
(address, channel) is taken from the request context that `RequestContextMiddleware` sets, so
services need not carry the request around. `details` holds field names and identifiers, never
the values of personal data. A service that records several entries in one transaction may
gather them with `audit_batch`, which writes them in one INSERT; an endpoint that reads, checks
and writes in one request may run it all in `audited_atomic`, one transaction whose entries
are written in one INSERT.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction

from mirador.core.inserts import rows_insert
from mirador.core.models import AuditAction, AuditEntry

if TYPE_CHECKING:
    from mirador.accounts.models import User


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None
    channel: str  # "web", "api", "cli", "task"


_current_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "mirador_request_context", default=None
)


@dataclass
class _Pending:
    """Entries recorded and not yet written. `depth` counts the `audit_batch` blocks open
    (each one the work of a transaction); `immediate` are the entries `audited_atomic`
    recorded outside any of them and outside any transaction nested in its own (refusals,
    reads), which outlive a failure. `savepoints`: how deep its own transaction is."""

    entries: list[AuditEntry] = field(default_factory=list)
    immediate: list[AuditEntry] = field(default_factory=list)
    depth: int = 0
    savepoints: int = 0


_pending_entries: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar(
    "mirador_audit_pending", default=None
)


@contextmanager
def request_context(*, ip_address: str | None, channel: str) -> Iterator[None]:
    token = _current_context.set(RequestContext(ip_address=ip_address, channel=channel))
    try:
        yield
    finally:
        _current_context.reset(token)


def current_request_context() -> RequestContext:
    return _current_context.get() or RequestContext(ip_address=None, channel="system")


@contextmanager
def audit_batch() -> Iterator[None]:
    """Entries recorded inside the block are written together, in one INSERT, when the block
    ends; if it ends with an error they are dropped. Use it inside the transaction whose work
    the entries record: that transaction's rollback would drop them too, and its commit
    stores them with the work. A batch inside a batch joins the outer one; if the inner one
    ends with an error, its entries are dropped with its work."""
    pending = _pending_entries.get()
    if pending is not None:
        start = len(pending.entries)
        pending.depth += 1
        try:
            yield
        except BaseException:
            del pending.entries[start:]
            raise
        finally:
            pending.depth -= 1
        return
    pending = _Pending(depth=1)
    token = _pending_entries.set(pending)
    try:
        yield
    finally:
        _pending_entries.reset(token)
    _write(pending.entries)


@contextmanager
def audited_atomic() -> Iterator[None]:
    """A transaction (`transaction.atomic`) whose audit entries are all written in one INSERT
    before it commits, with one commit for the whole request instead of one per entry.

    If the block fails, its work is rolled back, and with it the entries recorded by the
    services' writes (inside an `audit_batch` or a nested transaction); the entries recorded
    outside them (a refusal, a read made before the failure) are written after the rollback,
    as they would have been without the transaction. A service whose transaction fails while
    the block goes on must record its entries in an `audit_batch`, which drops them. Inside
    another batch it joins that batch like `audit_batch`."""
    if _pending_entries.get() is not None:
        with transaction.atomic(), audit_batch():
            yield
        return
    pending = _Pending()
    token = _pending_entries.set(pending)
    try:
        with transaction.atomic():
            pending.savepoints = len(transaction.get_connection().savepoint_ids)
            try:
                yield
            finally:
                _pending_entries.reset(token)
            _write(pending.entries)
    except BaseException:
        _write(pending.immediate)
        raise


def _write(entries: list[AuditEntry]) -> None:
    """Write new entries in one INSERT (core.inserts: the statement kept, not built through
    the ORM on every request)."""
    if not entries:
        return
    for entry in entries:
        if not entry._state.adding:
            raise RuntimeError("Audit entries are append-only.")
    rows_insert(entries)


def audit_record(
    *,
    actor: User | None,
    action: AuditAction | str,
    object_type: str,
    object_id: object = "",
    reason: str = "",
    details: dict[str, object] | None = None,
) -> AuditEntry:
    context = current_request_context()
    authenticated = actor is not None and actor.is_authenticated
    entry = AuditEntry(
        actor=actor if authenticated else None,
        actor_username=actor.get_username() if authenticated and actor else "(anonymous)",
        action=str(action),
        object_type=object_type,
        object_id=str(object_id or ""),
        reason=reason[:200],
        ip_address=context.ip_address,
        channel=context.channel,
        details=details or {},
    )
    pending = _pending_entries.get()
    if pending is not None:
        pending.entries.append(entry)
        if not pending.depth and (
            len(transaction.get_connection().savepoint_ids) == pending.savepoints
        ):
            pending.immediate.append(entry)
    else:
        _write([entry])
    return entry
