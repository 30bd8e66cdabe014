"""Tokens for programs: `POST /api/v1/auth/token` (user name, password, and a two-factor code
for accounts that need one) issues one; `DELETE` revokes the one the request is made with."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from mirador.accounts.auth import request_user
from mirador.accounts.schemas import MeOut, TokenOut, TokenRequest
from mirador.accounts.services import api_token_obtain, api_token_revoke
from mirador.core.errors import AuthenticationError

router = Router(tags=["auth"])

REVOKE_NEEDS_BEARER = _("Send the token to revoke as `Authorization: Bearer TOKEN`.")


@router.post("/token", auth=None, response={201: TokenOut})
def token_create(request: HttpRequest, payload: TokenRequest) -> Status[TokenOut]:
    """Issue a bearer token. Failed attempts count towards the sign-in lockout; a locked-out
    user name and address gets 429 with the code `locked_out`."""
    token, raw = api_token_obtain(
        request=request, username=payload.username, password=payload.password, otp=payload.otp
    )
    return Status(201, TokenOut(token=raw, expires_at=token.expires_at))


@router.delete("/token", response={204: None})
def token_revoke(request: HttpRequest) -> Status[None]:
    """Revoke the bearer token this request was made with."""
    header = request.headers.get("Authorization", "")
    scheme, _space, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw or not api_token_revoke(raw_token=raw.strip()):
        raise AuthenticationError(str(REVOKE_NEEDS_BEARER))
    return Status(204, None)


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
