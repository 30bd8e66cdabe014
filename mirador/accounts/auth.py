"""How the API knows who is calling: a bearer token, or the browser's session."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from ninja.security import HttpBearer, SessionAuth

from mirador.accounts.models import User
from mirador.accounts.services import api_token_authenticate
from mirador.accounts.two_factor import second_factor_outstanding
from mirador.core.errors import AuthenticationError


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(raw_token=token)
        if user is None:
            return None
        request.user = user
        # A program calling with a user's token reads the API's messages in that user's
        # language, as the user does on the pages (accounts.middleware.UserLanguageMiddleware,
        # which runs before the API knows who is calling).
        if user.preferred_language in {code for code, _name in settings.LANGUAGES}:
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = user.preferred_language
        return user


class VerifiedSessionAuth(SessionAuth):
    """A session counts only once the user has given the second factor they owe (their role's,
    or the one they set up of their own accord)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None:
            return None
        if second_factor_outstanding(request):
            return None
        return user


api_auth = [BearerTokenAuth(), VerifiedSessionAuth()]


def request_user(request: HttpRequest) -> User:
    """The authenticated user of an API request (the auth classes above have run)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise AuthenticationError()
    return user
