"""Tokens for programs: `POST /api/v1/auth/token` issues one, it is sent as
`Authorization: Bearer TOKEN`, it expires and can be revoked; errors keep one JSON shape."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import TEST_PASSWORD
from mirador.accounts.models import ApiToken, Role, User
from mirador.accounts.services import api_token_issue
from mirador.accounts.tests.conftest import current_code, wrong_code

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"

MakeUser = Callable[..., User]
MakeDevice = Callable[[User], TOTPDevice]


def obtain(client: Client, username: str, password: str = TEST_PASSWORD, **extra: str) -> Any:
    return client.post(
        TOKEN,
        {"username": username, "password": password, **extra},
        content_type="application/json",
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.fixture
def officer(make_user: MakeUser, demo_mode: None) -> User:
    return make_user(username="officer.hn", role=Role.RECEPTION_OFFICER)


def test_the_right_password_issues_a_token_that_expires(client: Client, officer: User) -> None:
    before = timezone.now()

    response = obtain(client, "officer.hn")

    assert response.status_code == 201
    body = response.json()
    assert body["token"]
    assert body["token_type"] == "Bearer"
    expires_at = parse_datetime(body["expires_at"])
    assert expires_at is not None
    lifetime = datetime.timedelta(hours=settings.MIRADOR_API_TOKEN_HOURS)
    assert before + lifetime <= expires_at <= timezone.now() + lifetime


def test_only_a_hash_of_the_token_is_stored(client: Client, officer: User) -> None:
    raw = obtain(client, "officer.hn").json()["token"]

    stored = ApiToken.objects.get(user=officer)
    assert stored.key_hash != raw
    assert raw not in stored.key_hash
    assert stored.prefix == raw[:8]


def test_the_token_sent_as_bearer_identifies_the_program(client: Client, officer: User) -> None:
    raw = obtain(client, "officer.hn").json()["token"]

    response = Client().get(ME, headers=bearer(raw))

    assert response.status_code == 200
    assert response.json() == {
        "username": "officer.hn",
        "role": Role.RECEPTION_OFFICER,
        "country": "HN",
        "organisation": str(officer.organisation),
        "preferred_language": officer.preferred_language,
    }


def test_an_expired_token_is_refused(client: Client, officer: User) -> None:
    raw = obtain(client, "officer.hn").json()["token"]
    ApiToken.objects.filter(user=officer).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    assert_error(Client().get(ME, headers=bearer(raw)), 401, "not_authenticated")


def test_a_revoked_token_is_refused(client: Client, officer: User) -> None:
    raw = obtain(client, "officer.hn").json()["token"]
    program = Client()

    revoked = program.delete(TOKEN, headers=bearer(raw))

    assert revoked.status_code == 204
    assert ApiToken.objects.get(user=officer).revoked_at is not None
    assert_error(program.get(ME, headers=bearer(raw)), 401, "not_authenticated")


def test_revoking_one_token_leaves_the_others_working(client: Client, officer: User) -> None:
    first = obtain(client, "officer.hn").json()["token"]
    second = obtain(client, "officer.hn").json()["token"]

    Client().delete(TOKEN, headers=bearer(first))

    assert Client().get(ME, headers=bearer(second)).status_code == 200


def test_a_made_up_token_is_refused(officer: User) -> None:
    assert_error(Client().get(ME, headers=bearer("not-a-token")), 401, "not_authenticated")


def test_no_credentials_at_all_are_refused(client: Client) -> None:
    assert_error(client.get(ME), 401, "not_authenticated")


def test_a_deactivated_users_token_stops_working(client: Client, officer: User) -> None:
    raw = obtain(client, "officer.hn").json()["token"]
    officer.is_active = False
    officer.save(update_fields=["is_active"])

    assert_error(Client().get(ME, headers=bearer(raw)), 401, "not_authenticated")


def test_a_wrong_password_is_refused_with_the_stable_error_shape(
    client: Client, officer: User
) -> None:
    response = obtain(client, "officer.hn", password="not-the-password")

    assert_error(response, 401, "invalid_credentials")
    assert response.json()["error"]["details"] == {}
    assert not ApiToken.objects.exists()


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client: Client) -> None:
    assert_error(obtain(client, "nobody"), 401, "invalid_credentials")


def test_a_request_without_a_password_is_a_validation_error(client: Client) -> None:
    response = client.post(TOKEN, {"username": "officer.hn"}, content_type="application/json")

    assert_error(response, 422, "validation_failed")


@pytest.mark.usefixtures("two_factor_required")
class TestRolesThatNeedASecondFactor:
    def test_without_a_code_no_token_is_issued(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        confirmed_device(make_user(username="officer.hn"))

        assert_error(obtain(client, "officer.hn"), 401, "two_factor_required")
        assert not ApiToken.objects.exists()

    def test_with_a_wrong_code_no_token_is_issued(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        device = confirmed_device(make_user(username="officer.hn"))

        response = obtain(client, "officer.hn", otp=wrong_code(device))

        assert_error(response, 401, "two_factor_invalid")
        assert not ApiToken.objects.exists()

    def test_with_the_current_code_a_token_is_issued(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        device = confirmed_device(make_user(username="officer.hn"))

        response = obtain(client, "officer.hn", otp=current_code(device))

        assert response.status_code == 201
        assert Client().get(ME, headers=bearer(response.json()["token"])).status_code == 200

    def test_wrong_codes_are_throttled(
        self,
        settings: Any,
        client: Client,
        make_user: MakeUser,
        confirmed_device: MakeDevice,
    ) -> None:
        settings.OTP_TOTP_THROTTLE_FACTOR = 60
        device = confirmed_device(make_user(username="officer.hn"))
        obtain(client, "officer.hn", otp=wrong_code(device))

        response = obtain(client, "officer.hn", otp=current_code(device))

        assert_error(response, 429, "two_factor_throttled")

    def test_a_user_who_has_not_set_up_a_device_is_told_to_do_so(
        self, client: Client, make_user: MakeUser
    ) -> None:
        make_user(username="officer.hn")

        assert_error(obtain(client, "officer.hn", otp="123456"), 401, "two_factor_not_set_up")

    def test_roles_without_personal_data_need_no_code(
        self, client: Client, make_user: MakeUser
    ) -> None:
        make_user(username="analyst", role=Role.REGIONAL_ANALYST, country=None)

        assert obtain(client, "analyst").status_code == 201

    def test_a_session_that_has_not_given_the_code_is_refused_by_the_api(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        confirmed_device(make_user(username="officer.hn"))
        client.post(
            reverse("accounts:login"), {"username": "officer.hn", "password": TEST_PASSWORD}
        )

        assert_error(client.get(ME), 401, "not_authenticated")

    def test_a_session_that_gave_the_code_is_accepted_by_the_api(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        device = confirmed_device(make_user(username="officer.hn"))
        client.post(
            reverse("accounts:login"), {"username": "officer.hn", "password": TEST_PASSWORD}
        )
        client.post(reverse("accounts:two_factor"), {"code": current_code(device)})

        response = client.get(ME)

        assert response.status_code == 200
        assert response.json()["username"] == "officer.hn"


@pytest.mark.usefixtures("demo_mode")
def test_a_user_with_a_second_factor_of_their_own_gives_it_to_the_api_too(
    client: Client, make_user: MakeUser, confirmed_device: MakeDevice
) -> None:
    device = confirmed_device(make_user(username="analyst", role=Role.REGIONAL_ANALYST))

    assert_error(obtain(client, "analyst"), 401, "two_factor_required")
    assert obtain(client, "analyst", otp=current_code(device)).status_code == 201


def test_a_token_caller_reads_messages_in_the_users_language(
    make_user: Callable[..., User], tmp_path: Any
) -> None:
    """Bearer-token callers get the API's messages in the language their user chose, as the
    pages speak it to them."""
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    expected = {
        "en": "Give the mapping file (TOML) of your own format.",
        "es": "Indique el archivo de correspondencias (TOML) de su propio formato.",
    }
    for language, message in expected.items():
        user = make_user(
            username=f"analyst.{language}",
            role=Role.REGIONAL_ANALYST,
            country=None,
            preferred_language=language,
        )
        _, raw = api_token_issue(user=user)
        client = Client(headers={"Authorization": f"Bearer {raw}"})
        with table.open("rb") as handle:
            response = client.post("/api/v1/imports/", {"file": handle, "format": "custom"})
        assert response.status_code == 400
        assert response.json()["error"]["message"] == message
