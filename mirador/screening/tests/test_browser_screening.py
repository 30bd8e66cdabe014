"""A reception officer screens an arrival with the keyboard alone, in Spanish and English:
Tab into the "medical care" radio group, arrow to "urgent", Tab to the interpreter checkbox,
Space, Tab to Save, Enter; the urgent actions then show in an alert box."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

import tests.browser.conftest as browser_fixtures
from mirador.accounts.models import Role, User
from mirador.core.models import ReceptionCentre
from mirador.returns.services import IdentityData, arrival_register
from mirador.screening.models import RiskFlag
from tests.browser.test_reception import sign_in, tab_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

chromium = browser_fixtures.chromium
screenshot = browser_fixtures.screenshot


def test_officer_screens_an_arrival_by_keyboard_in_spanish_and_english(
    live_server: LiveServer,
    chromium: browser_fixtures.Chromium,
    screenshot: browser_fixtures.Screenshot,
    make_user: Callable[..., User],
    airport_hn: ReceptionCentre,
) -> None:
    arrivals = {}
    for language in ("es", "en"):
        officer = make_user(
            username=f"officer.{language}",
            role=Role.RECEPTION_OFFICER,
            country="HN",
            preferred_language=language,
        )
        arrivals[language] = arrival_register(
            actor=officer,
            centre=airport_hn,
            idempotency_key=uuid.uuid4().hex,
            identity=IdentityData(
                given_names=f"Persona {language}", first_surname="Prueba", nationality="HN"
            ),
        )
    base_url = live_server.url

    with chromium() as browser:
        for language, arrival in arrivals.items():
            context = browser.new_context(locale=f"{language}-HN")
            page = context.new_page()
            sign_in(page, base_url, f"officer.{language}")
            page.goto(base_url + reverse("returns:arrival", args=[arrival.pk]))
            expect(page.locator("html")).to_have_attribute("lang", language)

            # Tab lands on the group's checked radio ("not asked"); the arrow selects the
            # answer before it, "urgent".
            tab_to(page, "input[name=medical_care][value=not-asked]")
            page.keyboard.press("ArrowLeft")
            expect(page.locator("input[name=medical_care][value=urgent]")).to_be_checked()
            tab_to(page, "input[name=special_needs][value=interpreter]")
            page.keyboard.press("Space")
            tab_to(page, "#screening-save")
            screenshot(page, f"form-{language}")
            page.keyboard.press("Enter")

            alert = page.locator("#screening .screening-flags[role=alert]")
            expect(alert).to_be_visible()
            expect(alert.locator("li")).to_have_count(2)
            screenshot(page, f"flags-{language}")
            context.close()

    for arrival in arrivals.values():
        actions = RiskFlag.objects.filter(arrival=arrival).values_list("action", flat=True)
        assert sorted(actions) == ["interpreter", "medical-care-now"]
