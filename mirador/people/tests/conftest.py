"""Fixtures of the people tests: the countries they use, a fast password hasher, signed-in
clients, and persons registered through the real service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from mirador.accounts.models import Role, User
from mirador.core.models import Country, Organisation, OrganisationType
from mirador.people.models import Person, Sex
from mirador.people.services import person_register, person_share

# alpha-2, alpha-3, numeric, English, Spanish. Loaded by core's reference-data migration; made
# here too so these tests do not depend on that file's contents.
COUNTRIES = [
    ("HN", "HND", "340", "Honduras", "Honduras"),
    ("GT", "GTM", "320", "Guatemala", "Guatemala"),
    ("SV", "SLV", "222", "El Salvador", "El Salvador"),
    ("MX", "MEX", "484", "Mexico", "México"),
    ("US", "USA", "840", "United States of America", "Estados Unidos de América"),
]


@pytest.fixture(autouse=True)
def people_test_settings(settings: Any, db: None) -> None:
    # Argon2 is deliberately slow; these tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MIRADOR_REQUIRE_TWO_FACTOR = False
    for alpha2, alpha3, numeric, name_en, name_es in COUNTRIES:
        Country.objects.get_or_create(
            alpha2=alpha2,
            defaults={"alpha3": alpha3, "numeric": numeric, "name_en": name_en, "name_es": name_es},
        )


@pytest.fixture
def signed_in() -> Callable[[User], Client]:
    """A browser-like client with `user` signed in."""

    def sign_in(user: User) -> Client:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return sign_in


@pytest.fixture
def registrar(make_user: Callable[..., User]) -> Callable[[str], User]:
    """The protection officer of a country, who may register any person there."""

    def get(country: str) -> User:
        existing = User.objects.filter(username=f"registrar.{country.lower()}").first()
        return existing or make_user(
            username=f"registrar.{country.lower()}", role=Role.PROTECTION_OFFICER, country=country
        )

    return get


@pytest.fixture
def make_person(registrar: Callable[[str], User]) -> Callable[..., Person]:
    """A person registered in `country`'s registry through `person_register`."""

    def make(
        *,
        country: str = "HN",
        given_names: str = "María José",
        first_surname: str = "Castillo",
        second_surname: str = "Reyes",
        birth_year: int | None = 1990,
        birth_month: int | None = 4,
        birth_day: int | None = 12,
        sex: str = Sex.FEMALE,
        nationality: str | None = None,
        actor: User | None = None,
        **extra: Any,
    ) -> Person:
        return person_register(
            actor=actor or registrar(country),
            country=Country.objects.get(pk=country),
            given_names=given_names,
            first_surname=first_surname,
            second_surname=second_surname,
            birth_year=birth_year,
            birth_month=birth_month,
            birth_day=birth_day,
            sex=sex,
            nationality=Country.objects.get(pk=nationality or country),
            reason="test fixture",
            **extra,
        )

    return make


@pytest.fixture
def share_with(registrar: Callable[[str], User]) -> Callable[[Person, Organisation], None]:
    def share(person: Person, organisation: Organisation) -> None:
        person_share(
            actor=registrar(person.country_id),
            person=person,
            organisation=organisation,
            reason="referred for psychosocial support",
        )

    return share


@pytest.fixture
def civil_society(make_organisation: Callable[..., Organisation]) -> Organisation:
    return make_organisation(
        country="HN", kind=OrganisationType.CIVIL_SOCIETY, name="Pastoral de Movilidad Humana"
    )
