"""Writing consular cases: opening one (its person registered or reused through
people.services), changing its details or its status, logging the actions taken.

Each service asks who the actor is first (consular.selectors, on accounts.permissions),
validates every field at once (ValidationFailedError names each wrong one), writes inside a
transaction and audits (identifiers and field names, never values). Opening a case, and
opening it again, queues the matching of its person against the open missing-person reports
for when the transaction commits (linkage.missing.match_on_commit); the request never waits
for it.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.consular.models import (
    ActionKind,
    CaseAction,
    CaseOutcome,
    CaseStatus,
    CaseType,
    ConsularCase,
)
from mirador.consular.selectors import (
    CASE_OBJECT_TYPE,
    READ_REASON,
    UNKNOWN_CASE_TYPE,
    UNKNOWN_STATUS,
    case_get_for_change,
    case_worker,
    require_case_worker,
)
from mirador.core.audit import audit_record
from mirador.core.errors import ApplicationError, fields_error, validation_failed
from mirador.core.lookups import country_by_code
from mirador.core.models import AuditAction, Consulate, Country
from mirador.linkage.missing import match_on_commit
from mirador.people.models import ConsentPurpose, Person
from mirador.people.selectors import person_get_for_change
from mirador.people.services import (
    UNKNOWN_COUNTRY,
    ContactData,
    birth_date_errors,
    consents_record,
    person_register,
    person_update,
)
from mirador.returns.services import IdentityData

if TYPE_CHECKING:
    from mirador.accounts.models import User

ACTION_OBJECT_TYPE = "consular.CaseAction"

# Where a case may go from each status. A closed case may be taken up again.
TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.REFERRED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.IN_PROGRESS}),
}
# The case types that flag the person's record (and so restrict the case) as people does.
CHILD_CASE_TYPES = frozenset({CaseType.UNACCOMPANIED_CHILD})
TRAFFICKING_CASE_TYPES = frozenset({CaseType.TRAFFICKING})

UNKNOWN_CONSULATE = _("Unknown consulate, or not one of your country's.")
DATE_IN_FUTURE = _("The date is in the future.")
ONE_PERSON = _("Give either the person's identity or an existing person, not both.")
NO_PERSON = _("Give the person's identity, or choose a person of the registry.")
UNKNOWN_PERSON = _("Unknown person, or not one you may read.")
PERSON_OF_ANOTHER_REGISTRY = _("The person must be in your country's registry.")
RESPONSIBLE_NOT_CASE_WORKER = _(
    "The responsible officer must be a consular or protection officer of your country."
)
TRANSITION_REFUSED = _("A case cannot go from %(old)s to %(new)s.")
OUTCOME_REQUIRED = _("Say how the case ended to close it.")
OUTCOME_ONLY_WHEN_CLOSED = _("Only a closed case has an outcome.")
UNKNOWN_OUTCOME = _("Unknown outcome.")
UNKNOWN_ACTION = _("Unknown action.")
ACTION_BEFORE_OPENING = _("The action cannot be dated before the case was opened.")
CASE_CLOSED = _("The case is closed: take it up again to log an action.")


# The identity of a case's person not yet in the registry, as the consulate has it: the same
# fields as an arrival's (the nationality is the consulate's country when not given).
PersonData = IdentityData


def _not_in_future(day: datetime.date | None, field: str, errors: dict[str, object]) -> None:
    if day is not None and day > timezone.localdate():
        errors[field] = DATE_IN_FUTURE


def _country(code: str | None, field: str, errors: dict[str, object]) -> Country | None:
    if not code:
        return None
    country = country_by_code(code.strip().upper())
    if country is None:
        errors[field] = UNKNOWN_COUNTRY
    return country


def _clean(case: ConsularCase) -> None:
    """The model's own checks (lengths, choices) of what the service has not checked."""
    try:
        case.full_clean(exclude=["consulate", "person", "place_country", "responsible"])
    except ValidationError as error:
        raise validation_failed(error) from None


def _responsible_errors(member: User, responsible: User | None, errors: dict[str, object]) -> None:
    worker = case_worker(responsible)
    if responsible is not None and (worker is None or worker.country_id != member.country_id):
        errors["responsible"] = RESPONSIBLE_NOT_CASE_WORKER


def _person_for_case(
    *,
    member: User,
    country: Country,
    case_type: str,
    person_id: uuid.UUID | str | None,
    person: PersonData | None,
    contacts: Sequence[ContactData],
) -> tuple[Person, bool]:
    """The case's person, registered now or reused, flagged child or trafficking victim as
    the case type says; and whether it was registered now."""
    is_child = case_type in CHILD_CASE_TYPES
    is_victim = case_type in TRAFFICKING_CASE_TYPES
    reason = str(_("Consular case"))
    if person is not None:
        nationality = person.nationality or country.pk
        registered = person_register(
            actor=member,
            country=country,
            given_names=person.given_names,
            first_surname=person.first_surname,
            second_surname=person.second_surname,
            birth_year=person.birth_year,
            birth_month=person.birth_month,
            birth_day=person.birth_day,
            sex=person.sex,
            # Checked by case_open with the other fields.
            nationality=country_by_code(nationality.strip().upper()),
            is_child=is_child or person.is_child,
            is_trafficking_victim=is_victim,
            documents=person.documents,
            contacts=contacts,
            reason=reason,
        )
        return registered, True
    assert person_id is not None  # noqa: S101 — case_open asks for one of the two
    existing = person_get_for_change(user=member, person_id=person_id, reason=READ_REASON)
    flags = {}
    if is_child and not existing.is_child:
        flags["is_child"] = True
    if is_victim and not existing.is_trafficking_victim:
        flags["is_trafficking_victim"] = True
    if flags:
        existing = person_update(actor=member, person=existing, reason=reason, **flags)
    return existing, False


def case_open(
    *,
    actor: User,
    consulate_id: uuid.UUID | str | None,
    case_type: str,
    person: PersonData | None = None,
    person_id: uuid.UUID | str | None = None,
    contacts: Sequence[ContactData] = (),
    opened_on: datetime.date | None = None,
    place_country: str | None = None,
    locality: str = "",
    description: str = "",
    responsible: User | None = None,
    consent_tracing: bool | None = None,
) -> ConsularCase:
    """Open a case at one of the actor's country's consulates for a person registered now
    (`person`, with its `contacts`) or already in the country's registry (`person_id`). The
    place is the consulate's host country unless another is given; the officer opening it is
    the responsible officer unless another is named. An unaccompanied child's or a
    trafficking victim's case flags the person's record, which restricts it (and so the
    case) to the protection officers. `consent_tracing`: the person's answer to tracing and
    matching against missing-person reports, None when not asked; recorded where the actor
    may record it (a child's is for the protection officer)."""
    member = require_case_worker(actor, attempted="create")
    opened_on = opened_on or timezone.localdate()
    errors: dict[str, object] = {}
    consulate = None
    with contextlib.suppress(ValueError):
        consulate = Consulate.objects.filter(
            pk=uuid.UUID(str(consulate_id)), sending_country_id=member.country_id
        ).first()
    if consulate is None:
        errors["consulate_id"] = UNKNOWN_CONSULATE
    if case_type not in CaseType.values:
        errors["case_type"] = UNKNOWN_CASE_TYPE
    _not_in_future(opened_on, "opened_on", errors)
    place = _country(place_country, "place_country", errors)
    if (person is None) == (person_id is None):
        errors["person"] = ONE_PERSON if person is not None else NO_PERSON
    if person is not None:
        birth = birth_date_errors(
            year=person.birth_year, month=person.birth_month, day=person.birth_day
        )
        errors.update({name: messages[0] for name, messages in birth.items()})
        _country(person.nationality, "nationality", errors)
    _responsible_errors(member, responsible, errors)
    if errors:
        raise fields_error(errors)
    assert consulate is not None  # noqa: S101 — refused above otherwise
    country = member.country
    assert country is not None  # noqa: S101 — case_worker requires one

    with transaction.atomic():
        try:
            subject, registered = _person_for_case(
                member=member,
                country=country,
                case_type=case_type,
                person_id=person_id,
                person=person,
                contacts=contacts,
            )
        except ApplicationError as error:
            if person_id is not None and error.code == "not_found":
                raise fields_error({"person_id": UNKNOWN_PERSON}) from None
            raise
        if subject.country_id != member.country_id:
            raise fields_error({"person_id": PERSON_OF_ANOTHER_REGISTRY})
        if consent_tracing is not None and permissions.can_record_consent(member, subject):
            # In one INSERT, as a registration records them: no signal queues a second,
            # returns-only matching of a person whose case is matched below.
            consents_record(
                actor=member,
                person=subject,
                consents=[(ConsentPurpose.TRACING_MATCHING, consent_tracing)],
            )
        case = ConsularCase(
            consulate=consulate,
            person=subject,
            case_type=case_type,
            opened_on=opened_on,
            place_country=place or consulate.host_country,
            locality=locality.strip(),
            description=description.strip(),
            responsible=responsible or member,
            created_by=member,
            modified_by=member,
        )
        _clean(case)
        case.save(force_insert=True)
        audit_record(
            actor=member,
            action=AuditAction.CREATE,
            object_type=CASE_OBJECT_TYPE,
            object_id=case.pk,
            details={
                "person": str(subject.pk),
                "registered": registered,
                "consulate": str(consulate.pk),
                "case_type": case_type,
            },
        )
        from mirador.consular.tasks import consular_case_match_task

        match_on_commit(consular_case_match_task, case.pk)
    return case


def case_update(
    *,
    actor: User,
    case_id: uuid.UUID | str,
    locality: str | None = None,
    description: str | None = None,
    place_country: str | None = None,
    responsible: User | None = None,
) -> ConsularCase:
    """Change where the person is, the description or the responsible officer (those
    given)."""
    member = require_case_worker(actor, attempted="update")
    case = case_get_for_change(user=member, case_id=case_id)
    errors: dict[str, object] = {}
    place = _country(place_country, "place_country", errors)
    _responsible_errors(member, responsible, errors)
    if errors:
        raise fields_error(errors)
    wanted: dict[str, object] = {}
    if locality is not None:
        wanted["locality"] = locality.strip()
    if description is not None:
        wanted["description"] = description.strip()
    if place is not None:
        wanted["place_country"] = place
    if responsible is not None:
        wanted["responsible"] = responsible
    changed = [name for name, value in wanted.items() if getattr(case, name) != value]
    if not changed:
        return case
    for name in changed:
        setattr(case, name, wanted[name])
    case.modified_by = member
    _clean(case)
    with transaction.atomic():
        case.save(update_fields=[*changed, "modified_at", "modified_by"])
        audit_record(
            actor=member,
            action=AuditAction.UPDATE,
            object_type=CASE_OBJECT_TYPE,
            object_id=case.pk,
            details={"fields": sorted(changed)},
        )
    return case


def case_status_set(
    *,
    actor: User,
    case_id: uuid.UUID | str,
    status: str,
    outcome: str = "",
    note: str = "",
    on: datetime.date | None = None,
) -> ConsularCase:
    """Move a case along (TRANSITIONS); closing it needs its outcome, taking a closed case up
    again clears it. The change is logged in the case's actions, with `note`. A case taken
    up again is matched again."""
    member = require_case_worker(actor, attempted="update")
    on = on or timezone.localdate()
    errors: dict[str, object] = {}
    if status not in CaseStatus.values:
        errors["status"] = UNKNOWN_STATUS
    if outcome and outcome not in CaseOutcome.values:
        errors["outcome"] = UNKNOWN_OUTCOME
    elif status == CaseStatus.CLOSED and not outcome:
        errors["outcome"] = OUTCOME_REQUIRED
    elif status != CaseStatus.CLOSED and outcome:
        errors["outcome"] = OUTCOME_ONLY_WHEN_CLOSED
    _not_in_future(on, "on", errors)
    if errors:
        raise fields_error(errors)
    with transaction.atomic():
        visible = case_get_for_change(user=member, case_id=case_id)
        case = ConsularCase.objects.select_for_update().get(pk=visible.pk)
        old = case.status
        if status not in TRANSITIONS[old]:
            raise fields_error(
                {
                    "status": TRANSITION_REFUSED
                    % {"old": CaseStatus(old).label, "new": CaseStatus(status).label}
                }
            )
        if on < case.opened_on:
            raise fields_error({"on": ACTION_BEFORE_OPENING})
        case.status = status
        case.outcome = outcome
        case.outcome_note = note.strip()[:500] if status == CaseStatus.CLOSED else ""
        case.closed_on = on if status == CaseStatus.CLOSED else None
        case.modified_by = member
        case.save(
            update_fields=[
                "status",
                "outcome",
                "outcome_note",
                "closed_on",
                "modified_at",
                "modified_by",
            ]
        )
        CaseAction.objects.create(
            case=case,
            kind=ActionKind.STATUS,
            status=status,
            taken_on=on,
            note=note.strip(),
            created_by=member,
            modified_by=member,
        )
        audit_record(
            actor=member,
            action=AuditAction.UPDATE,
            object_type=CASE_OBJECT_TYPE,
            object_id=case.pk,
            details={"status": status, "from": old, "outcome": outcome},
        )
        if old == CaseStatus.CLOSED:
            from mirador.consular.tasks import consular_case_match_task

            match_on_commit(consular_case_match_task, case.pk)
    return case


def case_action_add(
    *,
    actor: User,
    case_id: uuid.UUID | str,
    kind: str,
    taken_on: datetime.date | None = None,
    note: str = "",
) -> CaseAction:
    """Log a step taken on an open case (a visit, a call, a document requested, a referral
    made...), dated on or after the case's opening and not in the future."""
    member = require_case_worker(actor, attempted="update")
    case = case_get_for_change(user=member, case_id=case_id)
    taken_on = taken_on or timezone.localdate()
    errors: dict[str, object] = {}
    if kind not in ActionKind.values or kind == ActionKind.STATUS:
        errors["kind"] = UNKNOWN_ACTION
    _not_in_future(taken_on, "taken_on", errors)
    if "taken_on" not in errors and taken_on < case.opened_on:
        errors["taken_on"] = ACTION_BEFORE_OPENING
    if errors:
        raise fields_error(errors)
    if case.status == CaseStatus.CLOSED:
        raise ApplicationError(str(CASE_CLOSED))
    action = CaseAction(
        case=case,
        kind=kind,
        taken_on=taken_on,
        note=note.strip(),
        created_by=member,
        modified_by=member,
    )
    try:
        action.full_clean(exclude=["case"])
    except ValidationError as error:
        raise validation_failed(error) from None
    with transaction.atomic():
        action.save(force_insert=True)
        audit_record(
            actor=member,
            action=AuditAction.CREATE,
            object_type=ACTION_OBJECT_TYPE,
            object_id=action.pk,
            details={"case": str(case.pk), "kind": kind},
        )
    return action
