"""The response to a sign-in refused by django-axes (AXES_LOCKOUT_CALLABLE).

Web pages get the locked-out page; the API gets JSON of its usual error shape, so a program
can tell a lockout from a wrong password. Both say when to try again.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from mirador.accounts.errors import LockedOutError

API_PREFIX = "/api/"


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    cool_off = get_cool_off(request)
    retry_after = int(cool_off.total_seconds()) if cool_off else None
    error = LockedOutError()
    response: HttpResponse
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(
            {
                "error": {
                    "code": error.code,
                    "message": error.message,
                    "details": {"retry_after_seconds": retry_after} if retry_after else {},
                }
            },
            status=error.http_status,
        )
    else:
        response = render(
            request,
            settings.AXES_LOCKOUT_TEMPLATE,
            {"retry_after_minutes": (retry_after + 59) // 60 if retry_after else None},
            status=error.http_status,
        )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def client_for_logs(
    username: str, ip_address: str, user_agent: str, path_info: str, request: HttpRequest
) -> str:
    """How django-axes names a client in its log lines: a keyed pseudonym of user name and
    address, so operators can tell repeated attempts apart without the log holding either."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{username}\0{ip_address}".encode(), hashlib.sha256
    ).hexdigest()
    return f"client {digest[:12]} on {path_info}"
