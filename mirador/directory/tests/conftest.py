"""Fixtures of the directory tests: the returns tests' countries, centres and users (imported),
two provider organisations with a staff account each, a small directory built through the
real services, and arrivals of an adult and of a child at the Honduran airport centre."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone

from mirador.accounts.models import Role, User
from mirador.core.models import Country, Organisation, ReceptionCentre, Subdivision
from mirador.directory.models import Provider, Referral, Service
from mirador.directory.services import provider_create, referral_create, service_create
from mirador.returns.models import Arrival
from mirador.returns.services import IdentityData, arrival_register
from mirador.returns.tests.conftest import *  # noqa: F403 (countries, centres, users)


@dataclass(frozen=True)
class Directory:
    training: Service  # CADERH's, covering Cortés only
    training_public: Service  # INFOP's, whole country
    employment: Service  # no organisation answers it in Mirador
    shelter_gt: Service
    caderh: Provider
    infop: Provider


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(username="admin", role=Role.ADMINISTRATOR, country=None, is_superuser=True)


@pytest.fixture
def caderh_org(make_organisation: Callable[..., Organisation]) -> Organisation:
    return make_organisation(country="HN", kind="civil-society", name="CADERH")


@pytest.fixture
def infop_org(make_organisation: Callable[..., Organisation]) -> Organisation:
    return make_organisation(country="HN", name="INFOP")


@pytest.fixture
def staff(
    make_user: Callable[..., User], caderh_org: Organisation, infop_org: Organisation
) -> dict[str, User]:
    """Staff of the providers: CADERH (civil society) and INFOP (government)."""
    return {
        "caderh.hn": make_user(username="caderh.hn", role=Role.CASEWORKER, organisation=caderh_org),
        "infop.hn": make_user(username="infop.hn", role=Role.CASEWORKER, organisation=infop_org),
    }


def subdivision(code: str) -> Subdivision:
    return Subdivision.objects.get(code=code)


@pytest.fixture
def directory(admin: User, caderh_org: Organisation, infop_org: Organisation) -> Directory:
    honduras = Country.objects.get(pk="HN")
    guatemala = Country.objects.get(pk="GT")
    caderh = provider_create(
        actor=admin,
        name="Centro Asesor para el Desarrollo de los Recursos Humanos de Honduras",
        acronym="CADERH",
        sector="civil-society",
        country=honduras,
        organisation=caderh_org,
    )
    infop = provider_create(
        actor=admin,
        name="Instituto Nacional de Formación Profesional",
        acronym="INFOP",
        sector="public",
        country=honduras,
        organisation=infop_org,
    )
    employment_provider = provider_create(
        actor=admin, name="Servicio Nacional de Empleo", sector="public", country=honduras
    )
    shelter_provider = provider_create(
        actor=admin, name="Casa del Migrante", sector="civil-society", country=guatemala
    )
    return Directory(
        training=service_create(
            actor=admin,
            provider=caderh,
            category="training",
            name_es="Soldadura",
            name_en="Welding",
            subdivisions=[subdivision("HN-CR")],
            languages="es,en",
        ),
        training_public=service_create(
            actor=admin,
            provider=infop,
            category="training",
            name_es="Cursos técnicos",
            name_en="Technical courses",
            languages="es,cab",
        ),
        employment=service_create(
            actor=admin,
            provider=employment_provider,
            category="employment",
            name_es="Bolsa de empleo",
            name_en="Job board",
            subdivisions=[subdivision("HN-FM")],
        ),
        shelter_gt=service_create(
            actor=admin,
            provider=shelter_provider,
            category="shelter",
            name_es="Albergue",
            name_en="Shelter",
            languages="es,quc",
        ),
        caderh=caderh,
        infop=infop,
    )


def walk_in(
    officer: User, centre: ReceptionCentre, *, given_names: str, child: bool = False
) -> Arrival:
    today = timezone.localdate()
    return arrival_register(
        actor=officer,
        centre=centre,
        idempotency_key=f"walk-in-{uuid.uuid4().hex[:12]}",
        identity=IdentityData(
            given_names=given_names,
            first_surname="Zelaya",
            birth_year=today.year - 10 if child else 1985,
            sex="M",
            is_child=child,
        ),
    )


@pytest.fixture
def adult_arrival(users: dict[str, User], airport_hn: ReceptionCentre) -> Arrival:
    return walk_in(users["officer.hn"], airport_hn, given_names="Óscar")


@pytest.fixture
def child_arrival(users: dict[str, User], airport_hn: ReceptionCentre) -> Arrival:
    return walk_in(users["officer.hn"], airport_hn, given_names="Dayana", child=True)


@pytest.fixture
def in_a_week() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=7)


@pytest.fixture
def refer(in_a_week: datetime.date) -> Callable[..., Referral]:
    def make(actor: User, at: Arrival, service: Service, **extra: object) -> Referral:
        """Refer the person of arrival `at`, made at that arrival unless `arrival=` says
        otherwise (None: not made at reception)."""
        values: dict[str, object] = {"due_date": in_a_week, "consent_to_share": True, "arrival": at}
        values.update(extra)
        return referral_create(
            actor=actor,
            person=at.person,
            service=service,
            **values,  # type: ignore[arg-type]
        )

    return make
