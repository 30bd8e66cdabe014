"""Errors of signing in, with the stable codes API clients can rely on."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from mirador.core.errors import ApplicationError, AuthenticationError


class InvalidCredentialsError(AuthenticationError):
    code = "invalid_credentials"
    default_message = _("The user name or password is wrong.")


class LockedOutError(ApplicationError):
    """Too many failed sign-ins for this user name from this address (django-axes)."""

    code = "locked_out"
    http_status = 429
    default_message = _(
        "Too many failed sign-in attempts: this account is locked for a while from this "
        "address. Try again later, or ask your administrator."
    )


class TwoFactorRequiredError(AuthenticationError):
    code = "two_factor_required"
    default_message = _("This account needs a two-factor code: send it as `otp`.")


class TwoFactorNotSetUpError(AuthenticationError):
    code = "two_factor_not_set_up"
    default_message = _(
        "This account needs two-factor authentication, which is not set up yet: sign in on the "
        "web once to set it up."
    )


class TwoFactorInvalidError(AuthenticationError):
    code = "two_factor_invalid"
    default_message = _("The two-factor code is wrong or has expired.")


class TwoFactorThrottledError(ApplicationError):
    code = "two_factor_throttled"
    http_status = 429
    default_message = _("Too many wrong two-factor codes: wait a little and try again.")


class AlreadyEnrolledError(ApplicationError):
    code = "two_factor_already_set_up"
    http_status = 409
    default_message = _("Two-factor authentication is already set up for this account.")
