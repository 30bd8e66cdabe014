"""Fixtures of the screening tests: the returns tests' centres and users, and arrivals
registered through the real services (an adult, a child travelling alone; at a Honduran
centre)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.models import ReceptionCentre
from mirador.returns.models import Arrival
from mirador.returns.services import IdentityData, arrival_register

# The returns tests' fixtures: settings, countries, centres, users, signed-in clients.
from mirador.returns.tests.conftest import *  # noqa: F403

Users = dict[str, User]


@pytest.fixture
def register(users: Users, airport_hn: ReceptionCentre) -> Callable[..., Arrival]:
    def make(
        given_names: str = "Ana Lucía",
        *,
        birth_year: int = 1990,
        centre: ReceptionCentre | None = None,
        actor: User | None = None,
        **extra: Any,
    ) -> Arrival:
        return arrival_register(
            actor=actor or users["officer.hn"],
            centre=centre or airport_hn,
            idempotency_key=uuid.uuid4().hex,
            identity=IdentityData(
                given_names=given_names,
                first_surname="Reyes",
                birth_year=birth_year,
                sex="F",
                nationality=(centre or airport_hn).country_id,
            ),
            **extra,
        )

    return make


@pytest.fixture
def adult(register: Callable[..., Arrival]) -> Arrival:
    return register("Ana Lucía")


@pytest.fixture
def child(register: Callable[..., Arrival], users: Users) -> Arrival:
    # A child's record is opened by protection officers only; the reception officer
    # registers them (routed to protection as unaccompanied).
    return register("Dayana", birth_year=timezone.localdate().year - 12)
