"""The identification parts of other apps' pages: "same person as" on a person's record
(people/person_detail.html) and on an arrival (returns/arrival_detail.html), and the
navigation link with its alert count, so that those apps need not know this app's models."""

from __future__ import annotations

from typing import Any

from django import template

from mirador.accounts import permissions
from mirador.linkage import missing, review

register = template.Library()


def _user(context: dict[str, Any]) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


@register.inclusion_tag("linkage/partials/same_person.html", takes_context=True)
def linkage_person_section(context: dict[str, Any], person: Any) -> dict[str, Any]:
    """The other records confirmed to be this person that the reader may open; and, for a
    person reported missing, the report (the reader of this record is a tracing role)."""
    user = _user(context)
    report = getattr(person, "missing_person_report", None)
    return {
        "links": review.same_person_links(user=user, record=person),
        "report": report if permissions.can_trace_missing_persons(user) else None,
    }


@register.inclusion_tag("linkage/partials/same_person.html", takes_context=True)
def linkage_arrival_section(context: dict[str, Any], arrival: Any) -> dict[str, Any]:
    return linkage_person_section(context, arrival.person)


@register.inclusion_tag("linkage/partials/nav_link.html", takes_context=True)
def linkage_nav_link(context: dict[str, Any]) -> dict[str, Any]:
    user = _user(context)
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    show = permissions.can_review_linkage(user)
    return {
        "show": show,
        "alerts": missing.match_alerts_open_count(user=user) if show else 0,
        "current": bool(match and match.namespace == "linkage"),
    }
