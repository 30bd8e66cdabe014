"""The observatory's public dashboards, no sign-in: the regional overview at /observatory/ and
a page per dataset at /observatory/<dataset code>/.

Thin: the figures are mirador.analytics.dashboards' (public tables after disclosure
control). The filters are a plain GET form, so that every view has its URL and works without
JavaScript; with htmx a change of filter asks for the figures only (HX-Target
"dashboard-figures") and the URL is pushed in its canonical form. A question that cannot be
answered gets a 400 page saying why; an unknown dataset a 404.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url
from django_htmx.middleware import HtmxDetails

from mirador.analytics import dashboards, selectors
from mirador.analytics.selectors import QueryError
from mirador.core.errors import NotFoundError
from mirador.portal.staticfiles import PLOTLY_STATIC_PATH

FIGURES_TARGET = "dashboard-figures"


def _params(request: HttpRequest) -> dict[str, list[str]]:
    return {name: request.GET.getlist(name) for name in request.GET}


def _figures_only(request: HttpRequest) -> bool:
    """An htmx request for the figures (not a history restore, which wants the page)."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return (
        htmx is not None
        and bool(htmx)
        and htmx.target == FIGURES_TARGET
        and not htmx.history_restore_request
    )


def _refused(request: HttpRequest, error: QueryError, *, back: str) -> HttpResponse:
    template = (
        "portal/partials/dashboard_refused.html"
        if _figures_only(request)
        else "portal/dashboard_refused.html"
    )
    return render(
        request, template, {"message": error.message, "back": back}, status=error.http_status
    )


def _url(path: str, query_string: str) -> str:
    return f"{path}?{query_string}" if query_string else path


def _respond(request: HttpRequest, page: str, context: dict[str, Any], *, url: str) -> HttpResponse:
    """The whole page, or for htmx its figures with the URL of the selection to push."""
    if _figures_only(request):
        response = render(request, f"portal/partials/{page}_figures.html", context)
        return push_url(response, url)
    if page == "dataset":
        # The form, on whole pages only: its options read what the dataset holds.
        context["fields"] = dashboards.filter_fields(context["selection"])
    return render(request, f"portal/dashboard_{page}.html", context)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def overview(request: HttpRequest) -> HttpResponse:
    path = reverse("portal:dashboards")
    try:
        selection = dashboards.overview_selection(params=_params(request))
        page = dashboards.overview(selection)
    except QueryError as error:
        return _refused(request, error, back=path)
    entries = [
        {
            "summary": summary,
            "chart_id": f"chart-{summary.dataset.code}",
            "data_id": f"chart-{summary.dataset.code}-data",
            "chart": dashboards.chart_data(summary.series, title=summary.label),
        }
        for summary in page.summaries
    ]
    context = {
        "page": page,
        "selection": selection,
        "countries": dashboards.member_states(),
        "periods": _overview_periods(page),
        "entries": entries,
        "figures_target": FIGURES_TARGET,
        "plotly_path": PLOTLY_STATIC_PATH,
    }
    return _respond(request, "overview", context, url=_url(path, selection.query_string()))


def _overview_periods(page: dashboards.Overview) -> list[tuple[str, str]]:
    """The years the datasets cover, for the overview's period filters."""
    years = {
        year
        for summary in page.summaries
        if summary.first_period and summary.last_period
        for year in range(summary.first_period.year, summary.last_period.year + 1)
    }
    return [(str(year), str(year)) for year in sorted(years)]


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def dataset(request: HttpRequest, code: str) -> HttpResponse:
    path = reverse("portal:dashboard", args=[code])
    try:
        found = selectors.dataset_get(code=code)
    except NotFoundError:
        raise Http404(_("There is no dataset %(code)s.") % {"code": code[:60]}) from None
    try:
        selection = dashboards.dashboard_selection(dataset=found, params=_params(request))
        board = dashboards.dataset_dashboard(selection)
    except QueryError as error:
        return _refused(request, error, back=path)
    label = dashboards.dataset_label(found)
    context = {
        "dataset": found,
        "label": label,
        "selection": selection,
        "board": board,
        "summary": dashboards.selection_summary(selection),
        "series_chart": dashboards.chart_data(board.series, title=label),
        "breakdown_chart": (
            dashboards.breakdown_chart_data(board.breakdown) if board.breakdown else None
        ),
        "figures_target": FIGURES_TARGET,
        "plotly_path": PLOTLY_STATIC_PATH,
        "path": path,
    }
    return _respond(request, "dataset", context, url=_url(path, selection.query_string()))
