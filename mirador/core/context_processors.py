from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def mirador(request: HttpRequest) -> dict[str, object]:
    return {"mirador_mode": settings.MIRADOR_MODE, "mirador_is_demo": not settings.PRODUCTION}
