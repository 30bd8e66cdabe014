"""The one function through which every access to personal data is recorded.

Case apps call `audit_record` from their services and selectors. Where the request came from
(address, channel) is taken from the request context that `RequestContextMiddleware` sets, so
services need not carry the request around. `details` holds field names and identifiers, never
the values of personal data. A service that records several entries in one transaction may
gather them with `audit_batch`, which writes them in one INSERT.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
_pending_entries: contextvars.ContextVar[list[AuditEntry] | None] = contextvars.ContextVar(
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
    stores them with the work. A batch inside a batch joins the outer one."""
    if _pending_entries.get() is not None:
        yield
        return
    entries: list[AuditEntry] = []
    token = _pending_entries.set(entries)
    try:
        yield
    finally:
        _pending_entries.reset(token)
    if len(entries) == 1:
        # bulk_create would wrap the one INSERT in a transaction of its own.
        entries[0].save(force_insert=True)
    elif entries:
        AuditEntry.objects.bulk_create(entries)


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
        pending.append(entry)
    else:
        entry.save(force_insert=True)
    return entry
