"""Per-user language, and the second factor for roles that need one."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from mirador.accounts.two_factor import second_factor_outstanding

# Paths a signed-in user who still owes a second factor may reach. The API applies the same
# rule when it authenticates a session (accounts.auth.VerifiedSessionAuth).
TWO_FACTOR_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/", "/api/")


class UserLanguageMiddleware:
    """A signed-in user reads Mirador in the language they chose last, on any device.

    Runs after LocaleMiddleware, which has already chosen the language of anonymous visitors
    from the language cookie (set by accounts:set_language) or their browser.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "preferred_language", None) in self.languages
        ):
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = user.preferred_language
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Pages are refused to a signed-in user who still owes a second factor: they are sent to
    give it (or set it up), and brought back afterwards."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(TWO_FACTOR_EXEMPT_PREFIXES) and second_factor_outstanding(
            request
        ):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('accounts:two_factor')}?{query}")
        return self.get_response(request)
