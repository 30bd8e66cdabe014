"""The consular parts of other pages: the navigation link, for those who work cases."""

from __future__ import annotations

from typing import Any

from django import template

from mirador.consular.selectors import can_work_cases

register = template.Library()


@register.inclusion_tag("consular/partials/nav_link.html", takes_context=True)
def consular_nav_link(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return {
        "show": can_work_cases(getattr(request, "user", None)),
        "current": bool(match and match.namespace == "consular"),
    }
