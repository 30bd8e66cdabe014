"""Every page is in Spanish or English, switchable; the choice is remembered per user, on any
device, and in a cookie for visitors who have not signed in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from conftest import TEST_PASSWORD
from mirador.accounts.models import User

pytestmark = pytest.mark.django_db

SET_LANGUAGE = reverse("accounts:set_language")
LOGIN = reverse("accounts:login")
HOME = reverse("core:home")


def page_language(response: Any) -> str:
    assert response.status_code == 200
    return str(response["Content-Language"])


def switch(client: Client, language: str, next_url: str = HOME) -> Any:
    return client.post(SET_LANGUAGE, {"language": language, "next": next_url})


def sign_in(client: Client, username: str) -> None:
    client.post(LOGIN, {"username": username, "password": TEST_PASSWORD})


@pytest.fixture
def officer(make_user: Callable[..., User], demo_mode: None) -> User:
    # Starts in Spanish, the default of a new account, so switching to English is a change.
    return make_user(username="officer.hn", preferred_language="es")


def test_pages_are_in_spanish_by_default(client: Client) -> None:
    response = client.get(LOGIN)

    assert page_language(response) == "es"
    assert '<html lang="es">' in response.content.decode()


def test_a_visitor_switches_to_english_and_the_sign_in_page_follows(client: Client) -> None:
    response = switch(client, "en", next_url=LOGIN)

    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get(LOGIN)
    assert page_language(page) == "en"
    assert '<html lang="en">' in page.content.decode()


def test_a_browser_asking_for_english_gets_english_before_any_choice(client: Client) -> None:
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")

    assert page_language(response) == "en"


def test_a_signed_in_users_choice_is_kept_on_their_account(client: Client, officer: User) -> None:
    sign_in(client, "officer.hn")

    switch(client, "en")

    officer.refresh_from_db()
    assert officer.preferred_language == "en"
    assert page_language(client.get(HOME)) == "en"


def test_the_choice_follows_the_user_to_another_device(client: Client, officer: User) -> None:
    sign_in(client, "officer.hn")
    switch(client, "en")

    other_device = Client()
    sign_in(other_device, "officer.hn")

    assert page_language(other_device.get(HOME)) == "en"


def test_the_users_choice_wins_over_the_browsers_cookie(client: Client, officer: User) -> None:
    sign_in(client, "officer.hn")
    switch(client, "en")
    other_device = Client()
    switch(other_device, "es")
    sign_in(other_device, "officer.hn")

    assert page_language(other_device.get(HOME)) == "en"


def test_an_unknown_language_changes_nothing(client: Client, officer: User) -> None:
    chosen_before = officer.preferred_language
    sign_in(client, "officer.hn")

    response = switch(client, "fr")

    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    officer.refresh_from_db()
    assert officer.preferred_language == chosen_before


def test_the_switch_never_sends_the_user_to_another_site(client: Client) -> None:
    response = switch(client, "en", next_url="https://phishing.example/")

    assert response["Location"] == HOME


def test_the_switch_takes_a_post(client: Client) -> None:
    assert client.get(SET_LANGUAGE, {"language": "en"}).status_code == 405


def test_every_page_offers_the_switch(client: Client) -> None:
    html = client.get(LOGIN).content.decode()

    assert f'action="{SET_LANGUAGE}"' in html
    assert 'value="en"' in html
    assert 'value="es"' in html
