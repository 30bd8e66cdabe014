from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

login_view = LoginView.as_view(template_name="accounts/login.html")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("core:home")


def two_factor_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/two_factor.html")


@require_POST
def set_language_view(request: HttpRequest) -> HttpResponse:
    from django.views.i18n import set_language

    return set_language(request)
