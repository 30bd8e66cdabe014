"""The identity documents section of an arrival's page (returns/arrival_detail.html), so that the
returns app does not need to know this app's models."""

from __future__ import annotations

from typing import Any

from django import template

from mirador.documents.views import arrival_section_context

register = template.Library()


@register.inclusion_tag("documents/partials/arrival_section.html", takes_context=True)
def documents_arrival_section(context: dict[str, Any], arrival: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return arrival_section_context(request=request, user=user, arrival=arrival)
