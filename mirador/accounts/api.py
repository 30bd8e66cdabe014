"""POST /api/v1/auth/token (password, and a TOTP code for roles that need it) and its revocation."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django_otp import devices_for_user
from ninja import Router

from mirador.accounts import permissions
from mirador.accounts.auth import request_user
from mirador.accounts.models import User
from mirador.accounts.schemas import MeOut, TokenOut, TokenRequest
from mirador.accounts.services import api_token_issue, api_token_revoke
from mirador.core.errors import AuthenticationError

router = Router(tags=["auth"])

INVALID_CREDENTIALS = "The user name or password is wrong, or the account is locked."
OTP_REQUIRED = "This role needs a two-factor code: send it as `otp`."
OTP_INVALID = "The two-factor code is wrong or has expired."


def _otp_matches(user: User, code: str) -> bool:
    return any(device.verify_token(code) for device in devices_for_user(user, confirmed=True))


@router.post("/token", auth=None, response={201: TokenOut})
def token_create(request: HttpRequest, payload: TokenRequest) -> tuple[int, TokenOut]:
    # authenticate() goes through django-axes, which counts failures and locks out.
    user = authenticate(request, username=payload.username, password=payload.password)
    if not isinstance(user, User) or not user.is_active:
        raise AuthenticationError(INVALID_CREDENTIALS)
    if permissions.requires_two_factor(user):
        if not payload.otp:
            raise AuthenticationError(OTP_REQUIRED)
        if not _otp_matches(user, payload.otp):
            raise AuthenticationError(OTP_INVALID)
    token, raw = api_token_issue(user=user)
    return 201, TokenOut(token=raw, expires_at=token.expires_at)


@router.delete("/token", response={204: None})
def token_revoke(request: HttpRequest) -> tuple[int, None]:
    """Revoke the bearer token this request was made with."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw or not api_token_revoke(raw_token=raw.strip()):
        raise AuthenticationError("Send the token to revoke as `Authorization: Bearer TOKEN`.")
    return 204, None


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    """Who the caller is, with the role and scope that decide what they see."""
    user = request_user(request)
    return MeOut(
        username=user.username,
        role=user.role,
        country=user.country_id,
        organisation=str(user.organisation) if user.organisation else None,
        preferred_language=user.preferred_language,
    )
