"""Reading returns: centres, manifests and expected passengers, arrivals, protection alerts,
repeat-return candidates, capacity and intake figures.

Each function asks `accounts.permissions`. Reads of personal data (passengers, arrivals,
candidates) are audited; figures are aggregates and are not. A centre's days are calendar
days in the centre's own time zone (`ReceptionCentre.day_bounds`); times are stored in UTC.
"""

from __future__ import annotations

import datetime
import statistics
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from mirador.accounts import permissions
from mirador.core.audit import audit_batch, audit_record
from mirador.core.errors import NotFoundError, PermissionDeniedError
from mirador.core.lookups import KeyedLookup
from mirador.core.models import AuditAction, ReceptionCentre
from mirador.people.models import Consent, ConsentPurpose, IdentityDocument, Person
from mirador.people.selectors import (
    DENIED_MISSING,
    DENIED_NO_ACCESS,
    DENIED_OUT_OF_SCOPE,
    PERSON_OBJECT_TYPE,
    identity_fields_visible_to,
    people_visible_to,
)
from mirador.returns.matching import (
    REASON_LABELS,
    Identity,
    blocking_keys,
    match_reasons,
    match_score,
)
from mirador.returns.models import (
    AlertStatus,
    Arrival,
    AssistanceGiven,
    ContingencyPeriod,
    Manifest,
    ManifestPassenger,
    ManifestStatus,
    MatchKey,
    ProtectionAlert,
)
from mirador.returns.services import (
    ALERT_OBJECT_TYPE,
    ARRIVAL_OBJECT_TYPE,
    MANIFEST_OBJECT_TYPE,
    person_identity,
)

if TYPE_CHECKING:
    from mirador.accounts.permissions import AnyUser

MAX_CANDIDATES = 20
# Persons sharing a blocking key with a returnee whose identity fields a search compares.
MAX_COMPARED = 2000
ARRIVALS_PAGE = 100
MAX_ARRIVALS_PAGE = 500
CAPACITY_DAYS = 7
# Intake figures: up to this many referred arrivals are named in the query by key.
MAX_REFERRED_BY_KEY = 500
NO_TRACING_CONSENT = _(
    "No consent to tracing and matching: earlier returns are not searched. Ask for consent, "
    "or register the person as new."
)


def _actor(user: AnyUser | None) -> object:
    return permissions.active_user(user)


# Lookups of one row by key clear the models' default ordering first: "ORDER BY
# arrived_at DESC LIMIT 1" can lead PostgreSQL to walk a time index instead of the key's.


def _key(value: uuid.UUID | str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- centres ------------------------------------------------------------------------------


def centres_worked_by(*, user: AnyUser | None) -> QuerySet[ReceptionCentre]:
    return ReceptionCentre.objects.filter(
        permissions.centres_worked_filter(user), is_active=True
    ).select_related("country")


# A centre by its id, with its country: asked by every registration, so its query is kept.
_centre_by_key = KeyedLookup(
    lambda key: ReceptionCentre.objects.select_related("country").filter(pk=key),
    field="pk",
    examples=(uuid.UUID(int=1), uuid.UUID(int=2)),
)


def centre_for_work(*, user: AnyUser | None, centre_id: uuid.UUID | str) -> ReceptionCentre:
    """A centre `user` works at; NotFoundError for any other, so that a centre abroad
    answers like one that does not exist. Found by its key, then checked against the rule
    that `centres_worked_by` filters on (an active centre of the user's country)."""
    key = _key(centre_id)
    centre = _centre_by_key.get(key) if key else None
    if (
        centre is None
        or not centre.is_active
        or not permissions.can_work_at_centre(user, centre.country_id)
    ):
        raise NotFoundError()
    return centre


def centre_for_figures(*, user: AnyUser | None, centre_id: uuid.UUID | str) -> ReceptionCentre:
    key = _key(centre_id)
    centre = (
        ReceptionCentre.objects.select_related("country").filter(pk=key).order_by().first()
        if key
        else None
    )
    if centre is None or not permissions.can_view_centre_figures(user, centre.country_id):
        raise NotFoundError()
    return centre


# --- manifests ------------------------------------------------------------------------------


def manifests_for_centre(
    *, user: AnyUser | None, centre: ReceptionCentre, day: datetime.date | None = None
) -> QuerySet[Manifest]:
    """The centre's manifests (of one day when given), with passenger and registered counts."""
    if not permissions.can_work_at_centre(user, centre.country_id):
        raise NotFoundError()
    queryset = Manifest.objects.filter(centre=centre).select_related("sending_country", "centre")
    if day is not None:
        start, end = centre.day_bounds(day)
        queryset = queryset.filter(expected_at__gte=start, expected_at__lt=end)
    return queryset.annotate(
        passenger_count=Count("passengers", distinct=True),
        registered_count=Count("passengers__arrival", distinct=True),
    ).order_by("expected_at")


def manifest_get(*, user: AnyUser | None, manifest_id: uuid.UUID | str) -> Manifest:
    """One manifest with its passengers (and their arrival, once registered); audited as a
    listing of the passengers."""
    key = _key(manifest_id)
    manifest = (
        Manifest.objects.select_related("centre", "sending_country")
        .prefetch_related(
            Prefetch(
                "passengers",
                queryset=ManifestPassenger.objects.select_related("nationality", "arrival"),
            )
        )
        .filter(pk=key)
        .order_by()
        .first()
        if key
        else None
    )
    if manifest is None or not permissions.can_work_at_centre(user, manifest.centre.country_id):
        audit_record(
            actor=_actor(user),  # type: ignore[arg-type]
            action=AuditAction.DENIED,
            object_type=MANIFEST_OBJECT_TYPE,
            object_id=key or "",
        )
        raise NotFoundError()
    audit_record(
        actor=_actor(user),  # type: ignore[arg-type]
        action=AuditAction.LIST,
        object_type=MANIFEST_OBJECT_TYPE,
        object_id=manifest.pk,
        details={"passengers": len(manifest.passengers.all())},
    )
    return manifest


def expected_passengers(
    *, user: AnyUser | None, centre: ReceptionCentre, day: datetime.date
) -> list[ManifestPassenger]:
    """Passengers announced for `centre` on `day` and not yet registered, by expected time
    and row: what the officer picks from. Audited as a listing."""
    if not permissions.can_work_at_centre(user, centre.country_id):
        raise NotFoundError()
    start, end = centre.day_bounds(day)
    passengers = list(
        ManifestPassenger.objects.filter(
            manifest__centre=centre,
            manifest__expected_at__gte=start,
            manifest__expected_at__lt=end,
            arrival__isnull=True,
        )
        .exclude(manifest__status=ManifestStatus.CANCELLED)
        # `arrival` is joined (always empty here) so that reading it costs no query per row.
        .select_related("arrival")
        # A day's hundreds of passengers come on a few manifests from a few countries: each
        # manifest and country is read once and shared by its passengers, not built again
        # from every row (that was a good part of the day page's time).
        .prefetch_related(
            Prefetch("manifest", queryset=Manifest.objects.select_related("sending_country")),
            "nationality",
        )
        .order_by("manifest__expected_at", "manifest_id", "row_number")
    )
    audit_record(
        actor=_actor(user),  # type: ignore[arg-type]
        action=AuditAction.LIST,
        object_type="returns.ManifestPassenger",
        details={"centre": str(centre.pk), "day": day.isoformat(), "count": len(passengers)},
    )
    return passengers


def passenger_get(*, user: AnyUser | None, passenger_id: uuid.UUID | str) -> ManifestPassenger:
    key = _key(passenger_id)
    passenger = (
        ManifestPassenger.objects.select_related("manifest", "manifest__centre", "nationality")
        .filter(pk=key)
        .order_by()
        .first()
        if key
        else None
    )
    if passenger is None or not permissions.can_work_at_centre(
        user, passenger.manifest.centre.country_id
    ):
        raise NotFoundError()
    return passenger


# --- arrivals -------------------------------------------------------------------------------


def arrivals_visible_to(*, user: AnyUser | None) -> QuerySet[Arrival]:
    return Arrival.objects.filter(permissions.arrivals_visible_filter(user)).select_related(
        "person", "centre", "returned_from"
    )


def arrival_get(
    *, user: AnyUser | None, arrival_id: uuid.UUID | str, audit: bool = True
) -> Arrival:
    """One arrival with its person, assistance and alerts; NotFoundError (audited) when
    `user` may not read it. A child's arrival needs the protection role, like the child's
    record."""
    key = _key(arrival_id)
    # Found by its key, then checked against the rule: one index lookup, which a join
    # through the scope filter would not guarantee on tables whose statistics are stale.
    arrival = (
        Arrival.objects.select_related("person", "centre", "returned_from")
        .filter(pk=key)
        .order_by()
        .first()
        if key
        else None
    )
    if arrival is not None and not (
        permissions.can_work_at_centre(user, arrival.centre.country_id)
        and permissions.can_view_person(user, arrival.person)
    ):
        arrival = None
    if arrival is None:
        audit_record(
            actor=_actor(user),  # type: ignore[arg-type]
            action=AuditAction.DENIED,
            object_type=ARRIVAL_OBJECT_TYPE,
            object_id=key or "",
        )
        raise NotFoundError()
    prefetch_related_objects(
        [arrival],
        Prefetch("assistance", queryset=AssistanceGiven.objects.order_by("given_at")),
        "alerts",
    )
    if audit:
        audit_record(
            actor=_actor(user),  # type: ignore[arg-type]
            action=AuditAction.READ,
            object_type=ARRIVAL_OBJECT_TYPE,
            object_id=arrival.pk,
            details={"person": str(arrival.person_id)},
        )
    return arrival


def arrival_registered_get(*, user: AnyUser | None, arrival: Arrival) -> Arrival:
    """The arrival `arrival_register` has just given back to `user`, as `arrival_get` reads
    it (the same checks, the assistance given, audited as a read) without reading the row
    again: its person, centre and country are the ones the registration held."""
    if not (
        permissions.can_work_at_centre(user, arrival.centre.country_id)
        and permissions.can_view_person(user, arrival.person)
    ):
        audit_record(
            actor=_actor(user),  # type: ignore[arg-type]
            action=AuditAction.DENIED,
            object_type=ARRIVAL_OBJECT_TYPE,
            object_id=arrival.pk,
        )
        raise NotFoundError()
    # The registration has already said what was given (nothing yet, for a new arrival).
    if "assistance" not in getattr(arrival, "_prefetched_objects_cache", {}):
        prefetch_related_objects(
            [arrival],
            Prefetch("assistance", queryset=AssistanceGiven.objects.order_by("given_at")),
        )
    audit_record(
        actor=_actor(user),  # type: ignore[arg-type]
        action=AuditAction.READ,
        object_type=ARRIVAL_OBJECT_TYPE,
        object_id=arrival.pk,
        details={"person": str(arrival.person_id)},
    )
    return arrival


def arrivals_for_centre_day(
    *,
    user: AnyUser | None,
    centre: ReceptionCentre,
    day: datetime.date,
    limit: int = ARRIVALS_PAGE,
    offset: int = 0,
) -> list[Arrival]:
    """A page of the day's arrivals at the centre that `user` may read, by arrival time,
    with the assistance given (two queries for the arrivals, one for the assistance,
    whatever the page size). The day's totals are `centre_day_summary`'s."""
    if not permissions.can_work_at_centre(user, centre.country_id):
        raise NotFoundError()
    start, end = centre.day_bounds(day)
    limit = max(1, min(limit, MAX_ARRIVALS_PAGE))
    offset = max(0, offset)
    # The day's arrivals are found by the centre-and-time index, then the rule is applied to
    # them by key, in one query (a subquery: a day of thousands of arrivals is not sent back
    # as a list of keys). The planner needs the tables' statistics for this plan, as for
    # every page: docs/operations.md asks operators to keep them current.
    of_the_day = (
        Arrival.objects.filter(centre=centre, arrived_at__gte=start, arrived_at__lt=end)
        .order_by()
        .values("pk")
    )
    arrivals = list(
        arrivals_visible_to(user=user)
        .filter(pk__in=of_the_day)
        .prefetch_related("assistance")
        .order_by("arrived_at", "pk")[offset : offset + limit]
    )
    audit_record(
        actor=_actor(user),  # type: ignore[arg-type]
        action=AuditAction.LIST,
        object_type=ARRIVAL_OBJECT_TYPE,
        details={
            "centre": str(centre.pk),
            "day": day.isoformat(),
            "offset": offset,
            "count": len(arrivals),
        },
    )
    return arrivals


def protection_alerts_for(
    *, user: AnyUser | None, status: str | None = AlertStatus.OPEN
) -> list[ProtectionAlert]:
    """Alerts of the user's country, for protection officers only (PermissionDeniedError
    for everyone else); audited."""
    member = permissions.active_user(user)
    if (
        member is None
        or member.country_id is None
        or not permissions.can_view_protection_alerts(member, member.country_id)
    ):
        raise PermissionDeniedError()
    queryset = ProtectionAlert.objects.filter(country_id=member.country_id).select_related(
        "arrival", "arrival__person", "arrival__centre"
    )
    if status:
        queryset = queryset.filter(status=status)
    alerts = list(queryset.order_by("created_at"))
    audit_record(
        actor=member,
        action=AuditAction.LIST,
        object_type=ALERT_OBJECT_TYPE,
        details={"count": len(alerts), "status": status or ""},
    )
    return alerts


def protection_alert_get(*, user: AnyUser | None, alert_id: uuid.UUID | str) -> ProtectionAlert:
    key = _key(alert_id)
    alert = ProtectionAlert.objects.filter(pk=key).order_by().first() if key else None
    if alert is None or not permissions.can_view_protection_alerts(user, alert.country_id):
        raise NotFoundError()
    return alert


# --- repeat-return candidates -------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    person: Person
    reasons: list[str]  # codes (returns.matching.REASON_*)
    earlier_arrivals: int
    last_arrived_at: datetime.datetime | None

    @property
    def reason_labels(self) -> list[str]:
        """The reasons as the officer reads them, in the active language."""
        return [str(REASON_LABELS.get(code, code)) for code in self.reasons]


@dataclass(frozen=True)
class CandidateSearch:
    searched: bool
    message: str = ""
    candidates: list[Candidate] = field(default_factory=list)


def _tracing_consent_in_force() -> Subquery:
    return Subquery(
        Consent.objects.filter(person=OuterRef("pk"), purpose=ConsentPurpose.TRACING_MATCHING)
        .order_by("-created_at")
        .values("granted")[:1]
    )


def _persons_sharing_keys(keys: set[str]) -> list[uuid.UUID]:
    """The persons who share a blocking key with a returnee, at most MAX_COMPARED: when a
    name is shared by more (a common name in a large registry), those who share a document
    number come first, then those who share the most keys, so that the person who holds the
    returnee's document is never among those left out."""
    sharing = MatchKey.objects.filter(key__in=keys)
    person_ids = list(sharing.values_list("person_id", flat=True).distinct()[: MAX_COMPARED + 1])
    if len(person_ids) <= MAX_COMPARED:
        return person_ids
    ranked = (
        sharing.values("person_id")
        .annotate(documents=Count("key", filter=Q(key__startswith="doc:")), shared=Count("key"))
        .order_by("-documents", "-shared", "person_id")
        .values_list("person_id", flat=True)
    )
    return list(ranked[:MAX_COMPARED])


def repeat_candidates(
    *,
    user: AnyUser | None,
    identity: Identity,
    consent_tracing: bool,
    exclude_person_id: uuid.UUID | None = None,
) -> CandidateSearch:
    """Persons who may be this returnee, with the reasons each matched, best first.

    Searched only with the returnee's consent to tracing and matching, and only among persons
    who gave it too and whom `user` may read. Candidates are found through their blocking
    keys (an index lookup), then compared field by field. Each candidate shown is audited as
    a read of their record."""
    if not permissions.can_read_personal_data(user):
        raise PermissionDeniedError()
    if not consent_tracing:
        return CandidateSearch(searched=False, message=str(NO_TRACING_CONSENT))
    keys = blocking_keys(identity)
    if not keys:
        return CandidateSearch(searched=True)
    # Most returnees come for the first time: one index lookup answers, and the persons'
    # query (the costliest to build and plan) is made only when a key is known.
    sharing = _persons_sharing_keys(keys)
    if not sharing:
        return CandidateSearch(searched=True)
    # Most persons who share a key with the returnee only share a name: what matching
    # compares of them is read first, in one light query, and the records (consent, earlier
    # arrivals) only of the best of those who match.
    compared = identity_fields_visible_to(user=user, person_ids=sharing)
    scored = sorted(
        (-match_score(reasons), str(pk), pk)
        for pk, fields in compared.items()
        if (reasons := match_reasons(identity, fields))
    )
    person_ids = {pk for _score, _text, pk in scored[: MAX_CANDIDATES * 5]}
    if not person_ids:
        return CandidateSearch(searched=True)
    persons = (
        people_visible_to(user=user)
        .filter(pk__in=person_ids)
        .annotate(tracing_consent=_tracing_consent_in_force())
        .filter(tracing_consent=True)
        .annotate(
            earlier_arrivals=Count("arrivals", distinct=True),
            last_arrived_at=Max("arrivals__arrived_at"),
        )
        .prefetch_related(
            Prefetch("documents", queryset=IdentityDocument.objects.only("person_id", "number"))
        )
    )
    if exclude_person_id is not None:
        persons = persons.exclude(pk=exclude_person_id)
    found: list[Candidate] = []
    for person in persons:
        reasons = match_reasons(identity, person_identity(person))
        if reasons:
            found.append(
                Candidate(
                    person=person,
                    reasons=reasons,
                    earlier_arrivals=getattr(person, "earlier_arrivals", 0),
                    last_arrived_at=getattr(person, "last_arrived_at", None),
                )
            )
    found.sort(key=lambda candidate: (-match_score(candidate.reasons), str(candidate.person.pk)))
    found = found[:MAX_CANDIDATES]
    actor = _actor(user)
    # One INSERT for the candidates shown: all are recorded or none.
    with audit_batch():
        for candidate in found:
            audit_record(
                actor=actor,  # type: ignore[arg-type]
                action=AuditAction.READ,
                object_type=PERSON_OBJECT_TYPE,
                object_id=candidate.person.pk,
                details={"fields": ["name", "birth_date"], "via": "repeat-return candidates"},
            )
    return CandidateSearch(searched=True, candidates=found)


def candidates_for_registration(
    *, user: AnyUser | None, person_ids: Sequence[uuid.UUID], reason: str
) -> list[Person]:
    """The persons a registration names (the confirmed candidate, the rejected ones), each
    read as `people.selectors.person_get` reads one (audited as a read with `reason`; one
    that `user` may not read is audited as refused, and NotFoundError raised), in one query
    with the documents that matching needs, instead of the whole record of each."""
    if not person_ids:
        return []
    actor = permissions.active_user(user)
    by_key: dict[uuid.UUID, Person] = {}
    if permissions.can_read_personal_data(user):
        by_key = {
            person.pk: person
            for person in people_visible_to(user=user)
            .filter(pk__in=set(person_ids))
            # Whether the person is reported missing is part of the access rule that the
            # registration asks again of the confirmed person.
            .select_related("missing_person_report")
            .prefetch_related(
                Prefetch(
                    "documents",
                    queryset=IdentityDocument.objects.order_by("kind", "number"),
                )
            )
        }
    persons = []
    for key in person_ids:
        person = by_key.get(key)
        if person is None:
            if not permissions.can_read_personal_data(user):
                outcome = DENIED_NO_ACCESS
            elif Person.objects.filter(pk=key).exists():
                outcome = DENIED_OUT_OF_SCOPE
            else:
                outcome = DENIED_MISSING
            audit_record(
                actor=actor,
                action=AuditAction.DENIED,
                object_type=PERSON_OBJECT_TYPE,
                object_id=key,
                reason=reason,
                details={"outcome": outcome},
            )
            raise NotFoundError()
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type=PERSON_OBJECT_TYPE,
            object_id=person.pk,
            reason=reason,
        )
        persons.append(person)
    return persons


def passenger_identity(passenger: ManifestPassenger) -> Identity:
    return Identity(
        given_names=passenger.given_names,
        first_surname=passenger.first_surname,
        second_surname=passenger.second_surname,
        birth_year=passenger.birth_year,
        birth_month=passenger.birth_month,
        birth_day=passenger.birth_day,
        sex=passenger.sex,
        document_numbers=(passenger.document_number,) if passenger.document_number else (),
    )


def person_repeat_candidates(*, user: AnyUser | None, person: Person) -> CandidateSearch:
    """Other records that may be the same person (a person read through people.selectors),
    searched only if the consent to tracing and matching in force allows it."""
    consent = (
        Consent.objects.filter(person=person, purpose=ConsentPurpose.TRACING_MATCHING)
        .order_by("-created_at")
        .values_list("granted", flat=True)
        .first()
    )
    return repeat_candidates(
        user=user,
        identity=person_identity(person),
        consent_tracing=bool(consent),
        exclude_person_id=person.pk,
    )


# --- figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityDay:
    day: datetime.date
    capacity: int
    expected: int  # announced on manifests, not yet registered
    registered: int
    load: int
    over_capacity: bool


def centre_capacity(
    *,
    user: AnyUser | None,
    centre: ReceptionCentre,
    start: datetime.date | None = None,
    days: int = CAPACITY_DAYS,
) -> list[CapacityDay]:
    """Each day's load (registered arrivals plus passengers announced and not yet
    registered) against the centre's daily capacity, with a warning when it is exceeded.
    Two grouped queries, whatever the number of days or arrivals."""
    if not permissions.can_view_centre_figures(user, centre.country_id):
        raise NotFoundError()
    start = start or centre.today()
    first, _unused = centre.day_bounds(start)
    _unused, last = centre.day_bounds(start + datetime.timedelta(days=days - 1))
    tz = centre.zone
    expected = dict(
        ManifestPassenger.objects.filter(
            manifest__centre=centre,
            manifest__expected_at__gte=first,
            manifest__expected_at__lt=last,
            arrival__isnull=True,
        )
        .exclude(manifest__status=ManifestStatus.CANCELLED)
        .annotate(day=TruncDate("manifest__expected_at", tzinfo=tz))
        .values("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    registered = dict(
        Arrival.objects.filter(centre=centre, arrived_at__gte=first, arrived_at__lt=last)
        .annotate(day=TruncDate("arrived_at", tzinfo=tz))
        .values("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    result = []
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        load = expected.get(day, 0) + registered.get(day, 0)
        result.append(
            CapacityDay(
                day=day,
                capacity=centre.daily_capacity,
                expected=expected.get(day, 0),
                registered=registered.get(day, 0),
                load=load,
                over_capacity=load > centre.daily_capacity,
            )
        )
    return result


@dataclass(frozen=True)
class AssistanceCount:
    kind: str
    times: int
    quantity: int


@dataclass(frozen=True)
class CentreDay:
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
    assistance: list[AssistanceCount]


def centre_day_summary(
    *, user: AnyUser | None, centre: ReceptionCentre, day: datetime.date
) -> CentreDay:
    """The day at a centre in counts (no persons): three grouped queries."""
    if not permissions.can_view_centre_figures(user, centre.country_id):
        raise NotFoundError()
    start, end = centre.day_bounds(day)
    passengers = (
        ManifestPassenger.objects.filter(
            manifest__centre=centre,
            manifest__expected_at__gte=start,
            manifest__expected_at__lt=end,
        )
        .exclude(manifest__status=ManifestStatus.CANCELLED)
        .aggregate(
            manifests=Count("manifest_id", distinct=True),
            announced=Count("pk"),
            still_expected=Count("pk", filter=Q(arrival__isnull=True)),
        )
    )
    arrivals = Arrival.objects.filter(centre=centre, arrived_at__gte=start, arrived_at__lt=end)
    counts = arrivals.aggregate(
        registered=Count("pk"),
        from_manifests=Count("pk", filter=Q(manifest_passenger__isnull=False)),
        unaccompanied=Count("pk", filter=Q(is_unaccompanied=True)),
        to_complete=Count("pk", filter=Q(needs_completion=True)),
    )
    assistance = [
        AssistanceCount(kind=row["kind"], times=row["times"], quantity=row["quantity"] or 0)
        for row in AssistanceGiven.objects.filter(arrival__in=arrivals)
        .values("kind")
        .annotate(times=Count("pk"), quantity=Sum("quantity"))
        .order_by("kind")
    ]
    load = passengers["still_expected"] + counts["registered"]
    return CentreDay(
        centre_id=centre.pk,
        day=day,
        capacity=centre.daily_capacity,
        manifests=passengers["manifests"],
        announced=passengers["announced"],
        still_expected=passengers["still_expected"],
        registered=counts["registered"],
        registered_from_manifests=counts["from_manifests"],
        walk_ins=counts["registered"] - counts["from_manifests"],
        unaccompanied_minors=counts["unaccompanied"],
        to_complete=counts["to_complete"],
        over_capacity=load > centre.daily_capacity,
        assistance=assistance,
    )


@dataclass(frozen=True)
class IntakeDay:
    day: datetime.date
    arrivals: int
    median_minutes_to_registration: float | None
    p90_minutes_to_registration: float | None
    median_minutes_to_first_assistance: float | None
    median_minutes_to_protection_referral: float | None
    median_minutes_to_first_referral: float | None
    contingency: int
    to_complete: int


def _in_minutes(interval: datetime.timedelta) -> float:
    return interval.total_seconds() / 60


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1)


def intake_times(
    *,
    user: AnyUser | None,
    centre: ReceptionCentre,
    start: datetime.date,
    end: datetime.date,
) -> list[IntakeDay]:
    """Per day from `start` to `end` (inclusive): how long from arrival to registration, to
    the first assistance, to a protection referral (an alert raised) and to the first
    referral to a service of the directory (D-R5). Two queries."""
    from mirador.directory.selectors import first_referral_times

    if not permissions.can_view_centre_figures(user, centre.country_id):
        raise NotFoundError()
    first, _unused = centre.day_bounds(start)
    _unused, last = centre.day_bounds(end)
    # The database works out each arrival's day and intervals: a few thousand arrivals a
    # week are then read as dates and durations, not as four time stamps each to convert.
    interval: DurationField[datetime.timedelta, datetime.timedelta] = DurationField()
    arrivals = Arrival.objects.filter(centre=centre, arrived_at__gte=first, arrived_at__lt=last)
    # The arrivals as a subquery, not a list of thousands of ids.
    referred = first_referral_times(arrival_ids=arrivals.values("pk"))
    # An arrival's time is read only where a referral's interval needs it: reading it as a
    # time stamp for each of a week's thousands of arrivals was a third of this figure's work.
    arrived_at_if_referred: Any = F("arrived_at")
    if not referred:
        arrived_at_if_referred = Value(None, output_field=DateTimeField())
    elif len(referred) <= MAX_REFERRED_BY_KEY:
        arrived_at_if_referred = Case(
            When(pk__in=list(referred), then=F("arrived_at")),
            default=Value(None),
            output_field=DateTimeField(),
        )
    rows = arrivals.annotate(
        referred_arrived_at=arrived_at_if_referred,
        day=TruncDate("arrived_at", tzinfo=centre.zone),
        to_registration=ExpressionWrapper(
            F("registered_at") - F("arrived_at"), output_field=interval
        ),
        to_assistance=ExpressionWrapper(
            Min("assistance__given_at") - F("arrived_at"), output_field=interval
        ),
        to_alert=ExpressionWrapper(
            Min("alerts__created_at") - F("arrived_at"), output_field=interval
        ),
    ).values_list(
        "day",
        "to_registration",
        "to_assistance",
        "to_alert",
        "is_contingency",
        "needs_completion",
        "id",
        "referred_arrived_at",
    )
    arrival_rows = list(rows)
    by_day: dict[datetime.date, list[tuple[Any, ...]]] = defaultdict(list)
    for row in arrival_rows:
        to_service = referred.get(row[6])
        by_day[row[0]].append((*row[:7], None if to_service is None else to_service - row[7]))
    result = []
    day = start
    while day <= end:
        day_rows = by_day.get(day, [])
        registration = [_in_minutes(r[1]) for r in day_rows if r[1] is not None]
        assistance = [_in_minutes(r[2]) for r in day_rows if r[2] is not None]
        referral = [_in_minutes(r[3]) for r in day_rows if r[3] is not None]
        service = [_in_minutes(r[7]) for r in day_rows if r[7] is not None]
        result.append(
            IntakeDay(
                day=day,
                arrivals=len(day_rows),
                median_minutes_to_registration=_median(registration),
                p90_minutes_to_registration=_p90(registration),
                median_minutes_to_first_assistance=_median(assistance),
                median_minutes_to_protection_referral=_median(referral),
                median_minutes_to_first_referral=_median(service),
                contingency=sum(1 for r in day_rows if r[4]),
                to_complete=sum(1 for r in day_rows if r[5]),
            )
        )
        day += datetime.timedelta(days=1)
    return result


def centre_contingency(*, centre: ReceptionCentre) -> ContingencyPeriod | None:
    """The contingency period in force at `centre`, if any (no persons: anyone who may see
    the centre may know its mode)."""
    return ContingencyPeriod.objects.filter(centre=centre, ended_at__isnull=True).first()


def arrivals_to_complete(
    *, user: AnyUser | None, centre: ReceptionCentre, limit: int = MAX_ARRIVALS_PAGE
) -> list[Arrival]:
    """Arrivals registered in contingency mode at `centre` and not yet completed, oldest
    first, that `user` may read."""
    if not permissions.can_work_at_centre(user, centre.country_id):
        raise NotFoundError()
    # Found first without the rule, then the rule applied by key (see
    # arrivals_for_centre_day); usually there are none.
    waiting = list(
        Arrival.objects.filter(centre=centre, needs_completion=True)
        .order_by()
        .values_list("pk", flat=True)
    )
    arrivals = (
        list(
            arrivals_visible_to(user=user)
            .filter(pk__in=waiting)
            .order_by("arrived_at", "pk")[: max(1, min(limit, MAX_ARRIVALS_PAGE))]
        )
        if waiting
        else []
    )
    audit_record(
        actor=_actor(user),  # type: ignore[arg-type]
        action=AuditAction.LIST,
        object_type=ARRIVAL_OBJECT_TYPE,
        details={"centre": str(centre.pk), "to_complete": True, "count": len(arrivals)},
    )
    return arrivals
