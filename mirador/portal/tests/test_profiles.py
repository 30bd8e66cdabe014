"""The country profile pages and their API, public: the list of member states with their
measured roles, one profile per member with figures, sources, corridors, returns as events
and persons, and the RCM lines of each role, in English and in Spanish; 404 for a code that is
no country, a clear page (also a 404) for a country that is not a member."""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from mirador.accounts.models import User
from mirador.analytics import profiles
from mirador.analytics.indicators import POPULATION_MAPPING, POPULATION_SAMPLE
from mirador.analytics.tests.conftest import (
    CBP_SAMPLE,
    _imported,
    cbp_citizenship,
    cbp_month,
    cbp_rows,
)
from mirador.core.models import Country, ReceptionCentre, Subdivision
from mirador.flows.models import ImportBatch
from mirador.people.selectors import person_get
from mirador.returns.persons_returned import returns_persons_rollup
from mirador.returns.services import IdentityData, arrival_register

pytestmark = pytest.mark.django_db

MEMBERS = ("BZ", "CA", "CR", "DO", "GT", "HN", "MX", "NI", "PA", "SV", "US")


def _get(url: str, language: str) -> Any:
    return Client().get(url, HTTP_ACCEPT_LANGUAGE=language)


def _text(response: Any) -> str:
    """The page's text, tags and repeated spaces removed."""
    page = response.content.decode()
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _number(value: int, language: str) -> str:
    with translation.override(language):
        # As the page's text reads (its spaces, non-breaking ones too, made plain).
        return re.sub(r"\s+", " ", formats.number_format(value, use_l10n=True, force_grouping=True))


def _encounters_of(citizenship: str) -> int:
    """Encounters of the CBP file's latest twelve months, of one citizenship."""
    rows = cbp_rows()
    last = max(cbp_month(row) for row in rows)
    months = last.year * 12 + last.month - 1 - 11
    first = datetime.date(months // 12, months % 12 + 1, 1)
    return sum(
        int(row["Encounter Count"])
        for row in rows
        if first <= cbp_month(row) <= last and cbp_citizenship(row) == citizenship
    )


@pytest.fixture
def observatory(db: None) -> ImportBatch:
    """The CBP sample and the population figures, imported as the demo imports them."""
    _imported(format_code="", path=POPULATION_SAMPLE, mapping_path=POPULATION_MAPPING)
    return _imported(format_code="cbp-sbo-encounters", path=CBP_SAMPLE)


# --- the list ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_list_shows_every_member_with_its_roles_and_the_rules(
    observatory: ImportBatch, language: str
) -> None:
    response = _get(reverse("portal:profiles"), language)
    assert response.status_code == 200
    text = _text(response)
    with translation.override(language):
        for country in Country.objects.filter(pk__in=MEMBERS):
            assert reverse("portal:profile", args=[country.pk]) in response.content.decode()
            assert country.name in text
        for role in profiles.ROLES:
            assert str(profiles.ROLE_NAMES[role]) in text
        for spec in profiles.INDICATORS:
            assert str(spec.rule) in text
        # CBP reports the United States' border, so that its destination role is measured,
        # and Guatemala's citizens encountered there its origin role.
        assert str(profiles.STATUS_NAMES[profiles.MEASURED]) in text
    assert _number(_encounters_of("GT"), language) in text
    if language == "es":
        assert "Perfiles de país" in text and "País de tránsito" in text
        assert "Estados Unidos" in text
    else:
        assert "Country profiles" in text and "Country of transit" in text


# --- one profile ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_profile_shows_figures_with_sources_corridors_and_the_lines_of_each_role(
    observatory: ImportBatch, language: str
) -> None:
    response = _get(reverse("portal:profile", args=["HN"]), language)
    assert response.status_code == 200
    page, text = response.content.decode(), _text(response)
    encounters = _encounters_of("HN")
    assert _number(encounters, language) in text
    # The figure links to the file it came from and to the table it was read off.
    assert observatory.file_name in text
    assert f'href="#source-{observatory.pk}"' in page
    assert reverse("analytics:csv", args=["border-encounters"]) + "?by=" in page
    # The corridor from Honduras to the United States, in the language of the page.
    with translation.override(language):
        assert Country.objects.get(pk="US").name in text
        for role in profiles.ROLES:
            assert str(profiles.ROLE_NAMES[role]) in text
    lines = {line.id: line for line in profiles.mission_lines()}
    assert "D-S10" in text and "W-A5" in text
    if language == "es":
        assert lines["D-S10"].text_es in text and lines["D-S10"].text_en not in text
        assert "Lo que le piden los documentos de la CRM" in text
    else:
        assert lines["D-S10"].text_en in text and lines["D-S10"].text_es not in text
        assert "What the RCM documents ask of it" in text
    # Honduras's origin role is measured (its citizens encountered in the United States), so
    # its lines are open first; transit has no data here.
    origin = page.index('id="lines-origin"')
    assert origin < page.index('id="lines-transit"')
    assert page.startswith('id="lines-origin" open>', origin)
    assert page.startswith('id="lines-transit">', page.index('id="lines-transit"'))


def test_a_profile_without_figures_says_so(db: None) -> None:
    response = _get(reverse("portal:profile", args=["BZ"]), "en")
    assert response.status_code == 200
    text = _text(response)
    assert "No data" in text
    assert "No figure on this page" in text
    assert "No returns of this country are registered in Mirador" in text


def test_a_lower_case_code_is_sent_to_the_profile_page(db: None) -> None:
    response = _get("/observatory/countries/hn/", "en")
    assert response.status_code == 301
    assert response["Location"] == reverse("portal:profile", args=["HN"])


@pytest.mark.parametrize("code", ["ZZ", "HND", "1", "example"])
def test_a_code_that_is_no_country_is_not_found(db: None, code: str) -> None:
    assert _get(f"/observatory/countries/{code}/", "en").status_code == 404


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_country_that_is_not_a_member_gets_a_clear_page(db: None, language: str) -> None:
    response = _get(reverse("portal:profile", args=["CO"]), language)
    assert response.status_code == 404
    text = _text(response)
    with translation.override(language):
        assert Country.objects.get(pk="CO").name in text
        assert Country.objects.get(pk="HN").name in text
    assert reverse("portal:profile", args=["HN"]) in response.content.decode()
    assert ("no es Estado miembro" if language == "es" else "is not a member state") in text


# --- returns: events and persons --------------------------------------------------------------


@pytest.fixture
def honduran_centre(db: None) -> ReceptionCentre:
    subdivision = Subdivision.objects.filter(country_id="HN").order_by("code").first()
    assert subdivision is not None
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
    return centre


def _register_returns(
    officer: User, centre: ReceptionCentre, days: list[datetime.date], key: str
) -> None:
    person = None
    for number, day in enumerate(days):
        arrival = arrival_register(
            actor=officer,
            centre=centre,
            idempotency_key=f"{key}-{number}",
            arrived_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(10))),
            identity=None
            if person
            else IdentityData(given_names="Persona", first_surname=key, birth_year=1990),
            confirmed_person=person,
            returned_from=Country.objects.get(pk="US"),
        )
        person = person or person_get(user=officer, person_id=arrival.person_id)


def test_registered_returns_show_as_events_and_persons_with_the_re_return_rate(
    make_user: Callable[..., User], honduran_centre: ReceptionCentre, settings: Any, tmp_path: Any
) -> None:
    settings.DATA_DIR = tmp_path
    settings.MIRADOR_REQUIRE_TWO_FACTOR = False
    officer = make_user(username="officer.profiles")
    january, march = datetime.date(2022, 1, 12), datetime.date(2022, 3, 8)
    back_again, alone = 6, 8
    for number in range(back_again):
        _register_returns(officer, honduran_centre, [january, march], f"again-{number}")
    for number in range(alone):
        _register_returns(officer, honduran_centre, [january], f"once-{number}")
    report = returns_persons_rollup(actor=None, country=Country.objects.get(pk="HN"))
    assert report.ok, report.summary()

    persons, events = back_again + alone, 2 * back_again + alone
    response = _get(reverse("portal:profile", args=["HN"]) + "#returns", "en")
    row = re.search(r"<th scope=\"row\">2022</th>(.*?)</tr>", response.content.decode(), re.S)
    assert row is not None
    cells = [
        re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row[1], re.S)
    ]
    rate = round(100 * back_again / persons, 1)
    assert cells[:5] == [str(events), str(persons), str(persons), str(back_again), f"{rate}%"]
    api = Client().get("/api/v1/analytics/countries/HN").json()
    year = next(year for year in api["returns"]["years"] if year["year"] == "2022")
    assert (year["events"], year["persons"], year["returned_again"]) == (
        events,
        persons,
        back_again,
    )
    assert year["rate"] == round(back_again / persons, 4)


# --- the API ----------------------------------------------------------------------------------


def test_the_api_lists_the_members_with_the_figures_of_the_pages(observatory: ImportBatch) -> None:
    response = Client().get("/api/v1/analytics/countries")
    assert response.status_code == 200
    listed = {entry["country"]: entry for entry in response.json()}
    assert set(listed) == set(MEMBERS)
    summary = {member.country.pk: member for member in profiles.members_summary()}
    for code, entry in listed.items():
        assert [role["role"] for role in entry["roles"]] == list(profiles.ROLES)
        assert [role["status"] for role in entry["roles"]] == [
            role.status for role in summary[code].roles
        ]
    guatemala = next(
        indicator
        for indicator in listed["GT"]["roles"][0]["indicators"]
        if indicator["indicator"] == "citizens-encountered-abroad"
    )
    assert guatemala["value"] == _encounters_of("GT")
    assert guatemala["meets_threshold"] is True and str(observatory.pk) in guatemala["batches"]
    assert guatemala["period_end"] == f"{max(cbp_month(row) for row in cbp_rows()):%Y-%m}"


def test_the_api_profile_has_lines_corridors_and_sources(observatory: ImportBatch) -> None:
    response = Client().get("/api/v1/analytics/countries/hn")
    assert response.status_code == 200
    body = response.json()
    assert body["country"] == "HN" and body["disclosure_threshold"] >= 1
    origin = body["roles"][0]
    assert {line["id"] for line in origin["mission_lines"]} == {
        line.id for line in profiles.mission_lines_for("origin")
    }
    encounters = next(
        group for group in body["corridors"] if group["dataset"] == "border-encounters"
    )
    assert encounters["outgoing"][0] == {
        "origin": "HN",
        "destination": "US",
        "value": _encounters_of("HN"),
        "batches": [str(observatory.pk)],
    }
    assert str(observatory.pk) in {source["id"] for source in body["sources"]}
    assert body["returns"] is None


@pytest.mark.parametrize(
    ("code", "error"), [("CO", "not_a_member"), ("ZZ", "not_found"), ("HND", "not_found")]
)
def test_the_api_answers_404_for_a_non_member_or_no_country(
    db: None, code: str, error: str
) -> None:
    response = Client().get(f"/api/v1/analytics/countries/{code}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == error


def test_the_profile_operations_are_public_and_in_the_schema() -> None:
    from mirador.api import api

    paths = api.get_openapi_schema(path_prefix="/api/v1/")["paths"]
    for path in ("/api/v1/analytics/countries", "/api/v1/analytics/countries/{code}"):
        assert not paths[path]["get"].get("security")
