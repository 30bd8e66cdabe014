"""A reception officer registers a passenger of today's flight with the keyboard alone, in
Spanish and in English: from the centre's day, Tab to the passenger's Register button, Enter,
Tab through the form typing the document, Enter on Register; the arrival is then stored and
shown."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from conftest import TEST_PASSWORD
from mirador.accounts.models import Role, User
from mirador.core.models import Country, ReceptionCentre, Subdivision
from mirador.people.services import DocumentData
from mirador.returns.models import Arrival, CandidateDecision, Manifest, ManifestPassenger
from mirador.returns.services import IdentityData, arrival_register, manifest_create
from mirador.returns.tests.conftest import passenger
from tests.browser.conftest import Chromium, Screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MAX_TABS = 80
# A flight like the demo's: a family and adults travelling alone.
FLIGHT = [
    passenger(
        "María José", "Hernández", "López", birth_date="1986-03-14", document_number="F1234567"
    ),
    passenger("Carlos", "Hernández", "Mejía", birth_date="1984-11", sex="M"),
    passenger("Dilcia", "Martínez", birth_date="1999", document_number="F7654321"),
]
DOCUMENTS_TYPED = {"es": "G1000001", "en": "G1000002"}


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user would, and check that the
    focus is visible."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.locator(selector).evaluate("element => element === document.activeElement"):
            outline = page.locator(selector).evaluate(
                "element => getComputedStyle(element).outlineStyle"
            )
            assert outline != "none", f"{selector} has the focus but shows no outline"
            return
    pytest.fail(f"{selector} was not reached with {MAX_TABS} presses of Tab")


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + reverse("accounts:login"))
    tab_to(page, "input[name=username]")
    page.keyboard.type(username)
    tab_to(page, "input[name=password]")
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(base_url + reverse("core:home"))


def airport_centre() -> ReceptionCentre:
    subdivision = Subdivision.objects.filter(country_id="HN").order_by("code").first()
    assert subdivision is not None
    return ReceptionCentre.objects.create(
        country_id="HN",
        name="Centro de prueba aeropuerto",
        subdivision=subdivision,
        city="San Pedro Sula",
        kind="airport",
        daily_capacity=100,
    )


def todays_flight(
    officer: User, centre: ReceptionCentre, reference: str, passengers: list[dict[str, str]]
) -> Manifest:
    return manifest_create(
        actor=officer,
        centre=centre,
        sending_country=Country.objects.get(pk="US"),
        means="air",
        reference=reference,
        expected_at=timezone.make_aware(
            datetime.datetime.combine(timezone.localdate(), datetime.time(hour=9))
        ),
        passengers=passengers,
    )


def officers_by_language(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        language: make_user(
            username=f"officer.{language}",
            role=Role.RECEPTION_OFFICER,
            country="HN",
            preferred_language=language,
        )
        for language in ("es", "en")
    }


def test_officer_registers_a_passenger_by_keyboard_in_spanish_and_english(
    live_server: LiveServer,
    chromium: Chromium,
    make_user: Callable[..., User],
    screenshot: Screenshot,
) -> None:
    officers = officers_by_language(make_user)
    centre = airport_centre()
    manifest = todays_flight(officers["en"], centre, "KEYB01", FLIGHT)
    rows = list(manifest.passengers.order_by("row_number"))
    registered_rows = {"es": rows[0], "en": rows[2]}
    with translation.override("es"):
        register_es = translation.gettext("Register")
    base_url = live_server.url
    day_url = base_url + reverse("returns:centre", args=[centre.pk])

    with chromium() as browser:
        for language, row in registered_rows.items():
            context = browser.new_context(locale=f"{language}-HN")
            page = context.new_page()
            sign_in(page, base_url, f"officer.{language}")
            page.goto(day_url)
            expect(page.locator("html")).to_have_attribute("lang", language)

            tab_to(page, f"a[href$='passenger={row.pk}']")
            page.keyboard.press("Enter")
            expect(page.locator("#id_given_names")).to_have_value(row.given_names)
            tab_to(page, "#id_document_number")
            page.keyboard.press("Control+A")
            page.keyboard.type(DOCUMENTS_TYPED[language])
            register = page.locator("button[name=action][value=register]")
            expect(register).to_have_text(register_es if language == "es" else "Register")
            tab_to(page, "button[name=action][value=register]")
            screenshot(page, f"form-{language}")
            page.keyboard.press("Enter")

            expect(page.locator("h1")).to_contain_text(row.given_names)
            screenshot(page, f"arrival-{language}")
            # Back to the day: the passenger is no longer expected, the arrival is listed.
            page.goto(day_url)
            expect(page.locator(f"a[href$='passenger={row.pk}']")).to_have_count(0)
            context.close()

    for language, row in registered_rows.items():
        arrival = Arrival.objects.select_related("person").get(manifest_passenger=row)
        assert arrival.created_by_id == officers[language].pk
        assert arrival.person.given_names == row.given_names
        assert arrival.person.documents.filter(number=DOCUMENTS_TYPED[language]).exists()
    assert ManifestPassenger.objects.filter(manifest=manifest, arrival__isnull=True).count() == 1


def test_officer_decides_on_earlier_returns_by_keyboard_in_english_and_spanish(
    live_server: LiveServer,
    chromium: Chromium,
    make_user: Callable[..., User],
    screenshot: Screenshot,
) -> None:
    """The officer ticks the consent to tracing; the earlier returns that may be the person
    appear with the reasons they matched, in the officer's language. In English the officer
    confirms the one who came back before (the arrow keys move within the choices); in
    Spanish, shown a namesake, keeps "none of them" and registers a new person."""
    officers = officers_by_language(make_user)
    centre = airport_centre()
    came_back, namesake = FLIGHT[2], FLIGHT[1]
    earlier = {
        "en": arrival_register(
            actor=officers["en"],
            centre=centre,
            idempotency_key="earlier-return",
            arrived_at=timezone.now() - datetime.timedelta(days=40),
            identity=IdentityData(
                given_names=came_back["given_names"],
                first_surname=came_back["first_surname"],
                birth_year=1999,
                sex="F",
                nationality="HN",
                documents=[DocumentData("passport", came_back["document_number"], "HN")],
            ),
            consent_tracing=True,
        ).person,
        # Same names and year of birth, another man: born in March, not November.
        "es": arrival_register(
            actor=officers["es"],
            centre=centre,
            idempotency_key="earlier-namesake",
            arrived_at=timezone.now() - datetime.timedelta(days=90),
            identity=IdentityData(
                given_names=namesake["given_names"],
                first_surname=namesake["first_surname"],
                second_surname=namesake["second_surname"],
                birth_year=1984,
                birth_month=3,
                sex="M",
                nationality="HN",
            ),
            consent_tracing=True,
        ).person,
    }
    manifest = todays_flight(officers["en"], centre, "KEYB02", FLIGHT)
    rows = {
        "en": manifest.passengers.get(row_number=3),
        "es": manifest.passengers.get(row_number=2),
    }
    with translation.override("es"):
        reason_es = translation.gettext("Same given names")
    base_url = live_server.url
    day_url = base_url + reverse("returns:centre", args=[centre.pk])

    with chromium() as browser:
        for language in ("en", "es"):
            context = browser.new_context(locale=f"{language}-HN")
            page = context.new_page()
            sign_in(page, base_url, f"officer.{language}")
            page.goto(day_url)
            tab_to(page, f"a[href$='passenger={rows[language].pk}']")
            page.keyboard.press("Enter")
            expect(page.locator("#id_given_names")).to_have_value(rows[language].given_names)

            tab_to(page, "#id_consent_tracing")
            page.keyboard.press("Space")
            candidate = page.locator("label[for=candidate-1]")
            expect(candidate).to_contain_text("Same given names" if language == "en" else reason_es)
            expect(page.locator("#candidates")).not_to_contain_text("same-given-names")
            # Tab enters the choices on the one chosen ("none of them" at first).
            tab_to(page, "#candidate-none")
            if language == "en":
                page.keyboard.press("ArrowUp")
                expect(page.locator("#candidate-1")).to_be_checked()
            screenshot(page, f"candidates-{language}")
            tab_to(page, "button[name=action][value=register]")
            page.keyboard.press("Enter")
            expect(page.locator("h1")).to_contain_text(rows[language].given_names)
            context.close()

    returnee = Arrival.objects.get(manifest_passenger=rows["en"])
    assert returnee.person_id == earlier["en"].pk  # joined her history
    confirmed = CandidateDecision.objects.get(arrival=returnee)
    assert confirmed.decision == CandidateDecision.CONFIRMED
    assert "same-document" in confirmed.reasons
    new_person = Arrival.objects.get(manifest_passenger=rows["es"])
    assert new_person.person_id != earlier["es"].pk
    rejected = CandidateDecision.objects.get(arrival=new_person)
    assert (rejected.candidate_id, rejected.decision) == (
        earlier["es"].pk,
        CandidateDecision.REJECTED,
    )
