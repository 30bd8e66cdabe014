"""Document requests: a need noted once per person and kind, advanced one step at a time
(requested, issued, delivered) with the time and author of each step, cancelled with a
reason; the priority of children and trafficking victims; the audit log."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.utils import timezone

from mirador.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from mirador.core.models import AuditAction, AuditEntry
from mirador.documents.models import DocumentRequest, Priority, RequestStatus
from mirador.documents.services import (
    REQUEST_OBJECT_TYPE,
    RequestClosedError,
    StepNotAllowedError,
    document_need_record,
    document_request_advance,
    document_request_cancel,
)
from mirador.documents.tests.conftest import Users
from mirador.people.models import IdentityDocument, Person
from mirador.people.services import person_update
from mirador.returns.models import Arrival

pytestmark = pytest.mark.django_db

Need = Callable[..., DocumentRequest]


def _advance(row: DocumentRequest, users: Users, to: str, **extra: object) -> DocumentRequest:
    return document_request_advance(
        actor=users["officer.hn"],
        document_request=row,
        to_status=to,
        **extra,  # type: ignore[arg-type]
    )


def test_a_need_is_recorded_with_its_arrival_time_and_author(
    users: Users, adult_arrival: Arrival
) -> None:
    row, created = document_need_record(
        actor=users["officer.hn"],
        person=adult_arrival.person,
        kind="national-id",
        arrival=adult_arrival,
        note="  Lost at the border  ",
    )

    assert created
    assert row.status == RequestStatus.NEEDED
    assert row.needed_by == users["officer.hn"]
    assert timezone.now() - row.needed_at < datetime.timedelta(minutes=1)
    assert row.arrival == adult_arrival and row.note == "Lost at the border"
    assert row.priority == Priority.NORMAL
    entry = AuditEntry.objects.filter(object_type=REQUEST_OBJECT_TYPE).get()
    assert entry.action == AuditAction.CREATE and entry.object_id == str(row.pk)
    assert "Lost" not in str(entry.details)


def test_a_double_submission_gives_back_the_one_open_request(
    users: Users, adult_arrival: Arrival
) -> None:
    first, created_first = document_need_record(
        actor=users["officer.hn"], person=adult_arrival.person, kind="passport"
    )
    second, created_second = document_need_record(
        actor=users["protection.hn"], person=adult_arrival.person, kind="passport"
    )

    assert created_first and not created_second
    assert second.pk == first.pk
    assert DocumentRequest.objects.count() == 1


def test_another_kind_is_another_request_and_a_closed_one_does_not_block_a_new_need(
    users: Users, adult_arrival: Arrival, need: Need
) -> None:
    person = adult_arrival.person
    passport = need(person, "passport")
    need(person, "birth-certificate")
    document_request_cancel(actor=users["officer.hn"], document_request=passport, reason="dup")

    again, created = document_need_record(actor=users["officer.hn"], person=person, kind="passport")

    assert created and again.pk != passport.pk
    assert DocumentRequest.objects.filter(person=person).count() == 3


def test_an_unknown_kind_or_another_persons_arrival_is_refused(
    users: Users, adult_arrival: Arrival, make_arrival: Callable[..., Arrival]
) -> None:
    other = make_arrival("Marta", "Flores")
    with pytest.raises(ValidationFailedError) as unknown:
        document_need_record(
            actor=users["officer.hn"], person=adult_arrival.person, kind="consular-id"
        )
    with pytest.raises(ValidationFailedError) as mismatch:
        document_need_record(
            actor=users["officer.hn"],
            person=adult_arrival.person,
            kind="passport",
            arrival=other,
        )

    assert "kind" in unknown.value.details["fields"]  # type: ignore[operator]
    assert "arrival" in mismatch.value.details["fields"]  # type: ignore[operator]
    assert not DocumentRequest.objects.exists()


def test_each_step_records_when_and_who(users: Users, adult_arrival: Arrival, need: Need) -> None:
    row = need(adult_arrival.person, "national-id")

    row = _advance(row, users, "requested", issuing_authority="RNP Tegucigalpa")
    assert row.status == RequestStatus.REQUESTED
    assert row.requested_by == users["officer.hn"] and row.requested_at is not None
    assert row.issuing_authority == "RNP Tegucigalpa"

    row = document_request_advance(
        actor=users["protection.hn"], document_request=row, to_status="issued"
    )
    assert row.status == RequestStatus.ISSUED
    assert row.issued_by == users["protection.hn"] and row.issued_at is not None

    row = _advance(row, users, "delivered", delivery_place="Municipalidad de Choloma")
    stored = DocumentRequest.objects.get(pk=row.pk)
    assert stored.status == RequestStatus.DELIVERED
    assert stored.delivered_by == users["officer.hn"]
    assert stored.delivered_at is not None and stored.delivery_place == "Municipalidad de Choloma"
    assert stored.requested_at <= stored.issued_at <= stored.delivered_at  # type: ignore[operator]
    statuses = [
        entry.details["status"]
        for entry in AuditEntry.objects.filter(
            object_type=REQUEST_OBJECT_TYPE, action=AuditAction.UPDATE
        ).order_by("id")
    ]
    assert statuses == ["requested", "issued", "delivered"]


@pytest.mark.parametrize(
    ("steps_first", "refused"),
    [
        ([], "issued"),
        ([], "delivered"),
        (["requested"], "delivered"),
        (["requested"], "needed"),
        (["requested", "issued"], "requested"),
        (["requested", "issued"], "needed"),
    ],
)
def test_skipping_ahead_or_going_back_is_refused(
    users: Users, adult_arrival: Arrival, need: Need, steps_first: list[str], refused: str
) -> None:
    row = need(adult_arrival.person)
    for step in steps_first:
        row = _advance(row, users, step)

    with pytest.raises(StepNotAllowedError):
        _advance(row, users, refused)

    assert DocumentRequest.objects.get(pk=row.pk).status == (steps_first or ["needed"])[-1]


def test_asking_twice_for_the_same_step_changes_nothing(
    users: Users, adult_arrival: Arrival, need: Need
) -> None:
    row = _advance(need(adult_arrival.person), users, "requested")
    requested_at = row.requested_at

    again = _advance(row, users, "requested")

    assert again.status == RequestStatus.REQUESTED and again.requested_at == requested_at
    assert (
        AuditEntry.objects.filter(
            object_type=REQUEST_OBJECT_TYPE, action=AuditAction.UPDATE
        ).count()
        == 1
    )


def test_a_cancelled_request_cannot_advance_and_a_delivered_one_cannot_be_cancelled(
    users: Users, adult_arrival: Arrival, need: Need
) -> None:
    cancelled = document_request_cancel(
        actor=users["officer.hn"],
        document_request=need(adult_arrival.person, "passport"),
        reason="The person found their passport",
    )
    assert cancelled.status == RequestStatus.CANCELLED
    assert cancelled.cancelled_by == users["officer.hn"] and cancelled.cancelled_at is not None
    assert cancelled.cancel_reason == "The person found their passport"
    with pytest.raises(RequestClosedError):
        _advance(cancelled, users, "requested")

    delivered = need(adult_arrival.person, "birth-certificate")
    for step in ("requested", "issued", "delivered"):
        delivered = _advance(delivered, users, step)
    with pytest.raises(RequestClosedError):
        document_request_cancel(
            actor=users["officer.hn"], document_request=delivered, reason="mistake"
        )
    assert DocumentRequest.objects.get(pk=delivered.pk).status == RequestStatus.DELIVERED


def test_cancelling_needs_a_reason(users: Users, adult_arrival: Arrival, need: Need) -> None:
    row = need(adult_arrival.person)
    with pytest.raises(ValidationFailedError):
        document_request_cancel(actor=users["officer.hn"], document_request=row, reason="  ")
    assert DocumentRequest.objects.get(pk=row.pk).status == RequestStatus.NEEDED


def test_delivery_with_a_number_adds_the_document_to_the_persons_record(
    users: Users, adult_arrival: Arrival, need: Need
) -> None:
    """The number is kept on the request and the document joins the person's record, issued
    by their registry's country; the number is never written to the audit log."""
    row = need(adult_arrival.person, "national-id")
    row = _advance(row, users, "requested")
    row = _advance(row, users, "issued")

    row = _advance(row, users, "delivered", document_number=" 0801-1990-12345 ")

    assert DocumentRequest.objects.get(pk=row.pk).document_number == "0801-1990-12345"
    document = IdentityDocument.objects.get(person=adult_arrival.person)
    assert (document.kind, document.number) == ("national-id", "0801-1990-12345")
    assert document.issuing_country_id == adult_arrival.person.country_id
    # Delivering again (a double submission) adds nothing.
    _advance(row, users, "delivered", document_number="0801-1990-12345")
    assert IdentityDocument.objects.filter(person=adult_arrival.person).count() == 1
    logged = [str(entry.details) for entry in AuditEntry.objects.all()]
    assert not any("0801-1990-12345" in details for details in logged)


def test_a_number_before_delivery_is_refused(
    users: Users, adult_arrival: Arrival, need: Need
) -> None:
    row = need(adult_arrival.person, "passport")
    with pytest.raises(ValidationFailedError):
        _advance(row, users, "requested", document_number="E123")
    assert DocumentRequest.objects.get(pk=row.pk).status == RequestStatus.NEEDED


def test_children_and_trafficking_victims_get_priority_refreshed_on_each_step(
    users: Users, make_person: Callable[..., Person], need: Need, registrar: Callable[[str], object]
) -> None:
    child = make_person(given_names="Dayana", birth_year=timezone.localdate().year - 9)
    victim = make_person(given_names="Karla", is_trafficking_victim=True)
    adult = make_person(given_names="Wilmer")

    assert need(child).priority == Priority.FIRST
    assert need(victim).priority == Priority.FIRST
    row = need(adult)
    assert row.priority == Priority.NORMAL

    # Trafficking indicators found after the need was noted: the next step puts it first.
    person_update(
        actor=users["protection.hn"], person=adult, is_trafficking_victim=True, reason="screening"
    )
    row = document_request_advance(
        actor=users["protection.hn"], document_request=row, to_status="requested"
    )
    assert DocumentRequest.objects.get(pk=row.pk).priority == Priority.FIRST


def test_another_countrys_officer_gets_not_found_and_nothing_is_written(
    users: Users, adult_arrival: Arrival, need: Need
) -> None:
    row = need(adult_arrival.person)
    with pytest.raises(NotFoundError):
        document_need_record(
            actor=users["officer.gt"], person=adult_arrival.person, kind="passport"
        )
    with pytest.raises(NotFoundError):
        document_request_advance(
            actor=users["officer.gt"], document_request=row, to_status="requested"
        )
    with pytest.raises(NotFoundError):
        document_request_cancel(actor=users["officer.gt"], document_request=row, reason="x")

    assert DocumentRequest.objects.get().status == RequestStatus.NEEDED
    assert (
        AuditEntry.objects.filter(
            object_type=REQUEST_OBJECT_TYPE, action=AuditAction.DENIED
        ).count()
        == 3
    )


def test_a_reception_officer_may_not_record_a_childs_need_a_protection_officer_may(
    users: Users, child_arrival: Arrival
) -> None:
    with pytest.raises(NotFoundError):
        document_need_record(
            actor=users["officer.hn"], person=child_arrival.person, kind="birth-certificate"
        )
    row, created = document_need_record(
        actor=users["protection.hn"], person=child_arrival.person, kind="birth-certificate"
    )
    assert created and row.priority == Priority.FIRST


def test_a_caseworker_of_a_shared_organisation_may_not_change_requests(
    users: Users,
    adult_arrival: Arrival,
    need: Need,
    share_with: Callable[..., None],
) -> None:
    share_with(adult_arrival.person, users["caseworker.hn"].organisation)
    row = need(adult_arrival.person)

    with pytest.raises(PermissionDeniedError):
        document_need_record(
            actor=users["caseworker.hn"], person=adult_arrival.person, kind="passport"
        )
    with pytest.raises(PermissionDeniedError):
        document_request_advance(
            actor=users["caseworker.hn"], document_request=row, to_status="requested"
        )
    with pytest.raises(PermissionDeniedError):
        document_request_cancel(actor=users["caseworker.hn"], document_request=row, reason="x")
    assert DocumentRequest.objects.get().status == RequestStatus.NEEDED
