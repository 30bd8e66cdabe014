"""Reads on core data: the audit log, filtered for the administrators' page."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from mirador.core.models import AuditEntry


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def audit_entries_filtered(
    *,
    actor_username: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditEntry]:
    """Audit entries, newest first, matching every filter given; empty filters match all.

    Dates are whole days, both ends included, in the site's time zone (UTC)."""
    entries = AuditEntry.objects.order_by("-at", "-id")
    if actor_username:
        entries = entries.filter(actor_username__iexact=actor_username.strip())
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type.strip())
    if object_id:
        entries = entries.filter(object_id=object_id.strip())
    if date_from is not None:
        entries = entries.filter(at__gte=_start_of(date_from))
    if date_to is not None:
        entries = entries.filter(at__lt=_start_of(date_to + datetime.timedelta(days=1)))
    return entries
