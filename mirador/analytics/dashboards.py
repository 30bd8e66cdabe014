"""What the public dashboards show (mirador.portal): a visitor's selection of a dataset's
figures turned into the public tables and indicators of this app, after disclosure control,
each figure with the batches (files) it came from.

- `dashboard_selection` reads the filters of a page (the parameters of the open-data API,
  without `by`, plus `breakdown`), refusing what cannot be answered (QueryError, a 400);
  `DashboardSelection.params` is the canonical query string, so that a view can be shared.
- `dataset_dashboard` builds a dataset's page: the series by month or year (with its
  forecast where one has been computed), the headline indicators, a breakdown by one
  dimension, maps of the subdivisions of origin where boundaries are kept, and the numbered
  list of the sources of every figure shown.
- `overview` builds the regional overview: each dataset's series and latest year, for a
  period and one member state.

Nothing here adds a figure that a public table of the same selection does not publish: the
series, shares, rates and rankings are those of analytics.indicators; breakdowns and maps
are public tables.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext
from django.utils.translation import gettext as _

from mirador.analytics import forecasting, selectors
from mirador.analytics import indicators as indicator_module
from mirador.analytics.boundaries import CountryBoundaries, country_boundaries
from mirador.analytics.disclosure import TOTAL, disclosure_threshold
from mirador.analytics.forecasting_engine import ENSEMBLE, HORIZONS, MEMBERS, SEASONAL_NAIVE
from mirador.analytics.indicators import POPULATION_DATASET, RateFigure, ShareFigure, YearFigure
from mirador.analytics.selection_figures import one_reading
from mirador.analytics.selectors import BatchSource, PublicTable, QueryError, TableQuery
from mirador.core.models import Country, RcmStatus, Subdivision
from mirador.flows.models import Code, Dataset, Dimension, DimensionKind, PeriodType

# The filters of a dataset's page, in the order the form shows them (those the dataset has).
FILTER_ORDER = (
    "reporting_country",
    "from_country",
    "to_country",
    "citizenship",
    "sex",
    "age_group",
    "unaccompanied",
    "demographic",
    "means",
    "subdivision",
    "measure",
    "route",
    "cause",
    "authority",
    "encounter_type",
    "component",
)
BREAKDOWN = "breakdown"
HORIZON = "horizon"
PAGE_PARAMETERS = ("start", "end", "period_type", "minors", *FILTER_ORDER, BREAKDOWN, HORIZON)
# Months ahead a page's forecast shows unless asked (short, medium or long term: HORIZONS).
DEFAULT_HORIZON = 12
OVERVIEW_PARAMETERS = ("start", "end", "country")
# The dimension a member state is seen through on the overview, the first the dataset has:
# the citizenship of those encountered or dead, the country that received its nationals
# back, the country of origin of emigrants.
COUNTRY_OF_INTEREST = ("citizenship", "reporting_country", "from_country")
# Figures of different measures are never added up: a page opens on this one.
PREFERRED_CODES = {"measure": "dead"}
# Bars drawn in a breakdown chart (its table lists every code).
BREAKDOWN_CHART_LIMIT = 15
MAP_CLASSES = 5
MINORS_CHOICES = (
    ("", gettext_lazy("All ages")),
    ("true", gettext_lazy("Minors only (under 18)")),
    ("false", gettext_lazy("Adults only")),
)
PERIOD_TYPE_CHOICES = (
    (PeriodType.MONTH, gettext_lazy("By month")),
    (PeriodType.YEAR, gettext_lazy("By year")),
)


# --- names ------------------------------------------------------------------------------------


def _spanish() -> bool:
    return (get_language() or "es").startswith("es")


def localised(entry: Mapping[str, str]) -> str:
    return entry["name_es"] if _spanish() else entry["name_en"]


def dimension_label(dimension: Dimension) -> str:
    return dimension.name_es if _spanish() else dimension.name_en


def dataset_label(dataset: Dataset) -> str:
    return dataset.name_es if _spanish() else dataset.name_en


def code_names(dimension: Dimension, *, dataset: Dataset) -> dict[str, str]:
    """The codes of a dimension (those of its code list, and for countries and subdivisions
    those the dataset uses) with their names in the active language."""
    names = {
        entry["code"]: localised(entry)
        for entry in selectors.dimension_codes(dimension, dataset=dataset)
    }
    names[TOTAL] = _("Total")
    return names


def names_of(dimension: Dimension, codes: Iterable[str]) -> dict[str, str]:
    """Names of some codes of a dimension (those a table shows): its code list's, and for a
    country or subdivision the reference table's; without reading the dataset's figures."""
    wanted = set(codes) - {TOTAL}
    names = {TOTAL: _("Total")}
    if dimension.code_list_id is not None:
        for code in Code.objects.filter(code_list_id=dimension.code_list_id, code__in=wanted):
            names[code.code] = localised({"name_en": code.name_en, "name_es": code.name_es})
    rows: Iterable[Country | Subdivision] = ()
    if dimension.kind == DimensionKind.COUNTRY:
        rows = Country.objects.filter(alpha2__in=wanted)
    elif dimension.kind == DimensionKind.SUBDIVISION:
        rows = Subdivision.objects.filter(code__in=wanted)
    for row in rows:
        names.setdefault(row.pk, row.name)
    return {code: names.get(code, code) for code in (*wanted, TOTAL)}


def _option_order(item: tuple[str, str]) -> tuple[bool, str]:
    code, name = item
    return code.startswith("_"), name.casefold()


# --- caching ----------------------------------------------------------------------------------

# Public pages are asked the same questions again and again; their figures change only when
# the data does. Cached under the datasets' data version (their imported batches, the
# disclosure threshold), so that an import, a revision or a rollback is seen at once.
CACHE_SECONDS = 15 * 60
CACHE_PREFIX = "mirador-dashboards"
T = TypeVar("T")


def cached(
    kind: str, question: Sequence[Any], datasets: Iterable[Dataset], compute: Callable[[], T]
) -> T:
    """`compute()`, or what it gave for the same question, language, boundaries and data."""
    versions = sorted(forecasting.data_version(dataset) for dataset in datasets)
    text = json.dumps(
        [kind, list(question), get_language(), str(settings.MIRADOR_BOUNDARIES_DIR), versions],
        default=str,
    )
    key = f"{CACHE_PREFIX}:{hashlib.sha256(text.encode('utf-8')).hexdigest()}"
    found = cache.get(key)
    if found is None:
        with one_reading():
            found = compute()
        cache.set(key, found, CACHE_SECONDS)
    return found


# --- the selection ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardSelection:
    """A dataset page's question: the query (filters and period range, no breakdown), the
    dimension of the breakdown chart, and the parameters as asked (canonical order)."""

    query: TableQuery
    breakdown: str | None
    params: tuple[tuple[str, str], ...]
    horizon: int = DEFAULT_HORIZON

    @property
    def dataset(self) -> Dataset:
        return self.query.dataset

    def chosen(self, name: str) -> tuple[str, ...]:
        return tuple(value for key, value in self.params if key == name)

    def query_string(self, **changes: str | None) -> str:
        """The parameters with some replaced (None or "" removes one)."""
        params = dict(self.params)
        for name, value in changes.items():
            if value:
                params[name] = value
            else:
                params.pop(name, None)
        ordered = [(name, params[name]) for name in PAGE_PARAMETERS if name in params]
        return urlencode(ordered)


def _declared(dataset: Dataset) -> dict[str, Dimension]:
    return {dimension.code: dimension for dimension in dataset.dimensions.all()}


def _nonempty(params: Mapping[str, list[str]], name: str) -> list[str]:
    return selectors.split_values(params.get(name, []))


def preferred_code(dimension: Dimension, *, dataset: Dataset) -> str | None:
    """The code a page opens on for a dimension whose figures are never added up."""
    codes = [entry["code"] for entry in selectors.dimension_codes(dimension, dataset=dataset)]
    preferred = PREFERRED_CODES.get(dimension.code)
    if preferred in codes:
        return preferred
    return codes[0] if codes else None


def dashboard_selection(*, dataset: Dataset, params: Mapping[str, list[str]]) -> DashboardSelection:
    """A dataset page's parameters checked against the dataset: start, end, period_type,
    minors, one filter per dimension, and `breakdown` (the dimension of the breakdown chart).
    QueryError (a 400) says what is wrong. Cached like the figures: checking reads what the
    dataset holds (its period types, its codes)."""
    question = sorted((name, tuple(values)) for name, values in params.items())
    return cached(
        "selection",
        [dataset.code, *question],
        [dataset],
        lambda: _dashboard_selection(dataset=dataset, params=params),
    )


def _dashboard_selection(
    *, dataset: Dataset, params: Mapping[str, list[str]]
) -> DashboardSelection:
    if "by" in params:
        raise QueryError(
            _("A dashboard chooses its own breakdowns: leave out “by” (use “breakdown”)."),
            details={"field": "by"},
        )
    declared = _declared(dataset)
    asked = {
        name: list(values) for name, values in params.items() if name not in (BREAKDOWN, HORIZON)
    }
    if "measure" in declared and not _nonempty(asked, "measure"):
        code = preferred_code(declared["measure"], dataset=dataset)
        if code:
            asked["measure"] = [code]
    query = selectors.table_query_from_params(dataset=dataset, params=asked)
    breakdown_values = _nonempty(params, BREAKDOWN)
    breakdown: str | None
    if len(breakdown_values) > 1:
        raise QueryError(
            _("%(field)s is given once.") % {"field": BREAKDOWN}, details={"field": BREAKDOWN}
        )
    if breakdown_values:
        breakdown = breakdown_values[0]
        if breakdown not in declared:
            raise QueryError(
                _("The dataset %(dataset)s has no dimension “%(name)s” to break down by.")
                % {"dataset": dataset.code, "name": breakdown[:40]},
                details={"field": BREAKDOWN},
            )
    else:
        breakdown = default_breakdown(dataset=dataset, query=query)
    horizon = _horizon(_nonempty(params, HORIZON))
    canonical: list[tuple[str, str]] = []
    for name in PAGE_PARAMETERS:
        # What goes without saying is left out of the URL: the default horizon, and the
        # dataset's own period type, which the form always sends.
        if name == HORIZON:
            values = [str(horizon)] if horizon != DEFAULT_HORIZON else []
        elif name == "period_type":
            values = [query.period_type] if query.period_type != query.stored_period_type else []
        elif name == BREAKDOWN:
            # Always said, so that the form and a shared link show the breakdown drawn.
            values = [breakdown] if breakdown else []
        else:
            values = _nonempty(asked, name)
            if name in declared and declared[name].kind == DimensionKind.COUNTRY:
                values = [value.upper() if len(value) == 2 else value for value in values]
        if values:
            canonical.append((name, ",".join(dict.fromkeys(values))))
    return DashboardSelection(
        query=query, breakdown=breakdown, params=tuple(canonical), horizon=horizon
    )


def _horizon(values: Sequence[str]) -> int:
    if not values:
        return DEFAULT_HORIZON
    if len(values) > 1 or not values[0].isdigit() or int(values[0]) not in HORIZONS:
        raise QueryError(
            _("horizon is the number of months forecast: %(choices)s.")
            % {"choices": ", ".join(str(months) for months in HORIZONS)},
            details={"field": HORIZON},
        )
    return int(values[0])


def default_breakdown(*, dataset: Dataset, query: TableQuery) -> str | None:
    """The member state's dimension first, then the others in the form's order, leaving out
    those filtered to one code."""
    declared = _declared(dataset)
    filtered = {name for name, codes in query.filters if len(codes) == 1}
    for name in (*COUNTRY_OF_INTEREST, *FILTER_ORDER):
        if name in declared and name not in filtered and name != "measure":
            return name
    return None


# --- the filter form --------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterField:
    name: str
    label: str
    options: tuple[tuple[str, str], ...]  # (value, label); the first is "all"
    selected: tuple[str, ...]


def selection_summary(selection: DashboardSelection) -> list[tuple[str, str]]:
    """(label, chosen) of each filter in force, for the line above the figures: the names of
    the codes chosen only (the figures alone, asked when a filter changes, need no form)."""
    declared = _declared(selection.dataset)
    summary = []
    for name, value in selection.params:
        codes = value.split(",")
        if name in ("start", "end"):
            label = _("From") if name == "start" else _("To")
            summary.append((str(label), ", ".join(period_label(code) for code in codes)))
        elif name == "minors":
            choices = {key: str(text) for key, text in MINORS_CHOICES}
            chosen = "true" if codes[0].strip().lower() in selectors.TRUE_WORDS else "false"
            summary.append((pgettext("dashboard", "Minors"), choices[chosen]))
        elif name in declared:
            names = names_of(declared[name], codes)
            summary.append(
                (dimension_label(declared[name]), ", ".join(names[code] for code in codes))
            )
    return summary


def period_codes(dataset: Dataset) -> list[str]:
    """Every period from the dataset's first to its last (months, or years for yearly
    data), for the period filters."""
    coverage = selectors.dataset_coverage(dataset)
    first, last = coverage["first_period"], coverage["last_period"]
    if first is None or last is None:
        return []
    stored = selectors.stored_period_types(dataset)
    if PeriodType.MONTH not in stored:
        return [str(year) for year in range(first.year, last.year + 1)]
    codes = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        codes.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return codes


FieldSpec = tuple[str, str, tuple[tuple[str, str], ...]]  # (name, label, options)


def filter_fields(selection: DashboardSelection) -> list[FilterField]:
    """The page's form: each filter the dataset has, its options and what is chosen."""
    chosen = {
        "period_type": (selection.query.period_type,),
        HORIZON: (str(selection.horizon),),
        BREAKDOWN: (selection.breakdown,) if selection.breakdown else (),
    }
    return [
        FilterField(
            name,
            label,
            options,
            chosen.get(name)
            or tuple(code for value in selection.chosen(name) for code in value.split(",")),
        )
        for name, label, options in cached(
            "fields",
            [selection.dataset.code],
            [selection.dataset],
            lambda: _field_specs(selection.dataset),
        )
    ]


def _field_specs(dataset: Dataset) -> list[FieldSpec]:
    declared = _declared(dataset)
    monthly = PeriodType.MONTH in selectors.stored_period_types(dataset)
    period_options = tuple((code, period_label(code)) for code in period_codes(dataset))
    specs: list[FieldSpec] = [
        ("start", _("From"), (("", _("The first")), *period_options)),
        ("end", _("To"), (("", _("The latest")), *period_options)),
    ]
    if monthly:
        specs.append(
            (
                "period_type",
                _("Series"),
                tuple((value, str(label)) for value, label in PERIOD_TYPE_CHOICES),
            )
        )
    for name in FILTER_ORDER:
        if name not in declared:
            continue
        names = code_names(declared[name], dataset=dataset)
        names.pop(TOTAL, None)
        options = sorted(names.items(), key=_option_order)
        first: tuple[tuple[str, str], ...] = () if name == "measure" else (("", _("All")),)
        specs.append((name, dimension_label(declared[name]), (*first, *options)))
        if name == "age_group" or (name == "demographic" and "age_group" not in declared):
            specs.append(
                (
                    "minors",
                    pgettext("dashboard", "Minors"),
                    tuple((value, str(label)) for value, label in MINORS_CHOICES),
                )
            )
    if monthly:
        horizons = tuple(
            (
                str(months),
                ngettext("%(months)d month", "%(months)d months", months) % {"months": months},
            )
            for months in HORIZONS
        )
        specs.append((HORIZON, _("Forecast"), horizons))
    breakdowns = tuple(
        (name, dimension_label(declared[name]))
        for name in FILTER_ORDER
        if name in declared and name != "measure"
    )
    if breakdowns:
        specs.append((BREAKDOWN, _("Break down by"), breakdowns))
    return specs


def period_label(code: str) -> str:
    """ "2024-03" as "March 2024" (in the active language), "2024" as it is."""
    if len(code) == 7:
        from django.utils.dateformat import format as date_format

        return date_format(datetime.date(int(code[:4]), int(code[5:]), 1), "F Y")
    return code


# --- sources ----------------------------------------------------------------------------------


@dataclass
class SourceList:
    """The files every figure of a page came from, numbered for the references beside each
    figure (a figure's batches -> its numbers)."""

    sources: list[BatchSource]
    # The references as rendered, by language and batches (portal's source_refs tag): a
    # page's hundreds of figures mostly share a few.
    rendered: dict[tuple[str, frozenset[str]], str] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._numbers = {source.id: index for index, source in enumerate(self.sources, 1)}

    def numbers(self, batches: Iterable[str]) -> list[int]:
        return sorted({self._numbers[batch] for batch in batches if batch in self._numbers})

    def numbered(self) -> list[tuple[int, BatchSource]]:
        return list(enumerate(self.sources, 1))


def _source_list(tables: Iterable[PublicTable], extra: Iterable[str] = ()) -> SourceList:
    ids = {source.id for table in tables for source in table.sources} | set(extra)
    return SourceList(selectors.batch_sources(ids))


# --- the series and its forecast --------------------------------------------------------------


@dataclass(frozen=True)
class SeriesPoint:
    period: str  # "2024-03" or "2024"
    value: int | None  # None: withheld
    batches: tuple[str, ...]

    @property
    def label(self) -> str:
        return period_label(self.period)


@dataclass(frozen=True)
class ForecastBand:
    period: str
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float

    @property
    def label(self) -> str:
        return period_label(self.period)


@dataclass(frozen=True)
class BacktestView:
    """The rolling-origin backtest shown beside a forecast: the ensemble's MASE against the
    seasonal naive forecast's (and each member's), and how often its bands held."""

    horizon: int
    origins: int
    ensemble: float | None
    seasonal_naive: float | None
    members: tuple[tuple[str, float], ...]
    coverage80: float | None
    coverage95: float | None

    @property
    def better_than_naive(self) -> bool | None:
        if self.ensemble is None or self.seasonal_naive is None:
            return None
        return self.ensemble < self.seasonal_naive


@dataclass
class SeriesForecastView:
    """What the page says of the forecast of its series: "ok" (drawn, with its backtest),
    "pending" (being computed in the background), "too_short", "withheld" (not made, with
    the reason), or "none" (the series is not monthly)."""

    status: str
    message: str = ""
    horizon: int = 0
    points: list[ForecastBand] = field(default_factory=list)
    backtest: BacktestView | None = None
    batches: tuple[str, ...] = ()


@dataclass
class Series:
    period_type: str
    points: list[SeriesPoint]
    forecast: SeriesForecastView

    @property
    def withheld(self) -> int:
        return sum(1 for point in self.points if point.value is None)


def _backtest_view(backtest: forecasting.Backtest | None) -> BacktestView | None:
    if backtest is None:
        return None
    mase = backtest.mase
    members = tuple(
        (MEMBERS.get(name, name), float(value))
        for name, value in sorted(mase.items())
        if name not in (ENSEMBLE, SEASONAL_NAIVE) and value is not None
    )
    return BacktestView(
        horizon=backtest.horizon,
        origins=backtest.origins,
        ensemble=mase.get(ENSEMBLE),
        seasonal_naive=mase.get(SEASONAL_NAIVE),
        members=members,
        coverage80=backtest.coverage80,
        coverage95=backtest.coverage95,
    )


def series_forecast(query: TableQuery, *, horizon: int) -> SeriesForecastView:
    """The forecast of the selection's monthly series, `horizon` months ahead, where one has
    been computed from the current data; where none has, it is asked for (a background
    task) and the page says it is being computed. Never computed in the request."""
    if query.stored_period_type != PeriodType.MONTH or query.period_type != PeriodType.MONTH:
        return SeriesForecastView(status="none")
    found = forecasting.forecast_get(query=query)
    if found is None:
        forecasting.forecast_request(query=query)
        return SeriesForecastView(
            status="pending",
            message=_("The forecast of this series is being computed."),
            horizon=horizon,
        )
    if found.status != forecasting.OK:
        return SeriesForecastView(status=found.status, message=found.message, horizon=horizon)
    points = [
        ForecastBand(
            period=f"{point.period:%Y-%m}",
            mean=point.mean,
            lo80=point.lo80,
            hi80=point.hi80,
            lo95=point.lo95,
            hi95=point.hi95,
        )
        for point in found.points_until(horizon)
    ]
    return SeriesForecastView(
        status="ok",
        message=found.message,
        horizon=horizon,
        points=points,
        backtest=_backtest_view(found.backtest),
        batches=found.batches,
    )


def series_of(
    query: TableQuery, *, horizon: int | None = None
) -> tuple[Series, list[YearFigure], PublicTable]:
    """The selection's series by month (or year), with its forecast `horizon` months ahead
    (None: without a forecast)."""
    monthly, yearly, table = indicator_module.period_totals(query)
    if query.period_type == PeriodType.MONTH and query.stored_period_type == PeriodType.MONTH:
        points = [SeriesPoint(figure.period, figure.value, figure.batches) for figure in monthly]
    else:
        points = [SeriesPoint(figure.year, figure.value, figure.batches) for figure in yearly]
    view = (
        series_forecast(query, horizon=horizon)
        if horizon is not None
        else SeriesForecastView(status="none")
    )
    return Series(query.period_type, points, view), yearly, table


# --- breakdowns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreakdownRow:
    code: str
    name: str
    value: int | None
    share: float | None  # of the total, from 0 to 1
    batches: tuple[str, ...]


@dataclass
class Breakdown:
    dimension: str
    label: str
    rows: list[BreakdownRow]  # by value, largest first; withheld last
    total: BreakdownRow

    @property
    def chart_rows(self) -> list[BreakdownRow]:
        return [row for row in self.rows if row.value is not None][:BREAKDOWN_CHART_LIMIT]


def breakdown_of(query: TableQuery, *, dimension: str) -> tuple[Breakdown, PublicTable]:
    """The selection's figures by one dimension, every code with its share of the total."""
    declared = _declared(query.dataset)
    table = selectors.public_table(query.replace(group_by=(dimension,)))
    names = names_of(declared[dimension], (key[0] for key in table.protected.values))
    total_value = table.value((TOTAL,))

    def row(code: str) -> BreakdownRow:
        value = table.value((code,))
        share = round(value / total_value, 4) if value is not None and total_value else None
        batches = tuple(sorted(table.batches_of.get((code,), frozenset())))
        return BreakdownRow(code, names.get(code, code), value, share, batches)

    rows = [row(code) for (code,) in table.protected.values if code != TOTAL]
    rows.sort(key=lambda entry: (entry.value is None, -(entry.value or 0), entry.name))
    breakdown = Breakdown(dimension, dimension_label(declared[dimension]), rows, row(TOTAL))
    return breakdown, table


# --- maps of subdivisions ---------------------------------------------------------------------


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    value: int | None  # None: withheld
    batches: tuple[str, ...]
    level: int | None  # colour class 0..MAP_CLASSES-1; None for zero or withheld
    path: str = ""  # "" where the boundary file has no shape for it

    @property
    def withheld(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class LegendClass:
    level: int
    low: int
    high: int


@dataclass
class SubdivisionMap:
    country: str
    country_name: str
    areas: list[MapArea]  # every subdivision of the country, by name
    legend: list[LegendClass]
    boundaries: CountryBoundaries | None
    # Figures of the country whose subdivision is not known (where the table tells them).
    unknown: BreakdownRow | None = None
    total: BreakdownRow | None = None

    @property
    def drawn(self) -> list[MapArea]:
        return [area for area in self.areas if area.path]


def _legend(values: Sequence[int]) -> list[LegendClass]:
    """Up to MAP_CLASSES classes of near-equal counts of the distinct positive values."""
    distinct = sorted({value for value in values if value > 0})
    if not distinct:
        return []
    count = min(MAP_CLASSES, len(distinct))
    classes = []
    for level in range(count):
        part = distinct[level * len(distinct) // count : (level + 1) * len(distinct) // count]
        classes.append(LegendClass(level, part[0], part[-1]))
    return classes


def _level(value: int | None, legend: Sequence[LegendClass]) -> int | None:
    if value is None or value <= 0:
        return None
    for entry in legend:
        if value <= entry.high:
            return entry.level
    return legend[-1].level if legend else None


def subdivision_maps(query: TableQuery) -> tuple[list[SubdivisionMap], PublicTable | None]:
    """The selection's figures by subdivision of origin, one map per country, over every
    subdivision of the selection but its own subdivision filter (the chosen one is outlined
    on the page). Broken down by the reporting country too where the dataset has it, so that
    each country's departments are protected together with that country's total, the figure
    its own series publishes."""
    declared = _declared(query.dataset)
    if "subdivision" not in declared:
        return [], None
    by_country = "reporting_country" in declared
    group = ("reporting_country", "subdivision") if by_country else ("subdivision",)
    filters = tuple((name, codes) for name, codes in query.filters if name != "subdivision")
    table = selectors.public_table(query.replace(group_by=group, filters=filters))
    found: set[str] = set()
    for key in table.protected.values:
        code = key[-1]
        if code not in (TOTAL, "_U") and "-" in code:
            found.add(key[0] if by_country else code.split("-")[0])
    countries = sorted(
        Country.objects.filter(alpha2__in=list(found)), key=lambda row: row.name.casefold()
    )
    maps = [_country_map(table, country, by_country=by_country) for country in countries]
    return maps, table


def _country_map(table: PublicTable, country: Country, *, by_country: bool) -> SubdivisionMap:
    def key(code: str) -> tuple[str, ...]:
        return (country.alpha2, code) if by_country else (code,)

    def batches(code: str) -> tuple[str, ...]:
        return tuple(sorted(table.batches_of.get(key(code), frozenset())))

    def entry(code: str, name: str) -> BreakdownRow:
        return BreakdownRow(code, name, table.value(key(code)), None, batches(code))

    subdivisions = sorted(
        Subdivision.objects.filter(country=country), key=lambda row: row.name.casefold()
    )
    boundaries = country_boundaries(country=country)
    shapes = {shape.code: shape.path for shape in boundaries.shapes} if boundaries else {}
    values = {subdivision.code: table.value(key(subdivision.code)) for subdivision in subdivisions}
    legend = _legend([value for value in values.values() if value is not None])
    areas = [
        MapArea(
            code=subdivision.code,
            name=subdivision.name,
            value=values[subdivision.code],
            batches=batches(subdivision.code),
            level=_level(values[subdivision.code], legend),
            path=shapes.get(subdivision.code, ""),
        )
        for subdivision in subdivisions
    ]
    return SubdivisionMap(
        country=country.alpha2,
        country_name=country.name,
        areas=areas,
        legend=legend,
        boundaries=boundaries,
        unknown=entry("_U", _("Not known")) if by_country else None,
        total=entry(TOTAL, _("Total")) if by_country else None,
    )


# --- the page of a dataset --------------------------------------------------------------------


@dataclass
class Headline:
    latest_year: YearFigure | None
    shares: list[ShareFigure]  # over the whole selection (period TOTAL)
    rates: list[tuple[str, RateFigure]]  # (country name, rate) of the latest year, highest first


@dataclass
class DatasetDashboard:
    selection: DashboardSelection
    series: Series
    yearly: list[YearFigure]
    headline: Headline
    breakdown: Breakdown | None
    maps: list[SubdivisionMap]
    sources: SourceList
    threshold: int
    suppressed: int


def dataset_dashboard(selection: DashboardSelection) -> DatasetDashboard:
    """A dataset's page for a selection: its figures (cached until the data changes) and the
    forecast of its series (read afresh: it may have been computed since)."""
    population = list(Dataset.objects.filter(code=POPULATION_DATASET))
    question = [(name, value) for name, value in selection.params if name != HORIZON]
    board = cached(
        "dataset",
        [selection.dataset.code, *question],
        [selection.dataset, *population],
        lambda: _dataset_figures(selection),
    )
    board.selection = selection
    board.series.forecast = series_forecast(selection.query, horizon=selection.horizon)
    return board


def _dataset_figures(selection: DashboardSelection) -> DatasetDashboard:
    query = selection.query
    series, yearly, series_table = series_of(query)
    tables: list[PublicTable] = [series_table]
    share_figures, share_tables = indicator_module.shares(query)
    tables += share_tables
    rate_figures: list[RateFigure] = []
    population_batches: set[str] = set()
    declared = _declared(query.dataset)
    complete_years = {figure.year for figure in yearly if figure.complete}
    if query.dataset.code != POPULATION_DATASET and indicator_module.population_loaded():
        # Per inhabitant of the member state's own dimension (the returnees' country, the
        # citizenship of those encountered), of the latest whole year where there is one.
        for name in COUNTRY_OF_INTEREST:
            if name not in declared:
                continue
            figures, rate_table, batches = indicator_module.rates(query, dimension=name)
            if figures:
                years = {figure.year for figure in figures}
                latest = max(years & complete_years or years)
                rate_figures = [figure for figure in figures if figure.year == latest]
                tables.append(rate_table)
                population_batches = batches
                break
    breakdown = None
    if selection.breakdown:
        breakdown, breakdown_table = breakdown_of(query, dimension=selection.breakdown)
        tables.append(breakdown_table)
    maps, map_table = subdivision_maps(query)
    if map_table is not None:
        tables.append(map_table)
    complete = [figure for figure in yearly if figure.value is not None]
    countries = {
        country.alpha2: country.name
        for country in Country.objects.filter(alpha2__in=[figure.code for figure in rate_figures])
    }
    headline = Headline(
        latest_year=complete[-1] if complete else None,
        shares=[figure for figure in share_figures if figure.period == TOTAL],
        rates=[
            (countries.get(figure.code, figure.code), figure)
            for figure in sorted(rate_figures, key=lambda figure: -(figure.rate or 0))
        ],
    )
    return DatasetDashboard(
        selection=selection,
        series=series,
        yearly=yearly,
        headline=headline,
        breakdown=breakdown,
        maps=maps,
        # The forecast's figures are the series' own: its batches are among these.
        sources=_source_list(tables, population_batches),
        threshold=disclosure_threshold(),
        suppressed=sum(table.suppressed_count for table in tables),
    )


# --- the regional overview --------------------------------------------------------------------


@dataclass(frozen=True)
class OverviewSelection:
    start: str | None
    end: str | None
    country: Country | None

    def query_string(self) -> str:
        params = [
            ("start", self.start),
            ("end", self.end),
            ("country", self.country.alpha2 if self.country else None),
        ]
        return urlencode([(name, value) for name, value in params if value])


@dataclass
class DatasetSummary:
    dataset: Dataset
    first_period: datetime.date | None
    last_period: datetime.date | None
    country_dimension: Dimension | None  # the one the country filter applies to
    series: Series
    latest_year: YearFigure | None
    latest: SeriesPoint | None
    link_params: str  # the dataset page with the same selection

    @property
    def label(self) -> str:
        return dataset_label(self.dataset)


@dataclass
class Overview:
    selection: OverviewSelection
    summaries: list[DatasetSummary]
    sources: SourceList
    threshold: int
    suppressed: int


def member_states() -> list[Country]:
    return sorted(
        Country.objects.filter(rcm_status=RcmStatus.MEMBER), key=lambda row: row.name.casefold()
    )


def overview_selection(*, params: Mapping[str, list[str]]) -> OverviewSelection:
    unknown = sorted(name for name in params if name not in OVERVIEW_PARAMETERS)
    if unknown:
        raise QueryError(
            _("Unknown parameters: %(names)s. Known: %(known)s.")
            % {
                "names": ", ".join(name[:40] for name in unknown[:5]),
                "known": ", ".join(OVERVIEW_PARAMETERS),
            },
            details={"field": unknown[0][:40]},
        )
    values: dict[str, str | None] = {}
    for name in OVERVIEW_PARAMETERS:
        given = _nonempty(params, name)
        if len(given) > 1:
            raise QueryError(
                _("%(field)s is given once.") % {"field": name}, details={"field": name}
            )
        values[name] = given[0] if given else None
    start, end = values["start"], values["end"]
    start_date = selectors.parse_period(start, end=False, field_name="start") if start else None
    end_date = selectors.parse_period(end, end=True, field_name="end") if end else None
    if start_date and end_date and start_date > end_date:
        raise QueryError(_("start is after end."), details={"field": "start"})
    country = None
    if values["country"]:
        country = Country.objects.filter(alpha2=values["country"].upper()).first()
        if country is None:
            raise QueryError(
                _("“%(value)s” is not an ISO 3166-1 country code (HN, GT, SV, ...).")
                % {"value": values["country"][:20]},
                details={"field": "country"},
            )
    return OverviewSelection(start=start, end=end, country=country)


def overview(selection: OverviewSelection) -> Overview:
    """Each dataset's series and latest year over the period, for one member state where one
    is chosen (seen through the dataset's COUNTRY_OF_INTEREST dimension); cached until the
    data changes."""
    return cached(
        "overview",
        [selection.query_string()],
        selectors.public_datasets(),
        lambda: _overview(selection),
    )


def _overview(selection: OverviewSelection) -> Overview:
    summaries = []
    tables: list[PublicTable] = []
    for dataset in selectors.public_datasets():
        if dataset.code == POPULATION_DATASET:
            continue
        declared = _declared(dataset)
        country_dimension = next(
            (declared[name] for name in COUNTRY_OF_INTEREST if name in declared), None
        )
        params: dict[str, list[str]] = {}
        if selection.start:
            params["start"] = [selection.start]
        if selection.end:
            params["end"] = [selection.end]
        if selection.country and country_dimension is not None:
            params[country_dimension.code] = [selection.country.alpha2]
        elif selection.country:
            continue  # no figure of this dataset concerns one country
        coverage = selectors.dataset_coverage(dataset)
        if coverage["first_period"] is None:
            continue  # no figures yet
        page = dashboard_selection(dataset=dataset, params=params)
        series, yearly, table = series_of(page.query)
        tables.append(table)
        published = [figure for figure in yearly if figure.value is not None]
        points = [point for point in series.points if point.value is not None]
        summaries.append(
            DatasetSummary(
                dataset=dataset,
                first_period=coverage["first_period"],
                last_period=coverage["last_period"],
                country_dimension=country_dimension,
                series=series,
                latest_year=published[-1] if published else None,
                latest=points[-1] if points else None,
                link_params=page.query_string(),
            )
        )
    return Overview(
        selection=selection,
        summaries=summaries,
        sources=_source_list(tables),
        threshold=disclosure_threshold(),
        suppressed=sum(table.suppressed_count for table in tables),
    )


def _every_period(first: str, last: str) -> list[str]:
    if len(first) == 4:
        return [str(year) for year in range(int(first), int(last) + 1)]
    periods, year, month = [], int(first[:4]), int(first[5:])
    while f"{year:04d}-{month:02d}" <= last:
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def chart_data(series: Series, *, title: str) -> dict[str, Any]:
    """The series (and its forecast band) as the page's chart script reads it: by month,
    every month from the first to the last, those without figures (or withheld) as gaps in
    the line; by year, the years with figures (a stock measured every five years is one line,
    withheld years are gaps)."""
    forecast = series.forecast
    values = {point.period: point.value for point in series.points}
    if series.period_type == PeriodType.MONTH and series.points:
        periods = _every_period(series.points[0].period, series.points[-1].period)
    else:
        periods = [point.period for point in series.points]
    return {
        "title": title,
        "period_type": series.period_type,
        "x": periods,
        "y": [values.get(period) for period in periods],
        "forecast": [
            {
                "x": band.period,
                "mean": band.mean,
                "lo80": band.lo80,
                "hi80": band.hi80,
                "lo95": band.lo95,
                "hi95": band.hi95,
            }
            for band in forecast.points
        ]
        if forecast.status == "ok"
        else [],
        "labels": {
            "observed": _("Observed"),
            "forecast": _("Forecast (mean)"),
            "band80": _("80% prediction interval"),
            "band95": _("95% prediction interval"),
            "withheld": _("withheld (small count)"),
        },
    }


def breakdown_chart_data(breakdown: Breakdown) -> dict[str, Any]:
    rows = breakdown.chart_rows
    return {
        "title": breakdown.label,
        "labels": [row.name for row in rows],
        "values": [row.value for row in rows],
    }
