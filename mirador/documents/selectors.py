"""Reading document requests: one request, an arrival's and a person's, and the queue of open
requests of the user's country (children and trafficking victims first, then the longest
waiting), with counts per status.

Each function asks `accounts.permissions` (document_requests_visible_filter: the person's
rules, so a child's request needs the protection role) and writes the audit log. A request
the user may not see answers NotFoundError, like one that does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.core.audit import audit_record
from mirador.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from mirador.core.models import AuditAction
from mirador.documents.models import (
    KIND_CHOICES,
    OPEN_STATUSES,
    DocumentRequest,
    RequestStatus,
)
from mirador.documents.services import REQUEST_OBJECT_TYPE

if TYPE_CHECKING:
    from mirador.accounts.permissions import AnyUser
    from mirador.people.models import Person
    from mirador.returns.models import Arrival

QUEUE_PAGE = 50
MAX_QUEUE_PAGE = 200
# The status filter's value for the three open steps together (the queue's default).
OPEN = "open"
UNKNOWN_STATUS = _("Unknown status.")
UNKNOWN_KIND = _("Unknown document.")
UNKNOWN_CENTRE = _("Unknown reception centre.")


def _actor(user: AnyUser | None) -> object:
    return permissions.active_user(user)


def _key(value: uuid.UUID | str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def document_requests_visible_to(*, user: AnyUser | None) -> QuerySet[DocumentRequest]:
    """Exactly the requests `user` may read, with their person and arrival's centre joined.

    The rule's filter goes through the person's shares (a join that can repeat rows), so it
    selects keys in a subquery rather than making the whole query DISTINCT."""
    visible = DocumentRequest.objects.filter(
        permissions.document_requests_visible_filter(user)
    ).values("pk")
    return DocumentRequest.objects.filter(pk__in=visible).select_related(
        "person",
        # Whether the person is reported missing is part of the access rule asked per row.
        "person__missing_person_report",
        "arrival__centre",
        "needed_by",
        "requested_by",
        "issued_by",
        "delivered_by",
        "cancelled_by",
    )


def document_request_get(
    *, user: AnyUser | None, request_id: uuid.UUID | str, audit: bool = True
) -> DocumentRequest:
    """One request; NotFoundError (audited) when `user` may not read it."""
    key = _key(request_id)
    row = document_requests_visible_to(user=user).filter(pk=key).order_by().first() if key else None
    if row is None:
        audit_record(
            actor=_actor(user),  # type: ignore[arg-type]
            action=AuditAction.DENIED,
            object_type=REQUEST_OBJECT_TYPE,
            object_id=key or "",
        )
        raise NotFoundError()
    if audit:
        audit_record(
            actor=_actor(user),  # type: ignore[arg-type]
            action=AuditAction.READ,
            object_type=REQUEST_OBJECT_TYPE,
            object_id=row.pk,
            details={"person": str(row.person_id)},
        )
    return row


def _listed(rows: list[DocumentRequest], *, user: AnyUser | None, **details: object) -> None:
    audit_record(
        actor=_actor(user),  # type: ignore[arg-type]
        action=AuditAction.LIST,
        object_type=REQUEST_OBJECT_TYPE,
        details={**details, "count": len(rows)},
    )


def document_requests_for_person(*, user: AnyUser | None, person: Person) -> list[DocumentRequest]:
    """The person's requests `user` may read: open ones first, then the latest."""
    rows = sorted(
        document_requests_visible_to(user=user).filter(person=person),
        key=lambda row: (not row.is_open, -row.needed_at.timestamp()),
    )
    _listed(rows, user=user, person=str(person.pk))
    return rows


def document_requests_for_arrival(
    *, user: AnyUser | None, arrival: Arrival
) -> list[DocumentRequest]:
    """What the arrival's page shows: the person's open requests (whenever the need was
    noted) and those noted at this arrival, open ones first."""
    rows = [
        row
        for row in document_requests_visible_to(user=user).filter(person_id=arrival.person_id)
        if row.is_open or row.arrival_id == arrival.pk
    ]
    rows.sort(key=lambda row: (not row.is_open, -row.needed_at.timestamp()))
    _listed(rows, user=user, person=str(arrival.person_id), arrival=str(arrival.pk))
    return rows


@dataclass
class Queue:
    """One page of the queue, the number of rows of all pages, and how many requests each
    status has under the same kind and centre filters."""

    rows: list[DocumentRequest]
    total: int
    limit: int
    offset: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.rows) < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def _check_filters(*, status: str | None, kind: str | None) -> None:
    errors: dict[str, list[str]] = {}
    if status and status not in RequestStatus.values and status != OPEN:
        errors["status"] = [str(UNKNOWN_STATUS)]
    if kind and kind not in {value for value, _label in KIND_CHOICES}:
        errors["kind"] = [str(UNKNOWN_KIND)]
    if errors:
        raise ValidationFailedError(details={"fields": errors})


def _selects(status: str | None, value: str) -> bool:
    """Whether the queue's `status` filter selects requests of status `value`."""
    if status and status != OPEN:
        return value == status
    return value in OPEN_STATUSES


def document_queue(
    *,
    user: AnyUser | None,
    status: str | None = None,
    kind: str | None = None,
    centre_id: uuid.UUID | str | None = None,
    limit: int = QUEUE_PAGE,
    offset: int = 0,
) -> Queue:
    """Requests of persons of the user's country that the user may read: open ones unless a
    `status` is given ("open" is all three open steps); children and trafficking victims
    first, then the longest waiting. `centre_id` keeps those noted at a centre's arrivals.

    Roles that may not read personal data get PermissionDeniedError (audited), so that a
    client can tell "not allowed" from "none"."""
    member = permissions.case_user(user)
    used = [
        name for name, value in (("status", status), ("kind", kind), ("centre", centre_id)) if value
    ]
    if member is None:
        audit_record(
            actor=_actor(user),  # type: ignore[arg-type]
            action=AuditAction.DENIED,
            object_type=REQUEST_OBJECT_TYPE,
            details={"attempted": "queue", "filters": used},
        )
        raise PermissionDeniedError()
    _check_filters(status=status, kind=kind)
    scope = document_requests_visible_to(user=member).filter(person__country_id=member.country_id)
    if kind:
        scope = scope.filter(kind=kind)
    if centre_id:
        centre_key = _key(centre_id)
        if centre_key is None:
            raise ValidationFailedError(details={"fields": {"centre": [str(UNKNOWN_CENTRE)]}})
        scope = scope.filter(arrival__centre_id=centre_key)
    counted = {
        row["status"]: row["n"] for row in scope.order_by().values("status").annotate(n=Count("pk"))
    }
    counts = {value: counted.get(value, 0) for value in RequestStatus.values}
    if status and status != OPEN:
        selected = scope.filter(status=status)
    else:
        selected = scope.filter(status__in=OPEN_STATUSES)
    total = sum(counts[value] for value in RequestStatus.values if _selects(status, value))
    limit = max(1, min(limit, MAX_QUEUE_PAGE))
    offset = max(0, offset)
    rows = list(selected.order_by("priority", "needed_at", "pk")[offset : offset + limit])
    _listed(rows, user=member, filters=used, offset=offset)
    return Queue(rows=rows, total=total, limit=limit, offset=offset, counts=counts)
