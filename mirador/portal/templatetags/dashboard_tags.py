"""Template helpers of the dashboards: references from a figure to its numbered sources, and
shares as percentages in the active language."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from mirador.analytics.dashboards import DashboardSelection, SourceList, period_label

register = template.Library()


@register.simple_tag
def source_refs(batches: Iterable[str], sources: SourceList) -> SafeString:
    """Links from a figure to the sources it came from, listed at the foot of the page."""
    key = (get_language(), frozenset(batches))
    found = sources.rendered.get(key)
    if found is None:
        numbers = sources.numbers(key[1])
        found = sources.rendered[key] = format_html_join(
            " ",
            '<a class="source-ref" href="#source-{}" aria-label="{}">[{}]</a>',
            ((number, _("Source %(number)d") % {"number": number}, number) for number in numbers),
        )
    return SafeString(found)


@register.filter
def percent(share: float | None, digits: int = 1) -> str:
    """0.4567 as "45.7 %" (with the active language's decimal mark)."""
    if share is None:
        return "—"
    return f"{floatformat(share * 100, digits)} %"


@register.filter(name="period_label")
def period_label_filter(code: str) -> str:
    return period_label(code)


@register.simple_tag
def dashboard_query(selection: DashboardSelection, **changes: str | None) -> str:
    """The page's query string with some parameters replaced (a map's department, ...)."""
    return selection.query_string(**changes)


@register.filter
def signed(number: float | None, digits: int = 1) -> str:
    """12.34 as "+12.3", -5 as "−5.0" (in the active language's decimal mark)."""
    if number is None:
        return "—"
    sign = "+" if number > 0 else "−" if number < 0 else "±"
    return f"{sign}{floatformat(abs(number), digits)}"
