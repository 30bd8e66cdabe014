"""Returns endpoints, under /api/v1/returns/: centres, manifests, expected passengers,
arrivals, assistance, repeat-return candidates, protection alerts, capacity and intake.

Every endpoint goes through returns.selectors and returns.services, which ask
accounts.permissions and audit. A centre, manifest or arrival outside the caller's scope
answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from mirador.accounts import permissions
from mirador.accounts.auth import request_user
from mirador.core.audit import audited_atomic
from mirador.core.errors import ValidationFailedError
from mirador.people.selectors import person_get
from mirador.people.services import ContactData, DocumentData, country_from_code
from mirador.returns import selectors, services
from mirador.returns.manifest_files import set_aside_csv
from mirador.returns.matching import Identity
from mirador.returns.models import Arrival, Manifest, ManifestKind, ProtectionAlert
from mirador.returns.schemas import (
    AlertOut,
    ArrivalCompleteIn,
    ArrivalOut,
    ArrivalRegisteredOut,
    ArrivalRegisterIn,
    AssistanceIn,
    AssistanceOut,
    CandidateRejectIn,
    CandidateSearchIn,
    CandidateSearchOut,
    CandidatesToDecideOut,
    CapacityOut,
    CentreDayOut,
    CentreOut,
    ContingencyIn,
    ContingencyStateOut,
    ContingencySwitchIn,
    IntakeDayOut,
    ManifestCancelIn,
    ManifestCreateIn,
    ManifestDetailOut,
    ManifestImportOut,
    ManifestOut,
    PassengerOut,
)
from mirador.returns.services import subdivision_from_code

router = Router(tags=["returns"])

MAX_MANIFEST_BYTES = 5 * 1024 * 1024
MAX_INTAKE_DAYS = 93


def _country(code: str, field: str) -> Any:
    country = country_from_code(code, field=field)
    if country is None:
        raise ValidationFailedError(details={"fields": {field: [_("This value is required.")]}})
    return country


# --- centres --------------------------------------------------------------------------------


@router.get("/centres", response=list[CentreOut], summary="The reception centres you work at")
def centre_list(request: HttpRequest) -> Any:
    return list(selectors.centres_worked_by(user=request_user(request)))


@router.get(
    "/centres/{centre_id}/expected",
    response=list[PassengerOut],
    summary="Passengers expected on a day and not yet registered",
)
def centre_expected(
    request: HttpRequest, centre_id: uuid.UUID, day: datetime.date | None = None
) -> Any:
    """What the officer picks from at the desk: the day's manifests' passengers (default
    today at the centre, a day in its own time zone), by expected time and row. Audited as
    a listing."""
    user = request_user(request)
    centre = selectors.centre_for_work(user=user, centre_id=centre_id)
    return selectors.expected_passengers(user=user, centre=centre, day=day or centre.today())


@router.get(
    "/centres/{centre_id}/arrivals",
    response=list[ArrivalOut],
    summary="A day's arrivals at a centre",
)
def centre_arrivals(
    request: HttpRequest,
    centre_id: uuid.UUID,
    day: datetime.date | None = None,
    limit: int = selectors.ARRIVALS_PAGE,
    offset: int = 0,
) -> Any:
    """A page (`limit` up to 500, `offset`) of the day's arrivals you may read, by arrival
    time (children's need the protection role), with the assistance given to each."""
    user = request_user(request)
    centre = selectors.centre_for_work(user=user, centre_id=centre_id)
    return selectors.arrivals_for_centre_day(
        user=user, centre=centre, day=day or centre.today(), limit=limit, offset=offset
    )


@router.get("/centres/{centre_id}/capacity", response=CapacityOut, summary="Load against capacity")
def centre_capacity(
    request: HttpRequest,
    centre_id: uuid.UUID,
    start: datetime.date | None = None,
    days: int = 7,
) -> dict[str, Any]:
    """Per day: passengers expected (announced, not yet registered) plus registered
    arrivals, against the daily capacity. `warning` is set when a day from tomorrow on is
    over capacity (D-R4): time to plan contingency mode."""
    user = request_user(request)
    centre = selectors.centre_for_figures(user=user, centre_id=centre_id)
    rows = selectors.centre_capacity(
        user=user, centre=centre, start=start, days=max(1, min(days, 31))
    )
    tomorrow = centre.today() + datetime.timedelta(days=1)
    return {
        "centre_id": centre.pk,
        "capacity_is_illustrative": centre.capacity_is_illustrative,
        "warning": any(row.over_capacity and row.day >= tomorrow for row in rows),
        "days": rows,
    }


@router.get(
    "/centres/{centre_id}/day",
    response=CentreDayOut,
    summary="A centre's day at a glance",
)
def centre_day(request: HttpRequest, centre_id: uuid.UUID, day: datetime.date | None = None) -> Any:
    """Counts only, no persons (the manager's dashboard): passengers announced and still
    expected, arrivals registered (from manifests and walk-ins), unaccompanied minors,
    contingency records still to complete, assistance given by kind, against capacity.
    The day is the centre's, in its own time zone (default today there). A fixed number of
    grouped queries, however many arrivals the day has."""
    user = request_user(request)
    centre = selectors.centre_for_figures(user=user, centre_id=centre_id)
    return selectors.centre_day_summary(user=user, centre=centre, day=day or centre.today())


def _contingency_out(centre: Any, period: Any) -> dict[str, Any]:
    return {
        "centre_id": centre.pk,
        "active": period is not None and period.ended_at is None,
        "started_at": period.started_at if period else None,
        "reason": period.reason if period else "",
        "ended_at": period.ended_at if period else None,
    }


@router.get(
    "/centres/{centre_id}/contingency",
    response=ContingencyStateOut,
    summary="Whether a centre is in contingency mode",
)
def centre_contingency(request: HttpRequest, centre_id: uuid.UUID) -> dict[str, Any]:
    user = request_user(request)
    centre = selectors.centre_for_figures(user=user, centre_id=centre_id)
    return _contingency_out(centre, selectors.centre_contingency(centre=centre))


@router.post(
    "/centres/{centre_id}/contingency",
    response=ContingencyStateOut,
    summary="Switch a centre to contingency mode",
)
def centre_contingency_start(
    request: HttpRequest, centre_id: uuid.UUID, payload: ContingencySwitchIn
) -> dict[str, Any]:
    """From now on the centre's registration asks only the essential fields and marks each
    arrival to be completed later (D-R4). Switching on twice is one switch."""
    user = request_user(request)
    centre = selectors.centre_for_work(user=user, centre_id=centre_id)
    period = services.centre_contingency_start(actor=user, centre=centre, reason=payload.reason)
    return _contingency_out(centre, period)


@router.delete(
    "/centres/{centre_id}/contingency",
    response=ContingencyStateOut,
    summary="Switch a centre back to full registration",
)
def centre_contingency_end(request: HttpRequest, centre_id: uuid.UUID) -> dict[str, Any]:
    user = request_user(request)
    centre = selectors.centre_for_work(user=user, centre_id=centre_id)
    period = services.centre_contingency_end(actor=user, centre=centre)
    return _contingency_out(centre, period)


@router.get(
    "/centres/{centre_id}/intake",
    response=list[IntakeDayOut],
    summary="Intake times per day",
)
def centre_intake(
    request: HttpRequest,
    centre_id: uuid.UUID,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Any:
    """Minutes from arrival to registration (median, 90th percentile), to the first
    assistance and to a protection referral, per day (D-R5). Default: the last 7 days."""
    user = request_user(request)
    centre = selectors.centre_for_figures(user=user, centre_id=centre_id)
    end = end or centre.today()
    start = start or end - datetime.timedelta(days=6)
    if start > end or (end - start).days >= MAX_INTAKE_DAYS:
        raise ValidationFailedError(
            details={"fields": {"start": [_("Give at most 93 days, start before end.")]}}
        )
    return selectors.intake_times(user=user, centre=centre, start=start, end=end)


# --- manifests ------------------------------------------------------------------------------


@router.post("/manifests", response={201: ManifestOut}, summary="Enter a manifest")
def manifest_create(request: HttpRequest, payload: ManifestCreateIn) -> Status[Manifest]:
    """All or nothing: any wrong passenger gives 422 with every error, naming the passenger
    (row, from 1), field, value and reason."""
    user = request_user(request)
    centre = selectors.centre_for_work(user=user, centre_id=payload.centre_id)
    manifest = services.manifest_create(
        actor=user,
        centre=centre,
        sending_country=_country(payload.sending_country, "sending_country"),
        means=payload.means,
        reference=payload.reference,
        kind=payload.kind,
        expected_at=payload.expected_at,
        passengers=[passenger.dict() for passenger in payload.passengers],
    )
    return Status(201, manifest)


@router.post(
    "/manifests/import", response={201: ManifestImportOut}, summary="Import a manifest file"
)
def manifest_import(
    request: HttpRequest,
    file: File[UploadedFile],
    centre_id: Form[uuid.UUID],
    sending_country: Form[str],
    means: Form[str],
    reference: Form[str],
    expected_at: Form[datetime.datetime],
    kind: Form[str] = ManifestKind.SCHEDULED,
    mapping: Form[str] = "",
    keep_valid: Form[bool] = False,
) -> Status[dict[str, Any]]:
    """Multipart: a CSV or XLSX `file` and the trip. `mapping` is a JSON object of manifest
    fields to the file's column names, e.g. `{"given_names": "Nombres"}` (fields left out
    are read from a column of their own name: given_names, first_surname, second_surname,
    birth_date, sex, nationality, document_number). Nothing is stored while any row is wrong
    (422 naming file, sheet, row, column, value and reason), unless `keep_valid`: then the
    valid rows are stored and the others set aside, downloadable as CSV."""
    user = request_user(request)
    centre = selectors.centre_for_work(user=user, centre_id=centre_id)
    try:
        column_mapping = json.loads(mapping) if mapping.strip() else {}
    except json.JSONDecodeError:
        column_mapping = None
    if not isinstance(column_mapping, dict) or not all(
        isinstance(value, str) for value in column_mapping.values()
    ):
        raise ValidationFailedError(
            details={"fields": {"mapping": [_("Give a JSON object of field to column name.")]}}
        )
    if (file.size or 0) > MAX_MANIFEST_BYTES:
        raise ValidationFailedError(
            details={"fields": {"file": [_("The file is larger than 5 MB.")]}}
        )
    result = services.manifest_import(
        actor=user,
        centre=centre,
        sending_country=_country(sending_country, "sending_country"),
        means=means,
        reference=reference,
        kind=kind,
        expected_at=expected_at,
        file_name=file.name or "manifest",
        content=file.read(),
        mapping=column_mapping,
        keep_valid=keep_valid,
    )
    set_aside_url = (
        reverse("api:returns_set_aside", kwargs={"manifest_id": result.manifest.pk})
        if result.set_aside
        else None
    )
    return Status(
        201,
        {
            "manifest": result.manifest,
            "stored": result.stored,
            "set_aside": len(result.set_aside),
            "set_aside_url": set_aside_url,
        },
    )


@router.get("/manifests", response=list[ManifestOut], summary="A centre's manifests")
def manifest_list(
    request: HttpRequest, centre_id: uuid.UUID, day: datetime.date | None = None
) -> Any:
    """With passenger and registered counts; all days when `day` is not given."""
    user = request_user(request)
    centre = selectors.centre_for_work(user=user, centre_id=centre_id)
    return list(selectors.manifests_for_centre(user=user, centre=centre, day=day))


@router.get("/manifests/{manifest_id}", response=ManifestDetailOut, summary="One manifest")
def manifest_detail(request: HttpRequest, manifest_id: uuid.UUID) -> Manifest:
    return selectors.manifest_get(user=request_user(request), manifest_id=manifest_id)


@router.post("/manifests/{manifest_id}/cancel", response=ManifestOut, summary="Cancel a manifest")
def manifest_cancel(request: HttpRequest, manifest_id: uuid.UUID, payload: ManifestCancelIn) -> Any:
    """The trip was called off before anyone of it was registered (409 after)."""
    user = request_user(request)
    manifest = selectors.manifest_get(user=user, manifest_id=manifest_id)
    return services.manifest_cancel(actor=user, manifest=manifest, reason=payload.reason)


@router.get(
    "/manifests/{manifest_id}/set-aside.csv",
    url_name="returns_set_aside",
    summary="Rows set aside at import (CSV)",
)
def manifest_set_aside(request: HttpRequest, manifest_id: uuid.UUID) -> HttpResponse:
    manifest = selectors.manifest_get(user=request_user(request), manifest_id=manifest_id)
    response = HttpResponse(set_aside_csv(manifest.set_aside_rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="set-aside-{manifest.pk}.csv"'
    return response


# --- arrivals -------------------------------------------------------------------------------


def _registered(user: Any, arrival: Arrival) -> dict[str, Any]:
    # The officer works at the arrival's centre (checked before registering), so the
    # arrival is readable exactly when its person is; an alert is raised exactly for an
    # unaccompanied minor.
    readable = permissions.can_view_person(user, arrival.person)
    return {
        "id": arrival.pk,
        "restricted": not readable,
        "is_unaccompanied": arrival.is_unaccompanied,
        "protection_alerted": arrival.is_unaccompanied,
        "needs_completion": arrival.needs_completion,
        "arrival": (
            selectors.arrival_registered_get(user=user, arrival=arrival) if readable else None
        ),
    }


@router.post(
    "/arrivals",
    response={201: ArrivalRegisteredOut, 409: CandidatesToDecideOut},
    summary="Register an arrival",
)
def arrival_register(request: HttpRequest, payload: ArrivalRegisterIn) -> Status[dict[str, Any]]:
    """From a manifest passenger (pre-filled), a walk-in (`identity`), or a confirmed
    repeat-return candidate (`confirmed_person_id`). Sending the same `idempotency_key`
    again returns the same arrival. A minor without an adult companion is flagged
    unaccompanied and a protection alert raised at once.

    With consent to tracing (`consent_tracing`), a new person's earlier returns are searched
    here: if any may be them and is not among `rejected_candidate_ids`, nothing is
    registered and the answer is 409 with those candidates and the reasons each matched, for
    the officer to confirm one or reject them all in a second request. Searching first
    (`/candidates/search`) is not needed; the candidates it showed are rejected by naming
    them."""
    user = request_user(request)
    # One transaction for the whole request, its audit entries (the candidates read, the
    # registration, the arrival read back) in one INSERT and one commit; a refusal is still
    # recorded if the request fails (core.audit.audited_atomic).
    with audited_atomic():
        centre = selectors.centre_for_work(user=user, centre_id=payload.centre_id)
        passenger = (
            selectors.passenger_get(user=user, passenger_id=payload.manifest_passenger_id)
            if payload.manifest_passenger_id
            else None
        )
        # The confirmed candidate first, then the rejected ones, each audited as person_get
        # would; in one query.
        named = selectors.candidates_for_registration(
            user=user,
            person_ids=[
                *([payload.confirmed_person_id] if payload.confirmed_person_id else []),
                *payload.rejected_candidate_ids,
            ],
            reason="repeat return",
        )
        confirmed = named[0] if payload.confirmed_person_id else None
        rejected = named[1:] if payload.confirmed_person_id else named
        companion = (
            selectors.arrival_get(user=user, arrival_id=payload.travelling_with_arrival_id)
            if payload.travelling_with_arrival_id
            else None
        )
        identity = None
        if payload.identity is not None:
            data = payload.identity
            identity = services.IdentityData(
                given_names=data.given_names,
                first_surname=data.first_surname,
                second_surname=data.second_surname,
                birth_year=data.birth_year,
                birth_month=data.birth_month,
                birth_day=data.birth_day,
                sex=data.sex,
                nationality=data.nationality,
                is_child=data.is_child,
                documents=[DocumentData(**document.dict()) for document in data.documents],
            )
        try:
            arrival = services.arrival_register(
                actor=user,
                centre=centre,
                idempotency_key=payload.idempotency_key,
                arrived_at=payload.arrived_at,
                manifest_passenger=passenger,
                identity=identity,
                confirmed_person=confirmed,
                candidate_reasons=payload.candidate_reasons,
                rejected_candidates=rejected,
                returned_from=country_from_code(payload.returned_from, field="returned_from"),
                means=payload.means,
                home_subdivision=subdivision_from_code(payload.home_subdivision),
                time_abroad=payload.time_abroad,
                migration_reasons=list(payload.migration_reasons),
                travelling_with=companion,
                relationship=payload.relationship,
                consent_follow_up=payload.consent_follow_up,
                consent_tracing=payload.consent_tracing,
                contacts=[ContactData(**contact.dict()) for contact in payload.contacts],
            )
        except services.CandidatesToDecideError as error:
            # Answered, not raised: the block then ends normally and keeps the audit
            # entries of the candidates shown.
            return Status(
                409,
                {
                    "error": {
                        "code": error.code,
                        "message": error.message,
                        "details": {"candidates": error.candidates},
                    }
                },
            )
        registered = _registered(user, arrival)
    return Status(201, registered)


@router.post(
    "/arrivals/contingency",
    response={201: ArrivalRegisteredOut},
    summary="Register an arrival in contingency mode",
)
def arrival_register_contingency(
    request: HttpRequest, payload: ContingencyIn
) -> Status[dict[str, Any]]:
    """Essential fields only; the arrival is marked to be completed later (D-R4)."""
    user = request_user(request)
    centre = selectors.centre_for_work(user=user, centre_id=payload.centre_id)
    passenger = (
        selectors.passenger_get(user=user, passenger_id=payload.manifest_passenger_id)
        if payload.manifest_passenger_id
        else None
    )
    arrival = services.arrival_register_contingency(
        actor=user,
        centre=centre,
        idempotency_key=payload.idempotency_key,
        given_names=payload.given_names,
        first_surname=payload.first_surname,
        sex=payload.sex,
        birth_year=payload.birth_year,
        is_child=payload.is_child,
        manifest_passenger=passenger,
        arrived_at=payload.arrived_at,
    )
    return Status(201, _registered(user, arrival))


@router.get("/arrivals/{arrival_id}", response=ArrivalOut, summary="One arrival")
def arrival_detail(request: HttpRequest, arrival_id: uuid.UUID) -> Arrival:
    return selectors.arrival_get(user=request_user(request), arrival_id=arrival_id)


@router.post("/arrivals/{arrival_id}/complete", response=ArrivalOut, summary="Complete an arrival")
def arrival_complete(
    request: HttpRequest, arrival_id: uuid.UUID, payload: ArrivalCompleteIn
) -> Arrival:
    """Fill in what contingency mode left out."""
    user = request_user(request)
    arrival = selectors.arrival_get(user=user, arrival_id=arrival_id, audit=False)
    services.arrival_complete(
        actor=user,
        arrival=arrival,
        returned_from=(
            country_from_code(payload.returned_from, field="returned_from")
            if payload.returned_from
            else None
        ),
        means=payload.means,
        home_subdivision=services.subdivision_from_code(payload.home_subdivision),
        time_abroad=payload.time_abroad,
        migration_reasons=payload.migration_reasons,
        consent_follow_up=payload.consent_follow_up,
        consent_tracing=payload.consent_tracing,
    )
    return selectors.arrival_get(user=user, arrival_id=arrival_id)


@router.post(
    "/arrivals/{arrival_id}/assistance",
    response={201: AssistanceOut},
    summary="Record assistance given",
)
def assistance_record(
    request: HttpRequest, arrival_id: uuid.UUID, payload: AssistanceIn
) -> Status[Any]:
    user = request_user(request)
    arrival = selectors.arrival_get(user=user, arrival_id=arrival_id, audit=False)
    row = services.assistance_record(
        actor=user,
        arrival=arrival,
        kind=payload.kind,
        quantity=payload.quantity,
        given_at=payload.given_at,
    )
    return Status(201, row)


# --- candidates -------------------------------------------------------------------------------


@router.get(
    "/passengers/{passenger_id}/candidates",
    response=CandidateSearchOut,
    summary="Earlier returns a manifest passenger may match",
)
def passenger_candidates(
    request: HttpRequest, passenger_id: uuid.UUID, consent_tracing: bool = False
) -> selectors.CandidateSearch:
    """Searched only when the passenger consented to tracing and matching
    (`consent_tracing=true`, asked at the desk), among persons who consented too. Each
    candidate comes with the reasons it matched; the officer confirms one by registering
    the arrival with `confirmed_person_id`, or rejects it."""
    user = request_user(request)
    passenger = selectors.passenger_get(user=user, passenger_id=passenger_id)
    return selectors.repeat_candidates(
        user=user,
        identity=selectors.passenger_identity(passenger),
        consent_tracing=consent_tracing,
    )


@router.post(
    "/candidates/search",
    response=CandidateSearchOut,
    summary="Earlier returns a walk-in may match",
)
def identity_candidates(request: HttpRequest, payload: CandidateSearchIn) -> Any:
    """For someone not on any manifest: the identity they give at the desk, searched only
    with their consent to tracing and matching. A POST, so that names stay out of URLs and
    logs."""
    user = request_user(request)
    data = payload.identity
    return selectors.repeat_candidates(
        user=user,
        identity=Identity(
            given_names=data.given_names,
            first_surname=data.first_surname,
            second_surname=data.second_surname,
            birth_year=data.birth_year,
            birth_month=data.birth_month,
            birth_day=data.birth_day,
            sex=data.sex,
            document_numbers=tuple(document.number for document in data.documents),
        ),
        consent_tracing=payload.consent_tracing,
    )


@router.get(
    "/people/{person_id}/candidates",
    response=CandidateSearchOut,
    summary="Other records a person may match",
)
def person_candidates(request: HttpRequest, person_id: uuid.UUID) -> selectors.CandidateSearch:
    """Searched only if the person's consent to tracing and matching is in force."""
    user = request_user(request)
    person = person_get(user=user, person_id=person_id, reason="repeat-return candidates")
    return selectors.person_repeat_candidates(user=user, person=person)


@router.post("/candidates/reject", response={204: None}, summary="Reject a repeat-return candidate")
def candidate_reject(request: HttpRequest, payload: CandidateRejectIn) -> Status[None]:
    user = request_user(request)
    candidate = person_get(
        user=user, person_id=payload.candidate_person_id, reason="repeat-return candidates"
    )
    passenger = (
        selectors.passenger_get(user=user, passenger_id=payload.manifest_passenger_id)
        if payload.manifest_passenger_id
        else None
    )
    arrival = (
        selectors.arrival_get(user=user, arrival_id=payload.arrival_id, audit=False)
        if payload.arrival_id
        else None
    )
    services.candidate_reject(
        actor=user,
        candidate=candidate,
        manifest_passenger=passenger,
        arrival=arrival,
        reasons=payload.reasons,
    )
    return Status(204, None)


# --- protection alerts ------------------------------------------------------------------------


@router.get("/alerts", response=list[AlertOut], summary="Open protection alerts")
def alert_list(request: HttpRequest, status: str = "open") -> list[ProtectionAlert]:
    """Protection officers of the country only; everyone else gets 403."""
    return selectors.protection_alerts_for(user=request_user(request), status=status or None)


@router.post("/alerts/{alert_id}/take", response=AlertOut, summary="Take an alert in charge")
def alert_take(request: HttpRequest, alert_id: uuid.UUID) -> ProtectionAlert:
    user = request_user(request)
    alert = selectors.protection_alert_get(user=user, alert_id=alert_id)
    services.protection_alert_take(actor=user, alert=alert)
    return selectors.protection_alert_get(user=user, alert_id=alert_id)
