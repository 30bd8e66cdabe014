"""Sign-in pages: password (throttled by django-axes), the second factor, its set-up, and the
language switch."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from mirador.accounts import permissions
from mirador.accounts.forms import TwoFactorCodeForm
from mirador.accounts.selectors import totp_device_pending, user_has_second_factor
from mirador.accounts.services import (
    CodeCheck,
    second_factor_verify,
    totp_device_confirm,
    totp_device_enrol,
    user_set_language,
)
from mirador.accounts.two_factor import (
    SECOND_FACTOR_EXPECTED_SESSION_KEY,
    is_verified,
    qr_code_svg,
    second_factor_outstanding,
    totp_secret_text,
)

WRONG_CODE = gettext_lazy("The code is wrong or has expired. Type the code your app shows now.")
TOO_MANY_CODES = gettext_lazy(
    "Too many wrong codes in a row: wait a little, then type the code your app shows now."
)


def _safe_next(request: HttpRequest, candidate: str | None, default: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _next_of(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    return _safe_next(request, candidate, resolve_url(settings.LOGIN_REDIRECT_URL))


def _with_next(view_name: str, next_url: str) -> HttpResponseRedirect:
    return redirect(f"{reverse(view_name)}?{urlencode({'next': next_url})}")


class SignInView(LoginView):
    """User name and password, through authenticate(request, ...) and so through django-axes,
    which refuses a locked-out user name and address with the locked-out page. A user who owes
    a second factor goes on to give it (login() marks the session: accounts.two_factor)."""

    template_name = "accounts/login.html"

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        if second_factor_outstanding(self.request):
            return _with_next("accounts:two_factor", self.get_success_url())
        return response


login_view = SignInView.as_view()


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("core:home")


def _code_error(form: TwoFactorCodeForm, outcome: CodeCheck) -> int:
    """Put the reason a code was refused on the form; returns the status to answer with."""
    if outcome is CodeCheck.THROTTLED:
        form.add_error("code", TOO_MANY_CODES)
        return 429
    form.add_error("code", WRONG_CODE)
    return 200


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Ask for the code of the user's authenticator app; django_otp.login on success."""
    user = permissions.active_user(request.user)
    next_url = _next_of(request)
    if user is None:
        return redirect("accounts:login")
    if is_verified(request.user):
        return redirect(next_url)
    if not user_has_second_factor(user=user):
        return _with_next("accounts:two_factor_setup", next_url)
    form = TwoFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        outcome, device = second_factor_verify(user=user, code=form.cleaned_data["code"])
        if outcome is CodeCheck.ACCEPTED:
            otp_login(request, device)
            request.session.pop(SECOND_FACTOR_EXPECTED_SESSION_KEY, None)
            return redirect(next_url)
        status = _code_error(form, outcome)
    return render(
        request, "accounts/two_factor.html", {"form": form, "next": next_url}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup_view(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: show the secret as a QR code and as text, and confirm it
    with the first code the app shows. Open to every signed-in user; required of the roles
    that need a second factor, which are sent here until they have one."""
    user = permissions.active_user(request.user)
    next_url = _next_of(request)
    if user is None:
        return redirect("accounts:login")
    if user_has_second_factor(user=user):
        if not is_verified(request.user):
            return _with_next("accounts:two_factor", next_url)
        return render(request, "accounts/two_factor_enabled.html")
    form = TwoFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        outcome, device = totp_device_confirm(user=user, code=form.cleaned_data["code"])
        if outcome is CodeCheck.ACCEPTED:
            otp_login(request, device)
            request.session.pop(SECOND_FACTOR_EXPECTED_SESSION_KEY, None)
            messages.success(request, _("Two-factor authentication is set up."))
            return redirect(next_url)
        status = _code_error(form, outcome)
    device = totp_device_pending(user=user) if request.method == "POST" else None
    if device is None:
        device = totp_device_enrol(user=user)
    context: dict[str, Any] = {
        "form": form,
        "next": next_url,
        "qr_code": qr_code_svg(device.config_url),
        "secret": totp_secret_text(device),
        "required": permissions.requires_two_factor(user),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=status)


@require_POST
def set_language_view(request: HttpRequest) -> HttpResponse:
    """Switch the language: kept on the user's account when signed in (so it follows them to
    any device), and in a cookie, which is what anonymous visitors have."""
    fallback = _safe_next(request, request.headers.get("Referer"), reverse("core:home"))
    response = redirect(_safe_next(request, request.POST.get("next"), fallback))
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return response
    user = permissions.active_user(request.user)
    if user is not None:
        user_set_language(user=user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
