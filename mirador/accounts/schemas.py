from __future__ import annotations

import datetime

from ninja import Schema


class TokenRequest(Schema):
    username: str
    password: str
    otp: str | None = None


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"  # noqa: S105 (the scheme name, not a secret)
    expires_at: datetime.datetime


class MeOut(Schema):
    username: str
    role: str
    country: str | None
    organisation: str | None
    preferred_language: str
