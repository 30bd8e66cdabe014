"""Writing document requests: noting a need, advancing it (requested, issued, delivered),
cancelling it.

Each service asks `accounts.permissions.can_request_identity_document` and records what it
did in the audit log (identifiers, statuses and field names; never a document number or a
free-text value). A refusal is audited before anything is written. A request whose person the
actor may not see is answered with NotFoundError, one they may see but not change (a
caseworker of an organisation the record was shared with) with PermissionDeniedError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.core.audit import audit_record
from mirador.core.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    fields_error,
    validation_failed,
)
from mirador.core.models import AuditAction
from mirador.documents.models import (
    NEXT_STATUS,
    OPEN_STATUSES,
    REQUESTABLE_KINDS,
    DocumentRequest,
    Priority,
    RequestStatus,
)
from mirador.people.services import identity_document_add

if TYPE_CHECKING:
    from mirador.accounts.models import User
    from mirador.people.models import Person
    from mirador.returns.models import Arrival

REQUEST_OBJECT_TYPE = "documents.DocumentRequest"

UNKNOWN_KIND = _("Choose a birth certificate, a national identity card or a passport.")
UNKNOWN_STATUS = _("Unknown status.")
ARRIVAL_OF_ANOTHER_PERSON = _("This arrival is another person's.")
REASON_REQUIRED = _("Say why, for the audit log.")
STEP_NOT_ALLOWED = _(
    "A request goes from needed to requested, issued and delivered, one step at a time: "
    "it is %(current)s, so the next step is %(next)s."
)
REQUEST_CLOSED = _("This request is closed (%(status)s): record a new need instead.")
NUMBER_ONLY_ON_DELIVERY = _("The document number is recorded when the document is delivered.")

# Free-text fields an advance may set or correct, with their longest length.
TEXT_FIELDS = {"issuing_authority": 200, "delivery_place": 200, "note": 1000}


class StepNotAllowedError(ApplicationError):
    code = "step_not_allowed"
    http_status = 409
    default_message = _("This request cannot go to that step.")


class RequestClosedError(ApplicationError):
    code = "request_closed"
    http_status = 409
    default_message = _("This request is closed.")


def priority_for(person: Person) -> Priority:
    """Children and (possible) trafficking victims come first."""
    return Priority.FIRST if person.is_child or person.is_trafficking_victim else Priority.NORMAL


def _require_change(*, actor: User, person: Person, attempted: str, object_id: object) -> None:
    """Refuse, audited: NotFoundError if the actor may not even see the person."""
    if permissions.can_request_identity_document(actor, person):
        return
    audit_record(
        actor=permissions.active_user(actor),
        action=AuditAction.DENIED,
        object_type=REQUEST_OBJECT_TYPE,
        object_id=object_id,
        details={"attempted": attempted, "person": str(person.pk)},
    )
    if not permissions.can_view_person(actor, person):
        raise NotFoundError()
    raise PermissionDeniedError()


def _full_clean(row: DocumentRequest) -> None:
    try:
        # The one-open-request rule is the database's (a race is caught on save).
        row.full_clean(validate_constraints=False)
    except ValidationError as error:
        raise validation_failed(error) from None


def _texts(values: dict[str, str | None]) -> dict[str, str]:
    """The free-text values given (None: leave as is), stripped and checked for length."""
    given = {name: (value or "").strip() for name, value in values.items() if value is not None}
    too_long = {
        name: _("At most %(count)s characters.") % {"count": TEXT_FIELDS[name]}
        for name, value in given.items()
        if len(value) > TEXT_FIELDS[name]
    }
    if too_long:
        raise fields_error(dict(too_long))
    return given


def _open_request(person: Person, kind: str) -> DocumentRequest | None:
    return (
        DocumentRequest.objects.filter(person=person, kind=kind, status__in=OPEN_STATUSES)
        .order_by()
        .first()
    )


def document_need_record(
    *,
    actor: User,
    person: Person,
    kind: str,
    arrival: Arrival | None = None,
    note: str = "",
    issuing_authority: str = "",
    delivery_place: str = "",
) -> tuple[DocumentRequest, bool]:
    """Note that `person` needs a document of `kind`. One open request per person and kind:
    if one is open already (a double submission, or the need noted at an earlier return),
    it is given back unchanged, with False; a new one with True."""
    _require_change(actor=actor, person=person, attempted="document-need", object_id="")
    if kind not in {str(value) for value in REQUESTABLE_KINDS}:
        raise fields_error({"kind": UNKNOWN_KIND})
    if arrival is not None and arrival.person_id != person.pk:
        raise fields_error({"arrival": ARRIVAL_OF_ANOTHER_PERSON})
    texts = _texts(
        {"note": note, "issuing_authority": issuing_authority, "delivery_place": delivery_place}
    )
    existing = _open_request(person, kind)
    if existing is not None:
        return existing, False

    now = timezone.now()
    row = DocumentRequest(
        person=person,
        arrival=arrival,
        kind=kind,
        status=RequestStatus.NEEDED,
        priority=priority_for(person),
        needed_at=now,
        needed_by=actor,
        created_by=actor,
        modified_by=actor,
        **texts,
    )
    _full_clean(row)
    try:
        with transaction.atomic():
            row.save()
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                object_type=REQUEST_OBJECT_TYPE,
                object_id=row.pk,
                details={
                    "person": str(person.pk),
                    "arrival": str(arrival.pk) if arrival else "",
                    "kind": kind,
                    "priority": int(row.priority),
                    "fields": sorted(name for name, value in texts.items() if value),
                },
            )
    except IntegrityError:
        # Two submissions raced: the one that committed first is the request.
        existing = _open_request(person, kind)
        if existing is None:
            raise
        return existing, False
    return row, True


def _locked(document_request: DocumentRequest) -> DocumentRequest:
    """The row as stored, locked until the transaction ends, so that two officers advancing
    the same request at once take turns."""
    return (
        DocumentRequest.objects.select_for_update()
        .select_related("person")
        .filter(pk=document_request.pk)
        .order_by()
        .get()
    )


def document_request_advance(
    *,
    actor: User,
    document_request: DocumentRequest,
    to_status: str,
    issuing_authority: str | None = None,
    delivery_place: str | None = None,
    note: str | None = None,
    document_number: str = "",
) -> DocumentRequest:
    """Take the request one step on: needed → requested → issued → delivered. Asking for the
    step it is already at changes nothing (a double submission); any other step, back or
    ahead, is refused. The free texts given are set (None leaves them as they are). On
    delivery, `document_number` may be given; it is kept on the request and the document
    is added to the person's record. The priority is
    worked out again from the person's record."""
    person = document_request.person
    _require_change(
        actor=actor, person=person, attempted="document-advance", object_id=document_request.pk
    )
    if to_status not in RequestStatus.values:
        raise fields_error({"status": UNKNOWN_STATUS})
    number = document_number.strip()
    if len(number) > 60:
        raise fields_error({"document_number": _("At most 60 characters.")})
    if number and to_status != RequestStatus.DELIVERED:
        raise fields_error({"document_number": NUMBER_ONLY_ON_DELIVERY})
    texts = _texts(
        {"issuing_authority": issuing_authority, "delivery_place": delivery_place, "note": note}
    )

    with transaction.atomic():
        row = _locked(document_request)
        if row.status == to_status and row.status in (*OPEN_STATUSES, RequestStatus.DELIVERED):
            return row
        if row.status not in OPEN_STATUSES:
            raise RequestClosedError(
                str(REQUEST_CLOSED % {"status": RequestStatus(row.status).label})
            )
        following = NEXT_STATUS[row.status]
        if to_status != following:
            raise StepNotAllowedError(
                str(
                    STEP_NOT_ALLOWED
                    % {
                        "current": RequestStatus(row.status).label,
                        "next": RequestStatus(following).label,
                    }
                )
            )
        now = timezone.now()
        changed = ["status", f"{to_status}_at", f"{to_status}_by"]
        previous = row.status
        row.status = to_status
        setattr(row, f"{to_status}_at", now)
        setattr(row, f"{to_status}_by", actor)
        for name, value in texts.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed.append(name)
        if number:
            row.document_number = number
            changed.append("document_number")
            # The delivered document joins the person's record, where matching and the
            # consulates find it.
            identity_document_add(
                actor=actor,
                person=row.person,
                kind=row.kind,
                number=number,
                issued_on=timezone.localdate(now),
            )
        priority = priority_for(row.person)
        if priority != row.priority:
            row.priority = priority
            changed.append("priority")
        row.modified_by = actor
        _full_clean(row)
        row.save(update_fields=[*changed, "modified_at", "modified_by"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=REQUEST_OBJECT_TYPE,
            object_id=row.pk,
            details={
                "person": str(row.person_id),
                "from": previous,
                "status": to_status,
                "fields": sorted(set(changed)),
            },
        )
    return row


def document_request_cancel(
    *, actor: User, document_request: DocumentRequest, reason: str
) -> DocumentRequest:
    """Cancel an open request (the person left, the document was found, it was a mistake).
    Cancelling a cancelled request changes nothing; a delivered one cannot be cancelled."""
    person = document_request.person
    _require_change(
        actor=actor, person=person, attempted="document-cancel", object_id=document_request.pk
    )
    reason = reason.strip()
    if not reason:
        raise fields_error({"reason": REASON_REQUIRED})
    if len(reason) > 200:
        raise fields_error({"reason": _("At most 200 characters.")})
    with transaction.atomic():
        row = _locked(document_request)
        if row.status == RequestStatus.CANCELLED:
            return row
        if row.status not in OPEN_STATUSES:
            raise RequestClosedError(
                str(REQUEST_CLOSED % {"status": RequestStatus(row.status).label})
            )
        previous = row.status
        row.status = RequestStatus.CANCELLED
        row.cancelled_at = timezone.now()
        row.cancelled_by = actor
        row.cancel_reason = reason
        row.modified_by = actor
        fields: list[str] = ["status", "cancelled_at", "cancelled_by", "cancel_reason"]
        row.save(update_fields=[*fields, "modified_at", "modified_by"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=REQUEST_OBJECT_TYPE,
            object_id=row.pk,
            reason=reason,
            details={"person": str(row.person_id), "from": previous, "status": row.status},
        )
    return row
