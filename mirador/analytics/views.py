"""Open-data downloads (public, no sign-in): every public table as CSV, Parquet and SDMX-CSV,
with its Frictionless data package, and a page listing them.

The table is chosen by the same parameters as the API (by, period_type, start, end, minors,
one filter per dimension) plus `totals` (false: cells only). A question that cannot be
answered gets a 400 with the reason as text; an unknown dataset a 404.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from mirador.analytics import exports, selectors
from mirador.analytics.selectors import PERIOD, PublicTable, QueryError, TableQuery
from mirador.core.errors import NotFoundError

DOWNLOAD_PARAMETERS = ("totals",)
DEFAULT_BREAKDOWN = (PERIOD,)


def _download(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refused questions become a 400 with the reason, unknown datasets a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFoundError:
            raise Http404 from None
        except QueryError as error:
            return HttpResponse(error.message, status=400, content_type="text/plain; charset=utf-8")

    return require_GET(wrapper)


def _query(request: HttpRequest, code: str) -> tuple[TableQuery, bool]:
    dataset = selectors.dataset_get(code=code)
    params = {name: request.GET.getlist(name) for name in request.GET}
    totals_text = params.pop("totals", [])
    totals = selectors.parse_bool(totals_text[-1], field_name="totals") if totals_text else True
    query = selectors.table_query_from_params(
        dataset=dataset, params=params, default_group_by=DEFAULT_BREAKDOWN
    )
    return query, totals


def _file_name(table: PublicTable, extension: str) -> str:
    breakdown = "-".join(table.columns) or "total"
    return f"mirador-{table.query.dataset.code}-{breakdown}.{extension}"


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@_download
def table_csv(request: HttpRequest, code: str) -> HttpResponse:
    query, totals = _query(request, code)
    table = selectors.public_table(query)
    response = HttpResponse(
        exports.to_csv(table, totals=totals), content_type="text/csv; charset=utf-8"
    )
    return _attachment(response, _file_name(table, "csv"))


@_download
def table_parquet(request: HttpRequest, code: str) -> HttpResponse:
    query, totals = _query(request, code)
    table = selectors.public_table(query)
    response = HttpResponse(
        exports.to_parquet(table, totals=totals), content_type="application/vnd.apache.parquet"
    )
    return _attachment(response, _file_name(table, "parquet"))


def _sdmx_query(query: TableQuery) -> TableQuery:
    """SDMX observations are always by period."""
    if PERIOD in query.group_by:
        return query
    return query.replace(group_by=(PERIOD, *query.group_by)[: selectors.MAX_GROUP_BY])


@_download
def table_sdmx(request: HttpRequest, code: str) -> HttpResponse:
    query, _totals = _query(request, code)
    table = selectors.public_table(_sdmx_query(query))
    response = HttpResponse(
        exports.to_sdmx_csv(table), content_type="application/vnd.sdmx.data+csv; version=1.0.0"
    )
    return _attachment(response, _file_name(table, "sdmx.csv"))


@_download
def table_datapackage(request: HttpRequest, code: str) -> HttpResponse:
    query, _totals = _query(request, code)
    table = selectors.public_table(query)
    sdmx_table = selectors.public_table(_sdmx_query(query))
    query_string = request.GET.urlencode()
    suffix = f"?{query_string}" if query_string else ""
    urls = {
        name: request.build_absolute_uri(reverse(f"analytics:{name}", args=[code]) + suffix)
        for name in ("csv", "parquet", "sdmx")
    }
    dataset = query.dataset
    names = {dimension.code: dimension.name_en for dimension in dataset.dimensions.all()}
    package = exports.data_package(
        table,
        urls=urls,
        names=names,
        title=f"{dataset.name_en} ({dataset.name_es})",
        description=dataset.description,
        sdmx_table=sdmx_table,
    )
    response = HttpResponse(
        json.dumps(package, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def data_index(request: HttpRequest) -> HttpResponse:
    """The datasets and their downloads, by period and by each of their dimensions."""
    datasets = []
    for dataset in selectors.public_datasets():
        dimensions = selectors.dataset_dimensions(dataset)
        needs_measure = any(dimension.code == "measure" for dimension in dimensions)
        tables = []
        for dimension in [None, *dimensions]:
            breakdown = [PERIOD] + ([dimension.code] if dimension else [])
            if needs_measure and (dimension is None or dimension.code != "measure"):
                breakdown.append("measure")
            query_string = "&".join(f"by={name}" for name in dict.fromkeys(breakdown))
            tables.append(
                {
                    "label": dimension.name if dimension else _("Period only"),
                    "query": query_string,
                }
            )
        datasets.append({"dataset": dataset, "tables": tables})
    return render(request, "analytics/data_index.html", {"datasets": datasets})
