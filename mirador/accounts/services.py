"""Writes on accounts: API tokens, language preference."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mirador.accounts.models import ApiToken, User

TOKEN_BYTES = 32


def _hash_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


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
    return token, raw


def api_token_authenticate(*, raw_token: str) -> User | None:
    """The active user a usable token belongs to, or None."""
    token = (
        ApiToken.objects.select_related("user", "user__organisation")
        .filter(key_hash=_hash_token(raw_token), revoked_at__isnull=True)
        .first()
    )
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


def user_set_language(*, user: User, language: str) -> None:
    if user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
