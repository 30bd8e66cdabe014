"""Fixtures shared by every app's tests: users of each role, scoped to a country and an
organisation, built the same way the demo builds them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.utils import translation

from mirador.accounts.models import Role, User
from mirador.core.models import Country, Organisation, OrganisationType

# Published sample files (CBP, IOM, UN DESA, boundaries) are read where they are kept, beside
# the checkout, never copied into it; MIRADOR_SHARED_DATA points elsewhere when needed.
SHARED_DATA = Path(
    os.environ.get("MIRADOR_SHARED_DATA")
    or Path(__file__).resolve().parent.parent / "shared" / "data"
)


@pytest.fixture(autouse=True)
def messages_in_the_source_language() -> Iterator[None]:
    """Code called straight from a test speaks English, the source language, so that tests can
    compare messages; requests still get the language of their user, cookie or browser through
    the locale middleware, and tests of Spanish ask for it with translation.override("es")."""
    with translation.override("en"):
        yield


TEST_PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (test accounts only)


@pytest.fixture
def make_organisation(db: None) -> Callable[..., Organisation]:
    def make(
        *, country: str, kind: str = OrganisationType.GOVERNMENT, name: str = ""
    ) -> Organisation:
        kind_row, _ = OrganisationType.objects.get_or_create(
            code=kind, defaults={"name_en": kind, "name_es": kind}
        )
        organisation, _ = Organisation.objects.get_or_create(
            name=name or f"{kind} of {country}",
            country=Country.objects.get(pk=country),
            defaults={"kind": kind_row},
        )
        return organisation

    return make


@pytest.fixture
def make_user(db: None, make_organisation: Callable[..., Organisation]) -> Callable[..., User]:
    def make(
        *,
        username: str,
        role: str = Role.RECEPTION_OFFICER,
        country: str | None = "HN",
        organisation_kind: str = OrganisationType.GOVERNMENT,
        organisation: Organisation | None = None,
        is_superuser: bool = False,
        preferred_language: str = "en",
    ) -> User:
        if organisation is None and country is not None:
            organisation = make_organisation(country=country, kind=organisation_kind)
        return User.objects.create_user(
            username=username,
            password=TEST_PASSWORD,
            role=role,
            country_id=country,
            organisation=organisation,
            is_superuser=is_superuser,
            is_staff=is_superuser,
            preferred_language=preferred_language,
        )

    return make
