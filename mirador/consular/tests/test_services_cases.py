"""Opening a case registers (or reuses) its person through people, audits, and queues the
matching; statuses move only along the allowed transitions, a closed case has its outcome;
actions are dated and audited; every wrong field is named at once."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from mirador.consular import selectors, services
from mirador.consular.models import ActionKind, CaseAction, CaseStatus, ConsularCase
from mirador.consular.tests.conftest import Consular
from mirador.core.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from mirador.core.models import AuditAction, AuditEntry
from mirador.flows.tasks import waiting_tasks
from mirador.people.models import Consent, ConsentPurpose, Person
from mirador.people.selectors import PERSON_OBJECT_TYPE

pytestmark = pytest.mark.django_db


def fields_of(error: pytest.ExceptionInfo[ValidationFailedError]) -> dict[str, list[str]]:
    fields = error.value.details["fields"]
    assert isinstance(fields, dict)
    return fields


def test_a_consular_officer_opens_a_case_and_its_person_is_registered_in_the_registry(
    consular: Consular,
) -> None:
    officer = consular.users["consular.hn"]
    case = consular.open()

    person = Person.objects.get(pk=case.person_id)
    assert (person.country_id, person.nationality_id, person.full_name) == (
        "HN",
        "HN",
        "Carlos Alberto Mejía Paz",
    )
    assert (case.status, case.case_type, case.place_country_id) == ("open", "detention", "MX")
    assert case.responsible == officer
    assert case.opened_on == timezone.localdate()
    consent = Consent.objects.get(person=person)
    assert (consent.purpose, consent.granted) == (ConsentPurpose.TRACING_MATCHING, True)
    assert AuditEntry.objects.filter(
        object_type=selectors.CASE_OBJECT_TYPE,
        object_id=str(case.pk),
        action=AuditAction.CREATE,
        actor=officer,
    ).exists()
    assert AuditEntry.objects.filter(
        object_type=PERSON_OBJECT_TYPE, object_id=str(person.pk), action=AuditAction.CREATE
    ).exists()
    # The matching, queued to run once the case commits.
    assert waiting_tasks() == ["mirador.consular.tasks.consular_case_match_task"]


def test_a_case_can_be_opened_for_a_person_already_in_the_registry(consular: Consular) -> None:
    returnee = consular.world.person("returnee", given_names="Óscar", first_surname="Reyes")

    case = consular.open(person_id=returnee.pk, case_type="documents")

    assert case.person_id == returnee.pk
    assert Person.objects.count() == 1


def test_every_wrong_field_is_named_at_once(consular: Consular) -> None:
    with pytest.raises(ValidationFailedError) as error:
        consular.open(
            consulate_id=consular.consulate_gt.pk,  # another country's consulate
            case_type="shipwreck",
            opened_on=timezone.localdate() + datetime.timedelta(days=1),
            place_country="ZZ",
            person=services.PersonData(given_names="Ana", first_surname="Cruz", birth_month=13),
            responsible=consular.users["officer.hn"],
        )

    fields = fields_of(error)
    assert fields["consulate_id"] == [str(services.UNKNOWN_CONSULATE)]
    assert fields["case_type"] == [str(selectors.UNKNOWN_CASE_TYPE)]
    assert fields["opened_on"] == [str(services.DATE_IN_FUTURE)]
    assert fields["responsible"] == [str(services.RESPONSIBLE_NOT_CASE_WORKER)]
    assert "place_country" in fields
    assert "birth_month" in fields
    assert not ConsularCase.objects.exists()
    assert not Person.objects.exists()


def test_a_case_needs_exactly_one_person(consular: Consular) -> None:
    returnee = consular.world.person("returnee")
    with pytest.raises(ValidationFailedError) as both:
        consular.open(
            person_id=returnee.pk,
            person=services.PersonData(given_names="Ana", first_surname="Cruz"),
        )
    assert fields_of(both)["person"] == [str(services.ONE_PERSON)]
    with pytest.raises(ValidationFailedError) as neither:
        services.case_open(
            actor=consular.users["consular.hn"],
            consulate_id=consular.consulate.pk,
            case_type="detention",
        )
    assert fields_of(neither)["person"] == [str(services.NO_PERSON)]


def test_a_person_the_officer_may_not_read_is_an_unknown_person(consular: Consular) -> None:
    guatemalan = consular.world.person("gt", country="GT")
    with pytest.raises(ValidationFailedError) as error:
        consular.open(person_id=guatemalan.pk)
    assert fields_of(error) == {"person_id": [str(services.UNKNOWN_PERSON)]}


@pytest.mark.parametrize("who", ["officer.hn", "caseworker.hn", "analyst.hn", "admin"])
def test_roles_that_work_no_cases_cannot_open_one(consular: Consular, who: str) -> None:
    with pytest.raises(PermissionDeniedError):
        consular.open(actor=who)

    assert not ConsularCase.objects.exists()
    assert not Person.objects.exists()
    assert AuditEntry.objects.filter(
        object_type=selectors.CASE_OBJECT_TYPE, action=AuditAction.DENIED
    ).exists()


def test_an_officer_of_another_country_sees_nothing(consular: Consular) -> None:
    case = consular.open()
    officer_gt = consular.users["consular.gt"]

    assert not selectors.cases_list(user=officer_gt).exists()
    with pytest.raises(NotFoundError):
        selectors.case_get(user=officer_gt, case_id=case.pk)
    with pytest.raises(NotFoundError):
        services.case_action_add(actor=officer_gt, case_id=case.pk, kind=ActionKind.CALL)
    with pytest.raises(NotFoundError):
        services.case_status_set(actor=officer_gt, case_id=case.pk, status="in-progress")
    assert AuditEntry.objects.filter(
        object_type=selectors.CASE_OBJECT_TYPE,
        object_id=str(case.pk),
        action=AuditAction.DENIED,
        actor=officer_gt,
    ).exists()


@pytest.mark.parametrize(
    ("fields", "flag"),
    [
        ({"case_type": "unaccompanied-child"}, "is_child"),
        (
            {
                "person": services.PersonData(
                    given_names="Kevin", first_surname="Álvarez", birth_year=2014
                )
            },
            "is_child",
        ),
        ({"case_type": "trafficking"}, "is_trafficking_victim"),
    ],
)
def test_a_childs_or_trafficking_victims_case_is_hidden_from_non_protection_roles(
    consular: Consular, fields: dict[str, Any], flag: str
) -> None:
    case = consular.open(**fields)

    assert getattr(Person.objects.get(pk=case.person_id), flag)
    for who in ("consular.hn", "officer.hn", "caseworker.hn"):
        assert not selectors.cases_visible_to(user=consular.users[who]).exists()
    with pytest.raises(NotFoundError):
        selectors.case_get(user=consular.users["consular.hn"], case_id=case.pk)
    protection = consular.users["protection.hn"]
    assert list(selectors.cases_list(user=protection)) == [case]
    assert selectors.case_get(user=protection, case_id=case.pk).person.pk == case.person_id


def test_a_child_case_on_a_registry_person_flags_the_record(consular: Consular) -> None:
    person = consular.world.person("kid", given_names="Kevin")

    consular.open(person_id=person.pk, case_type="unaccompanied-child")

    person.refresh_from_db()
    assert person.is_child


def test_reading_a_case_is_audited(consular: Consular) -> None:
    case = consular.open()
    officer = consular.users["consular.hn"]

    read = selectors.case_get(user=officer, case_id=case.pk)

    assert read.person.full_name == "Carlos Alberto Mejía Paz"
    assert AuditEntry.objects.filter(
        object_type=selectors.CASE_OBJECT_TYPE,
        object_id=str(case.pk),
        action=AuditAction.READ,
        actor=officer,
    ).exists()
    assert AuditEntry.objects.filter(
        object_type=PERSON_OBJECT_TYPE, object_id=str(case.person_id), action=AuditAction.READ
    ).exists()


def test_the_list_filters_by_status_type_and_consulate(consular: Consular) -> None:
    detention = consular.open()
    death = consular.open(
        case_type="death",
        person=services.PersonData(given_names="Luis", first_surname="Bonilla"),
    )
    services.case_status_set(
        actor=consular.users["consular.hn"], case_id=death.pk, status="referred"
    )
    officer = consular.users["consular.hn"]

    assert set(selectors.cases_list(user=officer)) == {detention, death}
    assert list(selectors.cases_list(user=officer, status="referred")) == [death]
    assert list(selectors.cases_list(user=officer, case_type="detention")) == [detention]
    assert not selectors.cases_list(user=officer, consulate_id=consular.consulate_gt.pk).exists()
    with pytest.raises(ValidationFailedError):
        selectors.cases_list(user=officer, status="lost")


def test_a_case_moves_along_its_transitions_and_closes_with_its_outcome(
    consular: Consular,
) -> None:
    case = consular.open()
    officer = consular.users["consular.hn"]

    services.case_status_set(actor=officer, case_id=case.pk, status="in-progress")
    services.case_status_set(actor=officer, case_id=case.pk, status="referred", note="Al DINAF")
    with pytest.raises(ValidationFailedError) as no_outcome:
        services.case_status_set(actor=officer, case_id=case.pk, status="closed")
    assert fields_of(no_outcome) == {"outcome": [str(services.OUTCOME_REQUIRED)]}
    closed = services.case_status_set(
        actor=officer, case_id=case.pk, status="closed", outcome="returned", note="Deportado"
    )

    assert (closed.status, closed.outcome, closed.closed_on) == (
        CaseStatus.CLOSED,
        "returned",
        timezone.localdate(),
    )
    logged = list(CaseAction.objects.filter(case=case).order_by("created_at"))
    assert [(a.kind, a.status) for a in logged] == [
        ("status", "in-progress"),
        ("status", "referred"),
        ("status", "closed"),
    ]
    assert (
        AuditEntry.objects.filter(
            object_type=selectors.CASE_OBJECT_TYPE,
            object_id=str(case.pk),
            action=AuditAction.UPDATE,
        ).count()
        == 3
    )

    reopened = services.case_status_set(actor=officer, case_id=case.pk, status="in-progress")
    assert (reopened.status, reopened.outcome, reopened.closed_on) == ("in-progress", "", None)


@pytest.mark.parametrize(
    ("path", "status", "outcome"),
    [
        ([], "open", ""),  # already open
        (["in-progress"], "open", ""),  # no way back to open
        ([], "in-progress", "assisted"),  # an outcome only when closing
        ([], "closed", "vanished"),
    ],
)
def test_transitions_outside_the_allowed_ones_are_refused(
    consular: Consular, path: list[str], status: str, outcome: str
) -> None:
    case = consular.open()
    officer = consular.users["consular.hn"]
    for step in path:
        services.case_status_set(actor=officer, case_id=case.pk, status=step)

    with pytest.raises(ValidationFailedError):
        services.case_status_set(actor=officer, case_id=case.pk, status=status, outcome=outcome)

    case.refresh_from_db()
    assert case.status == (path[-1] if path else "open")


def test_actions_are_logged_dated_and_audited(consular: Consular) -> None:
    case = consular.open(opened_on=timezone.localdate() - datetime.timedelta(days=3))
    officer = consular.users["consular.hn"]

    action = services.case_action_add(
        actor=officer,
        case_id=case.pk,
        kind=ActionKind.VISIT,
        taken_on=timezone.localdate() - datetime.timedelta(days=2),
        note="Visita en la estación migratoria",
    )

    assert selectors.case_actions(case=case) == [action]
    assert action.created_by == officer
    assert AuditEntry.objects.filter(
        object_type=services.ACTION_OBJECT_TYPE, object_id=str(action.pk), action="create"
    ).exists()


def test_a_wrong_action_is_refused(consular: Consular) -> None:
    case = consular.open(opened_on=timezone.localdate() - datetime.timedelta(days=3))
    officer = consular.users["consular.hn"]
    cases: list[tuple[dict[str, Any], str, object]] = [
        ({"kind": "teleport"}, "kind", services.UNKNOWN_ACTION),
        ({"kind": "status"}, "kind", services.UNKNOWN_ACTION),
        (
            {"kind": "call", "taken_on": timezone.localdate() + datetime.timedelta(days=1)},
            "taken_on",
            services.DATE_IN_FUTURE,
        ),
        (
            {"kind": "call", "taken_on": timezone.localdate() - datetime.timedelta(days=4)},
            "taken_on",
            services.ACTION_BEFORE_OPENING,
        ),
    ]
    for fields, name, message in cases:
        with pytest.raises(ValidationFailedError) as error:
            services.case_action_add(actor=officer, case_id=case.pk, **fields)
        assert fields_of(error) == {name: [str(message)]}
    services.case_status_set(actor=officer, case_id=case.pk, status="closed", outcome="assisted")
    with pytest.raises(ApplicationError) as closed:
        services.case_action_add(actor=officer, case_id=case.pk, kind="call")
    assert closed.value.message == str(services.CASE_CLOSED)
    assert CaseAction.objects.exclude(kind="status").count() == 0


def test_details_change_and_are_audited_by_field_name(consular: Consular) -> None:
    case = consular.open()
    officer = consular.users["consular.hn"]

    changed = services.case_update(
        actor=officer,
        case_id=case.pk,
        locality="Hospital General de Tapachula",
        responsible=consular.users["protection.hn"],
    )

    assert (changed.locality, changed.responsible) == (
        "Hospital General de Tapachula",
        consular.users["protection.hn"],
    )
    entry = AuditEntry.objects.filter(
        object_type=selectors.CASE_OBJECT_TYPE, action=AuditAction.UPDATE
    ).get()
    assert entry.details == {"fields": ["locality", "responsible"]}
