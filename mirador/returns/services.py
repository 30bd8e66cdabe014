"""Writing returns: manifests (entered or imported), arrival registration (from a manifest,
walk-in, or in contingency mode), completion, assistance, candidate decisions.

Each service asks `accounts.permissions`, is atomic, and records what it did in the audit log
(identifiers and field names, never names or document numbers). Persons are created and
changed only through `people.services`.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.accounts.models import Role
from mirador.core.audit import audit_batch, audit_record
from mirador.core.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
    fields_error,
)
from mirador.core.inserts import rows_insert
from mirador.core.lookups import (
    KeyedLookup,
    country_by_code,
    subdivision_by_code,
)
from mirador.core.models import (
    AuditAction,
    Country,
    ReceptionCentre,
    Subdivision,
    time_zone_named,
)
from mirador.flows.services import ImportReport, batch_import
from mirador.people.models import ConsentPurpose, DocumentKind, Person, Relationship
from mirador.people.services import (
    ADULT_AGE,
    ContactData,
    DocumentData,
    consent_record,
    consents_record,
    family_link_add,
    person_register,
    youngest_possible_age,
)
from mirador.returns.manifest_files import (
    FIELDS,
    PassengerRow,
    RawTable,
    RowError,
    _text,
    check_rows,
    read_table,
    rows_from_records,
)
from mirador.returns.matching import Identity, blocking_keys
from mirador.returns.models import (
    AlertReason,
    AlertStatus,
    Arrival,
    AssistanceGiven,
    AssistanceKind,
    CandidateDecision,
    ContingencyPeriod,
    Manifest,
    ManifestKind,
    ManifestPassenger,
    ManifestStatus,
    MatchKey,
    Means,
    MigrationReason,
    ProtectionAlert,
    TimeAbroad,
)

if TYPE_CHECKING:
    from mirador.accounts.models import User
    from mirador.returns.selectors import Candidate

MANIFEST_OBJECT_TYPE = "returns.Manifest"
ARRIVAL_OBJECT_TYPE = "returns.Arrival"
ALERT_OBJECT_TYPE = "returns.ProtectionAlert"

MANIFEST_INVALID = _("The manifest has %(count)s errors; nothing was stored.")
MANIFEST_EMPTY = _("The manifest lists no passengers.")
MANIFEST_EXISTS = _("A manifest for this trip at this centre already exists.")
NOT_AT_YOUR_CENTRE = _("You do not work at this reception centre.")
PASSENGER_ALREADY_REGISTERED = _("This passenger is already registered.")
PASSENGER_OF_OTHER_CENTRE = _("This passenger is expected at another centre.")
IDENTITY_REQUIRED = _("Give the person's identity, a manifest passenger or a confirmed person.")
UNKNOWN_REASON = _("Unknown reason for migrating: %(value)s.")
COMPANION_OTHER_CENTRE = _("The companion arrived at another centre.")
ALREADY_COMPLETE = _("This arrival is already complete.")
ARRIVAL_IN_FUTURE = _("The arrival time is in the future.")
CANDIDATES_TO_DECIDE = _("Earlier returns may be this person: confirm one or choose none.")


# What a child is to the companion who has them in care: their parent's child, their
# guardian's ward.
CARED_FOR_RELATIONSHIPS = frozenset({Relationship.CHILD, Relationship.WARD})
CONTACTS_OF_KNOWN_PERSON = _(
    "This person is already registered: change their contact details on their record."
)


class ManifestInvalidError(ValidationFailedError):
    code = "manifest_invalid"


class ManifestExistsError(ApplicationError):
    code = "manifest_exists"
    http_status = 409
    default_message = MANIFEST_EXISTS


class PassengerAlreadyRegisteredError(ApplicationError):
    code = "passenger_already_registered"
    http_status = 409
    default_message = PASSENGER_ALREADY_REGISTERED


class CandidatesToDecideError(ApplicationError):
    """Earlier returns may be the person about to be registered as new, and the officer has
    not decided on them: confirming one (the arrival joins that history) or rejecting them
    all is the officer's decision, which registration never skips. `candidates` are the
    search's (returns.selectors.Candidate), to be shown; their reads are audited in an
    `audit_batch`, so a caller inside `audited_atomic` answers with them rather than letting
    the error end its block, which would drop those entries."""

    code = "candidates_to_decide"
    http_status = 409
    default_message = CANDIDATES_TO_DECIDE

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        super().__init__()
        self.candidates = list(candidates)


class ArrivalCompleteError(ApplicationError):
    code = "arrival_complete"
    http_status = 409
    default_message = ALREADY_COMPLETE


@dataclass(frozen=True)
class IdentityData:
    """Who arrived, as confirmed by the officer (a walk-in, or corrections to a manifest)."""

    given_names: str
    first_surname: str
    second_surname: str = ""
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    sex: str = "U"
    nationality: str | None = None  # ISO alpha-2
    is_child: bool = False
    documents: Sequence[DocumentData] = ()


@dataclass(frozen=True)
class ManifestImportResult:
    manifest: Manifest
    stored: int
    set_aside: list[dict[str, object]] = field(default_factory=list)


# --- checks -------------------------------------------------------------------------------


def _require_centre(*, actor: User, centre: ReceptionCentre, attempted: str) -> None:
    if permissions.can_work_at_centre(actor, centre.country_id):
        return
    audit_record(
        actor=permissions.active_user(actor),
        action=AuditAction.DENIED,
        object_type="core.ReceptionCentre",
        object_id=centre.pk,
        details={"attempted": attempted},
    )
    raise PermissionDeniedError(str(NOT_AT_YOUR_CENTRE))


def _country_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for alpha2, alpha3 in Country.objects.values_list("alpha2", "alpha3"):
        codes[alpha2.upper()] = alpha2
        codes[alpha3.upper()] = alpha2
    return codes


def _check_reasons(reasons: Sequence[str]) -> list[str]:
    allowed = set(MigrationReason.values)
    unknown = [reason for reason in reasons if reason not in allowed]
    if unknown:
        raise fields_error({"migration_reasons": UNKNOWN_REASON % {"value": unknown[0]}})
    return sorted(set(reasons))


# --- manifests ------------------------------------------------------------------------------


def _manifest_store(
    *,
    actor: User,
    centre: ReceptionCentre,
    sending_country: Country,
    means: str,
    reference: str,
    kind: str,
    expected_at: datetime.datetime,
    passengers: Sequence[PassengerRow],
    source_file_name: str,
    set_aside: list[dict[str, object]],
) -> Manifest:
    if Manifest.objects.filter(
        centre=centre, reference=reference.strip(), expected_at=expected_at
    ).exists():
        raise ManifestExistsError()
    manifest = Manifest(
        sending_country=sending_country,
        centre=centre,
        means=Means(means),
        reference=reference.strip(),
        kind=ManifestKind(kind),
        expected_at=expected_at,
        source_file_name=source_file_name[:200],
        set_aside_rows=set_aside,
        created_by=actor,
        modified_by=actor,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                manifest.save()
        except IntegrityError:
            raise ManifestExistsError() from None
        ManifestPassenger.objects.bulk_create(
            ManifestPassenger(
                manifest=manifest,
                row_number=row.row_number,
                given_names=row.given_names,
                first_surname=row.first_surname,
                second_surname=row.second_surname,
                birth_year=row.birth_year,
                birth_month=row.birth_month,
                birth_day=row.birth_day,
                sex=row.sex,
                nationality_id=row.nationality,
                document_number=row.document_number,
                created_by=actor,
                modified_by=actor,
            )
            for row in passengers
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type=MANIFEST_OBJECT_TYPE,
            object_id=manifest.pk,
            details={"passengers": len(passengers), "set_aside": len(set_aside)},
        )
    return manifest


def _invalid(errors: list[RowError]) -> ManifestInvalidError:
    return ManifestInvalidError(
        str(MANIFEST_INVALID % {"count": len(errors)}),
        details={"errors": [error.as_dict() for error in errors]},
    )


def _check_manifest_header(*, expected_at: datetime.datetime, means: str, kind: str) -> None:
    problems: dict[str, str] = {}
    if timezone.is_naive(expected_at):
        problems["expected_at"] = str(_("Give the time zone of the expected arrival."))
    if means not in Means.values:
        problems["means"] = str(_("Unknown means of transport."))
    if kind not in ManifestKind.values:
        problems["kind"] = str(_("Unknown kind of trip."))
    if problems:
        raise fields_error(problems)


def manifest_create(
    *,
    actor: User,
    centre: ReceptionCentre,
    sending_country: Country,
    means: str,
    reference: str,
    expected_at: datetime.datetime,
    passengers: Sequence[Mapping[str, object]],
    kind: str = ManifestKind.SCHEDULED,
) -> Manifest:
    """A manifest entered through the API: `passengers` are dicts of manifest fields
    (birth_date as YYYY[-MM[-DD]]). All or nothing; errors name the passenger's position."""
    _require_centre(actor=actor, centre=centre, attempted="manifest-create")
    _check_manifest_header(expected_at=expected_at, means=means, kind=kind)
    table = rows_from_records(passengers)
    rows, errors = check_rows(table, countries=_country_codes())
    if errors:
        raise _invalid(errors)
    if not rows:
        raise ValidationFailedError(str(MANIFEST_EMPTY))
    return _manifest_store(
        actor=actor,
        centre=centre,
        sending_country=sending_country,
        means=means,
        reference=reference,
        kind=kind,
        expected_at=expected_at,
        passengers=rows,
        source_file_name="",
        set_aside=[],
    )


def _set_aside_rows(table: RawTable, errors: list[RowError]) -> list[dict[str, object]]:
    by_row: dict[int, list[str]] = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(f"{error.column}: {error.reason}")
    return [
        {
            "row": raw.row_number,
            "values": {name: _text(raw.values.get(name)) for name in FIELDS},
            "errors": "; ".join(by_row[raw.row_number]),
        }
        for raw in table.rows
        if raw.row_number in by_row
    ]


def manifest_import(
    *,
    actor: User,
    centre: ReceptionCentre,
    sending_country: Country,
    means: str,
    reference: str,
    expected_at: datetime.datetime,
    file_name: str,
    content: bytes,
    mapping: Mapping[str, str] | None = None,
    kind: str = ManifestKind.SCHEDULED,
    keep_valid: bool = False,
) -> ManifestImportResult:
    """A manifest from a CSV or XLSX file. Nothing is stored while any row is wrong, unless
    `keep_valid`: then the valid rows are stored and the others set aside on the manifest
    (downloadable). A missing column or an unreadable file is never set aside."""
    _require_centre(actor=actor, centre=centre, attempted="manifest-import")
    _check_manifest_header(expected_at=expected_at, means=means, kind=kind)
    try:
        table = read_table(file_name=file_name, content=content, mapping=mapping)
    except Exception:  # noqa: BLE001 (any unreadable workbook is the same answer to the user)
        error = RowError(file_name, "", 1, "", "", "", str(_("Not a readable CSV or XLSX file.")))
        raise _invalid([error]) from None
    if table.errors:
        raise _invalid(table.errors)
    rows, errors = check_rows(table, countries=_country_codes())
    if errors and not keep_valid:
        raise _invalid(errors)
    if not rows:
        raise _invalid(errors) if errors else ValidationFailedError(str(MANIFEST_EMPTY))
    set_aside = _set_aside_rows(table, errors)
    manifest = _manifest_store(
        actor=actor,
        centre=centre,
        sending_country=sending_country,
        means=means,
        reference=reference,
        kind=kind,
        expected_at=expected_at,
        passengers=rows,
        source_file_name=file_name,
        set_aside=set_aside,
    )
    return ManifestImportResult(manifest=manifest, stored=len(rows), set_aside=set_aside)


MANIFEST_NOT_CANCELLABLE = _("Only a manifest still expected can be cancelled.")


class ManifestNotCancellableError(ApplicationError):
    code = "manifest_not_cancellable"
    http_status = 409
    default_message = MANIFEST_NOT_CANCELLABLE


def manifest_cancel(*, actor: User, manifest: Manifest, reason: str) -> Manifest:
    """The sending authority called the trip off: its passengers are no longer expected and
    leave the capacity figures. Only before anyone of it was registered."""
    _require_centre(actor=actor, centre=manifest.centre, attempted="manifest-cancel")
    if not reason.strip():
        raise fields_error({"reason": _("Say why, for the audit log.")})
    if manifest.status != ManifestStatus.EXPECTED:
        raise ManifestNotCancellableError()
    manifest.status = ManifestStatus.CANCELLED
    manifest.modified_by = actor
    with transaction.atomic():
        manifest.save(update_fields=["status", "modified_at", "modified_by"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=MANIFEST_OBJECT_TYPE,
            object_id=manifest.pk,
            reason=reason,
            details={"status": manifest.status},
        )
    return manifest


# --- arrivals -------------------------------------------------------------------------------


def _identity_from_passenger(passenger: ManifestPassenger) -> IdentityData:
    documents: tuple[DocumentData, ...] = ()
    if passenger.document_number and passenger.nationality_id:
        # Sending authorities list the travel document: a passport, or the consular or
        # emergency travel document when there is none.
        documents = (
            DocumentData(
                kind=DocumentKind.PASSPORT,
                number=passenger.document_number,
                issuing_country=passenger.nationality_id,
            ),
        )
    return IdentityData(
        given_names=passenger.given_names,
        first_surname=passenger.first_surname,
        second_surname=passenger.second_surname,
        birth_year=passenger.birth_year,
        birth_month=passenger.birth_month,
        birth_day=passenger.birth_day,
        sex=passenger.sex,
        nationality=passenger.nationality_id,
        documents=documents,
    )


def _identity_for_matching(identity: IdentityData) -> Identity:
    return Identity(
        given_names=identity.given_names,
        first_surname=identity.first_surname,
        second_surname=identity.second_surname,
        birth_year=identity.birth_year,
        birth_month=identity.birth_month,
        birth_day=identity.birth_day,
        sex=identity.sex,
        document_numbers=tuple(document.number for document in identity.documents),
    )


def person_identity(person: Person) -> Identity:
    """A person read through people.selectors, for matching (documents prefetched there)."""
    return Identity(
        given_names=person.given_names,
        first_surname=person.first_surname,
        second_surname=person.second_surname,
        birth_year=person.birth_year,
        birth_month=person.birth_month,
        birth_day=person.birth_day,
        sex=person.sex,
        document_numbers=tuple(document.number for document in person.documents.all()),
    )


def _match_keys_store(*, person: Person, identity: Identity) -> None:
    rows_insert(
        [MatchKey(person=person, key=key) for key in sorted(blocking_keys(identity))],
        ignore_conflicts=True,
    )


# Asked by every registration, so its query is kept (core.lookups).
_arrival_by_idempotency_key = KeyedLookup(
    lambda key: Arrival.objects.filter(idempotency_key=key),
    field="idempotency_key",
    examples=("example-key-1", "example-key-2"),
)


def _existing_replay(*, actor: User, idempotency_key: str) -> Arrival | None:
    existing = _arrival_by_idempotency_key.get(idempotency_key)
    if existing is None:
        return None
    if existing.created_by_id != actor.pk:
        # A key is the client's; another user's key must not reveal that arrival.
        raise ValidationFailedError(
            details={"fields": {"idempotency_key": [str(_("This key is already used."))]}}
        )
    return existing


def _require_candidates_decided(
    *, actor: User, identity: IdentityData, rejected: Sequence[Person]
) -> None:
    """A new person who consented to tracing is registered only once every earlier return
    that may be them has been decided on (here: rejected), whatever the client asked before:
    a registration that skipped the search, or whose search is out of date, would otherwise
    split one person's history in two."""
    # Imported here: the selectors build on this module's identity helpers.
    from mirador.returns.selectors import repeat_candidates

    if not permissions.can_read_personal_data(actor):
        return  # who may not read persons is shown no candidates to decide on
    search = repeat_candidates(
        user=actor, identity=_identity_for_matching(identity), consent_tracing=True
    )
    decided = {person.pk for person in rejected}
    if any(candidate.person.pk not in decided for candidate in search.candidates):
        raise CandidatesToDecideError(search.candidates)


def _is_minor(identity: IdentityData | None, person: Person, on: datetime.date) -> bool:
    age = youngest_possible_age(
        year=person.birth_year, month=person.birth_month, day=person.birth_day, on=on
    )
    if age is None:
        return person.is_child or bool(identity and identity.is_child)
    return age < ADULT_AGE


def _nationality(code: str | None, centre: ReceptionCentre) -> Country | None:
    """Most returnees are nationals of the centre's country, loaded with the centre."""
    if not code:
        return None
    if code == centre.country_id and ReceptionCentre.country.is_cached(centre):
        return centre.country
    return country_by_code(code)


def subdivision_from_code(code: str | None) -> Subdivision | None:
    """The subdivision of an ISO 3166-2 code ("HN-CR"); ValidationFailedError if unknown."""
    if not code:
        return None
    subdivision = subdivision_by_code(code.strip().upper())
    if subdivision is None:
        raise fields_error({"home_subdivision": _("Not an ISO 3166-2 subdivision code.")})
    return subdivision


def arrival_register(
    *,
    actor: User,
    centre: ReceptionCentre,
    idempotency_key: str,
    arrived_at: datetime.datetime | None = None,
    manifest_passenger: ManifestPassenger | None = None,
    identity: IdentityData | None = None,
    confirmed_person: Person | None = None,
    candidate_reasons: Sequence[str] = (),
    rejected_candidates: Sequence[Person] = (),
    returned_from: Country | None = None,
    means: str | None = None,
    home_subdivision: Subdivision | None = None,
    time_abroad: str = TimeAbroad.UNKNOWN,
    migration_reasons: Sequence[str] = (),
    travelling_with: Arrival | None = None,
    relationship: str = "",
    consent_follow_up: bool = False,
    consent_tracing: bool = False,
    contacts: Sequence[ContactData] = (),
    contingency: bool = False,
) -> Arrival:
    """Register the arrival of one person at `centre`.

    Who: `confirmed_person` (a repeat returnee the officer recognised among the candidates;
    the arrival joins their history), else `identity` (walk-in, or the manifest row as
    corrected), else the `manifest_passenger` as announced. A new person is registered
    through people.services with the documents and contacts given.

    Idempotent: the same `idempotency_key` (a double click, a retried request, two
    concurrent requests) gives back the same arrival and creates nothing more.

    A minor not travelling with a parent or guardian (`travelling_with`, whose arrival is
    registered first, with `relationship` "child" or "ward") is flagged unaccompanied and a
    protection alert is raised at once."""
    _require_centre(actor=actor, centre=centre, attempted="arrival-register")
    replay = _existing_replay(actor=actor, idempotency_key=idempotency_key)
    if replay is not None:
        return replay

    now = timezone.now()
    arrived_at = arrived_at or now
    if arrived_at > now + datetime.timedelta(minutes=5):
        raise fields_error({"arrived_at": ARRIVAL_IN_FUTURE})
    reasons = _check_reasons(migration_reasons)
    if manifest_passenger is not None:
        if manifest_passenger.manifest.centre_id != centre.pk:
            raise fields_error({"manifest_passenger": PASSENGER_OF_OTHER_CENTRE})
        if Arrival.objects.filter(manifest_passenger=manifest_passenger).exists():
            raise PassengerAlreadyRegisteredError()
    if confirmed_person is not None and contacts:
        # people.services has no way yet to add contacts to an existing record; refusing is
        # better than dropping what the officer typed.
        raise fields_error({"contacts": CONTACTS_OF_KNOWN_PERSON})
    if confirmed_person is None and identity is None and manifest_passenger is None:
        raise ValidationFailedError(str(IDENTITY_REQUIRED))
    if travelling_with is not None and travelling_with.centre_id != centre.pk:
        raise fields_error({"travelling_with": COMPANION_OTHER_CENTRE})
    if relationship and relationship not in Relationship.values:
        raise fields_error({"relationship": _("Unknown relationship.")})
    if time_abroad not in TimeAbroad.values:
        raise fields_error({"time_abroad": _("Unknown time abroad.")})
    if home_subdivision is not None and home_subdivision.country_id != centre.country_id:
        raise fields_error(
            {"home_subdivision": _("The department must be in the centre's country.")}
        )
    if manifest_passenger is not None:
        means = means or manifest_passenger.manifest.means
        returned_from = returned_from or manifest_passenger.manifest.sending_country
    means = means or (Means.AIR if centre.kind == "airport" else Means.LAND)
    if means not in Means.values:
        raise fields_error({"means": _("Unknown means of transport.")})
    if identity is None and manifest_passenger is not None:
        identity = _identity_from_passenger(manifest_passenger)
    if consent_tracing and confirmed_person is None and identity is not None and not contingency:
        _require_candidates_decided(actor=actor, identity=identity, rejected=rejected_candidates)

    try:
        # The registration's audit entries (person, consents, arrival, alert) are written in
        # one INSERT, in its transaction.
        with transaction.atomic(), audit_batch():
            arrival = _arrival_create(
                actor=actor,
                centre=centre,
                idempotency_key=idempotency_key,
                arrived_at=arrived_at,
                now=now,
                manifest_passenger=manifest_passenger,
                identity=identity,
                confirmed_person=confirmed_person,
                candidate_reasons=candidate_reasons,
                rejected_candidates=rejected_candidates,
                returned_from=returned_from,
                means=means,
                home_subdivision=home_subdivision,
                time_abroad=time_abroad,
                reasons=reasons,
                travelling_with=travelling_with,
                relationship=relationship,
                consent_follow_up=consent_follow_up,
                consent_tracing=consent_tracing,
                contacts=contacts,
                contingency=contingency,
            )
    except IntegrityError:
        # Two requests with one key raced: the one that committed first is the arrival.
        replay = _existing_replay(actor=actor, idempotency_key=idempotency_key)
        if replay is not None:
            return replay
        if manifest_passenger is not None:
            raise PassengerAlreadyRegisteredError() from None
        raise
    return arrival


def _arrival_create(
    *,
    actor: User,
    centre: ReceptionCentre,
    idempotency_key: str,
    arrived_at: datetime.datetime,
    now: datetime.datetime,
    manifest_passenger: ManifestPassenger | None,
    identity: IdentityData | None,
    confirmed_person: Person | None,
    candidate_reasons: Sequence[str],
    rejected_candidates: Sequence[Person],
    returned_from: Country | None,
    means: str,
    home_subdivision: Subdivision | None,
    time_abroad: str,
    reasons: list[str],
    travelling_with: Arrival | None,
    relationship: str,
    consent_follow_up: bool,
    consent_tracing: bool,
    contacts: Sequence[ContactData],
    contingency: bool,
) -> Arrival:
    # A concurrent request with the same key blocks on the key's unique index when it saves
    # its arrival, then fails; its whole transaction, person included, is rolled back.
    arrival = Arrival(
        centre=centre,
        arrived_at=arrived_at,
        registered_at=now,
        returned_from=returned_from,
        means=means,
        home_subdivision=home_subdivision,
        time_abroad=time_abroad,
        migration_reasons=reasons,
        manifest_passenger=manifest_passenger,
        consent_follow_up=consent_follow_up,
        consent_tracing=consent_tracing,
        is_contingency=contingency,
        needs_completion=contingency,
        idempotency_key=idempotency_key,
        created_by=actor,
        modified_by=actor,
    )
    if confirmed_person is not None:
        person = confirmed_person
        if not permissions.can_view_person(actor, person):
            raise NotFoundError()
    elif identity is None:
        raise ValidationFailedError(str(IDENTITY_REQUIRED))
    else:
        person = person_register(
            actor=actor,
            country=centre.country,
            given_names=identity.given_names,
            first_surname=identity.first_surname,
            second_surname=identity.second_surname,
            birth_year=identity.birth_year,
            birth_month=identity.birth_month,
            birth_day=identity.birth_day,
            sex=identity.sex,
            nationality=_nationality(identity.nationality, centre),
            is_child=identity.is_child,
            documents=identity.documents,
            contacts=contacts,
            reason=str(_("Arrival registration")),
            # Inside this registration's own transaction block (arrival_register), which
            # is rolled back whole if anything fails.
            savepoint=False,
        )
    arrival.person = person
    arrival.is_minor = _is_minor(identity, person, arrived_at.date())
    # A child is in their parent's or guardian's care only: one who travels with another
    # adult (a sibling, a neighbour) is separated, and goes to protection like one who
    # travels alone.
    in_care = (
        travelling_with is not None
        and not travelling_with.is_minor
        and relationship in CARED_FOR_RELATIONSHIPS
    )
    arrival.is_unaccompanied = arrival.is_minor and not in_care
    if travelling_with is not None:
        group = travelling_with.travel_group or uuid.uuid4()
        if travelling_with.travel_group is None:
            travelling_with.travel_group = group
            travelling_with.save(update_fields=["travel_group", "modified_at"])
        arrival.travel_group = group
        arrival.group_relationship = relationship
    arrival.save(force_insert=True)
    if manifest_passenger is not None:
        Manifest.objects.filter(
            pk=manifest_passenger.manifest_id, status=ManifestStatus.EXPECTED
        ).update(status=ManifestStatus.ARRIVED, modified_at=now)

    # Consents and family links go through people.services, which check that the actor may
    # record them; a reception officer may not change a child's record, so for a child
    # they are kept on the arrival and left to the protection officer.
    if permissions.can_record_consent(actor, person):
        consents_record(
            actor=actor,
            person=person,
            consents=[
                (ConsentPurpose.FOLLOW_UP_CONTACT, consent_follow_up),
                (ConsentPurpose.TRACING_MATCHING, consent_tracing),
            ],
            savepoint=False,
        )
    if (
        travelling_with is not None
        and relationship
        and permissions.can_change_person(actor, person)
        and permissions.can_view_person(actor, travelling_with.person)
        and travelling_with.person_id != person.pk
    ):
        from mirador.people.models import FamilyLink

        already = FamilyLink.objects.filter(
            person_id__in=[person.pk, travelling_with.person_id],
            relative_id__in=[person.pk, travelling_with.person_id],
        ).exists()
        if not already:
            family_link_add(
                actor=actor,
                person=person,
                relative=travelling_with.person,
                relationship=relationship,
            )
    if consent_tracing:
        # A repeat returnee's keys come from their record (read through people.selectors,
        # documents loaded); a new person's from what was just registered.
        matching_identity = (
            person_identity(person)
            if confirmed_person is not None or identity is None
            else _identity_for_matching(identity)
        )
        _match_keys_store(person=person, identity=matching_identity)
    decisions = []
    if confirmed_person is not None:
        decisions.append(
            CandidateDecision(
                candidate=person,
                arrival=arrival,
                manifest_passenger=manifest_passenger,
                decision=CandidateDecision.CONFIRMED,
                reasons=list(candidate_reasons),
                created_by=actor,
                modified_by=actor,
            )
        )
    decisions += [
        CandidateDecision(
            candidate=rejected,
            arrival=arrival,
            manifest_passenger=manifest_passenger,
            decision=CandidateDecision.REJECTED,
            created_by=actor,
            modified_by=actor,
        )
        for rejected in rejected_candidates
    ]
    # The confirmation and the rejections in one INSERT.
    rows_insert(decisions)
    if arrival.is_unaccompanied:
        alert = ProtectionAlert.objects.create(
            arrival=arrival,
            country_id=centre.country_id,
            reason=AlertReason.UNACCOMPANIED_MINOR,
            responsible_role=Role.PROTECTION_OFFICER,
            created_by=actor,
            modified_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type=ALERT_OBJECT_TYPE,
            object_id=alert.pk,
            details={"arrival": str(arrival.pk), "reason": alert.reason},
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=ARRIVAL_OBJECT_TYPE,
        object_id=arrival.pk,
        details={
            "person": str(person.pk),
            "repeat": confirmed_person is not None,
            "manifest_passenger": str(manifest_passenger.pk) if manifest_passenger else "",
            "contingency": contingency,
            "unaccompanied": arrival.is_unaccompanied,
        },
    )
    # Nobody can have given this arrival anything yet: reading it back (the API's answer)
    # needs no query for its assistance.
    arrival._prefetched_objects_cache = {"assistance": AssistanceGiven.objects.none()}  # type: ignore[attr-defined]
    return arrival


def arrival_register_contingency(
    *,
    actor: User,
    centre: ReceptionCentre,
    idempotency_key: str,
    given_names: str,
    first_surname: str,
    sex: str = "U",
    birth_year: int | None = None,
    is_child: bool = False,
    manifest_passenger: ManifestPassenger | None = None,
    arrived_at: datetime.datetime | None = None,
) -> Arrival:
    """Contingency mode (D-R4): when arrivals exceed what the centre can handle, only the
    essential fields are taken and the arrival is marked to be completed later. An
    unaccompanied child is still flagged and routed to protection at once."""
    identity = IdentityData(
        given_names=given_names,
        first_surname=first_surname,
        birth_year=birth_year,
        sex=sex,
        is_child=is_child,
        nationality=centre.country_id,
    )
    return arrival_register(
        actor=actor,
        centre=centre,
        idempotency_key=idempotency_key,
        arrived_at=arrived_at,
        manifest_passenger=manifest_passenger,
        identity=identity,
        contingency=True,
    )


def arrival_complete(
    *,
    actor: User,
    arrival: Arrival,
    returned_from: Country | None = None,
    means: str | None = None,
    home_subdivision: Subdivision | None = None,
    time_abroad: str | None = None,
    migration_reasons: Sequence[str] | None = None,
    consent_follow_up: bool | None = None,
    consent_tracing: bool | None = None,
) -> Arrival:
    """Fill in what contingency mode left out; the arrival is then complete."""
    _require_centre(actor=actor, centre=arrival.centre, attempted="arrival-complete")
    if not permissions.can_view_person(actor, arrival.person):
        raise NotFoundError()
    if not arrival.needs_completion:
        raise ArrivalCompleteError()
    changed = ["needs_completion", "completed_at", "modified_at", "modified_by"]
    if returned_from is not None:
        arrival.returned_from = returned_from
        changed.append("returned_from")
    if means is not None:
        if means not in Means.values:
            raise fields_error({"means": _("Unknown means of transport.")})
        arrival.means = means
        changed.append("means")
    if home_subdivision is not None:
        if home_subdivision.country_id != arrival.centre.country_id:
            raise fields_error(
                {"home_subdivision": _("The department must be in the centre's country.")}
            )
        arrival.home_subdivision = home_subdivision
        changed.append("home_subdivision")
    if time_abroad is not None:
        if time_abroad not in TimeAbroad.values:
            raise fields_error({"time_abroad": _("Unknown time abroad.")})
        arrival.time_abroad = time_abroad
        changed.append("time_abroad")
    if migration_reasons is not None:
        arrival.migration_reasons = _check_reasons(migration_reasons)
        changed.append("migration_reasons")
    with transaction.atomic():
        for purpose, granted, name in (
            (ConsentPurpose.FOLLOW_UP_CONTACT, consent_follow_up, "consent_follow_up"),
            (ConsentPurpose.TRACING_MATCHING, consent_tracing, "consent_tracing"),
        ):
            if granted is None:
                continue
            setattr(arrival, name, granted)
            changed.append(name)
            if permissions.can_record_consent(actor, arrival.person):
                consent_record(actor=actor, person=arrival.person, purpose=purpose, granted=granted)
        if consent_tracing:
            person = arrival.person
            _match_keys_store(
                person=person,
                identity=Identity(
                    given_names=person.given_names,
                    first_surname=person.first_surname,
                    second_surname=person.second_surname,
                    birth_year=person.birth_year,
                    birth_month=person.birth_month,
                    birth_day=person.birth_day,
                    sex=person.sex,
                    document_numbers=tuple(person.documents.values_list("number", flat=True)),
                ),
            )
        arrival.needs_completion = False
        arrival.completed_at = timezone.now()
        arrival.modified_by = actor
        arrival.save(update_fields=changed)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=ARRIVAL_OBJECT_TYPE,
            object_id=arrival.pk,
            details={"fields": sorted(set(changed) - {"modified_at", "modified_by"})},
        )
    return arrival


def assistance_record(
    *,
    actor: User,
    arrival: Arrival,
    kind: str,
    quantity: int = 1,
    given_at: datetime.datetime | None = None,
) -> AssistanceGiven:
    """Record assistance given on the spot, so that the centre knows what it gave to whom."""
    _require_centre(actor=actor, centre=arrival.centre, attempted="assistance")
    if not permissions.can_view_person(actor, arrival.person):
        raise NotFoundError()
    if kind not in AssistanceKind.values:
        raise fields_error({"kind": _("Unknown kind of assistance.")})
    if quantity < 1:
        raise fields_error({"quantity": _("The quantity must be at least 1.")})
    row = AssistanceGiven(
        arrival=arrival,
        kind=kind,
        quantity=quantity,
        given_at=given_at or timezone.now(),
        given_by=actor,
        created_by=actor,
        modified_by=actor,
    )
    with transaction.atomic():
        row.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=ARRIVAL_OBJECT_TYPE,
            object_id=arrival.pk,
            details={"assistance": kind, "quantity": quantity},
        )
    return row


def candidate_reject(
    *,
    actor: User,
    candidate: Person,
    manifest_passenger: ManifestPassenger | None = None,
    arrival: Arrival | None = None,
    reasons: Sequence[str] = (),
) -> CandidateDecision:
    """The officer says a candidate is not the person in front of them; kept for audit."""
    if not permissions.can_view_person(actor, candidate):
        raise NotFoundError()
    with transaction.atomic():
        decision = CandidateDecision.objects.create(
            candidate=candidate,
            arrival=arrival,
            manifest_passenger=manifest_passenger,
            decision=CandidateDecision.REJECTED,
            reasons=list(reasons),
            created_by=actor,
            modified_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="people.Person",
            object_id=candidate.pk,
            details={"candidate": CandidateDecision.REJECTED},
        )
    return decision


def protection_alert_take(*, actor: User, alert: ProtectionAlert) -> ProtectionAlert:
    """A protection officer takes the alert in charge."""
    if not permissions.can_view_protection_alerts(actor, alert.country_id):
        raise NotFoundError()
    if alert.status != AlertStatus.OPEN:
        return alert
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.taken_by = actor
    alert.taken_at = timezone.now()
    alert.modified_by = actor
    with transaction.atomic():
        alert.save(update_fields=["status", "taken_by", "taken_at", "modified_at", "modified_by"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=ALERT_OBJECT_TYPE,
            object_id=alert.pk,
            details={"status": alert.status},
        )
    return alert


# --- The observatory's "returns received" figures ------------------------------------------

ROLLUP_FORMAT = "mirador-returns"
ROLLUP_COLUMNS = (
    "month",
    "reporting_country",
    "from_country",
    "sex",
    "age_group",
    "unaccompanied",
    "means",
    "subdivision",
    "count",
)
# people.Sex -> the observatory's sex codes; "other" is not a category of the published
# returns statistics, so it counts as not stated.
_ROLLUP_SEX = {"F": "F", "M": "M"}


def returns_received_rollup(*, actor: User | None, country: Country) -> ImportReport:
    """Count the arrivals registered at `country`'s centres by month and profile (country
    returned from, sex, minor, unaccompanied, means, department going home to) and import
    the counts into the observatory's "returns-received" dataset, as a corrected revision of
    source "mirador-returns": the months it covers replace that source's earlier figures,
    which stay in the history. Nothing changes if nothing was registered since the last
    roll-up (the same counts make the same file). The counts go through a CSV file kept in
    DATA_DIR/rollups/, so that the batch has a file, a hash and rows like any import."""
    # Each arrival counts in the month it was at its centre: one at 20:00 on 31 January in
    # Tegucigalpa (02:00 on 1 February in UTC) is January's. A country's centres may lie in
    # several time zones (Mexico, the United States, Canada): one query per zone.
    zones = sorted(
        set(ReceptionCentre.objects.filter(country=country).values_list("time_zone", flat=True))
    )
    rows = [
        row
        for zone in zones
        for row in Arrival.objects.filter(centre__country=country, centre__time_zone=zone)
        .annotate(month=TruncMonth("arrived_at", tzinfo=time_zone_named(zone)))
        .values(
            "month",
            "returned_from_id",
            "person__sex",
            "is_minor",
            "is_unaccompanied",
            "means",
            "home_subdivision_id",
        )
        .annotate(count=Count("id"))
    ]
    counts: dict[tuple[str, ...], int] = {}
    for row in rows:
        key = (
            f"{row['month']:%Y-%m}",
            country.pk,
            row["returned_from_id"] or "_U",
            _ROLLUP_SEX.get(row["person__sex"], "_U"),
            "Y_LT18" if row["is_minor"] else "Y_GE18",
            "Y" if row["is_unaccompanied"] else "N",
            row["means"] or "_U",
            row["home_subdivision_id"] or "_U",
        )
        # People of sex "X" and "U" fall together: add them up.
        counts[key] = counts.get(key, 0) + row["count"]
    return rollup_import(
        actor=actor,
        name=f"returns-received-{country.pk}",
        columns=ROLLUP_COLUMNS,
        rows=[(*key, str(count)) for key, count in sorted(counts.items())],
        format_code=ROLLUP_FORMAT,
    )


def rollup_import(
    *,
    actor: User | None,
    name: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    format_code: str,
) -> ImportReport:
    """Import a roll-up's counts (returns received, persons returned) as a corrected revision
    of its source, through a CSV kept in DATA_DIR/rollups/ and named after its content: the
    batch has a file, a hash and rows like any import, and the same counts make the same file,
    which is not imported twice."""
    lines = [",".join(columns), *(",".join(row) for row in rows)]
    content = ("\n".join(lines) + "\n").encode("utf-8")
    digest = hashlib.sha256(content).hexdigest()
    directory = Path(settings.DATA_DIR) / "rollups"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{digest[:12]}.csv"
    if not path.exists():
        path.write_bytes(content)
    return batch_import(actor=actor, format_code=format_code, path=path, replace=True)


# --- contingency mode of a centre (D-R4) --------------------------------------------------

CONTINGENCY_OBJECT_TYPE = "returns.ContingencyPeriod"
CONTINGENCY_REASON_REQUIRED = _("Say why the centre switches to contingency mode.")
CONTINGENCY_NOT_ON = _("The centre is not in contingency mode.")


class ContingencyNotOnError(ApplicationError):
    code = "contingency_not_on"
    http_status = 409
    default_message = CONTINGENCY_NOT_ON


@transaction.atomic
def centre_contingency_start(
    *, actor: User, centre: ReceptionCentre, reason: str
) -> ContingencyPeriod:
    """Switch `centre` to contingency mode: from now on its registration asks only the
    essential fields and marks each arrival to be completed later. Switching on a centre
    already in contingency mode gives back the period in force."""
    _require_centre(actor=actor, centre=centre, attempted="contingency-start")
    reason = reason.strip()
    if not reason:
        raise fields_error({"reason": CONTINGENCY_REASON_REQUIRED})
    in_force = ContingencyPeriod.objects.filter(centre=centre, ended_at__isnull=True).first()
    if in_force is not None:
        return in_force
    period = ContingencyPeriod(
        centre=centre,
        started_at=timezone.now(),
        reason=reason[:200],
        created_by=actor,
        modified_by=actor,
    )
    period.full_clean(exclude=["centre", "created_by", "modified_by", "ended_by"])
    try:
        # A savepoint, so that a concurrent switch losing the race leaves the caller's
        # transaction usable.
        with transaction.atomic():
            period.save()
    except IntegrityError:
        return ContingencyPeriod.objects.get(centre=centre, ended_at__isnull=True)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=CONTINGENCY_OBJECT_TYPE,
        object_id=period.pk,
        details={"centre": str(centre.pk)},
    )
    return period


@transaction.atomic
def centre_contingency_end(*, actor: User, centre: ReceptionCentre) -> ContingencyPeriod:
    """Switch `centre` back to full registration. The arrivals registered meanwhile stay
    marked to be completed."""
    _require_centre(actor=actor, centre=centre, attempted="contingency-end")
    period = (
        ContingencyPeriod.objects.select_for_update()
        .filter(centre=centre, ended_at__isnull=True)
        .first()
    )
    if period is None:
        raise ContingencyNotOnError()
    period.ended_at = timezone.now()
    period.ended_by = actor
    period.modified_by = actor
    period.save(update_fields=["ended_at", "ended_by", "modified_by", "modified_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=CONTINGENCY_OBJECT_TYPE,
        object_id=period.pk,
        details={"centre": str(centre.pk), "fields": ["ended_at"]},
    )
    return period
