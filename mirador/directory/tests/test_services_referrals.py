"""Referral services: made with consent, shared with the provider, answered by the provider's
staff, each transition checked, refused where they must be, audited."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from mirador.accounts import permissions
from mirador.accounts.models import User
from mirador.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from mirador.core.models import AuditEntry
from mirador.directory import services
from mirador.directory.models import Referral, ReferralStatus
from mirador.directory.selectors import first_referral_times, referral_counts, referrals_list
from mirador.directory.services import (
    CONSENT_REQUIRED,
    DECLINE_REASON_REQUIRED,
    DUE_DATE_IN_PAST,
    REFERRAL_OBJECT_TYPE,
    ConsentRequiredError,
    ReferralStatusError,
    referral_accept,
    referral_cancel,
    referral_complete,
    referral_create,
    referral_decline,
    service_update,
)
from mirador.directory.tests.conftest import Directory
from mirador.people.models import PersonShare
from mirador.returns.models import Arrival

pytestmark = pytest.mark.django_db
Refer = Callable[..., Referral]


def field_errors(error: ValidationFailedError) -> dict[str, list[str]]:
    fields = error.details["fields"]
    assert isinstance(fields, dict)
    return fields


def test_an_officer_refers_an_adult_and_the_record_is_shared_with_the_provider(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    person = adult_arrival.person
    assert not permissions.can_view_person(staff["caderh.hn"], person)

    referral = refer(users["officer.hn"], adult_arrival, directory.training, note="Soldador")

    assert referral.status == ReferralStatus.SENT
    assert referral.sender == users["officer.hn"]
    assert referral.sender_organisation == users["officer.hn"].organisation
    share = PersonShare.objects.get(person=person, organisation=directory.caderh.organisation)
    assert str(referral.pk) in share.reason
    assert permissions.can_view_person(staff["caderh.hn"], person)
    entry = AuditEntry.objects.get(object_type=REFERRAL_OBJECT_TYPE, action="create")
    assert entry.object_id == str(referral.pk)
    assert "Soldador" not in str(entry.details)


def test_consent_to_share_is_required(
    users: dict[str, User], directory: Directory, adult_arrival: Arrival, refer: Refer
) -> None:
    with pytest.raises(ConsentRequiredError) as refused:
        refer(users["officer.hn"], adult_arrival, directory.training, consent_to_share=False)
    assert field_errors(refused.value)["consent_to_share"] == [str(CONSENT_REQUIRED)]
    assert not Referral.objects.exists()
    assert not PersonShare.objects.exists()


def test_a_due_date_in_the_past_is_refused(
    users: dict[str, User], directory: Directory, adult_arrival: Arrival, refer: Refer
) -> None:
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with pytest.raises(ValidationFailedError) as refused:
        refer(users["officer.hn"], adult_arrival, directory.training, due_date=yesterday)
    assert field_errors(refused.value)["due_date"] == [str(DUE_DATE_IN_PAST)]
    today = timezone.localdate()
    assert refer(users["officer.hn"], adult_arrival, directory.training, due_date=today)


def test_submitting_the_same_referral_twice_gives_one_referral(
    users: dict[str, User], directory: Directory, adult_arrival: Arrival, refer: Refer
) -> None:
    first = refer(users["officer.hn"], adult_arrival, directory.training)
    again = refer(users["officer.hn"], adult_arrival, directory.training)

    assert again.pk == first.pk
    assert Referral.objects.count() == 1
    assert PersonShare.objects.count() == 1


def test_a_double_submission_racing_past_the_check_still_gives_one_referral(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = refer(users["officer.hn"], adult_arrival, directory.training)
    # The second submission checks for an open referral before the first one is stored (two
    # requests at once): the database's constraint stops it, and the open one comes back.
    real = services._open_referral
    calls: list[object] = []

    def not_yet_stored(**kwargs: object) -> Referral | None:
        calls.append(kwargs)
        return None if len(calls) == 1 else real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_open_referral", not_yet_stored)
    again = refer(users["officer.hn"], adult_arrival, directory.training)

    assert again.pk == first.pk
    assert Referral.objects.count() == 1


def test_a_closed_referral_does_not_stop_a_new_one(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    first = refer(users["officer.hn"], adult_arrival, directory.training)
    referral_decline(actor=staff["caderh.hn"], referral=first, reason="Curso lleno")

    second = refer(users["officer.hn"], adult_arrival, directory.training)

    assert second.pk != first.pk
    assert Referral.objects.count() == 2


def test_the_provider_accepts_then_completes(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    referral = refer(users["officer.hn"], adult_arrival, directory.training)

    accepted = referral_accept(actor=staff["caderh.hn"], referral=referral)
    assert accepted.status == ReferralStatus.ACCEPTED
    assert accepted.answered_by == staff["caderh.hn"]
    assert accepted.answered_at is not None

    completed = referral_complete(actor=staff["caderh.hn"], referral=referral, note="Inscrito")
    assert completed.status == ReferralStatus.COMPLETED
    assert completed.completion_note == "Inscrito"
    transitions = [
        (entry.details["from"], entry.details["to"])
        for entry in AuditEntry.objects.filter(
            object_type=REFERRAL_OBJECT_TYPE, action="update"
        ).order_by("id")
    ]
    assert transitions == [("sent", "accepted"), ("accepted", "completed")]


def test_a_decline_needs_a_reason_which_the_sender_reads(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    referral = refer(users["officer.hn"], adult_arrival, directory.training)
    with pytest.raises(ValidationFailedError) as refused:
        referral_decline(actor=staff["caderh.hn"], referral=referral, reason="  ")
    assert field_errors(refused.value)["reason"] == [str(DECLINE_REASON_REQUIRED)]

    referral_decline(actor=staff["caderh.hn"], referral=referral, reason="Curso lleno")

    seen_by_sender = referrals_list(user=users["officer.hn"], box="sent").get()
    assert seen_by_sender.status == ReferralStatus.DECLINED
    assert seen_by_sender.decline_reason == "Curso lleno"


@pytest.mark.parametrize(
    ("closed_by", "then"),
    [
        ("decline", "complete"),
        ("decline", "accept"),
        ("complete", "decline"),
        ("complete", "accept"),
        ("cancel", "accept"),
        ("cancel", "complete"),
    ],
)
def test_a_closed_referral_cannot_change_again(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
    closed_by: str,
    then: str,
) -> None:
    referral = refer(users["officer.hn"], adult_arrival, directory.training)
    provider_staff = staff["caderh.hn"]
    actions = {
        "accept": lambda: referral_accept(actor=provider_staff, referral=referral),
        "decline": lambda: referral_decline(actor=provider_staff, referral=referral, reason="No"),
        "complete": lambda: referral_complete(actor=provider_staff, referral=referral),
        "cancel": lambda: referral_cancel(actor=users["officer.hn"], referral=referral),
    }
    actions[closed_by]()
    status = Referral.objects.get(pk=referral.pk).status

    with pytest.raises(ReferralStatusError):
        actions[then]()
    assert Referral.objects.get(pk=referral.pk).status == status


def test_an_accepted_referral_cannot_be_accepted_again(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    referral = refer(users["officer.hn"], adult_arrival, directory.training)
    referral_accept(actor=staff["caderh.hn"], referral=referral)
    with pytest.raises(ReferralStatusError):
        referral_accept(actor=staff["caderh.hn"], referral=referral)


def test_the_sender_cancels_but_does_not_answer(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    referral = refer(users["officer.hn"], adult_arrival, directory.training)
    with pytest.raises(PermissionDeniedError):
        referral_accept(actor=users["officer.hn"], referral=referral)
    with pytest.raises(PermissionDeniedError):
        referral_cancel(actor=staff["caderh.hn"], referral=referral)

    assert referral_cancel(actor=users["officer.hn"], referral=referral).status == "cancelled"
    assert AuditEntry.objects.filter(object_type=REFERRAL_OBJECT_TYPE, action="denied").count() == 2


def test_staff_of_another_provider_cannot_answer_and_do_not_see_it(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    referral = refer(users["officer.hn"], adult_arrival, directory.training)
    # INFOP is a government organisation: its staff read Honduras's registry, but the
    # referral is neither theirs to answer nor to see.
    with pytest.raises(NotFoundError):
        referral_accept(actor=staff["infop.hn"], referral=referral)
    assert not referrals_list(user=staff["infop.hn"], box="received").exists()


def test_an_officer_of_another_country_cannot_refer_a_honduran(
    users: dict[str, User], directory: Directory, adult_arrival: Arrival, refer: Refer
) -> None:
    with pytest.raises(NotFoundError):
        refer(users["officer.gt"], adult_arrival, directory.training, arrival=None)
    assert not Referral.objects.exists()
    assert AuditEntry.objects.filter(object_type=REFERRAL_OBJECT_TYPE, action="denied").exists()


def test_a_caseworker_following_the_person_refers_them_and_the_provider_may_then_read_it(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    """A caseworker may not share a record at will, but taking the person to a service they
    consented to be referred to is their work: the record goes to that provider only."""
    caseworker = users["caseworker.hn"]
    assert caseworker.organisation is not None
    person = adult_arrival.person
    PersonShare.objects.create(person=person, organisation=caseworker.organisation, reason="test")
    provider_staff = staff["caderh.hn"]
    assert not permissions.can_view_person(provider_staff, person)

    referral = refer(caseworker, adult_arrival, directory.training, arrival=None)

    assert referral.status == "sent"
    assert PersonShare.objects.filter(
        person=person, organisation=directory.training.provider.organisation
    ).exists()
    assert permissions.can_view_person(provider_staff, person)
    # Sharing outside a referral stays refused to caseworkers.
    assert not permissions.can_share_person(caseworker, person)


def test_an_inactive_service_takes_no_referrals(
    users: dict[str, User],
    admin: User,
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    service_update(actor=admin, service=directory.training, is_active=False)
    with pytest.raises(ValidationFailedError):
        refer(users["officer.hn"], adult_arrival, directory.training)


def test_the_arrival_must_be_the_persons(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    child_arrival: Arrival,
) -> None:
    with pytest.raises(ValidationFailedError):
        referral_create(
            actor=users["protection.hn"],
            person=adult_arrival.person,
            arrival=child_arrival,
            service=directory.training,
            due_date=timezone.localdate(),
            consent_to_share=True,
        )


def test_overdue_referrals_are_those_past_due_and_still_open(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    officer = users["officer.hn"]
    late = refer(officer, adult_arrival, directory.training)
    late_accepted = refer(officer, adult_arrival, directory.training_public)
    late_but_done = refer(officer, adult_arrival, directory.employment)
    on_time = refer(officer, adult_arrival, directory.shelter_gt)
    referral_accept(actor=staff["infop.hn"], referral=late_accepted)
    # Completed by its provider's staff: none in Mirador, so set as a provider would.
    Referral.objects.filter(pk=late_but_done.pk).update(status=ReferralStatus.COMPLETED)
    past = timezone.localdate() - datetime.timedelta(days=2)
    Referral.objects.filter(pk__in=[late.pk, late_accepted.pk, late_but_done.pk]).update(
        due_date=past
    )

    overdue = set(referrals_list(user=officer, box="sent", overdue=True))
    assert overdue == {late, late_accepted}
    assert on_time not in overdue
    counts = referral_counts(user=officer)
    assert (counts.sent_open, counts.sent_overdue) == (3, 2)
    assert referral_counts(user=staff["caderh.hn"]).received_overdue == 1
    assert Referral.objects.get(pk=late.pk).is_overdue


def test_a_referral_is_overdue_by_the_calendar_of_the_deployments_time_zone(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
    settings: Any,
) -> None:
    # Kiritimati (UTC+14) is always a day or two ahead of Pago Pago (UTC-11): a referral due
    # today in Pago Pago is overdue in Kiritimati's calendar, and on time in its own.
    officer = users["officer.hn"]
    referral = refer(officer, adult_arrival, directory.training)
    pago_pago_today = timezone.localdate(timezone=ZoneInfo("Pacific/Pago_Pago"))
    Referral.objects.filter(pk=referral.pk).update(due_date=pago_pago_today)

    for zone, overdue in (("Pacific/Pago_Pago", False), ("Pacific/Kiritimati", True)):
        settings.TIME_ZONE = zone
        assert Referral.objects.get(pk=referral.pk).is_overdue is overdue
        listed = set(referrals_list(user=officer, box="sent", overdue=True))
        assert (referral in listed) is overdue


def test_first_referral_times_give_the_earliest_referral_of_each_arrival(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
) -> None:
    first = refer(users["officer.hn"], adult_arrival, directory.training)
    second = refer(users["officer.hn"], adult_arrival, directory.employment)
    Referral.objects.filter(pk=second.pk).update(
        created_at=first.created_at + datetime.timedelta(hours=1)
    )
    refer(users["officer.hn"], adult_arrival, directory.shelter_gt, arrival=None)

    times = first_referral_times(arrival_ids=[adult_arrival.pk, "not-a-uuid"])

    assert times == {adult_arrival.pk: Referral.objects.get(pk=first.pk).created_at}
    assert first_referral_times(arrival_ids=[]) == {}
