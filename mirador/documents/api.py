"""Identity documents endpoints, under /api/v1/documents/: record a need, the queue of open
requests, one request, a person's or an arrival's, advance and cancel.

Every endpoint goes through documents.selectors and documents.services (persons and arrivals
through people.selectors and returns.selectors), which ask accounts.permissions and audit. A
request, person or arrival outside the caller's scope answers 404, like one that does not
exist; a caseworker who may read a request but not change it gets 403.
"""

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Field as SchemaField
from ninja import Query, Router, Schema, Status

from mirador.accounts.auth import request_user
from mirador.documents import selectors, services
from mirador.documents.models import DocumentRequest
from mirador.documents.schemas import (
    AdvanceIn,
    CancelIn,
    DocumentRequestOut,
    NeedIn,
    NeedRecordedOut,
    QueueOut,
    QueueStatus,
    RequestedKind,
)
from mirador.people.selectors import person_get, person_get_for_change
from mirador.returns.selectors import arrival_get

router = Router(tags=["documents"])


class QueueFilterIn(Schema):
    status: QueueStatus = SchemaField(
        QueueStatus.OPEN, description="open (needed, requested and issued) or one status."
    )
    kind: RequestedKind | None = None
    centre_id: uuid.UUID | None = SchemaField(
        None, description="Only needs noted at this reception centre's arrivals."
    )
    limit: int = SchemaField(selectors.QUEUE_PAGE, ge=1, le=selectors.MAX_QUEUE_PAGE)
    offset: int = SchemaField(0, ge=0)


@router.post(
    "/needs",
    response={200: NeedRecordedOut, 201: NeedRecordedOut},
    summary="Record that a person needs a document",
)
def need_record(request: HttpRequest, payload: NeedIn) -> Status[dict[str, Any]]:
    """One open request per person and kind: if one is open already, it is returned with
    200 and `created` false; a new one with 201."""
    user = request_user(request)
    person = person_get_for_change(user=user, person_id=payload.person_id, reason="document need")
    arrival = (
        arrival_get(user=user, arrival_id=payload.arrival_id, audit=False)
        if payload.arrival_id
        else None
    )
    row, created = services.document_need_record(
        actor=user,
        person=person,
        kind=payload.kind.value,
        arrival=arrival,
        note=payload.note,
        issuing_authority=payload.issuing_authority,
        delivery_place=payload.delivery_place,
    )
    shown = selectors.document_request_get(user=user, request_id=row.pk)
    return Status(201 if created else 200, {"created": created, "request": shown})


@router.get("/requests", response=QueueOut, summary="The queue of document requests")
def queue(request: HttpRequest, filters: Query[QueueFilterIn]) -> dict[str, Any]:
    """Requests of persons of your country that you may read: open ones by default;
    children and trafficking victims first, then the longest waiting. `counts` gives the
    number per status under the kind and centre filters. Roles that read no personal data
    get 403."""
    result = selectors.document_queue(
        user=request_user(request),
        status=filters.status.value,
        kind=filters.kind.value if filters.kind else None,
        centre_id=filters.centre_id,
        limit=filters.limit,
        offset=filters.offset,
    )
    return {
        "count": result.total,
        "limit": result.limit,
        "offset": result.offset,
        "counts": result.counts,
        "items": result.rows,
    }


@router.get("/requests/{request_id}", response=DocumentRequestOut, summary="One request")
def request_detail(request: HttpRequest, request_id: uuid.UUID) -> DocumentRequest:
    return selectors.document_request_get(user=request_user(request), request_id=request_id)


@router.post(
    "/requests/{request_id}/advance",
    response=DocumentRequestOut,
    summary="Take a request to its next step",
)
def request_advance(request: HttpRequest, request_id: uuid.UUID, payload: AdvanceIn) -> Any:
    """needed → requested → issued → delivered, one step at a time (409 for any other);
    sending the step it is at already changes nothing. On delivery, `document_number` may
    be given."""
    user = request_user(request)
    row = selectors.document_request_get(user=user, request_id=request_id, audit=False)
    services.document_request_advance(
        actor=user,
        document_request=row,
        to_status=payload.status.value,
        issuing_authority=payload.issuing_authority,
        delivery_place=payload.delivery_place,
        note=payload.note,
        document_number=payload.document_number,
    )
    return selectors.document_request_get(user=user, request_id=request_id)


@router.post(
    "/requests/{request_id}/cancel", response=DocumentRequestOut, summary="Cancel a request"
)
def request_cancel(request: HttpRequest, request_id: uuid.UUID, payload: CancelIn) -> Any:
    """An open request only (409 once delivered); cancelling again changes nothing."""
    user = request_user(request)
    row = selectors.document_request_get(user=user, request_id=request_id, audit=False)
    services.document_request_cancel(actor=user, document_request=row, reason=payload.reason)
    return selectors.document_request_get(user=user, request_id=request_id)


@router.get(
    "/people/{person_id}/requests",
    response=list[DocumentRequestOut],
    summary="A person's document requests",
)
def person_requests(request: HttpRequest, person_id: uuid.UUID) -> Any:
    """Open ones first, then the latest."""
    user = request_user(request)
    person = person_get(user=user, person_id=person_id, reason="document requests")
    return selectors.document_requests_for_person(user=user, person=person)


@router.get(
    "/arrivals/{arrival_id}/requests",
    response=list[DocumentRequestOut],
    summary="The document requests of an arrival's person",
)
def arrival_requests(request: HttpRequest, arrival_id: uuid.UUID) -> Any:
    """The person's open requests, and those noted at this arrival."""
    user = request_user(request)
    arrival = arrival_get(user=user, arrival_id=arrival_id, audit=False)
    return selectors.document_requests_for_arrival(user=user, arrival=arrival)
