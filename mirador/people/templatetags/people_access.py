"""Template questions about people's data, answered by accounts.permissions."""

from __future__ import annotations

from django import template

from mirador.accounts import permissions

register = template.Library()


@register.filter
def may_read_people(user: object) -> bool:
    """{% if user|may_read_people %}: the user's role reads personal data."""
    return permissions.can_read_personal_data(user)  # type: ignore[arg-type]
