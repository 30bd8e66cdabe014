"""The one function through which every access to personal data is recorded.

Case apps call `audit_record` from their services and selectors. Where the request came from
(address, channel) is taken from the request context that `RequestContextMiddleware` sets, so
services need not carry the request around. `details` holds field names and identifiers, never
the values of personal data.
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


@contextmanager
def request_context(*, ip_address: str | None, channel: str) -> Iterator[None]:
    token = _current_context.set(RequestContext(ip_address=ip_address, channel=channel))
    try:
        yield
    finally:
        _current_context.reset(token)


def current_request_context() -> RequestContext:
    return _current_context.get() or RequestContext(ip_address=None, channel="system")


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
    return AuditEntry.objects.create(
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
