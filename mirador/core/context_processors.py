from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from mirador.accounts import permissions


def mirador(request: HttpRequest) -> dict[str, object]:
    """Mode banner, and which shared links the user may follow (decided by the permission
    module, so templates never hold a rule of their own)."""
    user = getattr(request, "user", None)
    return {
        "mirador_mode": settings.MIRADOR_MODE,
        "mirador_is_demo": not settings.PRODUCTION,
        "may": {
            "read_people": permissions.can_read_personal_data(user),
            "import_figures": permissions.can_import_figures(user),
            "view_audit_log": permissions.can_view_audit_log(user),
            "use_admin": permissions.can_use_admin(user),
            "work_reception": permissions.can_do_reception_work(user),
        },
    }
