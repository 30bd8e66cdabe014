"""A reception officer signs in, reads Mirador in Spanish, switches to English, and finds
English again on the next sign-in, on this browser and on another one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from conftest import TEST_PASSWORD
from mirador.accounts.models import Role, User
from tests.browser.conftest import Chromium, Screenshot

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback puts back the reference data that
    # migrations loaded once the test's flush has emptied the tables.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

USERNAME = "officer.browser"


def in_language(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def sign_in(page: Page, base_url: str) -> None:
    page.goto(base_url + reverse("core:home"))
    page.locator(f"a[href='{reverse('accounts:login')}']").first.click()
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(base_url + reverse("core:home"))


def sign_out(page: Page) -> None:
    page.locator(f"form[action='{reverse('accounts:logout')}'] button").click()
    expect(page.locator(f"a[href='{reverse('accounts:login')}']").first).to_be_visible()


def expect_language(page: Page, language: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#language-select")).to_have_value(language)
    sign_out_button = page.locator(f"form[action='{reverse('accounts:logout')}'] button")
    expect(sign_out_button).to_have_text(in_language(language, "Sign out"))


def test_officer_reads_their_language_and_it_is_remembered_across_sign_ins(
    live_server: LiveServer,
    chromium: Chromium,
    make_user: Callable[..., User],
    screenshot: Screenshot,
) -> None:
    assert in_language("es", "Sign out") != "Sign out", (
        "the Spanish catalogue does not translate 'Sign out': see scripts/check-translations"
    )
    officer = make_user(username=USERNAME, role=Role.RECEPTION_OFFICER, country="HN")
    officer.preferred_language = "es"
    officer.save(update_fields=["preferred_language"])
    base_url = live_server.url

    with chromium() as browser:
        # The browser asks for English; the officer's own choice, Spanish, wins once signed in.
        page = browser.new_context(locale="en-US").new_page()
        sign_in(page, base_url)
        expect_language(page, "es")
        spanish_heading = page.locator("h1").first.inner_text()
        screenshot(page, "1-signed-in-spanish")

        page.select_option("#language-select", "en")
        expect_language(page, "en")
        expect(page).to_have_url(base_url + reverse("core:home"))
        assert page.locator("h1").first.inner_text() != spanish_heading
        screenshot(page, "2-switched-to-english")

        sign_out(page)
        sign_in(page, base_url)
        expect_language(page, "en")
        screenshot(page, "3-signed-in-again-english")
        page.context.close()

        # Another device, asking for Spanish, with no cookie from the first: still English.
        other_page = browser.new_context(locale="es-ES").new_page()
        sign_in(other_page, base_url)
        expect_language(other_page, "en")
        screenshot(other_page, "4-other-browser-english")
        other_page.context.close()

    officer.refresh_from_db()
    assert officer.preferred_language == "en"
