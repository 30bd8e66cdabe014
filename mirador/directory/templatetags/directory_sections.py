"""The services directory and referrals section of an arrival's page
(returns/arrival_detail.html), so that the returns app does not need to know this app's models."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("directory/partials/arrival_section.html", takes_context=True)
def directory_arrival_section(context: dict[str, Any], arrival: Any) -> dict[str, Any]:
    return {"request": context.get("request"), "arrival": arrival}
