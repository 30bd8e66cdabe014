"""The second factor: asked of the roles that read personal data when production requires it,
set up with an authenticator app, checked with throttling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import TEST_PASSWORD
from mirador.accounts.models import Role, User
from mirador.accounts.tests.conftest import current_code, wrong_code
from mirador.accounts.views import TOO_MANY_CODES, WRONG_CODE

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
HOME = reverse("core:home")
TWO_FACTOR = reverse("accounts:two_factor")
SETUP = reverse("accounts:two_factor_setup")

MakeUser = Callable[..., User]
MakeDevice = Callable[[User], TOTPDevice]


def sign_in(client: Client, username: str, **extra: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": TEST_PASSWORD, **extra})


def signed_in_home(client: Client) -> bool:
    """Whether the client may read an ordinary page (it is not sent to give a code)."""
    return client.get(HOME).status_code == 200


@pytest.mark.usefixtures("two_factor_required")
class TestRolesThatNeedASecondFactor:
    @pytest.mark.parametrize(
        "role",
        [
            Role.RECEPTION_OFFICER,
            Role.CASEWORKER,
            Role.CONSULAR_OFFICER,
            Role.PROTECTION_OFFICER,
            Role.ADMINISTRATOR,
        ],
    )
    def test_after_the_password_the_user_is_asked_for_a_code(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice, role: str
    ) -> None:
        confirmed_device(make_user(username="someone", role=role))

        response = sign_in(client, "someone")

        assert response.status_code == 302
        assert response["Location"] == f"{TWO_FACTOR}?next={quote(HOME, safe='')}"
        assert not signed_in_home(client)

    @pytest.mark.parametrize("role", [Role.REGIONAL_ANALYST, Role.NATIONAL_ANALYST, Role.EMPLOYER])
    def test_roles_without_personal_data_sign_in_with_the_password_alone(
        self, client: Client, make_user: MakeUser, role: str
    ) -> None:
        make_user(username="analyst", role=role, country=None)

        response = sign_in(client, "analyst")

        assert response["Location"] == HOME
        assert signed_in_home(client)

    def test_every_page_sends_an_unverified_user_to_the_code_and_back(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        confirmed_device(make_user(username="officer.hn"))
        sign_in(client, "officer.hn")

        response = client.get("/audit/?action=read")

        assert response.status_code == 302
        assert response["Location"] == f"{TWO_FACTOR}?next={quote('/audit/?action=read', safe='')}"

    def test_the_right_code_verifies_the_session_and_goes_on(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        device = confirmed_device(make_user(username="officer.hn"))
        sign_in(client, "officer.hn")

        response = client.post(TWO_FACTOR, {"code": current_code(device), "next": "/audit/"})

        assert response.status_code == 302
        assert response["Location"] == "/audit/"
        assert signed_in_home(client)

    def test_a_code_typed_with_a_space_is_accepted(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        device = confirmed_device(make_user(username="officer.hn"))
        sign_in(client, "officer.hn")
        code = current_code(device)

        client.post(TWO_FACTOR, {"code": f"{code[:3]} {code[3:]}"})

        assert signed_in_home(client)

    def test_a_wrong_code_is_refused_with_a_reason(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        device = confirmed_device(make_user(username="officer.hn"))
        sign_in(client, "officer.hn")

        response = client.post(TWO_FACTOR, {"code": wrong_code(device)})

        assert response.status_code == 200
        assert response.context["form"].errors["code"] == [str(WRONG_CODE)]
        assert not signed_in_home(client)

    def test_a_code_cannot_be_used_twice(
        self, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        device = confirmed_device(make_user(username="officer.hn"))
        first, second = Client(), Client()
        sign_in(first, "officer.hn")
        sign_in(second, "officer.hn")
        code = current_code(device)

        first.post(TWO_FACTOR, {"code": code})
        second.post(TWO_FACTOR, {"code": code})

        assert signed_in_home(first)
        assert not signed_in_home(second)

    def test_a_user_without_a_device_is_sent_to_set_one_up(
        self, client: Client, make_user: MakeUser
    ) -> None:
        make_user(username="officer.hn")
        sign_in(client, "officer.hn")

        response = client.get(TWO_FACTOR, {"next": "/audit/"})

        assert response.status_code == 302
        assert response["Location"] == f"{SETUP}?next={quote('/audit/', safe='')}"

    def test_the_setup_page_shows_the_secret_as_an_inline_qr_code_and_as_text(
        self, client: Client, make_user: MakeUser
    ) -> None:
        user = make_user(username="officer.hn")
        sign_in(client, "officer.hn")

        response = client.get(SETUP)

        assert response.status_code == 200
        device = TOTPDevice.objects.get(user=user)
        assert not device.confirmed
        html = response.content.decode()
        assert "<svg" in html
        assert "<img" not in html  # drawn here, not fetched from a QR-code service
        assert response.context["secret"].replace(" ", "") in device.config_url
        assert "issuer=Mirador" in device.config_url

    def test_reloading_the_setup_page_keeps_the_same_secret(
        self, client: Client, make_user: MakeUser
    ) -> None:
        user = make_user(username="officer.hn")
        sign_in(client, "officer.hn")

        first = client.get(SETUP).context["secret"]
        second = client.get(SETUP).context["secret"]

        assert first == second
        assert TOTPDevice.objects.filter(user=user).count() == 1

    def test_the_first_code_confirms_the_device_and_verifies_the_session(
        self, client: Client, make_user: MakeUser
    ) -> None:
        user = make_user(username="officer.hn")
        sign_in(client, "officer.hn")
        client.get(SETUP)
        device = TOTPDevice.objects.get(user=user)

        response = client.post(SETUP, {"code": current_code(device), "next": "/audit/"})

        assert response.status_code == 302
        assert response["Location"] == "/audit/"
        device.refresh_from_db()
        assert device.confirmed
        assert signed_in_home(client)

    def test_a_wrong_first_code_leaves_the_device_unconfirmed(
        self, client: Client, make_user: MakeUser
    ) -> None:
        user = make_user(username="officer.hn")
        sign_in(client, "officer.hn")
        client.get(SETUP)
        device = TOTPDevice.objects.get(user=user)

        response = client.post(SETUP, {"code": wrong_code(device)})

        assert response.status_code == 200
        assert response.context["form"].errors["code"] == [str(WRONG_CODE)]
        assert "<svg" in response.content.decode()
        device.refresh_from_db()
        assert not device.confirmed
        assert not signed_in_home(client)

    def test_an_unverified_user_cannot_set_up_another_device_to_skip_the_code(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        user = make_user(username="officer.hn")
        confirmed_device(user)
        sign_in(client, "officer.hn")

        response = client.get(SETUP)

        assert response.status_code == 302
        assert response["Location"].startswith(TWO_FACTOR)
        assert TOTPDevice.objects.filter(user=user).count() == 1

    def test_a_verified_user_sees_that_two_factor_is_on(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        device = confirmed_device(make_user(username="officer.hn"))
        sign_in(client, "officer.hn")
        client.post(TWO_FACTOR, {"code": current_code(device)})

        response = client.get(SETUP)

        assert response.status_code == 200
        assert response.templates[0].name == "accounts/two_factor_enabled.html"

    def test_signing_out_is_possible_before_giving_the_code(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        confirmed_device(make_user(username="officer.hn"))
        sign_in(client, "officer.hn")

        client.post(reverse("accounts:logout"))

        assert not client.get(HOME).context["user"].is_authenticated


class TestWrongCodesAreThrottled:
    def test_throttling_is_on_with_the_project_settings(
        self, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        device = confirmed_device(make_user(username="officer.hn"))

        assert device.throttling_enabled
        assert device.get_throttle_factor() >= 1

    @pytest.mark.usefixtures("two_factor_required")
    def test_after_a_wrong_code_even_the_right_one_waits(
        self, settings: Any, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        # django-otp doubles the wait after each failure, starting at the throttle factor in
        # seconds; a long factor keeps this test from racing the clock.
        settings.OTP_TOTP_THROTTLE_FACTOR = 60
        device = confirmed_device(make_user(username="officer.hn"))
        sign_in(client, "officer.hn")
        client.post(TWO_FACTOR, {"code": wrong_code(device)})

        response = client.post(TWO_FACTOR, {"code": current_code(device)})

        assert response.status_code == 429
        assert response.context["form"].errors["code"] == [str(TOO_MANY_CODES)]
        assert not signed_in_home(client)

    @pytest.mark.usefixtures("two_factor_required")
    def test_wrong_first_codes_at_setup_are_throttled_too(
        self, settings: Any, client: Client, make_user: MakeUser
    ) -> None:
        settings.OTP_TOTP_THROTTLE_FACTOR = 60
        user = make_user(username="officer.hn")
        sign_in(client, "officer.hn")
        client.get(SETUP)
        device = TOTPDevice.objects.get(user=user)
        client.post(SETUP, {"code": wrong_code(device)})

        response = client.post(SETUP, {"code": current_code(device)})

        assert response.status_code == 429
        device.refresh_from_db()
        assert not device.confirmed


@pytest.mark.usefixtures("demo_mode")
class TestInTheDemo:
    def test_officers_sign_in_with_the_password_alone(
        self, client: Client, make_user: MakeUser
    ) -> None:
        make_user(username="officer.hn", role=Role.RECEPTION_OFFICER)

        response = sign_in(client, "officer.hn")

        assert response["Location"] == HOME
        assert signed_in_home(client)

    def test_a_user_may_set_up_a_second_factor_of_their_own_accord(
        self, client: Client, make_user: MakeUser
    ) -> None:
        user = make_user(username="analyst", role=Role.REGIONAL_ANALYST, country=None)
        sign_in(client, "analyst")
        client.get(SETUP)
        device = TOTPDevice.objects.get(user=user)

        response = client.post(SETUP, {"code": current_code(device)})

        assert response.status_code == 302
        device.refresh_from_db()
        assert device.confirmed

    def test_once_set_up_the_code_is_asked_at_every_sign_in(
        self, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        device = confirmed_device(make_user(username="analyst", role=Role.REGIONAL_ANALYST))
        client = Client()

        response = sign_in(client, "analyst")

        assert response["Location"].startswith(TWO_FACTOR)
        assert not signed_in_home(client)
        client.post(TWO_FACTOR, {"code": current_code(device)})
        assert signed_in_home(client)

    def test_signing_in_through_the_django_admin_asks_for_the_code_too(
        self, client: Client, make_user: MakeUser, confirmed_device: MakeDevice
    ) -> None:
        administrator = make_user(username="admin", role=Role.ADMINISTRATOR, country=None)
        administrator.is_staff = True
        administrator.save(update_fields=["is_staff"])
        confirmed_device(administrator)

        client.post(reverse("admin:login"), {"username": "admin", "password": TEST_PASSWORD})

        assert not signed_in_home(client)
        assert client.get(reverse("admin:index"))["Location"].startswith(TWO_FACTOR)
