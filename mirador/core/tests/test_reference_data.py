"""Reference data: what the migrations load, how the loader updates it, and the admin over it."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pycountry
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from mirador.accounts.models import Role, User
from mirador.core import reference_data
from mirador.core.models import (
    Consulate,
    Country,
    Organisation,
    OrganisationType,
    RcmStatus,
    ReceptionCentre,
    ReceptionCentreKind,
    Subdivision,
)
from mirador.core.reference_data import ReferenceDataError, load_reference_data

pytestmark = pytest.mark.django_db

RCM_MEMBER_NAMES = {
    "Belize",
    "Canada",
    "Costa Rica",
    "Dominican Republic",
    "El Salvador",
    "Guatemala",
    "Honduras",
    "Mexico",
    "Nicaragua",
    "Panama",
    "United States",
}
RCM_OBSERVER_NAMES = {"Argentina", "Colombia", "Ecuador", "Jamaica", "Peru"}


def snapshot() -> dict[str, list[dict[str, object]]]:
    """Every reference row, every column, in a stable order."""
    models = [OrganisationType, Country, Subdivision, Organisation, ReceptionCentre, Consulate]
    return {
        model.__name__: list(model._default_manager.order_by("pk").values()) for model in models
    }


# --- countries -------------------------------------------------------------------------------


def test_every_iso_3166_1_country_is_loaded_by_the_migrations() -> None:
    expected = {country.alpha_2 for country in pycountry.countries}
    assert set(Country.objects.values_list("alpha2", flat=True)) == expected


def test_countries_carry_iso_alpha3_and_numeric_codes() -> None:
    honduras = Country.objects.get(pk="HN")
    assert (honduras.alpha3, honduras.numeric) == ("HND", "340")


@pytest.mark.parametrize(
    ("alpha2", "english", "spanish"),
    [
        ("MX", "Mexico", "México"),
        ("US", "United States", "Estados Unidos"),
        ("BZ", "Belize", "Belice"),
        ("DO", "Dominican Republic", "República Dominicana"),
        ("PA", "Panama", "Panamá"),
        ("KR", "South Korea", "Corea del Sur"),
        ("BO", "Bolivia", "Bolivia"),
        ("CI", "Côte d'Ivoire", "Costa de Marfil"),
    ],
)
def test_countries_are_named_in_english_and_spanish(
    alpha2: str, english: str, spanish: str
) -> None:
    country = Country.objects.get(pk=alpha2)
    assert (country.name_en, country.name_es) == (english, spanish)


def test_a_country_is_named_in_the_active_language() -> None:
    mexico = Country.objects.get(pk="MX")
    with translation.override("en"):
        assert str(mexico) == "Mexico"
    with translation.override("es"):
        assert str(mexico) == "México"


def test_rcm_members_and_observers_are_marked() -> None:
    members = set(
        Country.objects.filter(rcm_status=RcmStatus.MEMBER).values_list("name_en", flat=True)
    )
    observers = set(
        Country.objects.filter(rcm_status=RcmStatus.OBSERVER).values_list("name_en", flat=True)
    )
    assert (members, observers) == (RCM_MEMBER_NAMES, RCM_OBSERVER_NAMES)


def test_countries_outside_the_rcm_have_no_rcm_status() -> None:
    assert Country.objects.get(pk="BR").rcm_status == ""


# --- subdivisions ----------------------------------------------------------------------------


@pytest.mark.parametrize("alpha2", reference_data.RCM_MEMBERS)
def test_every_subdivision_of_each_member_state_is_loaded(alpha2: str) -> None:
    expected = {subdivision.code for subdivision in pycountry.subdivisions.get(country_code=alpha2)}
    loaded = set(Subdivision.objects.filter(country_id=alpha2).values_list("code", flat=True))
    assert expected and loaded == expected


def test_subdivisions_are_loaded_for_member_states_only() -> None:
    countries = set(Subdivision.objects.values_list("country_id", flat=True).distinct())
    assert countries == set(reference_data.RCM_MEMBERS)


def test_guatemala_has_its_22_departments_under_their_numeric_codes() -> None:
    departments = Subdivision.objects.filter(country_id="GT")
    assert sorted(departments.values_list("code", flat=True)) == [
        f"GT-{number:02d}" for number in range(1, 23)
    ]
    assert set(departments.values_list("category", flat=True)) == {"Department"}
    assert departments.get(code="GT-12").name_en == "San Marcos"


def test_subdivisions_are_named_in_spanish_where_the_catalogue_translates_them() -> None:
    new_york = Subdivision.objects.get(code="US-NY")
    cortes = Subdivision.objects.get(code="HN-CR")
    assert (new_york.name_en, new_york.name_es) == ("New York", "Nueva York")
    assert (cortes.name_en, cortes.name_es) == ("Cortés", "Cortés")


def test_dominican_provinces_sit_under_their_regions() -> None:
    santo_domingo = Subdivision.objects.get(code="DO-01")
    assert santo_domingo.parent is not None
    assert (santo_domingo.parent.code, santo_domingo.parent.category) == ("DO-40", "Region")


# --- organisations, centres, consulates ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "acronym", "kind", "country"),
    [
        ("Instituto Nacional de Migración", "INM", OrganisationType.GOVERNMENT, "HN"),
        (
            "Dirección de Niñez, Adolescencia y Familia",
            "DINAF",
            OrganisationType.GOVERNMENT,
            "HN",
        ),
        ("Pastoral de Movilidad Humana", "PMH", OrganisationType.CIVIL_SOCIETY, "HN"),
        ("Instituto Guatemalteco de Migración", "IGM", OrganisationType.GOVERNMENT, "GT"),
        (
            "Dirección General de Migración y Extranjería",
            "DGME",
            OrganisationType.GOVERNMENT,
            "SV",
        ),
        ("Instituto Nacional de Migración", "INM", OrganisationType.GOVERNMENT, "MX"),
        ("U.S. Immigration and Customs Enforcement", "ICE", OrganisationType.GOVERNMENT, "US"),
        (
            "Organización Internacional para las Migraciones",
            "OIM",
            OrganisationType.INTERNATIONAL,
            None,
        ),
    ],
)
def test_the_organisations_the_project_names_are_loaded(
    name: str, acronym: str, kind: str, country: str | None
) -> None:
    organisation = Organisation.objects.get(name=name, country_id=country)
    assert (organisation.acronym, organisation.kind_id) == (acronym, kind)


def test_organisation_types_are_named_in_both_languages() -> None:
    government = OrganisationType.objects.get(pk=OrganisationType.GOVERNMENT)
    assert (government.name_en, government.name_es) == ("Government", "Gobierno")
    assert set(OrganisationType.objects.values_list("code", flat=True)) == set(
        reference_data.ORGANISATION_TYPES
    )


@pytest.mark.parametrize(
    ("country", "name_contains", "kind", "subdivision"),
    [
        ("HN", "CAMR) San Pedro Sula", ReceptionCentreKind.AIRPORT, "HN-CR"),
        ("HN", "CAMR) Omoa", ReceptionCentreKind.LAND_BORDER, "HN-CR"),
        ("HN", "CANFM) Belén", ReceptionCentreKind.LAND_BORDER, "HN-CR"),
        ("GT", "Fuerza Aérea Guatemalteca", ReceptionCentreKind.AIRPORT, "GT-01"),
        ("GT", "Tecún Umán", ReceptionCentreKind.LAND_BORDER, "GT-12"),
        ("SV", "(CAIM)", ReceptionCentreKind.LAND_BORDER, "SV-SS"),
        ("SV", "Monseñor Óscar Arnulfo Romero", ReceptionCentreKind.AIRPORT, "SV-PA"),
    ],
)
def test_the_reception_centres_of_the_north_of_central_america_are_loaded(
    country: str, name_contains: str, kind: str, subdivision: str
) -> None:
    centre = ReceptionCentre.objects.get(country_id=country, name__contains=name_contains)
    assert (centre.kind, centre.subdivision_id) == (kind, subdivision)
    assert centre.capacity_is_illustrative and centre.daily_capacity > 0


@pytest.mark.parametrize(
    ("country", "time_zone"),
    [("HN", "America/Tegucigalpa"), ("GT", "America/Guatemala"), ("SV", "America/El_Salvador")],
)
def test_each_reception_centre_counts_its_days_in_its_countrys_time_zone(
    country: str, time_zone: str
) -> None:
    zones = set(
        ReceptionCentre.objects.filter(country_id=country).values_list("time_zone", flat=True)
    )
    assert zones == {time_zone}


def test_a_centre_row_without_a_time_zone_gets_its_countrys(tmp_path: Path) -> None:
    path = write(
        tmp_path, "centres.csv", CENTRES_HEADER + "GT,Centro nuevo,Xela,GT-09,airport,,50,true\n"
    )
    reference_data.load_reception_centres(apps, path=path)
    assert ReceptionCentre.objects.get(name="Centro nuevo").time_zone == "America/Guatemala"


def test_a_centre_row_with_an_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "centres.csv",
        CENTRES_HEADER.replace("\n", ",time_zone\n")
        + "HN,Centro X,Omoa,HN-CR,seaport,,100,true,America/Atlantis\n",
    )
    with pytest.raises(ReferenceDataError) as raised:
        reference_data.load_reception_centres(apps, path=path)
    assert (raised.value.row, raised.value.field) == (2, "time_zone")
    assert not ReceptionCentre.objects.filter(name="Centro X").exists()


def test_every_reception_centre_lies_in_a_subdivision_of_its_own_country() -> None:
    centres = ReceptionCentre.objects.select_related("subdivision", "operator")
    assert centres.exists()
    for centre in centres:
        assert centre.subdivision.country_id == centre.country_id, centre.name
        assert centre.operator is None or centre.operator.country_id == centre.country_id


def test_consulates_are_abroad_and_in_a_subdivision_of_their_host_country() -> None:
    consulates = Consulate.objects.select_related("host_subdivision")
    for consulate in consulates:
        assert consulate.sending_country_id != consulate.host_country_id
        if consulate.host_subdivision is not None:
            assert consulate.host_subdivision.country_id == consulate.host_country_id


def test_honduran_guatemalan_salvadoran_and_mexican_consulates_are_loaded() -> None:
    assert Consulate.objects.filter(sending_country="HN", host_country="US", city="Houston")
    assert Consulate.objects.filter(sending_country="GT", host_country="MX", city="Tapachula")
    assert Consulate.objects.filter(sending_country="SV", host_country="US", city="Los Angeles")
    assert Consulate.objects.filter(sending_country="MX", host_country="US", city="Chicago")


# --- the loader ------------------------------------------------------------------------------


def test_running_the_loader_again_changes_nothing() -> None:
    before = snapshot()
    for _ in range(2):
        results = load_reference_data(apps, update_existing=True)
        assert not any(counts.changed for counts in results.values()), results
    assert snapshot() == before


def test_the_loader_restores_a_country_name_from_pycountry() -> None:
    Country.objects.filter(pk="HN").update(name_es="Honduras (edited)")
    counts = reference_data.load_countries(apps)
    assert (counts.updated, Country.objects.get(pk="HN").name_es) == (1, "Honduras")


def test_the_loader_keeps_admin_edits_of_centres_unless_told_to_update_them() -> None:
    centre = ReceptionCentre.objects.get(name__contains="CAMR) Omoa")
    ReceptionCentre.objects.filter(pk=centre.pk).update(
        daily_capacity=123, capacity_is_illustrative=False
    )

    kept = reference_data.load_reception_centres(apps)
    assert kept.kept_as_edited == 1
    assert ReceptionCentre.objects.get(pk=centre.pk).daily_capacity == 123

    updated = reference_data.load_reception_centres(apps, update_existing=True)
    assert updated.updated == 1
    assert ReceptionCentre.objects.get(pk=centre.pk).daily_capacity == centre.daily_capacity


def test_the_loader_adds_a_row_missing_from_the_database() -> None:
    Consulate.objects.filter(sending_country="HN", city="Houston").delete()
    counts = reference_data.load_consulates(apps)
    assert counts.created == 1
    assert Consulate.objects.filter(sending_country="HN", city="Houston").exists()


def test_the_command_reloads_and_prints_counts() -> None:
    out = io.StringIO()
    call_command("load_reference_data", stdout=out)
    expected = f"countries: {len(pycountry.countries)} in source, 0 created, 0 updated"
    assert expected in out.getvalue()


# --- bad CSV rows ----------------------------------------------------------------------------

CENTRES_HEADER = (
    "country,name,city,subdivision,kind,operator,daily_capacity,capacity_is_illustrative\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "field", "problem"),
    [
        ("HN,Centro X,Omoa,GT-12,land-border,,100,true", "subdivision", "subdivision of GT"),
        ("HN,Centro X,Omoa,HN-XX,land-border,,100,true", "subdivision", "'HN-XX'"),
        ("HN,Centro X,Omoa,HN-CR,by-boat,,100,true", "kind", "'by-boat'"),
        ("HN,Centro X,Omoa,HN-CR,seaport,NOPE,100,true", "operator", "'NOPE'"),
        ("HN,Centro X,Omoa,HN-CR,seaport,,many,true", "daily_capacity", "'many'"),
        ("HN,Centro X,Omoa,HN-CR,seaport,,100,perhaps", "capacity_is_illustrative", "'perhaps'"),
        ("XX,Centro X,Omoa,HN-CR,seaport,,100,true", "country", "'XX'"),
        ("HN,,Omoa,HN-CR,seaport,,100,true", "name", "empty"),
        ("HN,Centro X,Omoa,HN-CR,seaport,,100", "capacity_is_illustrative", "7 fields"),
    ],
)
def test_a_bad_reception_centre_row_is_refused_naming_file_row_and_field(
    tmp_path: Path, row: str, field: str, problem: str
) -> None:
    path = write(tmp_path, "centres.csv", f"# a comment\n{CENTRES_HEADER}{row}\n")
    with pytest.raises(ReferenceDataError) as raised:
        reference_data.load_reception_centres(apps, path=path)
    error = raised.value
    assert (error.file, error.row, error.field) == ("centres.csv", 3, field)
    assert f"centres.csv, row 3, field '{field}'" in str(error)
    assert problem in error.problem


def test_a_bad_row_loads_nothing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "centres.csv",
        CENTRES_HEADER
        + "HN,Centro bueno,Omoa,HN-CR,seaport,,100,true\n"
        + "HN,Centro malo,Omoa,GT-12,seaport,,100,true\n",
    )
    with pytest.raises(ReferenceDataError):
        reference_data.load_reception_centres(apps, path=path)
    assert not ReceptionCentre.objects.filter(name="Centro bueno").exists()


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "organisations.csv", "name,acronym,kind,country\nX,X,government,HN\n")
    with pytest.raises(ReferenceDataError, match=r"organisations.csv, row 1, field 'website'"):
        reference_data.load_organisations(apps, path=path)


def test_a_bad_organisation_website_is_refused_by_the_model_validation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "organisations.csv",
        "name,acronym,kind,country,website\nX,X,government,HN,not a url\n",
    )
    with pytest.raises(ReferenceDataError, match=r"row 2, field 'website'"):
        reference_data.load_organisations(apps, path=path)


def test_a_repeated_consulate_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "consulates.csv",
        "sending_country,host_country,city,host_subdivision,is_embassy_section\n"
        "HN,US,Houston,US-TX,false\n"
        "HN,US,Houston,US-TX,false\n",
    )
    with pytest.raises(ReferenceDataError, match=r"row 3, field 'city': repeats the row 2"):
        reference_data.load_consulates(apps, path=path)


def test_the_command_reports_a_bad_row_as_a_command_error(tmp_path: Path) -> None:
    for name in ("organisations.csv", "consulates.csv"):
        write(tmp_path, name, (reference_data.DATA_DIR / name).read_text(encoding="utf-8"))
    write(tmp_path, "reception_centres.csv", CENTRES_HEADER + "HN,X,Omoa,HN-CR,x,,1,true\n")
    with pytest.raises(CommandError, match=r"reception_centres.csv, row 2, field 'kind'"):
        call_command("load_reference_data", data_dir=tmp_path, stdout=io.StringIO())


# --- the admin -------------------------------------------------------------------------------


def test_a_superuser_sees_the_reference_data_admin(
    client: Client, make_user: Callable[..., User]
) -> None:
    admin_user = make_user(
        username="admin", role=Role.ADMINISTRATOR, country=None, is_superuser=True
    )
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
    response = client.get("/admin/core/receptioncentre/", {"q": "Omoa"})
    assert response.status_code == 200
    assert "Omoa" in response.content.decode()
    assert client.get("/admin/core/country/", {"rcm_status": "observer"}).status_code == 200


def test_an_administrator_who_is_staff_may_use_the_admin_without_django_permissions(
    client: Client, make_user: Callable[..., User]
) -> None:
    administrator = make_user(username="administrator", role=Role.ADMINISTRATOR, country=None)
    User.objects.filter(pk=administrator.pk).update(is_staff=True)
    client.force_login(administrator)
    assert client.get("/admin/core/organisation/").status_code == 200


def test_a_reception_officer_marked_staff_is_refused_the_admin(
    client: Client, make_user: Callable[..., User]
) -> None:
    officer = make_user(username="officer", role=Role.RECEPTION_OFFICER, country="HN")
    User.objects.filter(pk=officer.pk).update(is_staff=True)
    client.force_login(officer)
    for path in ("/admin/", "/admin/core/country/", "/admin/core/receptioncentre/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/")


def test_countries_cannot_be_changed_in_the_admin(
    client: Client, make_user: Callable[..., User]
) -> None:
    admin_user = make_user(
        username="admin", role=Role.ADMINISTRATOR, country=None, is_superuser=True
    )
    client.force_login(admin_user)
    response = client.post(
        "/admin/core/country/HN/change/", {"name_en": "X", "name_es": "X", "alpha3": "HND"}
    )
    assert response.status_code == 403
    assert Country.objects.get(pk="HN").name_en == "Honduras"


def test_the_admin_refuses_a_centre_in_a_subdivision_of_another_country(
    client: Client, make_user: Callable[..., User]
) -> None:
    admin_user = make_user(
        username="admin", role=Role.ADMINISTRATOR, country=None, is_superuser=True
    )
    client.force_login(admin_user)
    response = client.post(
        "/admin/core/receptioncentre/add/",
        {
            "name": "Centro nuevo",
            "country": "HN",
            "subdivision": "GT-12",
            "city": "Omoa",
            "kind": ReceptionCentreKind.LAND_BORDER,
            "daily_capacity": 10,
            "capacity_is_illustrative": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "subdivision" in response.context["adminform"].form.errors
    assert not ReceptionCentre.objects.filter(name="Centro nuevo").exists()


def test_persons_and_the_audit_log_are_not_in_the_admin() -> None:
    from django.contrib import admin

    registered = {model._meta.label for model in admin.site._registry}
    assert "people.Person" not in registered
    assert "core.AuditEntry" not in registered
