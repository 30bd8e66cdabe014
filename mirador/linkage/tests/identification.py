"""A small world for the review-queue and missing-person tests: the users of each role, the
Honduran and Guatemalan registries, a reception centre, and helpers that register arrivals,
reports and pairs through the real services."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django.utils import timezone

from mirador.accounts.models import Role, User
from mirador.core.models import Organisation, ReceptionCentre, Subdivision
from mirador.linkage.models import MissingPersonReport, ReviewPair, ReviewSource
from mirador.linkage.review import RecordRef, review_pair_propose
from mirador.people.models import Consent, ConsentPurpose, Person, Sex
from mirador.people.services import person_register
from mirador.returns.models import Arrival
from mirador.returns.services import IdentityData, arrival_register

REASONS = [
    {"comparison": "document_number", "level": "Null", "weight": 0.0},
    {"comparison": "given_names", "level": "All given names equal", "weight": 6.5},
    {"comparison": "birth_date", "level": "Day and month swapped", "weight": 4.2},
    {"comparison": "sex", "level": "All other comparisons", "weight": -3.0},
]


@dataclass
class Identification:
    users: dict[str, User]
    centre: ReceptionCentre
    persons: dict[str, Any] = field(default_factory=dict)

    def person(
        self,
        name: str,
        *,
        country: str = "HN",
        given_names: str = "Ana",
        first_surname: str = "López",
        is_child: bool = False,
        consent: bool | None = True,
        **fields: Any,
    ) -> Person:
        """A registry person, registered by the country's protection officer."""
        actor = self.users["protection.hn" if country == "HN" else "protection.gt"]
        person = person_register(
            actor=actor,
            country=actor.country,  # type: ignore[arg-type]
            given_names=given_names,
            first_surname=first_surname,
            is_child=is_child,
            reason="test",
            **fields,
        )
        if consent is not None:
            Consent.objects.create(
                person=person, purpose=ConsentPurpose.TRACING_MATCHING, granted=consent
            )
        self.persons[name] = person
        return person

    def reported(self, name: str, **fields: Any) -> Person:
        """A person reported missing (report row only: the service is tested on its own)."""
        person = self.person(name, consent=None, **fields)
        MissingPersonReport.objects.create(
            person=person,
            reported_on=timezone.localdate(),
            reporter_name="Rosa López",
            reporter_relationship="parent",
            responsible=self.users["consular.hn"],
        )
        return person

    def pair(self, a: str, b: str, *, probability: float = 0.97) -> ReviewPair:
        pair, _created = review_pair_propose(
            a=RecordRef.of(self.persons[a]),
            b=RecordRef.of(self.persons[b]),
            source=ReviewSource.LINKAGE_RUN,
            match_probability=probability,
            match_weight=9.0,
            reasons=REASONS,
        )
        return pair

    def arrival(self, identity: IdentityData, *, consent_tracing: bool = True) -> Arrival:
        return arrival_register(
            actor=self.users["officer.hn"],
            centre=self.centre,
            idempotency_key=str(uuid.uuid4()),
            identity=identity,
            consent_tracing=consent_tracing,
            arrived_at=timezone.now() - datetime.timedelta(minutes=10),
        )


def make_identification(
    make_user: Callable[..., User], make_organisation: Callable[..., Organisation]
) -> Identification:
    inm = make_organisation(country="HN", name="Instituto Nacional de Migración")
    dinaf = make_organisation(country="HN", name="DINAF")
    sre = make_organisation(country="HN", name="Secretaría de Relaciones Exteriores")
    pmh = make_organisation(country="HN", kind="civil-society", name="PMH")
    igm = make_organisation(country="GT", name="IGM")
    pgn = make_organisation(country="GT", name="PGN")
    users = {
        "officer.hn": make_user(username="officer.hn", organisation=inm),
        "protection.hn": make_user(
            username="protection.hn", role=Role.PROTECTION_OFFICER, organisation=dinaf
        ),
        "consular.hn": make_user(
            username="consular.hn", role=Role.CONSULAR_OFFICER, organisation=sre
        ),
        "caseworker.hn": make_user(
            username="caseworker.hn", role=Role.CASEWORKER, organisation=pmh
        ),
        "officer.gt": make_user(username="officer.gt", country="GT", organisation=igm),
        "protection.gt": make_user(
            username="protection.gt", role=Role.PROTECTION_OFFICER, country="GT", organisation=pgn
        ),
        "analyst.hn": make_user(
            username="analyst.hn", role=Role.NATIONAL_ANALYST, organisation=inm
        ),
        "admin": make_user(
            username="admin", role=Role.ADMINISTRATOR, country=None, is_superuser=True
        ),
    }
    subdivision, _ = Subdivision.objects.get_or_create(
        code="HN-T1",
        defaults={
            "country_id": "HN",
            "category": "department",
            "name_en": "Test department",
            "name_es": "Departamento de prueba",
        },
    )
    centre, _ = ReceptionCentre.objects.get_or_create(
        country_id="HN",
        name="Test airport centre HN",
        defaults={
            "subdivision": subdivision,
            "city": "Test city",
            "kind": "airport",
            "daily_capacity": 50,
        },
    )
    return Identification(users=users, centre=centre)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def identity(
    given_names: str,
    first_surname: str,
    second_surname: str = "",
    *,
    birth: tuple[int | None, int | None, int | None] = (1995, 4, 2),
    sex: str = Sex.MALE,
) -> IdentityData:
    year, month, day = birth
    return IdentityData(
        given_names=given_names,
        first_surname=first_surname,
        second_surname=second_surname,
        birth_year=year,
        birth_month=month,
        birth_day=day,
        sex=sex,
        nationality="HN",
    )
