"""Request-wide context: where a request came from, for the audit log."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from mirador.core.audit import request_context


def client_ip(request: HttpRequest) -> str | None:
    # Behind a reverse proxy REMOTE_ADDR is the proxy's; only when the operator says a proxy
    # sets X-Real-IP is that header believed, since a client can send anything.
    if settings.MIRADOR_BEHIND_PROXY and request.META.get("HTTP_X_REAL_IP"):
        return str(request.META["HTTP_X_REAL_IP"])
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        with request_context(ip_address=client_ip(request), channel=channel):
            return self.get_response(request)
