"""Reads on accounts: the second-factor devices of a user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_otp.plugins.otp_totp.models import TOTPDevice

from mirador.accounts import permissions

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from mirador.accounts.models import User


def totp_devices_confirmed(*, user: User) -> QuerySet[TOTPDevice]:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")


def totp_device_pending(*, user: User) -> TOTPDevice | None:
    """The device being set up: created, shown as a QR code, not yet confirmed with a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def user_has_second_factor(*, user: User) -> bool:
    return totp_devices_confirmed(user=user).exists()


def second_factor_expected(*, user: User) -> bool:
    """Whether signing in as `user` takes a code: their role needs one (the permission module
    decides), or they set up a second factor of their own accord, which then protects them too."""
    return permissions.requires_two_factor(user) or user_has_second_factor(user=user)
