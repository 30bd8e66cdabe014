"""Fixtures of the documents tests: the returns tests' countries, centres and users (officer.hn,
officer.gt, protection.hn, caseworker.hn, the analysts), persons and arrivals registered
through the real services, and needs recorded through this app's service."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.models import ReceptionCentre
from mirador.documents.models import DocumentRequest
from mirador.documents.services import document_need_record
from mirador.people.models import Person
from mirador.people.tests import conftest as people_fixtures
from mirador.returns.models import Arrival
from mirador.returns.services import IdentityData, arrival_register
from mirador.returns.tests import conftest as returns_fixtures

# The people and returns tests' fixtures, made available here under the same names.
people_test_settings = people_fixtures.people_test_settings
registrar = people_fixtures.registrar
make_person = people_fixtures.make_person
share_with = people_fixtures.share_with
returns_test_settings = returns_fixtures.returns_test_settings
users = returns_fixtures.users
client_for = returns_fixtures.client_for
airport_hn = returns_fixtures.airport_hn
airport_gt = returns_fixtures.airport_gt
border_hn = returns_fixtures.border_hn

Users = dict[str, User]


@pytest.fixture
def make_arrival(users: Users, airport_hn: ReceptionCentre) -> Callable[..., Arrival]:
    """A walk-in's arrival at the Honduran airport centre, registered by `actor` (the
    protection officer by default, who may register and read children too)."""

    def make(
        given_names: str = "Ana Lucía",
        first_surname: str = "Reyes",
        *,
        birth_year: int = 1990,
        is_child: bool = False,
        centre: ReceptionCentre | None = None,
        actor: User | None = None,
    ) -> Arrival:
        return arrival_register(
            actor=actor or users["protection.hn"],
            centre=centre or airport_hn,
            idempotency_key=uuid.uuid4().hex,
            arrived_at=timezone.now(),
            identity=IdentityData(
                given_names=given_names,
                first_surname=first_surname,
                birth_year=birth_year,
                sex="F",
                nationality="HN",
                is_child=is_child,
            ),
        )

    return make


@pytest.fixture
def adult_arrival(make_arrival: Callable[..., Arrival]) -> Arrival:
    return make_arrival("Ana Lucía", "Reyes", birth_year=1990)


@pytest.fixture
def child_arrival(make_arrival: Callable[..., Arrival]) -> Arrival:
    return make_arrival("Dayana", "Hernández", birth_year=timezone.localdate().year - 9)


@pytest.fixture
def need(users: Users) -> Callable[..., DocumentRequest]:
    """Record a need through the service (the protection officer by default)."""

    def record(
        person: Person,
        kind: str = "birth-certificate",
        *,
        arrival: Arrival | None = None,
        actor: User | None = None,
    ) -> DocumentRequest:
        row, _created = document_need_record(
            actor=actor or users["protection.hn"], person=person, kind=kind, arrival=arrival
        )
        return row

    return record
