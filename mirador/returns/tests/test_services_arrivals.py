"""Registering arrivals: from a manifest passenger or walk-in, idempotent, with family,
consent, unaccompanied minors routed to protection, contingency mode and assistance."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.utils import timezone

from mirador.accounts import permissions
from mirador.accounts.models import User
from mirador.core.errors import NotFoundError, PermissionDeniedError
from mirador.core.models import AuditEntry, ReceptionCentre
from mirador.people.models import Consent, ConsentPurpose, FamilyLink, Person
from mirador.returns.models import (
    AlertStatus,
    Arrival,
    AssistanceGiven,
    Manifest,
    MatchKey,
    ProtectionAlert,
)
from mirador.returns.selectors import protection_alerts_for
from mirador.returns.services import (
    IdentityData,
    PassengerAlreadyRegisteredError,
    arrival_complete,
    arrival_register,
    arrival_register_contingency,
    assistance_record,
    protection_alert_take,
)
from mirador.returns.tests.conftest import passenger

pytestmark = pytest.mark.django_db


def _child_birth_date(age: int) -> str:
    today = timezone.localdate()
    return f"{today.year - age}-01-01"


@pytest.fixture
def flight(airport_hn: ReceptionCentre, make_manifest: Callable[..., Manifest]) -> Manifest:
    return make_manifest(
        airport_hn,
        [
            passenger("Karla Yesenia", "Hernández", "Mejía", document_number="E1234567"),
            passenger("Wilmer", "Hernández", "Mejía", sex="M", birth_date="1988-07-01"),
            passenger("Dayana", "Hernández", "López", birth_date=_child_birth_date(9)),
            passenger("Brayan Josué", "Ramírez", "Cruz", sex="M", birth_date=_child_birth_date(15)),
            passenger("Ñandú", "D'Ávila-Ortiz", "Пётр"),
        ],
    )


def _register(user: User, flight: Manifest, row: int, key: str, **extra: object) -> Arrival:
    return arrival_register(
        actor=user,
        centre=flight.centre,
        idempotency_key=key,
        manifest_passenger=flight.passengers.get(row_number=row),
        **extra,  # type: ignore[arg-type]
    )


def test_registering_a_passenger_creates_the_person_prefilled_from_the_manifest(
    users: dict[str, User], flight: Manifest
) -> None:
    arrival = _register(
        users["officer.hn"],
        flight,
        1,
        "key-00000001",
        migration_reasons=["economic", "violence-insecurity"],
        consent_follow_up=True,
        consent_tracing=True,
    )

    person = arrival.person
    row = flight.passengers.get(row_number=1)
    assert (person.given_names, person.first_surname, person.second_surname) == (
        row.given_names,
        row.first_surname,
        row.second_surname,
    )
    assert person.country_id == "HN"
    assert [d.number for d in person.documents.all()] == ["E1234567"]
    assert arrival.returned_from_id == "US" and arrival.means == "air"
    assert arrival.migration_reasons == ["economic", "violence-insecurity"]
    consents = {c.purpose: c.granted for c in Consent.objects.filter(person=person)}
    assert consents == {
        ConsentPurpose.FOLLOW_UP_CONTACT: True,
        ConsentPurpose.TRACING_MATCHING: True,
    }
    assert MatchKey.objects.filter(person=person, key="doc:E1234567").exists()
    assert AuditEntry.objects.filter(object_type="returns.Arrival", object_id=str(arrival.pk))


def test_names_in_any_script_reach_the_person_exactly(
    users: dict[str, User], flight: Manifest
) -> None:
    person = _register(users["officer.hn"], flight, 5, "key-00000005").person
    assert (person.given_names, person.first_surname, person.second_surname) == (
        "Ñandú",
        "D'Ávila-Ortiz",
        "Пётр",
    )


def test_submitting_the_same_registration_twice_creates_one_arrival(
    users: dict[str, User], flight: Manifest
) -> None:
    first = _register(users["officer.hn"], flight, 1, "double-click-1")
    second = _register(users["officer.hn"], flight, 1, "double-click-1")

    assert first.pk == second.pk
    assert Arrival.objects.count() == 1
    assert (
        Person.objects.filter(first_surname="Hernández", given_names="Karla Yesenia").count() == 1
    )


def test_the_same_passenger_under_another_key_is_refused(
    users: dict[str, User], flight: Manifest
) -> None:
    _register(users["officer.hn"], flight, 1, "first-key-1")
    with pytest.raises(PassengerAlreadyRegisteredError):
        _register(users["officer.hn"], flight, 1, "second-key-2")
    assert Arrival.objects.count() == 1


def test_a_minor_travelling_alone_is_flagged_and_routed_to_protection_only(
    users: dict[str, User], flight: Manifest
) -> None:
    arrival = _register(users["officer.hn"], flight, 4, "minor-alone-1")

    assert arrival.is_minor and arrival.is_unaccompanied
    alert = ProtectionAlert.objects.get(arrival=arrival)
    assert alert.status == AlertStatus.OPEN and alert.country_id == "HN"
    assert arrival.person.is_child
    # The child's record and arrival follow the person's rules: protection only.
    assert not permissions.can_view_person(users["officer.hn"], arrival.person)
    assert [a.pk for a in protection_alerts_for(user=users["protection.hn"])] == [alert.pk]
    with pytest.raises(PermissionDeniedError):
        protection_alerts_for(user=users["officer.hn"])
    with pytest.raises(PermissionDeniedError):
        protection_alerts_for(user=users["caseworker.hn"])

    taken = protection_alert_take(actor=users["protection.hn"], alert=alert)
    assert taken.status == AlertStatus.ACKNOWLEDGED and taken.taken_by == users["protection.hn"]


def test_a_child_travelling_with_a_parent_is_not_unaccompanied(
    users: dict[str, User], flight: Manifest
) -> None:
    officer = users["officer.hn"]
    mother = _register(officer, flight, 1, "family-mother")
    father = _register(
        officer, flight, 2, "family-father", travelling_with=mother, relationship="spouse"
    )
    child = _register(
        officer, flight, 3, "family-child", travelling_with=mother, relationship="child"
    )

    assert father.travel_group == mother.travel_group == child.travel_group is not None
    assert child.is_minor and not child.is_unaccompanied
    assert not ProtectionAlert.objects.exists()
    # Adults are linked in people's registry; the child's link is left to protection, whose
    # role may change a child's record (the arrival keeps the relationship meanwhile).
    assert FamilyLink.objects.filter(person=father.person, relative=mother.person).exists()
    assert child.group_relationship == "child"


def test_a_minor_with_an_adult_who_is_not_a_parent_or_guardian_goes_to_protection(
    users: dict[str, User], flight: Manifest
) -> None:
    officer = users["officer.hn"]
    cousin = _register(officer, flight, 2, "separated-adult")
    minor = _register(
        officer, flight, 4, "separated-minor", travelling_with=cousin, relationship="other"
    )
    assert minor.is_unaccompanied
    assert ProtectionAlert.objects.filter(arrival=minor).exists()


def test_contact_details_for_a_known_person_are_refused_rather_than_dropped(
    users: dict[str, User], flight: Manifest
) -> None:
    from mirador.core.errors import ValidationFailedError
    from mirador.people.selectors import person_get
    from mirador.people.services import ContactData

    officer = users["officer.hn"]
    first = _register(officer, flight, 1, "known-first")
    with pytest.raises(ValidationFailedError):
        arrival_register(
            actor=officer,
            centre=flight.centre,
            idempotency_key="known-again",
            confirmed_person=person_get(user=officer, person_id=first.person_id),
            contacts=[ContactData(kind="phone", value="+504 2222-3333")],
        )


def test_an_officer_of_another_country_cannot_register_at_a_honduran_centre(
    users: dict[str, User], flight: Manifest
) -> None:
    with pytest.raises(PermissionDeniedError):
        _register(users["officer.gt"], flight, 1, "foreign-key-1")
    assert not Arrival.objects.exists()


def test_a_walk_in_not_on_any_manifest_is_registered(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    arrival = arrival_register(
        actor=users["officer.hn"],
        centre=airport_hn,
        idempotency_key="walk-in-0001",
        identity=IdentityData(given_names="Óscar", first_surname="Núñez", birth_year=1979, sex="M"),
        time_abroad="1-5-years",
    )
    assert arrival.manifest_passenger is None
    assert arrival.means == "air"  # an airport's arrivals came by air unless told otherwise
    assert arrival.person.first_surname == "Núñez"


def test_contingency_mode_takes_essential_fields_and_is_completed_later(
    users: dict[str, User], flight: Manifest
) -> None:
    officer = users["officer.hn"]
    arrival = arrival_register_contingency(
        actor=officer,
        centre=flight.centre,
        idempotency_key="contingency-1",
        given_names="Marvin",
        first_surname="Orellana",
        sex="M",
        birth_year=1995,
        manifest_passenger=flight.passengers.get(row_number=2),
    )
    assert arrival.is_contingency and arrival.needs_completion

    arrival_complete(
        actor=officer,
        arrival=arrival,
        time_abroad="6-12-months",
        migration_reasons=["family-reunification"],
        consent_follow_up=True,
        consent_tracing=False,
    )
    arrival.refresh_from_db()
    assert not arrival.needs_completion and arrival.completed_at is not None
    assert arrival.migration_reasons == ["family-reunification"]
    assert arrival.is_contingency  # it stays known that it was registered in contingency mode


def test_assistance_is_recorded_for_an_arrival_the_officer_may_read(
    users: dict[str, User], flight: Manifest
) -> None:
    officer = users["officer.hn"]
    adult = _register(officer, flight, 1, "assist-adult")
    child = _register(officer, flight, 4, "assist-child")

    assistance_record(actor=officer, arrival=adult, kind="food", quantity=2)
    assistance_record(actor=officer, arrival=adult, kind="hygiene-kit")
    with pytest.raises(NotFoundError):
        assistance_record(actor=officer, arrival=child, kind="food")
    assistance_record(actor=users["protection.hn"], arrival=child, kind="psychosocial-first-aid")

    given = AssistanceGiven.objects.filter(arrival__centre=flight.centre)
    assert sorted((a.kind, a.quantity) for a in given) == [
        ("food", 2),
        ("hygiene-kit", 1),
        ("psychosocial-first-aid", 1),
    ]


def test_an_arrival_in_the_future_is_refused(users: dict[str, User], flight: Manifest) -> None:
    from mirador.core.errors import ValidationFailedError

    with pytest.raises(ValidationFailedError):
        _register(
            users["officer.hn"],
            flight,
            1,
            "future-key-1",
            arrived_at=timezone.now() + datetime.timedelta(days=1),
        )
