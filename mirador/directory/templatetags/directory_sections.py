"""The services directory and referrals section of an arrival's page
(returns/arrival_detail.html), so that the returns app does not need to know this app's models."""

from __future__ import annotations

from typing import Any

from django import template

from mirador.accounts import permissions
from mirador.directory.selectors import person_referrals

register = template.Library()


@register.inclusion_tag("directory/partials/arrival_section.html", takes_context=True)
def directory_arrival_section(context: dict[str, Any], arrival: Any) -> dict[str, Any]:
    """The person's referrals and the "Refer to a service" form, for users who may refer the
    person (nothing otherwise). After a refused submission, the form comes back bound, with
    its errors (directory.views.referral_new puts it in the context)."""
    from mirador.directory.views import referral_form_for

    request = context.get("request")
    user = getattr(request, "user", None)
    may_refer = permissions.can_refer_person(user, arrival.person)
    if not may_refer:
        return {"request": request, "arrival": arrival, "may_refer": False}
    return {
        "request": request,
        "arrival": arrival,
        "may_refer": True,
        "referrals": person_referrals(user=user, person=arrival.person),
        "form": context.get("referral_form") or referral_form_for(arrival),
        "csrf_token": context.get("csrf_token"),
    }
