"""A reception officer searches the people list by surname with the keyboard alone, with and
without JavaScript, and the surname never appears in the address bar or in any request's URL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from conftest import TEST_PASSWORD
from mirador.accounts.models import Role, User
from mirador.core.models import Country
from mirador.people.models import Person, Sex
from mirador.people.services import person_register
from tests.browser.conftest import Chromium, Screenshot

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback puts back the reference data that
    # migrations loaded once the test's flush has emptied the tables.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

USERNAME = "officer.search"
SURNAME = "Zelaya"
MAX_TABS = 40


def register(officer: User, *, given_names: str, first_surname: str) -> Person:
    return person_register(
        actor=officer,
        country=Country.objects.get(pk="HN"),
        given_names=given_names,
        first_surname=first_surname,
        second_surname="",
        birth_year=1987,
        birth_month=None,
        birth_day=None,
        sex=Sex.MALE,
        nationality=Country.objects.get(pk="HN"),
        reason="browser test",
    )


def sign_in(page: Page, base_url: str) -> None:
    page.goto(base_url + reverse("accounts:login"))
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(base_url + reverse("core:home"))


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user would."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.locator(selector).evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{selector} was not reached with {MAX_TABS} presses of Tab")


def search_by_keyboard(page: Page, base_url: str) -> None:
    page.goto(base_url + reverse("people:list"))
    tab_to(page, "#id_surname")
    page.keyboard.type(SURNAME)
    page.keyboard.press("Enter")


def test_officer_searches_a_surname_by_keyboard_and_it_stays_out_of_urls(
    live_server: LiveServer,
    chromium: Chromium,
    make_user: Callable[..., User],
    screenshot: Screenshot,
) -> None:
    officer = make_user(username=USERNAME, role=Role.RECEPTION_OFFICER, country="HN")
    carlos = register(officer, given_names="Carlos", first_surname=SURNAME)
    other = register(officer, given_names="Ana", first_surname="Mejía")
    base_url = live_server.url
    list_url = base_url + reverse("people:list")
    match = f"tr[data-person-id='{carlos.pk}']"
    non_match = f"tr[data-person-id='{other.pk}']"
    requested: list[str] = []

    with chromium() as browser:
        for javascript in (True, False):
            context = browser.new_context(locale="en-US", java_script_enabled=javascript)
            page = context.new_page()
            page.on("request", lambda request: requested.append(request.url))
            sign_in(page, base_url)

            search_by_keyboard(page, base_url)
            expect(page.locator(match)).to_be_visible()
            expect(page.locator(match)).to_contain_text(SURNAME)
            expect(page.locator(non_match)).to_have_count(0)
            assert page.url == list_url
            screenshot(page, "with-javascript" if javascript else "without-javascript")
            context.close()

    assert requested
    assert not [url for url in requested if SURNAME.lower() in url.lower()]
