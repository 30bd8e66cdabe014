"""What the returns API reads and returns. Countries are ISO 3166-1 alpha-2 codes; a date of
birth is ISO 8601 as precise as known (1998, 1998-03, 1998-03-14)."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING

from ninja import Field, Schema

from mirador.people.schemas import ContactIn, DocumentIn
from mirador.returns.models import (
    AssistanceKind,
    ManifestKind,
    Means,
    MigrationReason,
    TimeAbroad,
)

if TYPE_CHECKING:
    from mirador.returns.selectors import Candidate


class CentreOut(Schema):
    id: uuid.UUID
    name: str
    country: str = Field(alias="country_id")
    kind: str
    daily_capacity: int
    time_zone: str = Field(
        description="IANA time zone of the centre: its days (capacity, arrivals, expected "
        "passengers, intake) are calendar days there."
    )


# --- manifests ------------------------------------------------------------------------------


class ManifestPassengerIn(Schema):
    """Values are checked row by row by the service, like a file's cells, so that every
    error names the passenger and field."""

    given_names: str | None = None
    first_surname: str | None = None
    second_surname: str | None = None
    birth_date: str | None = Field(None, description="YYYY-MM-DD, YYYY-MM, YYYY or DD/MM/YYYY.")
    sex: str | None = Field(None, description="F, M, X or U.")
    nationality: str | None = Field(None, description="ISO alpha-2 or alpha-3.")
    document_number: str | None = None


class ManifestCreateIn(Schema):
    centre_id: uuid.UUID
    sending_country: str = Field(min_length=2, max_length=2)
    means: Means
    reference: str = Field(min_length=1, max_length=40, description="Flight or bus.")
    kind: ManifestKind = ManifestKind.SCHEDULED
    expected_at: datetime.datetime = Field(description="With its time zone.")
    passengers: list[ManifestPassengerIn]


class ManifestCancelIn(Schema):
    reason: str = Field(min_length=1, max_length=200, description="Why, for the audit log.")


class ManifestOut(Schema):
    id: uuid.UUID
    centre_id: uuid.UUID
    sending_country: str = Field(alias="sending_country_id")
    means: str
    reference: str
    kind: str
    expected_at: datetime.datetime
    status: str
    source_file_name: str
    set_aside_count: int
    passenger_count: int | None = None
    registered_count: int | None = None

    @staticmethod
    def resolve_set_aside_count(obj: object) -> int:
        return len(getattr(obj, "set_aside_rows", []) or [])


class PassengerOut(Schema):
    id: uuid.UUID
    manifest_id: uuid.UUID
    row_number: int
    given_names: str
    first_surname: str
    second_surname: str
    birth_date: str
    sex: str
    nationality: str | None = Field(alias="nationality_id")
    document_number: str
    arrival_id: uuid.UUID | None = None

    @staticmethod
    def resolve_birth_date(obj: object) -> str:
        year = getattr(obj, "birth_year", None)
        if year is None:
            return ""
        month, day = getattr(obj, "birth_month", None), getattr(obj, "birth_day", None)
        parts = [f"{year:04d}"] + ([f"{month:02d}"] if month else [])
        if month and day:
            parts.append(f"{day:02d}")
        return "-".join(parts)

    @staticmethod
    def resolve_arrival_id(obj: object) -> uuid.UUID | None:
        arrival = getattr(obj, "arrival", None) if hasattr(obj, "arrival") else None
        return getattr(arrival, "pk", None)


class ManifestDetailOut(ManifestOut):
    passengers: list[PassengerOut]

    @staticmethod
    def resolve_passengers(obj: object) -> object:
        return obj.passengers.all()  # type: ignore[attr-defined]


class ManifestImportOut(Schema):
    manifest: ManifestOut
    stored: int
    set_aside: int
    set_aside_url: str | None


# --- arrivals -------------------------------------------------------------------------------


class IdentityIn(Schema):
    given_names: str = Field(min_length=1, max_length=120)
    first_surname: str = Field(min_length=1, max_length=80)
    second_surname: str = Field("", max_length=80)
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    sex: str = Field("U", max_length=1)
    nationality: str | None = Field(None, min_length=2, max_length=2)
    is_child: bool = False
    documents: list[DocumentIn] = []


class ArrivalRegisterIn(Schema):
    centre_id: uuid.UUID
    idempotency_key: str = Field(
        min_length=8,
        max_length=64,
        description="Made by the client once per registration (a UUID); sending the same "
        "key again returns the same arrival and creates nothing.",
    )
    arrived_at: datetime.datetime | None = None
    manifest_passenger_id: uuid.UUID | None = None
    identity: IdentityIn | None = Field(
        None, description="Walk-in, or the manifest row as corrected by the officer."
    )
    confirmed_person_id: uuid.UUID | None = Field(
        None, description="A repeat-return candidate the officer confirmed."
    )
    candidate_reasons: list[str] = []
    rejected_candidate_ids: list[uuid.UUID] = []
    returned_from: str | None = Field(None, min_length=2, max_length=2)
    means: Means | None = None
    home_subdivision: str | None = Field(
        None,
        max_length=6,
        description="ISO 3166-2 code of the department the person is going home to (HN-CR).",
    )
    time_abroad: TimeAbroad = TimeAbroad.UNKNOWN
    migration_reasons: list[MigrationReason] = []
    travelling_with_arrival_id: uuid.UUID | None = Field(
        None, description="The arrival of a companion registered before (a parent first)."
    )
    relationship: str = Field(
        "",
        max_length=10,
        description="What this person is to the companion (people's relationships). A minor "
        "is accompanied only as the `child` or `ward` of an adult companion.",
    )
    consent_follow_up: bool = False
    consent_tracing: bool = False
    contacts: list[ContactIn] = []


class ContingencyIn(Schema):
    centre_id: uuid.UUID
    idempotency_key: str = Field(min_length=8, max_length=64)
    given_names: str = Field(min_length=1, max_length=120)
    first_surname: str = Field(min_length=1, max_length=80)
    sex: str = Field("U", max_length=1)
    birth_year: int | None = None
    is_child: bool = False
    manifest_passenger_id: uuid.UUID | None = None
    arrived_at: datetime.datetime | None = None


class ArrivalCompleteIn(Schema):
    returned_from: str | None = Field(None, min_length=2, max_length=2)
    means: Means | None = None
    home_subdivision: str | None = Field(
        None, max_length=6, description="ISO 3166-2 code of the department going home to."
    )
    time_abroad: TimeAbroad | None = None
    migration_reasons: list[MigrationReason] | None = None
    consent_follow_up: bool | None = None
    consent_tracing: bool | None = None


class AssistanceIn(Schema):
    kind: AssistanceKind
    quantity: int = Field(1, ge=1, le=1000)
    given_at: datetime.datetime | None = None


class AssistanceOut(Schema):
    id: uuid.UUID
    arrival_id: uuid.UUID
    kind: str
    quantity: int
    given_at: datetime.datetime


class PersonBriefOut(Schema):
    id: uuid.UUID
    given_names: str
    first_surname: str
    second_surname: str
    birth_date: str = Field(alias="birth_date_display")
    sex: str


class ArrivalOut(Schema):
    id: uuid.UUID
    centre_id: uuid.UUID
    arrived_at: datetime.datetime
    registered_at: datetime.datetime
    returned_from: str | None = Field(alias="returned_from_id")
    means: str
    home_subdivision: str | None = Field(alias="home_subdivision_id")
    time_abroad: str
    migration_reasons: list[str]
    manifest_passenger_id: uuid.UUID | None
    travel_group: uuid.UUID | None
    group_relationship: str
    is_minor: bool
    is_unaccompanied: bool
    consent_follow_up: bool
    consent_tracing: bool
    is_contingency: bool
    needs_completion: bool
    person: PersonBriefOut
    assistance: list[AssistanceOut]

    @staticmethod
    def resolve_assistance(obj: object) -> object:
        return obj.assistance.all()  # type: ignore[attr-defined]


class ArrivalRegisteredOut(Schema):
    id: uuid.UUID
    restricted: bool = Field(
        description="True when the person is a child (or other restricted record) that your "
        "role may not read: the arrival is registered and protection officers take it over."
    )
    is_unaccompanied: bool
    protection_alerted: bool
    needs_completion: bool
    arrival: ArrivalOut | None


class ReasonOut(Schema):
    code: str
    label: str


class CandidateOut(Schema):
    person: PersonBriefOut
    reasons: list[ReasonOut]
    earlier_arrivals: int
    last_arrived_at: datetime.datetime | None

    @staticmethod
    def resolve_reasons(obj: Candidate) -> list[dict[str, str]]:
        return [
            {"code": code, "label": label}
            for code, label in zip(obj.reasons, obj.reason_labels, strict=True)
        ]


class CandidateSearchOut(Schema):
    searched: bool
    message: str
    candidates: list[CandidateOut]


class CandidatesToDecideDetails(Schema):
    candidates: list[CandidateOut]


class CandidatesToDecideError(Schema):
    code: str = Field(description='"candidates_to_decide"')
    message: str
    details: CandidatesToDecideDetails


class CandidatesToDecideOut(Schema):
    """A registration of a new person refused until the officer decides on the earlier
    returns that may be them: register again confirming one (`confirmed_person_id`) or
    rejecting them all (`rejected_candidate_ids`)."""

    error: CandidatesToDecideError


class CandidateSearchIn(Schema):
    identity: IdentityIn
    consent_tracing: bool = Field(
        False, description="The person consented to tracing and matching at the desk."
    )


class CandidateRejectIn(Schema):
    candidate_person_id: uuid.UUID
    manifest_passenger_id: uuid.UUID | None = None
    arrival_id: uuid.UUID | None = None
    reasons: list[str] = []


# --- figures and alerts -----------------------------------------------------------------------


class CapacityDayOut(Schema):
    day: datetime.date
    capacity: int
    expected: int
    registered: int
    load: int
    over_capacity: bool


class CapacityOut(Schema):
    centre_id: uuid.UUID
    capacity_is_illustrative: bool
    warning: bool = Field(description="True when any day from tomorrow on is over capacity.")
    days: list[CapacityDayOut]


class AssistanceCountOut(Schema):
    kind: str
    times: int
    quantity: int


class CentreDayOut(Schema):
    centre_id: uuid.UUID
    day: datetime.date
    capacity: int
    manifests: int
    announced: int
    still_expected: int
    registered: int
    registered_from_manifests: int
    walk_ins: int
    unaccompanied_minors: int
    to_complete: int
    over_capacity: bool
    assistance: list[AssistanceCountOut]


class IntakeDayOut(Schema):
    day: datetime.date
    arrivals: int
    median_minutes_to_registration: float | None
    p90_minutes_to_registration: float | None
    median_minutes_to_first_assistance: float | None
    median_minutes_to_protection_referral: float | None
    median_minutes_to_first_referral: float | None
    contingency: int
    to_complete: int


class AlertOut(Schema):
    id: uuid.UUID
    arrival_id: uuid.UUID
    centre_id: uuid.UUID
    reason: str
    status: str
    responsible_role: str
    raised_at: datetime.datetime = Field(alias="created_at")
    person: PersonBriefOut

    @staticmethod
    def resolve_centre_id(obj: object) -> uuid.UUID:
        return obj.arrival.centre_id  # type: ignore[attr-defined]

    @staticmethod
    def resolve_person(obj: object) -> object:
        return obj.arrival.person  # type: ignore[attr-defined]


class ContingencySwitchIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


class ContingencyStateOut(Schema):
    centre_id: uuid.UUID
    active: bool
    started_at: datetime.datetime | None = None
    reason: str = ""
    ended_at: datetime.datetime | None = None
