"""Missing migrants: a report filed through the service is matched, in the background, by a
later return (its pair in the review queue, an alert for the responsible officer), by an
unidentified person, never without the returnee's consent, and never when the reported
person's own consent says no; the registering request only queues the work."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from mirador.core.errors import PermissionDeniedError, ValidationFailedError
from mirador.core.models import AuditAction, AuditEntry
from mirador.flows.tasks import run_pending_tasks, waiting_tasks
from mirador.linkage import missing, review
from mirador.linkage.models import (
    MatchAlert,
    MissingPersonReport,
    MissingReportStatus,
    ReviewPair,
    ReviewSource,
)
from mirador.linkage.review import RecordRef
from mirador.linkage.tests.identification import Identification, identity
from mirador.people.models import Consent, ConsentPurpose
from mirador.returns.models import AlertStatus

pytestmark = pytest.mark.django_db


def file_report(world: Identification, **fields: Any) -> MissingPersonReport:
    values: dict[str, Any] = {
        "given_names": "José Luis",
        "first_surname": "Hernández",
        "second_surname": "López",
        "birth_year": 1995,
        "sex": "M",
        "reporter_name": "María López",
        "reporter_relationship": "parent",
        "last_seen_on": timezone.localdate() - datetime.timedelta(days=90),
        "last_seen_place": "Tapachula, Chiapas",
        "route": "San Pedro Sula – Tecún Umán – Tapachula",
    }
    values.update(fields)
    return missing.missing_report_file(actor=world.users["consular.hn"], **values)


def test_a_report_is_matched_by_a_later_return_and_its_officer_is_alerted(
    world: Identification,
) -> None:
    report = file_report(world)
    run_pending_tasks()  # the report's own search: nobody has returned yet
    assert not ReviewPair.objects.exists()

    arrival = world.arrival(identity("Jose", "Hernandez Lopez", birth=(1995, 4, 2)))
    # Registering only queued the matching; nothing was matched in the request.
    assert waiting_tasks() == ["mirador.linkage.tasks.arrival_match_task"]
    assert not ReviewPair.objects.exists()
    run_pending_tasks()

    pair = ReviewPair.objects.get()
    assert pair.source == ReviewSource.MISSING_PERSON
    assert pair.report == report
    assert pair.match_probability >= missing.MISSING_MATCH_THRESHOLD
    assert {pair.left_person_id, pair.right_person_id} == {report.person_id, arrival.person_id}
    reasons = {reason["comparison"]: reason for reason in pair.reasons}
    assert reasons["surnames"]["level"] == "Both surnames equal"
    assert reasons["surnames"]["weight"] > 0
    alert = MatchAlert.objects.get()
    assert (alert.responsible, alert.status, alert.pair) == (
        world.users["consular.hn"],
        AlertStatus.OPEN,
        pair,
    )
    assert missing.match_alerts_for(user=world.users["consular.hn"]) == [alert]
    assert missing.match_alerts_open_count(user=world.users["consular.hn"]) == 1
    assert AuditEntry.objects.filter(
        object_type=missing.ALERT_OBJECT_TYPE, action=AuditAction.CREATE, object_id=str(alert.pk)
    ).exists()


def test_accepting_the_match_closes_the_alert_and_marks_the_report_found(
    world: Identification,
) -> None:
    report = file_report(world)
    world.arrival(identity("José Luis", "Hernández", "López", birth=(1995, 4, 2)))
    run_pending_tasks()
    consular = world.users["consular.hn"]
    (view,) = review.review_queue(user=consular, source=ReviewSource.MISSING_PERSON).pairs

    review.review_pair_decide(actor=consular, pair=view.pair, decision="accept")

    report.refresh_from_db()
    assert report.status == MissingReportStatus.FOUND
    assert MatchAlert.objects.get().status == AlertStatus.CLOSED
    # The reception officer who registered the return never sees the report's pair.
    assert review.review_queue(user=world.users["officer.hn"]).total == 0


def test_no_matching_without_the_returnees_consent_to_tracing(world: Identification) -> None:
    file_report(world)
    run_pending_tasks()  # the report's own search
    world.arrival(
        identity("José Luis", "Hernández", "López", birth=(1995, 4, 2)),
        consent_tracing=False,
    )
    assert waiting_tasks() == []  # not even queued
    run_pending_tasks()

    assert not ReviewPair.objects.exists()
    assert missing.arrival_match(arrival_id=world.centre.arrivals.get().pk) == "no-consent"


def test_a_reported_person_who_refused_tracing_is_not_searched_for(world: Identification) -> None:
    report = file_report(world)
    Consent.objects.create(
        person=report.person, purpose=ConsentPurpose.TRACING_MATCHING, granted=False
    )
    world.arrival(identity("José Luis", "Hernández", "López", birth=(1995, 4, 2)))
    run_pending_tasks()

    assert not ReviewPair.objects.exists()
    assert missing.report_match(report_id=report.pk) == "tracing-refused"


def test_a_new_report_finds_an_earlier_return_and_an_unidentified_person(
    world: Identification,
) -> None:
    arrival = world.arrival(
        identity("Maria Fernanda", "Reyes", "Cruz", birth=(2001, 9, 14), sex="F")
    )
    protection = world.users["protection.hn"]
    unidentified = missing.unidentified_record(
        actor=protection,
        reference="SEMEFO-2026-118",
        condition="deceased",
        found_on=timezone.localdate() - datetime.timedelta(days=20),
        found_place="Altar, Sonora",
        given_names="María F.",
        first_surname="Reyes",
        age_min=22,
        age_max=30,
        sex="F",
    )
    run_pending_tasks()
    assert not ReviewPair.objects.exists()  # no report yet

    report = file_report(
        world,
        given_names="María Fernanda",
        first_surname="Reyes",
        second_surname="Cruz",
        birth_year=2001,
        sex="F",
    )
    run_pending_tasks()

    paired = {RecordRef.of(record) for record in (arrival.person, unidentified)}
    found = set()
    for pair in ReviewPair.objects.filter(report=report):
        found |= set(review._sides(pair)) - {RecordRef.of(report.person)}
    assert found == paired
    assert MatchAlert.objects.filter(report=report).count() == 2


def test_an_unidentified_person_whose_estimated_age_does_not_fit_is_not_proposed(
    world: Identification,
) -> None:
    file_report(world, birth_year=1995)
    missing.unidentified_record(
        actor=world.users["protection.hn"],
        reference="SEMEFO-2026-119",
        condition="deceased",
        found_on=timezone.localdate(),
        found_place="Altar, Sonora",
        given_names="José Luis",
        first_surname="Hernández",
        second_surname="López",
        age_min=50,
        age_max=60,
        sex="M",
    )
    run_pending_tasks()

    assert not ReviewPair.objects.exists()


def test_the_report_restricts_the_missing_person_to_tracing_roles(world: Identification) -> None:
    from mirador.accounts import permissions

    report = file_report(world)
    person = report.person

    assert permissions.can_view_person(world.users["consular.hn"], person)
    assert permissions.can_view_person(world.users["protection.hn"], person)
    assert not permissions.can_view_person(world.users["officer.hn"], person)
    with pytest.raises(PermissionDeniedError):
        missing.missing_reports_list(user=world.users["officer.hn"])


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"birth_month": 13}, "birth_month"),
        ({"reporter_relationship": "cousin"}, "reporter_relationship"),
        ({"reporter_name": "  "}, "reporter_name"),
        ({"last_seen_on": timezone.localdate() + datetime.timedelta(days=3)}, "last_seen_on"),
        ({"nationality": "ZZ"}, "nationality"),
    ],
)
def test_a_wrong_report_is_refused_naming_the_field_and_nothing_is_stored(
    world: Identification, fields: dict[str, Any], wrong: str
) -> None:
    with pytest.raises(ValidationFailedError) as refused:
        file_report(world, **fields)

    assert wrong in refused.value.details["fields"]  # type: ignore[operator]
    assert not MissingPersonReport.objects.exists()


def test_a_reception_officer_files_no_report(world: Identification) -> None:
    with pytest.raises(PermissionDeniedError):
        missing.missing_report_file(
            actor=world.users["officer.hn"],
            given_names="Ana",
            first_surname="Paz",
            reporter_name="Rosa Paz",
            reporter_relationship="parent",
        )


def test_a_child_is_matched_once_the_protection_officer_records_the_consent(
    world: Identification,
) -> None:
    from mirador.people.services import consent_record

    protection = world.users["protection.hn"]
    child_born = timezone.localdate().year - 15
    report = missing.missing_report_file(
        actor=protection,
        given_names="Yeferson",
        first_surname="Maradiaga",
        birth_year=child_born,
        sex="M",
        reporter_name="Glenda Maradiaga",
        reporter_relationship="parent",
    )
    assert report.person.is_child
    arrival = world.arrival(identity("Yeferson", "Maradiaga", birth=(child_born, 6, 1)))
    run_pending_tasks()
    # The reception officer may not record a child's consent: nothing is matched yet.
    assert not ReviewPair.objects.exists()

    consent_record(
        actor=protection,
        person=arrival.person,
        purpose=ConsentPurpose.TRACING_MATCHING,
        granted=True,
    )
    run_pending_tasks()

    pair = ReviewPair.objects.get()
    assert pair.report == report
    assert MatchAlert.objects.get().responsible == protection
    assert review.review_queue(user=world.users["consular.hn"]).total == 0
    assert review.review_queue(user=protection).total == 1


def test_the_repeat_return_search_queues_new_duplicates_and_keeps_the_officers_rejections(
    world: Identification,
) -> None:
    import uuid

    from mirador.returns.services import (
        arrival_complete,
        arrival_register,
        arrival_register_contingency,
    )

    returnee = identity("Marvin Alexis", "Flores", "Cruz", birth=(1993, 7, 21))
    first = world.arrival(returnee)
    # The officer saw the earlier return among the candidates and said it is not him.
    second = arrival_register(
        actor=world.users["officer.hn"],
        centre=world.centre,
        idempotency_key=str(uuid.uuid4()),
        identity=returnee,
        rejected_candidates=[first.person],
        consent_tracing=True,
    )
    run_pending_tasks()

    kept = ReviewPair.objects.get()
    assert {kept.left_person_id, kept.right_person_id} == {first.person_id, second.person_id}
    assert (kept.source, kept.status, kept.decided_by) == (
        ReviewSource.REPEAT_RETURN,
        "rejected",
        world.users["officer.hn"],
    )

    # Registered as new again in contingency mode, where no earlier return is searched, and
    # given consent to tracing when the registration was completed: nobody looked.
    third = arrival_register_contingency(
        actor=world.users["officer.hn"],
        centre=world.centre,
        idempotency_key=str(uuid.uuid4()),
        given_names=returnee.given_names,
        first_surname=returnee.first_surname,
        sex=returnee.sex,
        birth_year=returnee.birth_year,
    )
    arrival_complete(actor=world.users["officer.hn"], arrival=third, consent_tracing=True)
    run_pending_tasks()

    pending = ReviewPair.objects.filter(status="pending")
    assert {frozenset((p.left_person_id, p.right_person_id)) for p in pending} == {
        frozenset((third.person_id, first.person_id)),
        frozenset((third.person_id, second.person_id)),
    }
    assert all(p.match_probability >= missing.REPEAT_RETURN_THRESHOLD for p in pending)


def test_a_registration_rolled_back_leaves_no_matching_queued(world: Identification) -> None:
    file_report(world)
    run_pending_tasks()  # the report's own search

    with pytest.raises(RuntimeError), transaction.atomic():
        world.arrival(identity("José Luis", "Hernández", "López", birth=(1995, 4, 2)))
        assert waiting_tasks() == ["mirador.linkage.tasks.arrival_match_task"]
        raise RuntimeError("the request failed after registering")

    assert waiting_tasks() == []
    assert run_pending_tasks() == 0
    assert not ReviewPair.objects.exists()
