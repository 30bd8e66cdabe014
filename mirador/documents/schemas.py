"""What the identity documents API reads and returns."""

from __future__ import annotations

import datetime
import enum
import uuid

from ninja import Field, Schema

from mirador.documents.models import DocumentRequest, RequestStatus
from mirador.people.models import DocumentKind


class RequestedKind(enum.StrEnum):
    """models.REQUESTABLE_KINDS, as the API documents them."""

    BIRTH_CERTIFICATE = DocumentKind.BIRTH_CERTIFICATE.value
    NATIONAL_ID = DocumentKind.NATIONAL_ID.value
    PASSPORT = DocumentKind.PASSPORT.value


class QueueStatus(enum.StrEnum):
    OPEN = "open"
    NEEDED = RequestStatus.NEEDED.value
    REQUESTED = RequestStatus.REQUESTED.value
    ISSUED = RequestStatus.ISSUED.value
    DELIVERED = RequestStatus.DELIVERED.value
    CANCELLED = RequestStatus.CANCELLED.value


class StepStatus(enum.StrEnum):
    REQUESTED = RequestStatus.REQUESTED.value
    ISSUED = RequestStatus.ISSUED.value
    DELIVERED = RequestStatus.DELIVERED.value


class NeedIn(Schema):
    person_id: uuid.UUID
    kind: RequestedKind = Field(description="birth-certificate, national-id or passport.")
    arrival_id: uuid.UUID | None = Field(None, description="The return at which it was noted.")
    note: str = Field("", max_length=1000)
    issuing_authority: str = Field("", max_length=200)
    delivery_place: str = Field("", max_length=200)


class AdvanceIn(Schema):
    status: StepStatus = Field(
        description="The next step: requested after needed, issued after requested, "
        "delivered after issued. The step it is at already changes nothing."
    )
    issuing_authority: str | None = Field(None, max_length=200)
    delivery_place: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=1000)
    document_number: str = Field(
        "", max_length=60, description="On delivery only: the number of the document."
    )


class CancelIn(Schema):
    reason: str = Field(min_length=1, max_length=200, description="Why, for the audit log.")


class StepOut(Schema):
    at: datetime.datetime | None
    by: str | None


class DocumentRequestOut(Schema):
    id: uuid.UUID
    person_id: uuid.UUID
    person_name: str
    arrival_id: uuid.UUID | None
    centre_id: uuid.UUID | None
    kind: str
    status: str
    priority: bool = Field(description="A child or (possible) trafficking victim: first.")
    days_waited: int = Field(description="From the need to delivery, cancellation or now.")
    needed: StepOut
    requested: StepOut
    issued: StepOut
    delivered: StepOut
    cancelled: StepOut
    cancel_reason: str
    issuing_authority: str
    delivery_place: str
    note: str
    document_number: str

    @staticmethod
    def resolve_person_name(obj: DocumentRequest) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_centre_id(obj: DocumentRequest) -> uuid.UUID | None:
        return obj.arrival.centre_id if obj.arrival_id and obj.arrival else None

    @staticmethod
    def resolve_priority(obj: DocumentRequest) -> bool:
        return obj.is_priority

    @staticmethod
    def resolve_days_waited(obj: DocumentRequest) -> int:
        return obj.days_waited()

    @staticmethod
    def _step(obj: DocumentRequest, name: str) -> dict[str, object]:
        user = getattr(obj, f"{name}_by", None)
        return {"at": getattr(obj, f"{name}_at"), "by": user.get_username() if user else None}

    @staticmethod
    def resolve_needed(obj: DocumentRequest) -> dict[str, object]:
        return DocumentRequestOut._step(obj, "needed")

    @staticmethod
    def resolve_requested(obj: DocumentRequest) -> dict[str, object]:
        return DocumentRequestOut._step(obj, "requested")

    @staticmethod
    def resolve_issued(obj: DocumentRequest) -> dict[str, object]:
        return DocumentRequestOut._step(obj, "issued")

    @staticmethod
    def resolve_delivered(obj: DocumentRequest) -> dict[str, object]:
        return DocumentRequestOut._step(obj, "delivered")

    @staticmethod
    def resolve_cancelled(obj: DocumentRequest) -> dict[str, object]:
        return DocumentRequestOut._step(obj, "cancelled")


class NeedRecordedOut(Schema):
    created: bool = Field(description="False when an open request of that kind was given back.")
    request: DocumentRequestOut


class StatusCountsOut(Schema):
    needed: int
    requested: int
    issued: int
    delivered: int
    cancelled: int


class QueueOut(Schema):
    count: int = Field(description="Requests on all pages.")
    limit: int
    offset: int
    counts: StatusCountsOut = Field(description="Per status, under the kind and centre filters.")
    items: list[DocumentRequestOut]
