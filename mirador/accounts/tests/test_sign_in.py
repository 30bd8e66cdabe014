"""Signing in with a user name and password, and out again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import TEST_PASSWORD
from mirador import settings as project_settings
from mirador.accounts.models import Role, User

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
HOME = reverse("core:home")


def sign_in(client: Client, username: str, password: str = TEST_PASSWORD, **extra: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def test_the_sign_in_page_asks_for_user_name_and_password(client: Client) -> None:
    response = client.get(LOGIN)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'type="password"' in html


def test_right_password_signs_the_user_in_and_goes_home(
    client: Client, make_user: Callable[..., User], demo_mode: None
) -> None:
    make_user(username="officer.hn", role=Role.RECEPTION_OFFICER)

    response = sign_in(client, "officer.hn")

    assert response.status_code == 302
    assert response["Location"] == HOME
    assert client.get(HOME).context["user"].username == "officer.hn"


def test_sign_in_goes_on_to_the_page_asked_for(
    client: Client, make_user: Callable[..., User], demo_mode: None
) -> None:
    make_user(username="officer.hn")

    response = sign_in(client, "officer.hn", next="/audit/?action=read")

    assert response["Location"] == "/audit/?action=read"


def test_sign_in_never_sends_the_user_to_another_site(
    client: Client, make_user: Callable[..., User], demo_mode: None
) -> None:
    make_user(username="officer.hn")

    response = sign_in(client, "officer.hn", next="https://phishing.example/login")

    assert response.status_code == 302
    assert response["Location"] == HOME


def test_wrong_password_leaves_the_user_signed_out_with_an_error(
    client: Client, make_user: Callable[..., User]
) -> None:
    make_user(username="officer.hn")

    response = sign_in(client, "officer.hn", password="not-the-password")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not response.context["user"].is_authenticated


def test_a_deactivated_account_cannot_sign_in(
    client: Client, make_user: Callable[..., User]
) -> None:
    user = make_user(username="officer.hn")
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = sign_in(client, "officer.hn")

    assert response.status_code == 200
    assert not response.context["user"].is_authenticated


def test_signing_out_ends_the_session(
    client: Client, make_user: Callable[..., User], demo_mode: None
) -> None:
    make_user(username="officer.hn")
    sign_in(client, "officer.hn")

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert not client.get(HOME).context["user"].is_authenticated


def test_signing_out_takes_a_post_so_a_link_cannot_sign_anyone_out(
    client: Client, make_user: Callable[..., User], demo_mode: None
) -> None:
    make_user(username="officer.hn")
    sign_in(client, "officer.hn")

    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get(HOME).context["user"].is_authenticated


def test_passwords_are_stored_hashed_with_argon2(
    settings: Any, make_user: Callable[..., User]
) -> None:
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS

    user = make_user(username="officer.hn")

    user.refresh_from_db()
    assert user.password.startswith("argon2")
    assert TEST_PASSWORD not in user.password
    assert user.check_password(TEST_PASSWORD)
