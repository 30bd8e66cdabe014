"""Missing migrants: reports by families (through a consulate), records of unidentified
persons (found or held: a morgue, a shelter, a hospital), and the matching that runs, in the
background, on each new report, each new unidentified person and each new return.

A report's missing person is a `people.Person` registered through people.services, in the
registry of the officer's country; the report restricts that record to the tracing roles
(accounts.permissions.TRACING_ROLES). Matching compares the open reports of a country with
the records of its match sources, scored by the Splink model (review.matching_model); each
pair at or above MISSING_MATCH_THRESHOLD goes to the review queue, and the report's
responsible officer gets a match alert.

Sources are pluggable (`MatchSource`, `match_source_register`): returns (the persons who came
back through the country's reception centres) and unidentified persons are here; a consular
app adds its cases by registering a source whose records are the persons of its cases and by
calling `records_match` when a case is opened.

Consent (docs/linkage.md, "Missing migrants"): a returnee is matched only while their consent
to tracing and matching is in force; a reported person is searched for on the family's
report, unless a consent to tracing recorded for them later says no; an unidentified person
cannot consent, and is matched under the holding institution's mandate to identify them.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.core.audit import audit_record, request_context
from mirador.core.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    fields_error,
    validation_failed,
)
from mirador.core.models import AuditAction, Consulate
from mirador.linkage.models import (
    MatchAlert,
    MissingPersonReport,
    MissingReportStatus,
    ReviewPair,
    ReviewSource,
    ReviewStatus,
    UnidentifiedCondition,
    UnidentifiedPerson,
    UnidentifiedStatus,
)
from mirador.linkage.review import (
    UNIDENTIFIED_OBJECT_TYPE,
    RecordRef,
    identity_row,
    matching_model,
    pair_reasons,
    review_pair_decide,
    review_pair_propose,
    review_pairs_visible_to,
    score_pairs,
)
from mirador.people.models import Person, Relationship, Sex
from mirador.people.selectors import (
    CONSENT_GRANTED,
    CONSENT_NOT_REFUSED,
    people_for_matching,
    person_get,
)
from mirador.people.services import (
    DocumentData,
    birth_date_errors,
    country_from_code,
    person_register,
)
from mirador.returns.models import AlertStatus, Arrival, CandidateDecision

if TYPE_CHECKING:
    from mirador.accounts.models import User
    from mirador.accounts.permissions import AnyUser

logger = logging.getLogger(__name__)

REPORT_OBJECT_TYPE = "linkage.MissingPersonReport"
ALERT_OBJECT_TYPE = "linkage.MatchAlert"
# A registry model's prior is the chance that two records of a registry are one person (about
# one in ten thousand). A search for one missing person asks another question, of far fewer
# pairs: TRACING_PRIOR is one in a thousand. Families know a relative's name and age, rarely
# their document, and every pair is looked at by an officer while a missed match costs a
# family its answer: a pair is proposed from a probability of 0.2, that is when its
# comparisons favour one person by about 250 to 1 (8 bits of match weight): the same first
# given name, first surname and sex with no date known do; a shared surname alone does not.
TRACING_PRIOR = 1e-3
MISSING_MATCH_THRESHOLD = 0.2
REPEAT_RETURN_THRESHOLD = 0.5
MATCHING_REASON = "missing-person matching"

REPORT_DATE_IN_FUTURE = _("The date is in the future.")
LAST_SEEN_AFTER_REPORT = _("The person cannot have been last seen after the report.")
UNKNOWN_CONSULATE = _("Unknown consulate, or not one of your country's.")
NAME_REQUIRED = _("Give at least a given name or a surname.")
AGE_RANGE_REVERSED = _("The lower age is above the upper one.")
UNKNOWN_STATUS = _("Unknown status.")
REJECTED_AT_REGISTRATION = _("Rejected by the officer at registration.")


# --- Sources --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchSource:
    """Records of one registry that missing-person reports are matched against: `records`
    gives those of a country that may be matched (their consent or mandate allows it),
    narrowed to `ids` when given."""

    name: str
    records: Callable[..., Sequence[Person | UnidentifiedPerson]]


SOURCES: dict[str, MatchSource] = {}


def match_source_register(source: MatchSource) -> None:
    SOURCES[source.name] = source


def _returned_persons(*, country_id: str, ids: Sequence[uuid.UUID] | None = None) -> list[Person]:
    returned = Arrival.objects.filter(centre__country_id=country_id).values("person_id")
    if ids is not None:
        returned = returned.filter(person_id__in=list(ids))
    return people_for_matching(
        country_id=country_id, consent=CONSENT_GRANTED, person_ids=returned, reason=MATCHING_REASON
    )


def _unidentified_records(
    *, country_id: str, ids: Sequence[uuid.UUID] | None = None
) -> list[UnidentifiedPerson]:
    records = UnidentifiedPerson.objects.filter(
        country_id=country_id, status=UnidentifiedStatus.UNIDENTIFIED
    )
    if ids is not None:
        records = records.filter(pk__in=list(ids))
    found = list(records)
    audit_record(
        actor=None,
        action=AuditAction.LIST,
        object_type=UNIDENTIFIED_OBJECT_TYPE,
        reason=MATCHING_REASON,
        details={"count": len(found), "country": country_id},
    )
    return found


match_source_register(MatchSource("returns", _returned_persons))
match_source_register(MatchSource("unidentified", _unidentified_records))


# --- Matching -------------------------------------------------------------------------------


def _open_reports(
    *, country_id: str, exclude_person: uuid.UUID | None = None
) -> list[MissingPersonReport]:
    reports = MissingPersonReport.objects.filter(
        status=MissingReportStatus.OPEN, person__country_id=country_id
    )
    if exclude_person is not None:
        reports = reports.exclude(person_id=exclude_person)
    by_person = {report.person_id: report for report in reports}
    if not by_person:
        return []
    searchable = people_for_matching(
        country_id=country_id,
        consent=CONSENT_NOT_REFUSED,
        person_ids=list(by_person),
        reason=MATCHING_REASON,
    )
    chosen = []
    for person in searchable:
        report = by_person[person.pk]
        report.person = person
        chosen.append(report)
    return chosen


def _age_compatible(person: Person, record: Person | UnidentifiedPerson) -> bool:
    """An unidentified person's estimated age must fit the reported year of birth (a year of
    slack either side for the estimate and the birthday)."""
    if not isinstance(record, UnidentifiedPerson) or person.birth_year is None:
        return True
    age = record.found_on.year - person.birth_year
    if record.age_min is not None and age < record.age_min - 1:
        return False
    return not (record.age_max is not None and age > record.age_max + 1)


def _alert(*, report: MissingPersonReport, pair: ReviewPair) -> MatchAlert:
    alert = MatchAlert.objects.create(
        report=report,
        pair=pair,
        country_id=report.person.country_id,
        responsible_id=report.responsible_id,
    )
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type=ALERT_OBJECT_TYPE,
        object_id=alert.pk,
        details={"report": str(report.pk), "review_pair": str(pair.pk)},
    )
    return alert


def reports_match(
    *,
    reports: Sequence[MissingPersonReport],
    records: Sequence[Person | UnidentifiedPerson],
) -> list[ReviewPair]:
    """Score every report against every record; each new pair at or above the threshold
    goes to the queue with an alert for the report's responsible officer. Returns the new
    pairs."""
    records = [
        record
        for record in records
        if not (isinstance(record, Person) and any(r.person_id == record.pk for r in reports))
    ]
    if not reports or not records:
        return []
    model = matching_model()
    by_key: dict[str, Any] = {RecordRef.of(record).key: record for record in records}
    report_by_key = {RecordRef.of(report.person).key: report for report in reports}
    scored = score_pairs(
        [identity_row(report.person) for report in reports],
        [identity_row(record) for record in records],
        model=model,
        prior=TRACING_PRIOR,
    )
    created_pairs = []
    kept = scored[scored["match_probability"] >= MISSING_MATCH_THRESHOLD]
    for row in kept.to_dict("records"):
        report = report_by_key[row["record_id_l"]]
        record = by_key[row["record_id_r"]]
        if not _age_compatible(report.person, record):
            continue
        with transaction.atomic():
            pair, created = review_pair_propose(
                a=RecordRef.of(report.person),
                b=RecordRef.of(record),
                source=ReviewSource.MISSING_PERSON,
                match_probability=row["match_probability"],
                match_weight=row["match_weight"],
                reasons=pair_reasons(row, model.settings),
                model_name=model.name,
                model_version=model.version,
                report=report,
            )
            if created:
                _alert(report=report, pair=pair)
                created_pairs.append(pair)
    return created_pairs


def records_match(*, source: str, country_id: str, ids: Sequence[uuid.UUID]) -> list[ReviewPair]:
    """New records of a source (a return, an unidentified person, a consular case) against
    the open reports of their country (none open: nothing more is read)."""
    exclude = ids[0] if len(ids) == 1 else None
    reports = _open_reports(country_id=country_id, exclude_person=exclude)
    if not reports:
        return []
    return reports_match(
        reports=reports, records=SOURCES[source].records(country_id=country_id, ids=ids)
    )


def report_match(*, report_id: uuid.UUID | str) -> str:
    """The task's work for a new report: its person against every source of its country."""
    report = MissingPersonReport.objects.select_related("person").filter(pk=report_id).first()
    if report is None or report.status != MissingReportStatus.OPEN:
        return "not-open"
    country_id = report.person.country_id
    with request_context(ip_address=None, channel="task"):
        reports = [r for r in _open_reports(country_id=country_id) if r.pk == report.pk]
        if not reports:
            return "tracing-refused"
        pairs = []
        for source in SOURCES.values():
            records = source.records(country_id=country_id)
            pairs += reports_match(reports=reports, records=records)
    return f"{len(pairs)} new pairs"


def unidentified_match(*, record_id: uuid.UUID | str) -> str:
    record = UnidentifiedPerson.objects.filter(pk=record_id).first()
    if record is None:
        return "missing"
    with request_context(ip_address=None, channel="task"):
        pairs = records_match(source="unidentified", country_id=record.country_id, ids=[record.pk])
    return f"{len(pairs)} new pairs"


def arrival_match(*, arrival_id: uuid.UUID | str) -> str:
    """The task's work for a new return: the returnee against the open missing-person
    reports of their country, and against the other returnees who may be the same person
    (the repeat-return search, as the registering officer would run it). Nothing is matched
    unless the returnee's consent to tracing and matching is in force."""
    arrival = (
        Arrival.objects.select_related("person", "centre", "created_by")
        .filter(pk=arrival_id)
        .first()
    )
    if arrival is None:
        return "missing"
    person = arrival.person
    with request_context(ip_address=None, channel="task"):
        if not _returned_persons(country_id=person.country_id, ids=[person.pk]):
            return "no-consent"
        pairs = records_match(source="returns", country_id=person.country_id, ids=[person.pk])
        repeat = _repeat_return_pairs(arrival=arrival)
    return f"{len(pairs)} missing-person pairs, {repeat} repeat-return pairs"


def person_match(*, person_id: uuid.UUID | str) -> str:
    """A returnee against the open reports of their country (consent given after the
    return was registered)."""
    person = Person.objects.filter(pk=person_id).only("pk", "country_id").first()
    if person is None:
        return "missing"
    with request_context(ip_address=None, channel="task"):
        pairs = records_match(source="returns", country_id=person.country_id, ids=[person.pk])
    return f"{len(pairs)} missing-person pairs"


def _repeat_return_pairs(*, arrival: Arrival) -> int:
    """Candidates the registration's search finds for the arrival's person, other than the
    person it was registered on: those the officer rejected go to the queue as rejected (their
    decision), the others as pairs to review when the model scores them at or above
    REPEAT_RETURN_THRESHOLD."""
    from mirador.returns.selectors import person_repeat_candidates

    officer = arrival.created_by
    if officer is None or not permissions.can_view_person(officer, arrival.person):
        return 0
    person = person_get(user=officer, person_id=arrival.person_id, reason=MATCHING_REASON)
    search = person_repeat_candidates(user=officer, person=person)
    candidates = [candidate.person for candidate in search.candidates]
    if not candidates:
        return 0
    # Rejections at any registration of either person, whichever was matched first.
    ids = [candidate.pk for candidate in candidates]
    decisions = CandidateDecision.objects.filter(decision=CandidateDecision.REJECTED).filter(
        Q(arrival__person=person, candidate_id__in=ids)
        | Q(candidate=person, arrival__person_id__in=ids)
    )
    rejected = {
        candidate if candidate != person.pk else other
        for candidate, other in decisions.values_list("candidate_id", "arrival__person_id")
    }
    model = matching_model()
    scored = score_pairs(
        [identity_row(person)], [identity_row(candidate) for candidate in candidates], model=model
    )
    created = 0
    for row in scored.to_dict("records"):
        candidate_ref = RecordRef.parse(row["record_id_r"])
        was_rejected = candidate_ref.id in rejected
        if not was_rejected and row["match_probability"] < REPEAT_RETURN_THRESHOLD:
            continue
        pair, new = review_pair_propose(
            a=RecordRef.of(person),
            b=candidate_ref,
            source=ReviewSource.REPEAT_RETURN,
            match_probability=row["match_probability"],
            match_weight=row["match_weight"],
            reasons=pair_reasons(row, model.settings),
            model_name=model.name,
            model_version=model.version,
            decided=(
                (ReviewStatus.REJECTED, officer, str(REJECTED_AT_REGISTRATION))
                if was_rejected
                else None
            ),
        )
        created += int(new)
        if was_rejected and not new and pair.status == ReviewStatus.PENDING:
            # Proposed by the other record's search before the officer's rejection was seen.
            try:
                review_pair_decide(
                    actor=officer, pair=pair, decision="reject", note=str(REJECTED_AT_REGISTRATION)
                )
            except ApplicationError:
                logger.info("review pair %s: the rejection at registration conflicts", pair.pk)
    return created


def match_on_commit(task: Any, record_id: uuid.UUID) -> None:
    """Queue a matching task in the transaction that writes the record, for when it commits.
    The tasks' database backend stores the task beside the record: the worker sees it only once
    the record is committed, a rolled-back record leaves no task, and a process stopped between
    the commit and the queueing loses none (the registering request never waits for it)."""
    task.enqueue(str(record_id))


# --- Reports: services and selectors ---------------------------------------------------------


def _require_tracer(actor: AnyUser | None, *, attempted: str) -> User:
    member = permissions.active_user(actor)
    if member is None or not permissions.can_trace_missing_persons(member):
        audit_record(
            actor=member,
            action=AuditAction.DENIED,
            object_type=REPORT_OBJECT_TYPE,
            details={"attempted": attempted},
        )
        raise PermissionDeniedError()
    return member


def _refuse(
    errors: dict[str, object],
    *,
    birth_year: int | None,
    birth_month: int | None,
    birth_day: int | None,
) -> None:
    """Raise every error found, those of a (possibly partial) date of birth among them."""
    birth = birth_date_errors(year=birth_year, month=birth_month, day=birth_day)
    errors.update({name: messages[0] for name, messages in birth.items()})
    if errors:
        raise fields_error(errors)


def _not_in_future(day: datetime.date | None, field: str, errors: dict[str, object]) -> None:
    if day is not None and day > timezone.localdate():
        errors[field] = REPORT_DATE_IN_FUTURE


def missing_report_file(
    *,
    actor: User,
    given_names: str,
    first_surname: str,
    second_surname: str = "",
    birth_year: int | None = None,
    birth_month: int | None = None,
    birth_day: int | None = None,
    sex: str = Sex.UNKNOWN,
    nationality: str | None = None,
    documents: Sequence[DocumentData] = (),
    reporter_name: str,
    reporter_relationship: str,
    reporter_contact: str = "",
    reported_on: datetime.date | None = None,
    consulate_id: uuid.UUID | None = None,
    last_seen_on: datetime.date | None = None,
    last_seen_place: str = "",
    last_seen_country: str | None = None,
    route: str = "",
    circumstances: str = "",
    responsible: User | None = None,
) -> MissingPersonReport:
    """File a family's report: the missing person is registered in the officer's country's
    registry (people.services), the report kept beside it, and the matching against that
    country's returns and unidentified persons queued for when the transaction commits. The
    officer filing it is the responsible officer unless another is named."""
    member = _require_tracer(actor, attempted="create")
    reported_on = reported_on or timezone.localdate()
    errors: dict[str, object] = {}
    if not reporter_name.strip():
        errors["reporter_name"] = _("Say who reported the person missing.")
    if reporter_relationship not in Relationship.values:
        errors["reporter_relationship"] = _("Unknown relationship.")
    _not_in_future(reported_on, "reported_on", errors)
    _not_in_future(last_seen_on, "last_seen_on", errors)
    if last_seen_on and last_seen_on > reported_on and "last_seen_on" not in errors:
        errors["last_seen_on"] = LAST_SEEN_AFTER_REPORT
    consulate = None
    if consulate_id is not None:
        consulate = Consulate.objects.filter(
            pk=consulate_id, sending_country_id=member.country_id
        ).first()
        if consulate is None:
            errors["consulate"] = UNKNOWN_CONSULATE
    if responsible is not None and not (
        permissions.can_trace_missing_persons(responsible)
        and responsible.country_id == member.country_id
    ):
        errors["responsible"] = _(
            "The responsible officer must trace missing persons in your country."
        )
    _refuse(errors, birth_year=birth_year, birth_month=birth_month, birth_day=birth_day)
    country = member.country
    assert country is not None  # noqa: S101 — can_trace_missing_persons requires one
    with transaction.atomic():
        seen_in = country_from_code(last_seen_country, field="last_seen_country")
        person = person_register(
            actor=member,
            country=country,
            given_names=given_names,
            first_surname=first_surname,
            second_surname=second_surname,
            birth_year=birth_year,
            birth_month=birth_month,
            birth_day=birth_day,
            sex=sex,
            nationality=country_from_code(nationality, field="nationality"),
            documents=documents,
            reason=str(_("Missing-person report")),
        )
        report = MissingPersonReport(
            person=person,
            reported_on=reported_on,
            reporter_name=reporter_name.strip(),
            reporter_relationship=reporter_relationship,
            reporter_contact=reporter_contact.strip(),
            consulate=consulate,
            last_seen_on=last_seen_on,
            last_seen_place=last_seen_place.strip(),
            last_seen_country=seen_in,
            route=route.strip(),
            circumstances=circumstances.strip(),
            responsible=responsible or member,
            created_by=member,
            modified_by=member,
        )
        try:
            report.full_clean(exclude=["person", "consulate", "last_seen_country", "responsible"])
        except ValidationError as error:
            raise validation_failed(error) from None
        report.save(force_insert=True)
        audit_record(
            actor=member,
            action=AuditAction.CREATE,
            object_type=REPORT_OBJECT_TYPE,
            object_id=report.pk,
            details={"person": str(person.pk), "consulate": str(consulate.pk) if consulate else ""},
        )
        from mirador.linkage.tasks import missing_report_match_task

        match_on_commit(missing_report_match_task, report.pk)
    return report


def missing_reports_visible_to(*, user: AnyUser | None) -> QuerySet[MissingPersonReport]:
    if not permissions.can_trace_missing_persons(user):
        return MissingPersonReport.objects.none()
    return (
        MissingPersonReport.objects.filter(
            permissions.persons_visible_filter(user, prefix="person__")
        )
        .select_related(
            "person", "consulate", "consulate__host_country", "last_seen_country", "responsible"
        )
        .distinct()
    )


def missing_reports_list(
    *, user: AnyUser | None, status: str | None = None
) -> list[MissingPersonReport]:
    member = _require_tracer(user, attempted="list")
    if status and status not in MissingReportStatus.values:
        raise fields_error({"status": UNKNOWN_STATUS})
    reports = missing_reports_visible_to(user=member)
    if status:
        reports = reports.filter(status=status)
    found = list(reports.order_by("-reported_on", "-created_at"))
    audit_record(
        actor=member,
        action=AuditAction.LIST,
        object_type=REPORT_OBJECT_TYPE,
        details={"count": len(found), "status": status or ""},
    )
    return found


def missing_report_get(*, user: AnyUser | None, report_id: uuid.UUID | str) -> MissingPersonReport:
    """A report and its person's whole record (read through people.selectors, audited);
    NotFoundError for one outside the user's scope, as for none."""
    member = _require_tracer(user, attempted="read")
    try:
        key = uuid.UUID(str(report_id))
    except ValueError:
        raise NotFoundError() from None
    report = missing_reports_visible_to(user=member).filter(pk=key).first()
    if report is None:
        audit_record(
            actor=member, action=AuditAction.DENIED, object_type=REPORT_OBJECT_TYPE, object_id=key
        )
        raise NotFoundError()
    report.person = person_get(
        user=member, person_id=report.person_id, reason="missing-person report"
    )
    return report


def missing_report_status_set(
    *, actor: User, report: MissingPersonReport, status: str
) -> MissingPersonReport:
    """Mark a report found or closed (no longer matched), or open again."""
    member = _require_tracer(actor, attempted="update")
    if status not in MissingReportStatus.values:
        raise fields_error({"status": UNKNOWN_STATUS})
    report = missing_report_get(user=member, report_id=report.pk)
    if report.status == status:
        return report
    report.status = status
    report.modified_by = member
    with transaction.atomic():
        report.save(update_fields=["status", "modified_at", "modified_by"])
        audit_record(
            actor=member,
            action=AuditAction.UPDATE,
            object_type=REPORT_OBJECT_TYPE,
            object_id=report.pk,
            details={"status": status},
        )
        if status == MissingReportStatus.OPEN:
            from mirador.linkage.tasks import missing_report_match_task

            match_on_commit(missing_report_match_task, report.pk)
    return report


# --- Unidentified persons -------------------------------------------------------------------


def unidentified_record(
    *,
    actor: User,
    reference: str,
    condition: str,
    found_on: datetime.date,
    found_place: str,
    held_at: str = "",
    given_names: str = "",
    first_surname: str = "",
    second_surname: str = "",
    birth_year: int | None = None,
    birth_month: int | None = None,
    birth_day: int | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
    sex: str = Sex.UNKNOWN,
    document_number: str = "",
    description: str = "",
    is_child: bool = False,
) -> UnidentifiedPerson:
    """Record an unidentified person held in the officer's country; matched against the open
    reports once the transaction commits. A child (or an estimated age under 18) is restricted
    to protection officers."""
    member = _require_tracer(actor, attempted="create-unidentified")
    errors: dict[str, object] = {}
    if condition not in UnidentifiedCondition.values:
        errors["condition"] = _("The condition is alive or deceased.")
    _not_in_future(found_on, "found_on", errors)
    if age_min is not None and age_max is not None and age_min > age_max:
        errors["age_min"] = AGE_RANGE_REVERSED
    _refuse(errors, birth_year=birth_year, birth_month=birth_month, birth_day=birth_day)
    under_age = age_min is not None and age_min < 18
    record = UnidentifiedPerson(
        country=member.country,
        reference=reference.strip(),
        condition=condition,
        found_on=found_on,
        found_place=found_place.strip(),
        held_at=held_at.strip(),
        given_names=given_names.strip(),
        first_surname=first_surname.strip(),
        second_surname=second_surname.strip(),
        birth_year=birth_year,
        birth_month=birth_month,
        birth_day=birth_day,
        age_min=age_min,
        age_max=age_max,
        sex=sex,
        document_number=document_number.strip(),
        description=description.strip(),
        is_child=is_child or under_age,
        created_by=member,
        modified_by=member,
    )
    try:
        record.full_clean(exclude=["country"])
    except ValidationError as error:
        raise validation_failed(error) from None
    with transaction.atomic():
        record.save(force_insert=True)
        audit_record(
            actor=member,
            action=AuditAction.CREATE,
            object_type=UNIDENTIFIED_OBJECT_TYPE,
            object_id=record.pk,
            details={
                "fields": sorted(
                    name
                    for name in ("given_names", "first_surname", "birth_year", "document_number")
                    if getattr(record, name) not in (None, "")
                )
            },
        )
        from mirador.linkage.tasks import unidentified_match_task

        match_on_commit(unidentified_match_task, record.pk)
    return record


def unidentified_visible_to(*, user: AnyUser | None) -> QuerySet[UnidentifiedPerson]:
    return UnidentifiedPerson.objects.filter(
        permissions.unidentified_visible_filter(user)
    ).select_related("country")


def unidentified_list(*, user: AnyUser | None) -> list[UnidentifiedPerson]:
    member = _require_tracer(user, attempted="list-unidentified")
    found = list(unidentified_visible_to(user=member).order_by("-found_on", "reference"))
    audit_record(
        actor=member,
        action=AuditAction.LIST,
        object_type=UNIDENTIFIED_OBJECT_TYPE,
        details={"count": len(found)},
    )
    return found


def unidentified_get(*, user: AnyUser | None, record_id: uuid.UUID | str) -> UnidentifiedPerson:
    member = _require_tracer(user, attempted="read-unidentified")
    try:
        key = uuid.UUID(str(record_id))
    except ValueError:
        raise NotFoundError() from None
    record = unidentified_visible_to(user=member).filter(pk=key).first()
    audit_record(
        actor=member,
        action=AuditAction.READ if record else AuditAction.DENIED,
        object_type=UNIDENTIFIED_OBJECT_TYPE,
        object_id=key,
    )
    if record is None:
        raise NotFoundError()
    return record


# --- Match alerts ---------------------------------------------------------------------------


def match_alerts_for(
    *, user: AnyUser | None, status: str | None = AlertStatus.OPEN
) -> list[MatchAlert]:
    """The alerts of pairs `user` may review that are theirs to act on: those of reports they
    are responsible for, and those whose responsible officer is gone (no one, deactivated)."""
    member = permissions.active_user(user)
    if member is None or not permissions.can_review_linkage(member):
        raise PermissionDeniedError()
    if status and status not in AlertStatus.values:
        raise fields_error({"status": UNKNOWN_STATUS})
    alerts = MatchAlert.objects.filter(
        Q(responsible=member) | Q(responsible__isnull=True) | Q(responsible__is_active=False),
        pair__in=review_pairs_visible_to(user=member).values("pk"),
    ).select_related("report", "pair")
    if status:
        alerts = alerts.filter(status=status)
    found = list(alerts.order_by("created_at"))
    audit_record(
        actor=member,
        action=AuditAction.LIST,
        object_type=ALERT_OBJECT_TYPE,
        details={"count": len(found), "status": status or ""},
    )
    return found


def match_alerts_open_count(*, user: AnyUser | None) -> int:
    """How many open alerts wait for `user` (the navigation's badge; no record is read)."""
    member = permissions.active_user(user)
    if member is None or not permissions.can_trace_missing_persons(member):
        return 0
    return MatchAlert.objects.filter(
        responsible=member,
        status=AlertStatus.OPEN,
        pair__in=review_pairs_visible_to(user=member).values("pk"),
    ).count()


def match_alert_take(*, actor: User, alert_id: uuid.UUID | str) -> MatchAlert:
    """The responsible officer (or whoever stands in) takes the alert in charge."""
    alerts = {str(alert.pk): alert for alert in match_alerts_for(user=actor, status=None)}
    alert = alerts.get(str(alert_id))
    if alert is None:
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
