"""Fixtures of the consular tests: the identification world of the linkage tests (users of
each role in Honduras and Guatemala, a reception centre, helpers that register arrivals and
reports through the real services), a Guatemalan consular officer, and a helper that opens
cases through the service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mirador.accounts.models import Role, User
from mirador.consular import services
from mirador.consular.models import ConsularCase
from mirador.core.models import Consulate
from mirador.linkage.tests.identification import Identification, make_identification


@dataclass
class Consular:
    world: Identification
    consulate: Consulate  # Honduras's consulate in Tapachula (reference data)
    consulate_gt: Consulate  # one of Guatemala's

    @property
    def users(self) -> dict[str, User]:
        return self.world.users

    def open(self, actor: str = "consular.hn", **fields: Any) -> ConsularCase:
        values: dict[str, Any] = {
            "consulate_id": self.consulate.pk,
            "case_type": "detention",
            "locality": "Estación Migratoria Siglo XXI",
            "description": "Detenido al cruzar; pide que se avise a su familia.",
            "consent_tracing": True,
        }
        if "person_id" not in fields:
            values["person"] = services.PersonData(
                given_names="Carlos Alberto",
                first_surname="Mejía",
                second_surname="Paz",
                birth_year=1990,
                birth_month=7,
                birth_day=21,
                sex="M",
            )
        values.update(fields)
        return services.case_open(actor=self.users[actor], **values)


@pytest.fixture
def consular(make_user: Any, make_organisation: Any, settings: Any) -> Consular:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MIRADOR_REQUIRE_TWO_FACTOR = False
    world = make_identification(make_user, make_organisation)
    minex = make_organisation(country="GT", name="MINEX")
    world.users["consular.gt"] = make_user(
        username="consular.gt", role=Role.CONSULAR_OFFICER, country="GT", organisation=minex
    )
    return Consular(
        world=world,
        consulate=Consulate.objects.get(
            sending_country_id="HN", host_country_id="MX", city="Tapachula"
        ),
        consulate_gt=Consulate.objects.get(
            sending_country_id="GT", host_country_id="US", city="Atlanta"
        ),
    )
