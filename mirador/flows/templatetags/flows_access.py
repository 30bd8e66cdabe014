from django import template

from mirador.accounts import permissions

register = template.Library()


@register.filter
def may_import_figures(user: object) -> bool:
    return permissions.can_import_figures(user)  # type: ignore[arg-type]
