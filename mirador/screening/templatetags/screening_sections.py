"""The screening for vulnerability section of an arrival's page (returns/arrival_detail.html), so
that the returns app does not need to know this app's models."""

from __future__ import annotations

from typing import Any

from django import template

from mirador.screening.views import section_context

register = template.Library()


@register.inclusion_tag("screening/partials/arrival_section.html", takes_context=True)
def screening_arrival_section(context: dict[str, Any], arrival: Any) -> dict[str, Any]:
    request = context.get("request")
    if request is None:
        return {"arrival": arrival, "may_screen": False}
    return section_context(request, arrival)
