"""Fixtures of the returns tests: two countries' reception centres, the users who work
there (or not), signed-in API clients, and manifests built through the real services."""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from mirador.accounts.models import Role, User
from mirador.core.models import Country, Organisation, ReceptionCentre, Subdivision
from mirador.returns.models import Manifest
from mirador.returns.services import manifest_create

COUNTRIES = [
    ("HN", "HND", "340", "Honduras", "Honduras"),
    ("GT", "GTM", "320", "Guatemala", "Guatemala"),
    ("MX", "MEX", "484", "Mexico", "México"),
    ("US", "USA", "840", "United States of America", "Estados Unidos de América"),
]

PASSENGER_COLUMNS = (
    "given_names",
    "first_surname",
    "second_surname",
    "birth_date",
    "sex",
    "nationality",
    "document_number",
)


@pytest.fixture(autouse=True)
def returns_test_settings(settings: Any, db: None) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MIRADOR_REQUIRE_TWO_FACTOR = False
    for alpha2, alpha3, numeric, name_en, name_es in COUNTRIES:
        Country.objects.get_or_create(
            alpha2=alpha2,
            defaults={"alpha3": alpha3, "numeric": numeric, "name_en": name_en, "name_es": name_es},
        )


def _centre(country: str, name: str, kind: str, capacity: int) -> ReceptionCentre:
    subdivision, _ = Subdivision.objects.get_or_create(
        code=f"{country}-T1",
        defaults={
            "country_id": country,
            "category": "department",
            "name_en": "Test department",
            "name_es": "Departamento de prueba",
        },
    )
    centre, _ = ReceptionCentre.objects.get_or_create(
        country_id=country,
        name=name,
        defaults={
            "subdivision": subdivision,
            "city": "Test city",
            "kind": kind,
            "daily_capacity": capacity,
        },
    )
    return centre


@pytest.fixture
def airport_hn() -> ReceptionCentre:
    return _centre("HN", "Test airport centre HN", "airport", 10)


@pytest.fixture
def border_hn() -> ReceptionCentre:
    return _centre("HN", "Test land-border centre HN", "land-border", 5)


@pytest.fixture
def airport_gt() -> ReceptionCentre:
    return _centre("GT", "Test airport centre GT", "airport", 10)


@pytest.fixture
def users(
    make_user: Callable[..., User], make_organisation: Callable[..., Organisation]
) -> dict[str, User]:
    inm = make_organisation(country="HN", name="Instituto Nacional de Migración")
    dinaf = make_organisation(country="HN", name="DINAF")
    igm = make_organisation(country="GT", name="IGM")
    pmh = make_organisation(country="HN", kind="civil-society", name="PMH")
    return {
        "officer.hn": make_user(username="officer.hn", organisation=inm),
        "officer.gt": make_user(username="officer.gt", country="GT", organisation=igm),
        "protection.hn": make_user(
            username="protection.hn", role=Role.PROTECTION_OFFICER, organisation=dinaf
        ),
        "caseworker.hn": make_user(
            username="caseworker.hn", role=Role.CASEWORKER, organisation=pmh
        ),
        "analyst.hn": make_user(
            username="analyst.hn", role=Role.NATIONAL_ANALYST, organisation=inm
        ),
        "analyst.gt": make_user(username="analyst.gt", role=Role.NATIONAL_ANALYST, country="GT"),
        "analyst.regional": make_user(
            username="analyst.regional", role=Role.REGIONAL_ANALYST, country=None
        ),
    }


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def sign_in(user: User) -> Client:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return sign_in


def today_at(hour: int, *, days: int = 0) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def passenger(
    given_names: str,
    first_surname: str,
    second_surname: str = "",
    *,
    birth_date: str = "1990-04-12",
    sex: str = "F",
    nationality: str = "HN",
    document_number: str = "",
) -> dict[str, str]:
    return {
        "given_names": given_names,
        "first_surname": first_surname,
        "second_surname": second_surname,
        "birth_date": birth_date,
        "sex": sex,
        "nationality": nationality,
        "document_number": document_number,
    }


def csv_bytes(
    rows: Sequence[dict[str, str]], *, columns: Sequence[str] = PASSENGER_COLUMNS
) -> bytes:
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return output.getvalue().encode("utf-8")


@pytest.fixture
def make_manifest(users: dict[str, User]) -> Callable[..., Manifest]:
    def make(
        centre: ReceptionCentre,
        passengers: Sequence[dict[str, str]],
        *,
        expected_at: datetime.datetime | None = None,
        reference: str = "",
        sending_country: str = "US",
        means: str = "air",
        actor: User | None = None,
    ) -> Manifest:
        return manifest_create(
            actor=actor or users["officer.hn"],
            centre=centre,
            sending_country=Country.objects.get(pk=sending_country),
            means=means,
            reference=reference or f"TST{uuid.uuid4().hex[:5]}",
            expected_at=expected_at or today_at(10),
            passengers=passengers,
        )

    return make
