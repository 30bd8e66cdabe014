"""Writes on accounts: API tokens, second-factor devices, language preference."""

from __future__ import annotations

import datetime
import enum
import hashlib
import logging
import secrets
from typing import TYPE_CHECKING

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from mirador.accounts.errors import (
    AlreadyEnrolledError,
    InvalidCredentialsError,
    LockedOutError,
    TwoFactorInvalidError,
    TwoFactorNotSetUpError,
    TwoFactorRequiredError,
    TwoFactorThrottledError,
)
from mirador.accounts.models import ApiToken, User
from mirador.accounts.selectors import (
    second_factor_expected,
    totp_device_pending,
    totp_devices_confirmed,
    user_has_second_factor,
)
from mirador.core.errors import ValidationFailedError
from mirador.core.lookups import KeyedLookup

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32
TOTP_DEVICE_NAME = "Authenticator app"


class CodeCheck(enum.Enum):
    """The outcome of checking a two-factor code."""

    ACCEPTED = "accepted"
    WRONG = "wrong"
    # Too many wrong codes in a row: django-otp refuses every code, right or wrong, for a
    # delay that doubles with each failure.
    THROTTLED = "throttled"


def _hash_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def _normalise_code(code: str) -> str:
    # Authenticator apps show "123 456"; people type it so.
    return "".join(code.split())


@transaction.atomic
def api_token_issue(*, user: User, hours: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the stored token and the raw value, shown once."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    lifetime = datetime.timedelta(hours=hours or settings.MIRADOR_API_TOKEN_HOURS)
    token = ApiToken.objects.create(
        user=user,
        key_hash=_hash_token(raw),
        prefix=raw[:8],
        expires_at=timezone.now() + lifetime,
    )
    logger.info("api_token.issued user=%s token=%s", user.pk, token.pk)
    return token, raw


def api_token_obtain(
    *, request: HttpRequest, username: str, password: str, otp: str | None
) -> tuple[ApiToken, str]:
    """Check a program's credentials and issue a token, as `POST /api/v1/auth/token` does.

    The password goes through `authenticate(request, ...)`, so django-axes counts failures per
    user name and address and refuses a locked-out pair before any password is checked. A user
    who must give a second factor sends the current code of their authenticator as `otp`.
    Not atomic as a whole: a wrong code must stay counted for throttling.
    """
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or not user.is_active:
        if getattr(request, "axes_locked_out", False):
            raise LockedOutError()
        raise InvalidCredentialsError()
    if second_factor_expected(user=user):
        if not user_has_second_factor(user=user):
            raise TwoFactorNotSetUpError()
        if not otp:
            raise TwoFactorRequiredError()
        outcome, _device = second_factor_verify(user=user, code=otp)
        if outcome is CodeCheck.THROTTLED:
            raise TwoFactorThrottledError()
        if outcome is not CodeCheck.ACCEPTED:
            raise TwoFactorInvalidError()
    # A program that signs in does not go through login(), where django-axes would clear the
    # failures counted before this success; clear them here the same way.
    axes_reset(ip=getattr(request, "axes_ip_address", None), username=username)
    return api_token_issue(user=user)


# Asked by every API request a program makes, so its query is kept (core.lookups).
_unrevoked_token_by_hash = KeyedLookup(
    lambda key_hash: ApiToken.objects.select_related("user", "user__organisation").filter(
        key_hash=key_hash, revoked_at__isnull=True
    ),
    field="key_hash",
    examples=("0" * 64, "1" * 64),
)


def api_token_authenticate(*, raw_token: str) -> User | None:
    """The active user a usable token belongs to, or None."""
    token = _unrevoked_token_by_hash.get(_hash_token(raw_token))
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    # Written at most once a minute, so busy clients do not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        token.last_used_at = now
        token.save(update_fields=["last_used_at"])
    return token.user


@transaction.atomic
def api_token_revoke(*, raw_token: str) -> bool:
    updated = ApiToken.objects.filter(
        key_hash=_hash_token(raw_token), revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    return updated > 0


def _check_code(device: TOTPDevice, code: str) -> CodeCheck:
    allowed, _reason = device.verify_is_allowed()
    if not allowed:
        return CodeCheck.THROTTLED
    # verify_token() refuses a code already used (replay), counts failures for throttling and
    # saves the device either way.
    return CodeCheck.ACCEPTED if device.verify_token(code) else CodeCheck.WRONG


@transaction.atomic
def second_factor_verify(*, user: User, code: str) -> tuple[CodeCheck, TOTPDevice | None]:
    """Check `code` against the user's confirmed authenticator devices; the device that
    accepted it is returned for django_otp.login."""
    code = _normalise_code(code)
    outcome = CodeCheck.WRONG
    # Locked rows, so two requests at once cannot both try a code against the same counter.
    for device in totp_devices_confirmed(user=user).select_for_update():
        result = _check_code(device, code)
        if result is CodeCheck.ACCEPTED:
            return result, device
        if result is CodeCheck.THROTTLED:
            outcome = result
    return outcome, None


@transaction.atomic
def totp_device_enrol(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator device whose secret is shown to `user` to set it up;
    the same one until it is confirmed, so that reloading the page keeps the QR code."""
    if user_has_second_factor(user=user):
        raise AlreadyEnrolledError()
    device = totp_device_pending(user=user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
        logger.info("two_factor.enrolment_started user=%s", user.pk)
    return device


@transaction.atomic
def totp_device_confirm(*, user: User, code: str) -> tuple[CodeCheck, TOTPDevice | None]:
    """Confirm the device being set up with the first code the user's app shows."""
    if user_has_second_factor(user=user):
        raise AlreadyEnrolledError()
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("-pk")
        .first()
    )
    if device is None:
        return CodeCheck.WRONG, None
    outcome = _check_code(device, _normalise_code(code))
    if outcome is not CodeCheck.ACCEPTED:
        return outcome, None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    logger.info("two_factor.enrolled user=%s device=%s", user.pk, device.pk)
    return outcome, device


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailedError(details={"language": language})
    if user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
