"""Fixtures of the accounts tests: a fast password hasher, authenticator devices and the codes
they show, and switching the two-factor requirement on as production has it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from mirador.accounts.models import User


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # Argon2 is deliberately slow; test_sign_in checks that the project really uses it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def two_factor_required(settings: Any) -> None:
    """As in production mode: roles that read personal data need a second factor."""
    settings.MIRADOR_REQUIRE_TWO_FACTOR = True


@pytest.fixture
def demo_mode(settings: Any) -> None:
    settings.MIRADOR_REQUIRE_TWO_FACTOR = False


def current_code(device: TOTPDevice) -> str:
    """The code the user's authenticator app shows now."""
    device.refresh_from_db()
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = int(current_code(device))
    return f"{(right + 500_000) % 1_000_000:06d}"


@pytest.fixture
def confirmed_device() -> Callable[[User], TOTPDevice]:
    def make(user: User) -> TOTPDevice:
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)

    return make
