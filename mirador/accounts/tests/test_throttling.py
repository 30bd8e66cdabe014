"""Failed sign-ins are throttled by django-axes: after AXES_FAILURE_LIMIT failures for one user
name from one address, that pair is refused for a while, on the web and in the API alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from conftest import TEST_PASSWORD
from mirador.accounts.errors import LockedOutError
from mirador.accounts.models import User

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
TOKEN = "/api/v1/auth/token"
WRONG = "not-the-password"


def web_sign_in(client: Client, username: str, password: str, address: str = "198.51.100.1") -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def api_sign_in(client: Client, username: str, password: str, address: str = "198.51.100.1") -> Any:
    return client.post(
        TOKEN,
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def fail(times: int, sign_in: Callable[..., Any], client: Client, username: str) -> None:
    for _ in range(times):
        sign_in(client, username, WRONG)


@pytest.fixture
def officer(make_user: Callable[..., User], demo_mode: None) -> User:
    return make_user(username="officer.hn")


def test_failures_below_the_limit_still_let_the_right_password_in(
    client: Client, officer: User
) -> None:
    fail(settings.AXES_FAILURE_LIMIT - 1, web_sign_in, client, "officer.hn")

    response = web_sign_in(client, "officer.hn", TEST_PASSWORD)

    assert response.status_code == 302


def test_at_the_limit_the_web_sign_in_is_refused_even_with_the_right_password(
    client: Client, officer: User
) -> None:
    fail(settings.AXES_FAILURE_LIMIT, web_sign_in, client, "officer.hn")

    response = web_sign_in(client, "officer.hn", TEST_PASSWORD)

    assert response.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in response.templates]
    assert int(response["Retry-After"]) > 0
    assert not client.get(reverse("core:home")).context["user"].is_authenticated


def test_the_failure_that_reaches_the_limit_already_shows_the_locked_out_page(
    client: Client, officer: User
) -> None:
    fail(settings.AXES_FAILURE_LIMIT - 1, web_sign_in, client, "officer.hn")

    response = web_sign_in(client, "officer.hn", WRONG)

    assert response.status_code == 429


def test_a_success_clears_the_failures_counted_before(client: Client, officer: User) -> None:
    fail(settings.AXES_FAILURE_LIMIT - 1, web_sign_in, client, "officer.hn")
    web_sign_in(client, "officer.hn", TEST_PASSWORD)
    client.post(reverse("accounts:logout"))

    fail(settings.AXES_FAILURE_LIMIT - 1, web_sign_in, client, "officer.hn")
    response = web_sign_in(client, "officer.hn", TEST_PASSWORD)

    assert response.status_code == 302


def test_the_lockout_holds_one_user_name_from_one_address_only(
    officer: User, make_user: Callable[..., User]
) -> None:
    make_user(username="caseworker.hn")
    attacker = Client()
    fail(settings.AXES_FAILURE_LIMIT, web_sign_in, attacker, "officer.hn")

    from_elsewhere = web_sign_in(Client(), "officer.hn", TEST_PASSWORD, address="203.0.113.9")
    colleague_same_address = web_sign_in(Client(), "caseworker.hn", TEST_PASSWORD)

    assert from_elsewhere.status_code == 302
    assert colleague_same_address.status_code == 302


def test_at_the_limit_the_api_refuses_a_token_with_json_of_the_usual_shape(
    client: Client, officer: User
) -> None:
    fail(settings.AXES_FAILURE_LIMIT, api_sign_in, client, "officer.hn")

    response = api_sign_in(client, "officer.hn", TEST_PASSWORD)

    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == LockedOutError.code
    assert int(response["Retry-After"]) > 0


def test_api_failures_below_the_limit_are_wrong_passwords(client: Client, officer: User) -> None:
    fail(settings.AXES_FAILURE_LIMIT - 2, api_sign_in, client, "officer.hn")

    response = api_sign_in(client, "officer.hn", WRONG)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_failures_on_the_web_and_in_the_api_add_up(client: Client, officer: User) -> None:
    fail(settings.AXES_FAILURE_LIMIT - 1, web_sign_in, client, "officer.hn")
    api_sign_in(client, "officer.hn", WRONG)

    response = api_sign_in(client, "officer.hn", TEST_PASSWORD)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"


def test_a_token_issued_clears_the_failures_counted_before(client: Client, officer: User) -> None:
    fail(settings.AXES_FAILURE_LIMIT - 1, api_sign_in, client, "officer.hn")
    assert api_sign_in(client, "officer.hn", TEST_PASSWORD).status_code == 201

    fail(settings.AXES_FAILURE_LIMIT - 1, api_sign_in, client, "officer.hn")

    assert api_sign_in(client, "officer.hn", TEST_PASSWORD).status_code == 201
