"""Fixtures shared by every app's tests: users of each role, scoped to a country and an
organisation, built the same way the demo builds them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mirador.accounts.models import Role, User
from mirador.core.models import Country, Organisation, OrganisationType

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
        )

    return make
