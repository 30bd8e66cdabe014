"""API of observatory analytics, mounted at /api/v1/analytics/: public (no sign-in), for
researchers. Datasets with their dimensions and code lists; any breakdown of a selection of
figures, paginated; indicators. Every figure is published after disclosure control and names
the batches (files) it came from. A question that cannot be answered is a 400 naming the
parameter; a value of the wrong type a 422.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from mirador.accounts.auth import request_user
from mirador.analytics import bulletins, forecasting, profiles, selectors
from mirador.analytics import indicators as indicator_module
from mirador.analytics.disclosure import disclosure_threshold
from mirador.analytics.schemas import (
    BulletinEditionOut,
    BulletinRequestIn,
    CountryProfileOut,
    CountryRolesOut,
    DatasetDetailOut,
    DatasetOut,
    ForecastOut,
    ForecastParams,
    ForecastPendingOut,
    IndicatorParams,
    IndicatorsOut,
    TableOut,
    TableParams,
)
from mirador.analytics.selectors import BatchSource, TableQuery
from mirador.flows.models import Dataset, PeriodType

router = Router(tags=["analytics"])

TABLE_EXTRA = ("totals", "limit", "offset")
INDICATOR_EXTRA = ("top", "top_limit", "rate_dimension")


def _params(request: HttpRequest) -> dict[str, list[str]]:
    return {name: request.GET.getlist(name) for name in request.GET}


def _dataset_out(dataset: Dataset, *, detail: bool = False) -> dict[str, Any]:
    coverage = selectors.dataset_coverage(dataset)
    dimensions = []
    for dimension in selectors.dataset_dimensions(dataset):
        entry: dict[str, Any] = {
            "code": dimension.code,
            "name_en": dimension.name_en,
            "name_es": dimension.name_es,
            "kind": dimension.kind,
            "code_list": dimension.code_list.code if dimension.code_list else None,
        }
        if detail:
            entry["codes"] = selectors.dimension_codes(dimension, dataset=dataset)
        dimensions.append(entry)
    return {
        "code": dataset.code,
        "name_en": dataset.name_en,
        "name_es": dataset.name_es,
        "description": dataset.description,
        "dimensions": dimensions,
        "period_types": selectors.stored_period_types(dataset),
        **coverage,
    }


def _query_out(query: TableQuery) -> dict[str, Any]:
    return {
        "dataset": query.dataset.code,
        "breakdown": list(query.group_by),
        "period_type": query.period_type,
        "start": f"{query.start:%Y-%m}" if query.start else None,
        "end": f"{query.end:%Y-%m}" if query.end else None,
        "filters": {name: list(codes) for name, codes in query.filters},
    }


def _sources(sources: list[BatchSource]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(source) for source in sources]


@router.get("/datasets", auth=None, response=list[DatasetOut], summary="Datasets (public)")
def dataset_list(request: HttpRequest) -> Any:
    """Every dataset with its dimensions, period types and the periods it covers."""
    return [_dataset_out(dataset) for dataset in selectors.public_datasets()]


@router.get(
    "/datasets/{code}", auth=None, response=DatasetDetailOut, summary="One dataset (public)"
)
def dataset_detail(request: HttpRequest, code: str) -> Any:
    """A dataset with the codes of each dimension (for countries and subdivisions, the codes
    the dataset uses)."""
    return _dataset_out(selectors.dataset_get(code=code), detail=True)


@router.get(
    "/datasets/{code}/observations",
    auth=None,
    response=TableOut,
    summary="Figures of a dataset, broken down and filtered (public)",
)
def dataset_observations(request: HttpRequest, code: str, params: Query[TableParams]) -> Any:
    """The dataset's figures summed by the breakdowns of `by` (period and/or dimensions),
    over the selection, with every total (code _T), after disclosure control: a suppressed
    figure has `value` null and `suppressed` true. Paginated with `limit` and `offset`."""
    dataset = selectors.dataset_get(code=code)
    query = selectors.table_query_from_params(
        dataset=dataset, params=_params(request), allowed=TABLE_EXTRA
    )
    table = selectors.public_table(query)
    rows = table.rows(totals=params.totals)
    page = rows[params.offset : params.offset + params.limit]
    return {
        "query": _query_out(query),
        "disclosure_threshold": table.protected.threshold,
        "suppressed": table.suppressed_count,
        "count": len(rows),
        "limit": params.limit,
        "offset": params.offset,
        "items": [
            {
                "codes": row.codes,
                "value": row.value,
                "suppressed": row.suppressed,
                "batches": list(row.batches),
            }
            for row in page
        ],
        "sources": _sources(table.sources),
    }


@router.get(
    "/datasets/{code}/indicators",
    auth=None,
    response=IndicatorsOut,
    summary="Indicators of a selection of figures (public)",
)
def dataset_indicators(request: HttpRequest, code: str, params: Query[IndicatorParams]) -> Any:
    """Monthly and yearly totals with the change on the previous year, shares of women,
    minors and unaccompanied minors, top countries and subdivisions, rates per 100,000
    inhabitants where a population is loaded; each figure with its batches."""
    dataset = selectors.dataset_get(code=code)
    request_params = _params(request)
    if "by" in request_params:
        raise selectors.QueryError(
            _("Indicators have their own breakdowns: leave out “by”."), details={"field": "by"}
        )
    query = selectors.table_query_from_params(
        dataset=dataset, params=request_params, allowed=INDICATOR_EXTRA
    )
    declared = {dimension.code for dimension in dataset.dimensions.all()}
    top = selectors.split_values(params.top) or None
    for name in [*(top or []), *([params.rate_dimension] if params.rate_dimension else [])]:
        if name not in declared:
            raise selectors.QueryError(
                _("The dataset %(dataset)s has no dimension “%(name)s”.")
                % {"dataset": dataset.code, "name": name[:40]},
                details={"field": "top" if top and name in top else "rate_dimension"},
            )
    summary = indicator_module.indicators(
        query,
        top_dimensions=top,
        top_limit=params.top_limit,
        rate_dimension=params.rate_dimension,
    )
    return {
        "query": _query_out(query),
        "disclosure_threshold": disclosure_threshold(),
        "suppressed": summary.suppressed,
        "monthly": [dataclasses.asdict(figure) for figure in summary.monthly],
        "yearly": [dataclasses.asdict(figure) for figure in summary.yearly],
        "shares": [dataclasses.asdict(figure) for figure in summary.shares],
        "top": [dataclasses.asdict(figure) for figure in summary.top],
        "rates": [dataclasses.asdict(figure) for figure in summary.rates],
        "sources": _sources(summary.sources),
    }


@router.get(
    "/datasets/{code}/forecast",
    auth=None,
    response={200: ForecastOut, 202: ForecastPendingOut},
    summary="Forecast of a monthly series, with its backtest (public)",
)
def dataset_forecast(
    request: HttpRequest, code: str, params: Query[ForecastParams]
) -> Status[dict[str, Any]]:
    """The forecast of the monthly totals of a selection (the same filters as the
    indicators) for the next 3, 12 and 36 months, with 80% and 95% prediction intervals and
    the rolling-origin backtest (MASE of the ensemble and of each model against the
    seasonal naive forecast). Computed in the background from the published series: 200
    with the forecast (or status too_short / withheld and a message saying why), 202 while
    it is being computed (ask again)."""
    dataset = selectors.dataset_get(code=code)
    request_params = _params(request)
    if "by" in request_params:
        raise selectors.QueryError(
            _("A forecast is of one monthly series: leave out “by”."), details={"field": "by"}
        )
    query = selectors.table_query_from_params(dataset=dataset, params=request_params)
    if query.stored_period_type == PeriodType.MONTH and query.period_type != PeriodType.MONTH:
        raise selectors.QueryError(
            _("Forecasts are of monthly series: leave out period_type or make it month."),
            details={"field": "period_type"},
        )
    query = forecasting.series_query(query)  # refuses a dataset of yearly figures
    found = forecasting.forecast_get(query=query)
    if found is None:
        forecasting.forecast_request(query=query)
        return Status(
            202,
            {
                "query": _query_out(query),
                "status": "computing",
                "message": str(forecasting.COMPUTING_MESSAGE),
            },
        )
    return Status(
        200,
        {
            "query": _query_out(query),
            "status": found.status,
            "message": found.message,
            "horizons": list(found.horizons),
            "history": [
                {"period": f"{period:%Y-%m}", "value": value} for period, value in found.history
            ],
            "points": [
                {**dataclasses.asdict(point), "period": f"{point.period:%Y-%m}"}
                for point in found.points
            ],
            "backtest": {
                **dataclasses.asdict(found.backtest),
                "origin_periods": [f"{period:%Y-%m}" for period in found.backtest.origin_periods],
            }
            if found.backtest
            else None,
            "withheld": [f"{period:%Y-%m}" for period in found.withheld],
            "disclosure_threshold": found.threshold,
            "minimum_months": forecasting.MIN_MONTHS,
            "computed_at": found.computed_at,
            "batches": list(found.batches),
            "sources": _sources(selectors.batch_sources(found.batches)),
        },
    )


# --- monthly bulletins (mirador/analytics/bulletins.py) ---------------------------------------


@router.get(
    "/bulletins",
    auth=None,
    response=list[BulletinEditionOut],
    summary="Published monthly bulletins (public)",
)
def bulletin_list(request: HttpRequest) -> Any:
    """Every published edition, newest month first (several editions of a month when it was
    generated again), with its PDF's address and SHA-256 and the batches its figures came
    from."""
    return list(bulletins.published_editions().prefetch_related("batches"))


@router.get(
    "/bulletins/{edition_id}/pdf",
    auth=None,
    url_name="bulletin_pdf",
    summary="A published bulletin's PDF (public)",
)
def bulletin_pdf(request: HttpRequest, edition_id: uuid.UUID) -> HttpResponse:
    edition = bulletins.published_edition_get(edition_id=edition_id)
    return bulletins.pdf_response(edition)


@router.post(
    "/bulletins",
    response={202: list[BulletinEditionOut]},
    summary="Generate a monthly bulletin",
)
def bulletin_create(request: HttpRequest, payload: BulletinRequestIn) -> Status[Any]:
    """New editions of a month's bulletin, one per language, generated in the background:
    answers 202 at once; follow them at GET /bulletins/{id}. For administrators and regional
    analysts. A month that has not ended, or has no figures, is a 400 saying so."""
    editions = bulletins.bulletin_request(
        actor=request_user(request), month=payload.month, languages=payload.languages
    )
    return Status(202, editions)


@router.get(
    "/bulletins/{edition_id}",
    response=BulletinEditionOut,
    summary="Follow a bulletin's generation",
)
def bulletin_get(request: HttpRequest, edition_id: uuid.UUID) -> Any:
    """Queued, running, published or failed (with the reason). For those who may generate
    bulletins."""
    return bulletins.edition_get(actor=request_user(request), edition_id=edition_id)


# --- country profiles (W-O1) ------------------------------------------------------------------


def _role_out(role: profiles.RoleResult, *, lines: bool) -> dict[str, Any]:
    return {
        "role": role.role,
        "status": role.status,
        "indicators": [
            {
                "indicator": figure.spec.code,
                "label": str(figure.spec.label),
                "rule": str(figure.spec.rule),
                "dataset": figure.spec.dataset,
                "unit": figure.spec.unit,
                "threshold": figure.spec.threshold,
                "period_start": figure.window.start_code if figure.window else None,
                "period_end": figure.window.end_code if figure.window else None,
                "value": figure.value,
                "at_least": figure.at_least,
                "metric": figure.metric,
                "population": figure.population,
                "population_year": figure.population_year,
                "meets_threshold": figure.meets,
                "batches": list(figure.batches),
            }
            for figure in role.figures
        ],
        "mission_lines": [dataclasses.asdict(line) for line in role.lines] if lines else [],
    }


def _country_out(
    country: Any, roles: list[profiles.RoleResult], *, lines: bool = False
) -> dict[str, Any]:
    return {
        "country": country.pk,
        "name_en": country.name_en,
        "name_es": country.name_es,
        "roles": [_role_out(role, lines=lines) for role in roles],
    }


@router.get(
    "/countries",
    auth=None,
    response=list[CountryRolesOut],
    summary="RCM member states and their measured roles (public)",
)
def country_list(request: HttpRequest) -> Any:
    """Each member state's roles as a country of origin, transit and destination, measured
    from the figures: every indicator with its count, its comparison with the threshold and
    its batches (docs/profiles.md)."""
    return [_country_out(member.country, member.roles) for member in profiles.members_summary()]


@router.get(
    "/countries/{code}",
    auth=None,
    response=CountryProfileOut,
    summary="Profile of a member state (public)",
)
def country_profile(request: HttpRequest, code: str) -> Any:
    """A member state's roles with the lines of the RCM documents that concern each, its main
    corridors, and its returns as events and persons with the re-return rate. 404 for a code
    that is no country or a country that is not a member (code "not_a_member")."""
    profile = profiles.country_profile(code=code)
    returns = profile.returns
    return {
        **_country_out(profile.country, profile.roles, lines=True),
        "disclosure_threshold": disclosure_threshold(),
        "corridors": [
            {
                "dataset": group.dataset,
                "period_start": group.window.start_code,
                "period_end": group.window.end_code,
                "outgoing": [_corridor_out(corridor) for corridor in group.outgoing],
                "incoming": [_corridor_out(corridor) for corridor in group.incoming],
            }
            for group in profile.corridors
        ],
        "returns": (
            {
                "years": [dataclasses.asdict(year) for year in returns.years],
                "total": dataclasses.asdict(returns.total),
            }
            if returns is not None
            else None
        ),
        "sources": _sources(profile.sources),
    }


def _corridor_out(corridor: profiles.Corridor) -> dict[str, Any]:
    return {
        "origin": corridor.origin,
        "destination": corridor.destination,
        "value": corridor.value,
        "batches": list(corridor.batches),
    }
