"""Consular cases as a source of missing-person matching: a new case whose person matches an
open report puts the pair in the review queue and alerts the report's responsible officer,
as a new return does; only with the person's consent (a deceased national's case without a
recorded refusal); never an enquiry about a missing relative or a closed case; a new report
searches the open cases too."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from mirador.consular import matching, services
from mirador.consular.tests.conftest import Consular
from mirador.flows.tasks import run_pending_tasks, waiting_tasks
from mirador.linkage import missing
from mirador.linkage.models import MatchAlert, MissingPersonReport, ReviewPair, ReviewSource
from mirador.people.models import Consent, ConsentPurpose
from mirador.people.services import consent_record
from mirador.returns.models import AlertStatus

pytestmark = pytest.mark.django_db

SOUGHT = services.PersonData(
    given_names="José Luis",
    first_surname="Hernández",
    second_surname="López",
    birth_year=1995,
    birth_month=4,
    birth_day=2,
    sex="M",
)


def file_report(consular: Consular) -> MissingPersonReport:
    return missing.missing_report_file(
        actor=consular.users["protection.hn"],
        given_names="José Luis",
        first_surname="Hernández",
        second_surname="López",
        birth_year=1995,
        sex="M",
        reporter_name="María López",
        reporter_relationship="parent",
        last_seen_on=timezone.localdate() - datetime.timedelta(days=90),
        last_seen_place="Tapachula, Chiapas",
    )


def open_and_match(consular: Consular, **fields: Any) -> tuple[Any, list[ReviewPair]]:
    case = consular.open(person=SOUGHT, **fields)
    # The request only queued the work.
    assert waiting_tasks() == ["mirador.consular.tasks.consular_case_match_task"]
    run_pending_tasks()
    return case, list(ReviewPair.objects.all())


def test_a_case_whose_person_matches_an_open_report_makes_a_pair_and_an_alert(
    consular: Consular,
) -> None:
    report = file_report(consular)
    run_pending_tasks()
    assert not ReviewPair.objects.exists()

    case, pairs = open_and_match(consular)

    (pair,) = pairs
    assert pair.source == ReviewSource.MISSING_PERSON
    assert pair.report == report
    assert {pair.left_person_id, pair.right_person_id} == {report.person_id, case.person_id}
    assert pair.match_probability >= missing.MISSING_MATCH_THRESHOLD
    alert = MatchAlert.objects.get()
    assert (alert.responsible, alert.status, alert.pair) == (
        consular.users["protection.hn"],
        AlertStatus.OPEN,
        pair,
    )
    assert missing.match_alerts_for(user=consular.users["protection.hn"]) == [alert]


@pytest.mark.parametrize("consent", [False, None])
def test_without_the_persons_consent_nothing_is_matched(
    consular: Consular, consent: bool | None
) -> None:
    file_report(consular)
    run_pending_tasks()

    case, pairs = open_and_match(consular, consent_tracing=consent)

    assert pairs == []
    assert matching.case_persons(country_id="HN", ids=[case.person_id]) == []


def test_a_deceased_national_is_matched_unless_a_refusal_is_recorded(consular: Consular) -> None:
    file_report(consular)
    run_pending_tasks()

    case, pairs = open_and_match(consular, case_type="death", consent_tracing=None)
    assert len(pairs) == 1

    Consent.objects.create(
        person_id=case.person_id, purpose=ConsentPurpose.TRACING_MATCHING, granted=False
    )
    assert matching.case_persons(country_id="HN", ids=[case.person_id]) == []


def test_an_enquiry_about_a_missing_relative_and_a_closed_case_are_not_matched(
    consular: Consular,
) -> None:
    file_report(consular)
    run_pending_tasks()

    enquiry, pairs = open_and_match(consular, case_type="missing-relative")
    assert pairs == []
    detention = consular.open(person_id=enquiry.person_id, case_type="detention")
    services.case_status_set(
        actor=consular.users["consular.hn"],
        case_id=detention.pk,
        status="closed",
        outcome="released",
    )
    assert matching.case_persons(country_id="HN") == []


def test_a_new_report_searches_the_open_cases(consular: Consular) -> None:
    case = consular.open(person=SOUGHT)
    run_pending_tasks()  # no report yet: nothing to match

    report = file_report(consular)
    run_pending_tasks()

    pair = ReviewPair.objects.get()
    assert {pair.left_person_id, pair.right_person_id} == {report.person_id, case.person_id}
    assert MatchAlert.objects.get().report == report


def test_a_childs_consent_recorded_later_by_protection_starts_the_matching(
    consular: Consular,
) -> None:
    report = missing.missing_report_file(
        actor=consular.users["protection.hn"],
        given_names="Yeferson",
        first_surname="Maradiaga",
        birth_year=timezone.localdate().year - 15,
        sex="M",
        reporter_name="Rosa Maradiaga",
        reporter_relationship="parent",
    )
    run_pending_tasks()
    child = services.PersonData(
        given_names="Yeferson",
        first_surname="Maradiaga",
        birth_year=timezone.localdate().year - 15,
        sex="M",
    )
    # The consular officer may not record a child's consent: nothing is matched yet.
    case = consular.open(person=child, case_type="unaccompanied-child")
    run_pending_tasks()
    assert not ReviewPair.objects.exists()
    assert not Consent.objects.filter(person_id=case.person_id).exists()

    consent_record(
        actor=consular.users["protection.hn"],
        person=case.person,
        purpose=ConsentPurpose.TRACING_MATCHING,
        granted=True,
    )
    run_pending_tasks()

    pair = ReviewPair.objects.get()
    assert pair.report == report
