"""The public directory search, and keeping the directory (who may edit which provider)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mirador.accounts.models import User
from mirador.core.errors import PermissionDeniedError, ValidationFailedError
from mirador.core.models import AuditEntry, Country, Organisation
from mirador.directory.models import Service
from mirador.directory.selectors import directory_providers, directory_services
from mirador.directory.services import (
    PROVIDER_OBJECT_TYPE,
    languages_normalised,
    provider_create,
    provider_update,
    service_create,
    service_update,
    subdivisions_from_codes,
)
from mirador.directory.tests.conftest import Directory, subdivision

pytestmark = pytest.mark.django_db


def names(services: object) -> set[str]:
    return {service.name_en for service in services}  # type: ignore[attr-defined]


def test_a_department_is_covered_by_services_listing_it_or_listing_none(
    directory: Directory,
) -> None:
    in_cortes = directory_services(subdivision="HN-CR")
    assert names(in_cortes) == {"Welding", "Technical courses"}
    in_francisco_morazan = directory_services(subdivision="hn-fm")
    assert names(in_francisco_morazan) == {"Technical courses", "Job board"}


def test_services_are_filtered_by_category_country_language_and_words(
    directory: Directory,
) -> None:
    assert names(directory_services(category="training")) == {"Welding", "Technical courses"}
    assert names(directory_services(country="GT")) == {"Shelter"}
    assert names(directory_services(language="cab")) == {"Technical courses"}
    assert names(directory_services(language="es")) == {
        "Welding",
        "Technical courses",
        "Job board",
        "Shelter",
    }
    assert names(directory_services(language="e")) == set()
    assert names(directory_services(text="soldad")) == {"Welding"}
    assert names(directory_services(text="caderh")) == {"Welding"}


def test_inactive_services_and_providers_are_not_listed(admin: User, directory: Directory) -> None:
    service_update(actor=admin, service=directory.training, is_active=False)
    provider_update(actor=admin, provider=directory.infop, is_active=False)

    assert names(directory_services()) == {"Job board", "Shelter"}
    assert directory.infop not in directory_providers(country="HN")


def test_a_provider_is_kept_by_administrators_and_its_own_staff_only(
    admin: User,
    staff: dict[str, User],
    users: dict[str, User],
    directory: Directory,
) -> None:
    updated = provider_update(
        actor=staff["caderh.hn"], provider=directory.caderh, phone="+504 2550-0000"
    )
    assert updated.phone == "+504 2550-0000"
    with pytest.raises(PermissionDeniedError):
        provider_update(actor=staff["caderh.hn"], provider=directory.infop, phone="1")
    with pytest.raises(PermissionDeniedError):
        provider_update(actor=users["officer.hn"], provider=directory.caderh, phone="1")
    with pytest.raises(PermissionDeniedError):
        service_update(actor=users["analyst.regional"], service=directory.training, contact="x")
    assert AuditEntry.objects.filter(object_type=PROVIDER_OBJECT_TYPE, action="denied").count() == 3


def test_staff_cannot_hand_their_provider_to_another_organisation(
    staff: dict[str, User], directory: Directory, infop_org: Organisation
) -> None:
    with pytest.raises(PermissionDeniedError):
        provider_update(actor=staff["caderh.hn"], provider=directory.caderh, organisation=infop_org)


def test_staff_add_a_service_to_their_provider(
    staff: dict[str, User], directory: Directory
) -> None:
    service = service_create(
        actor=staff["caderh.hn"],
        provider=directory.caderh,
        category="training",
        name_es="Electricidad",
        name_en="Electrical work",
        subdivisions=[subdivision("HN-AT")],
        languages=["es", "cab"],
    )
    assert list(service.subdivisions.values_list("code", flat=True)) == ["HN-AT"]
    assert service.language_codes == ["es", "cab"]


def test_coverage_must_be_in_the_providers_country(admin: User, directory: Directory) -> None:
    with pytest.raises(ValidationFailedError):
        service_update(actor=admin, service=directory.training, subdivisions=[subdivision("GT-01")])
    with pytest.raises(ValidationFailedError):
        subdivisions_from_codes(country_id="HN", codes=["GT-01"])
    with pytest.raises(ValidationFailedError):
        subdivisions_from_codes(country_id="HN", codes=["HN-XX"])


def test_language_codes_are_normalised_and_checked() -> None:
    assert languages_normalised("es, EN; cab es") == "es,en,cab"
    assert languages_normalised(["miq"]) == "miq"
    for wrong in ("", "español", "e$"):
        with pytest.raises(ValidationFailedError):
            languages_normalised(wrong)


def test_a_new_provider_with_an_unknown_sector_is_refused(admin: User) -> None:
    with pytest.raises(ValidationFailedError):
        provider_create(
            actor=admin, name="X", sector="church", country=Country.objects.get(pk="HN")
        )
    assert not Service.objects.exists()


@pytest.fixture
def many_services(admin: User, make_organisation: Callable[..., Organisation]) -> None:
    provider = provider_create(
        actor=admin, name="Many", sector="public", country=Country.objects.get(pk="HN")
    )
    for number in range(5):
        service_create(
            actor=admin,
            provider=provider,
            category="health",
            name_es=f"Servicio {number}",
            name_en=f"Service {number}",
            subdivisions=[subdivision("HN-CR"), subdivision("HN-AT")],
        )


def test_a_service_covering_several_departments_is_listed_once(many_services: None) -> None:
    assert directory_services().count() == 5
    assert directory_services(subdivision="HN-CR").count() == 5
