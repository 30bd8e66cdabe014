"""Country profiles of the RCM member states (W-O1: "steps for each country by its situation
(origin, transit, destination)"): each member's roles as a country of origin, of transit and
of destination, measured from the observatory's figures (never typed in), its main corridors,
the lines of the RCM documents that concern each of its roles, and, where Mirador holds the
case records, its returns as events and as persons with the re-return rate.

How a role is measured (docs/profiles.md says the same for users):
- Each role has indicators (`INDICATORS`), each a figure of one dataset over its latest
  period (the latest year of a stock, the 12 months up to a flow's latest month), compared
  with a stated threshold: a share of the population, a yearly rate per 100,000 inhabitants,
  or a count.
- A role is *measured* when at least one of its indicators reaches its threshold; *below the
  thresholds* when figures exist and none reaches it; *no data* when no indicator has a
  figure for the country.
- Every figure is read off a public table after disclosure control (selectors.public_table,
  or for incidents disclosure.protect_table), as the other public outputs are: a figure is a
  published total less published parts, or, where one of those is suppressed, the sum of the
  published parts, marked as a lower bound ("at least"). Each names its source batches.

The figures of every member come from the same few tables (one per indicator, grouped by
country), so the list of countries and each profile publish the same numbers with the same
suppressions.

Data, not code: the mission lines and the roles they concern (data/mission_lines.toml), and
which countries the IOM routes cross and lead to (data/route_countries.toml).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from mirador.analytics.disclosure import TOTAL, entry_ancestors, protect_table
from mirador.analytics.indicators import PER_INHABITANTS, population_figures, top
from mirador.analytics.selectors import (
    PERIOD,
    BatchSource,
    PublicTable,
    TableQuery,
    batch_sources,
    public_table,
    table_query,
)
from mirador.core.errors import NotFoundError
from mirador.core.models import Country, RcmStatus
from mirador.flows.country_names import Match, resolve_country_detail
from mirador.flows.models import Dataset, Incident, Observation, PeriodType

APP_DIR = Path(__file__).resolve().parent
MISSION_LINES = APP_DIR / "data" / "mission_lines.toml"
ROUTE_COUNTRIES = APP_DIR / "data" / "route_countries.toml"

ORIGIN, TRANSIT, DESTINATION = "origin", "transit", "destination"
ROLES = (ORIGIN, TRANSIT, DESTINATION)
ROLE_NAMES = {
    ORIGIN: gettext_lazy("Country of origin"),
    TRANSIT: gettext_lazy("Country of transit"),
    DESTINATION: gettext_lazy("Country of destination"),
}

MEASURED, BELOW_THRESHOLD, NO_DATA = "measured", "below_threshold", "no_data"
STATUS_NAMES = {
    MEASURED: gettext_lazy("Measured"),
    BELOW_THRESHOLD: gettext_lazy("Below the thresholds"),
    NO_DATA: gettext_lazy("No data"),
}

# Units of an indicator's comparison with its threshold.
PERCENT_OF_POPULATION, PER_100000_A_YEAR, COUNT = "percent_of_population", "per_100000", "count"
# Windows: the latest year a dataset has, or the twelve months up to its latest month.
LATEST_YEAR, LATEST_12_MONTHS = "latest_year", "latest_12_months"
# Codes of a country dimension that may be the country itself (unknown, several countries):
# never counted among "others" ("_O", other countries, is).
UNKNOWN_OR_SEVERAL = frozenset({"_U", "_M"})
DEAD_AND_MISSING = ("dead", "missing")
CORRIDORS_SHOWN = 5

Key = tuple[str, ...]


class ProfileDataError(ValueError):
    """A data file of the profiles is malformed (a programming error in the shipped data)."""


# --- data files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissionLine:
    """A line of the RCM documents (its MISSION.md ID) and the roles it concerns."""

    id: str
    roles: tuple[str, ...]
    text_en: str
    text_es: str

    @property
    def text(self) -> str:
        return self.text_es if (get_language() or "es").startswith("es") else self.text_en


@cache
def mission_lines(path: Path = MISSION_LINES) -> tuple[MissionLine, ...]:
    with path.open("rb") as handle:
        entries = tomllib.load(handle).get("lines", [])
    lines: list[MissionLine] = []
    for entry in entries:
        roles = tuple(entry.get("roles", ()))
        if not roles or set(roles) - set(ROLES):
            raise ProfileDataError(f"{path.name}: {entry.get('id')}: roles must be {ROLES}")
        if not entry.get("id") or not entry.get("text_en") or not entry.get("text_es"):
            raise ProfileDataError(f"{path.name}: every line has an id, text_en and text_es")
        lines.append(MissionLine(entry["id"], roles, entry["text_en"], entry["text_es"]))
    ids = [line.id for line in lines]
    if len(set(ids)) != len(ids):
        raise ProfileDataError(f"{path.name}: an id is listed twice")
    return tuple(lines)


def mission_lines_for(role: str) -> list[MissionLine]:
    return [line for line in mission_lines() if role in line.roles]


@dataclass(frozen=True)
class RouteGeography:
    code: str
    transit: frozenset[str]
    destination: frozenset[str]


@cache
def route_geography(path: Path = ROUTE_COUNTRIES) -> dict[str, RouteGeography]:
    with path.open("rb") as handle:
        routes = tomllib.load(handle).get("routes", {})
    return {
        code: RouteGeography(
            code=code,
            transit=frozenset(entry.get("transit", ())),
            destination=frozenset(entry.get("destination", ())),
        )
        for code, entry in routes.items()
    }


# --- the rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorSpec:
    """One measure of a role: a figure of `dataset` over `window`, compared in `unit` with
    `threshold`. `rule` says all of it in a sentence."""

    code: str
    role: str
    dataset: str
    window: str
    unit: str
    threshold: float
    label: Any  # lazy translation
    rule: Any  # lazy translation


INDICATORS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        "emigrant-stock",
        ORIGIN,
        "migrant-stock",
        LATEST_YEAR,
        PERCENT_OF_POPULATION,
        4,
        gettext_lazy("Its emigrants living in other countries"),
        gettext_lazy(
            "International migrant stock by country of origin, in the latest year: at least "
            "4% of its population (the world's average share is about 3.5%)."
        ),
    ),
    IndicatorSpec(
        "citizens-encountered-abroad",
        ORIGIN,
        "border-encounters",
        LATEST_12_MONTHS,
        PER_100000_A_YEAR,
        100,
        gettext_lazy("Its citizens encountered at other countries' borders"),
        gettext_lazy(
            "Border encounters of its citizens reported by other countries, in the latest 12 "
            "months: at least 100 per 100,000 inhabitants."
        ),
    ),
    IndicatorSpec(
        "returns-received",
        ORIGIN,
        "returns-received",
        LATEST_12_MONTHS,
        PER_100000_A_YEAR,
        100,
        gettext_lazy("Returns of its nationals it received"),
        gettext_lazy(
            "Returns received (events) it reports, in the latest 12 months: at least 100 per "
            "100,000 inhabitants."
        ),
    ),
    IndicatorSpec(
        "citizens-dead-missing",
        ORIGIN,
        "missing-migrants",
        LATEST_12_MONTHS,
        COUNT,
        10,
        gettext_lazy("Its citizens dead or missing on migration routes"),
        gettext_lazy(
            "Dead and missing migrants of its nationality (IOM Missing Migrants Project), in "
            "the latest 12 months: at least 10."
        ),
    ),
    IndicatorSpec(
        "dead-missing-on-routes",
        TRANSIT,
        "missing-migrants",
        LATEST_12_MONTHS,
        COUNT,
        10,
        gettext_lazy("Others dead or missing on routes that cross it"),
        gettext_lazy(
            "Dead and missing migrants on the IOM routes that cross it, whose nationality is "
            "known and is neither its own nor that of the route's destination, in the latest "
            "12 months: at least 10."
        ),
    ),
    IndicatorSpec(
        "dead-missing-on-territory",
        TRANSIT,
        "missing-migrants",
        LATEST_12_MONTHS,
        COUNT,
        10,
        gettext_lazy("Others dead or missing on its territory"),
        gettext_lazy(
            "Dead and missing migrants of another known nationality in incidents whose "
            "location names it, leaving out incidents on a route that leads to it, in the "
            "latest 12 months: at least 10."
        ),
    ),
    IndicatorSpec(
        "immigrant-stock",
        DESTINATION,
        "migrant-stock",
        LATEST_YEAR,
        PERCENT_OF_POPULATION,
        4,
        gettext_lazy("Migrants living in it"),
        gettext_lazy(
            "International migrant stock by country of destination, in the latest year: at "
            "least 4% of its population."
        ),
    ),
    IndicatorSpec(
        "non-citizens-encountered",
        DESTINATION,
        "border-encounters",
        LATEST_12_MONTHS,
        PER_100000_A_YEAR,
        100,
        gettext_lazy("Non-citizens encountered at its borders"),
        gettext_lazy(
            "Border encounters it reports of persons of another known citizenship, in the "
            "latest 12 months: at least 100 per 100,000 inhabitants."
        ),
    ),
    IndicatorSpec(
        "returns-sent",
        DESTINATION,
        "returns-received",
        LATEST_12_MONTHS,
        COUNT,
        1000,
        gettext_lazy("Returns of other countries' nationals from it"),
        gettext_lazy(
            "Returns that other countries report receiving from it, in the latest 12 months: "
            "at least 1,000 (they had reached it, to stay or on their way)."
        ),
    ),
)


# --- what a profile publishes -----------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The period of an indicator's figures: one year, or twelve months."""

    start: datetime.date
    end: datetime.date
    period_type: str

    @property
    def start_code(self) -> str:
        return f"{self.start:%Y}" if self.period_type == PeriodType.YEAR else f"{self.start:%Y-%m}"

    @property
    def end_code(self) -> str:
        return f"{self.end:%Y}" if self.period_type == PeriodType.YEAR else f"{self.end:%Y-%m}"

    @property
    def label(self) -> str:
        if self.start_code == self.end_code:
            return self.start_code
        return f"{self.start_code} – {self.end_code}"


@dataclass(frozen=True)
class IndicatorFigure:
    """An indicator of one country: its count (None: no figure), whether that is a lower
    bound, its comparison with the threshold (`metric`, in the spec's unit), and sources."""

    spec: IndicatorSpec
    window: Window | None
    value: int | None = None
    at_least: bool = False
    metric: float | None = None
    population: int | None = None
    population_year: str = ""
    meets: bool | None = None  # None: cannot be compared (no figure, no population)
    batches: tuple[str, ...] = ()
    table_query: str = ""  # the open-data table the count is read from (query string)

    @property
    def has_figure(self) -> bool:
        return self.value is not None


@dataclass
class RoleResult:
    role: str
    status: str
    figures: list[IndicatorFigure]
    lines: list[MissionLine]

    @property
    def name(self) -> str:
        return str(ROLE_NAMES[self.role])

    @property
    def status_name(self) -> str:
        return str(STATUS_NAMES[self.status])

    @property
    def deciding(self) -> list[IndicatorFigure]:
        return [figure for figure in self.figures if figure.meets]


@dataclass(frozen=True)
class Corridor:
    origin: str  # ISO alpha-2 codes
    destination: str
    value: int
    batches: tuple[str, ...]
    origin_name: str = ""  # in the language of the request
    destination_name: str = ""


@dataclass
class CorridorGroup:
    """The main corridors of one dataset involving the country: from it (it is the origin)
    and to it (it is the destination)."""

    dataset: str
    dataset_name: str
    window: Window
    outgoing: list[Corridor]
    incoming: list[Corridor]
    table_queries: tuple[str, str]  # open-data queries of the two tables


@dataclass(frozen=True)
class ReturnsYear:
    """A year of returns received: events, persons, and the re-return rate where the
    follow-up of some of its months is over."""

    year: str
    events: int | None
    persons: int | None
    followed: int | None
    returned_again: int | None
    rate: float | None  # returned_again / followed, from 0 to 1
    batches: tuple[str, ...]

    @property
    def rate_percent(self) -> float | None:
        return None if self.rate is None else round(100 * self.rate, 1)


@dataclass
class ReturnsFigures:
    years: list[ReturnsYear]
    total: ReturnsYear
    persons_query: str  # the open-data table of the four measures by year


@dataclass
class CountryProfile:
    country: Country
    roles: list[RoleResult]
    corridors: list[CorridorGroup] = field(default_factory=list)
    returns: ReturnsFigures | None = None
    sources: list[BatchSource] = field(default_factory=list)

    def role(self, role: str) -> RoleResult:
        return next(result for result in self.roles if result.role == role)


# --- members ----------------------------------------------------------------------------------


def member_countries() -> list[Country]:
    return list(Country.objects.filter(rcm_status=RcmStatus.MEMBER).order_by("alpha2"))


def member_get(*, code: str) -> Country:
    """The member state of an ISO alpha-2 code. NotFoundError for a code that is no country;
    NotMemberError for a country that is not a member."""
    text = code.strip().upper()
    country = Country.objects.filter(alpha2=text).first() if len(text) == 2 else None
    if country is None:
        raise NotFoundError(_("There is no country %(code)s.") % {"code": code[:10]})
    if country.rcm_status != RcmStatus.MEMBER:
        raise NotMemberError(country)
    return country


class NotMemberError(NotFoundError):
    code = "not_a_member"

    def __init__(self, country: Country) -> None:
        self.country = country
        super().__init__(
            _(
                "%(country)s is not a member state of the Regional Conference on Migration: "
                "the observatory profiles its member states."
            )
            % {"country": country.name}
        )


# --- windows and populations ------------------------------------------------------------------


def _months_before(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 - count
    return datetime.date(index // 12, index % 12 + 1, 1)


def dataset_window(dataset: Dataset, window: str) -> Window | None:
    """The latest year, or twelve months, the dataset has figures for; None when it has none."""
    periods = Observation.objects.filter(dataset=dataset).order_by("-period")
    latest = periods.values("period", "period_type").first()
    if latest is None:
        return None
    last: datetime.date = latest["period"]
    if window == LATEST_YEAR or latest["period_type"] == PeriodType.YEAR:
        year = datetime.date(last.year, 1, 1)
        return Window(start=year, end=year, period_type=PeriodType.YEAR)
    return Window(start=_months_before(last, 11), end=last, period_type=PeriodType.MONTH)


def _nearest_population(
    figures: Mapping[tuple[str, str], tuple[int, str]], country: str, year: str
) -> tuple[int, str, str] | None:
    """The population of the year, else of the nearest year loaded (an earlier one first)."""
    years = [loaded for (code, loaded) in figures if code == country]
    if not years:
        return None
    chosen = min(years, key=lambda loaded: (abs(int(loaded) - int(year)), loaded > year))
    persons, batch = figures[(country, chosen)]
    return persons, chosen, batch


# --- counts read off protected tables ---------------------------------------------------------


@dataclass(frozen=True)
class _Count:
    value: int
    at_least: bool
    batches: tuple[str, ...]


def _under(key: Key, total: Key) -> bool:
    return all(wanted == TOTAL or code == wanted for code, wanted in zip(key, total, strict=True))


def published_remainder(
    values: Mapping[Key, int],
    published: Callable[[Key], int | None],
    batches_of: Mapping[Key, frozenset[str]],
    *,
    total: Key,
    excluded: Iterable[Key] = (),
) -> _Count | None:
    """The entry `total` less the `excluded` entries under it, from a protected table: exact
    when all of them are published (a difference of published figures), else the sum of the
    published cells under `total` and outside `excluded`, marked as a lower bound when some
    of them are suppressed. None when the table has no such entry."""
    if total not in values:
        return None
    present = [key for key in excluded if key in values]
    batches = tuple(sorted(batches_of.get(total, frozenset())))
    whole = published(total)
    parts = [published(key) for key in present]
    if whole is not None and all(part is not None for part in parts):
        return _Count(whole - sum(part or 0 for part in parts), False, batches)
    kept = [
        key
        for key in values
        if TOTAL not in key
        and _under(key, total)
        and not any(_under(key, other) for other in present)
    ]
    shown = [published(key) for key in kept]
    return _Count(
        sum(value for value in shown if value is not None), any(v is None for v in shown), batches
    )


def _table_remainder(
    table: PublicTable, *, total: Key, excluded: Iterable[Key] = ()
) -> _Count | None:
    return published_remainder(
        table.protected.values,
        table.value,
        table.batches_of,
        total=total,
        excluded=excluded,
    )


def _query_string(query: TableQuery) -> str:
    parts = [f"by={name}" for name in query.group_by]
    if query.period_type == PeriodType.YEAR:
        parts.append("period_type=year")
    if query.start:
        parts.append(f"start={query.start:%Y-%m}")
    if query.end:
        parts.append(f"end={query.end:%Y-%m}")
    parts += [f"{name}={','.join(codes)}" for name, codes in query.filters]
    return "&".join(parts)


def _window_query(
    dataset: Dataset,
    window: Window,
    *,
    group_by: Sequence[str],
    filters: Mapping[str, Iterable[str]] | None = None,
    period_type: str | None = None,
) -> TableQuery:
    return table_query(
        dataset=dataset,
        group_by=group_by,
        period_type=period_type,
        start=f"{window.start:%Y-%m}",
        end=f"{window.end:%Y-%m}",
        filters=filters,
    )


# --- indicators of every member ---------------------------------------------------------------

CountCalculator = Callable[[Dataset, Window, Sequence[str]], dict[str, tuple[_Count, str]]]


def _stock(dimension: str) -> CountCalculator:
    """Migrant stock of each country as origin (from_country) or destination (to_country)."""

    def calculate(
        dataset: Dataset, window: Window, members: Sequence[str]
    ) -> dict[str, tuple[_Count, str]]:
        query = _window_query(dataset, window, group_by=(dimension,), period_type=PeriodType.YEAR)
        table = public_table(query)
        found = {}
        for code in members:
            count = _table_remainder(table, total=(code,))
            if count is not None:
                found[code] = (count, _query_string(query))
        return found

    return calculate


def _between(country_dimension: str, other_dimension: str, *, others_only: bool) -> CountCalculator:
    """Figures of a dataset with two country dimensions, for each member in
    `country_dimension`: all of them, or (`others_only`) less those where the other
    dimension is the same country or not one country."""

    def calculate(
        dataset: Dataset, window: Window, members: Sequence[str]
    ) -> dict[str, tuple[_Count, str]]:
        columns = ("reporting_country", "citizenship", "from_country", "to_country")
        group = tuple(name for name in columns if name in (country_dimension, other_dimension))
        query = _window_query(dataset, window, group_by=group)
        table = public_table(query)
        position = group.index(country_dimension)
        found = {}
        for code in members:
            total: list[str] = [TOTAL, TOTAL]
            total[position] = code
            excluded: list[Key] = []
            if others_only:
                for other in (code, *sorted(UNKNOWN_OR_SEVERAL)):
                    key = [code, code]
                    key[1 - position] = other
                    excluded.append(tuple(key))
            count = _table_remainder(table, total=tuple(total), excluded=excluded)
            if count is not None:
                found[code] = (count, _query_string(query))
        return found

    return calculate


def _citizens_dead_missing(
    dataset: Dataset, window: Window, members: Sequence[str]
) -> dict[str, tuple[_Count, str]]:
    query = _window_query(
        dataset,
        window,
        group_by=("citizenship", "measure"),
        filters={"measure": DEAD_AND_MISSING},
    )
    table = public_table(query)
    found = {}
    for code in members:
        count = _table_remainder(table, total=(code, TOTAL))
        if count is not None:
            found[code] = (count, _query_string(query))
    return found


def _dead_missing_on_routes(
    dataset: Dataset, window: Window, members: Sequence[str]
) -> dict[str, tuple[_Count, str]]:
    """For each member some routes cross, the dead and missing of known nationalities other
    than its own and the routes' destinations on those routes."""
    geography = route_geography()
    known_routes = _dataset_codes(dataset, "route")
    found = {}
    for code in members:
        routes = sorted(
            route
            for route, place in geography.items()
            if code in place.transit and route in known_routes
        )
        if not routes:
            continue
        destinations = set().union(*(geography[route].destination for route in routes))
        query = _window_query(
            dataset,
            window,
            group_by=("citizenship", "measure"),
            filters={"measure": DEAD_AND_MISSING, "route": routes},
        )
        table = public_table(query)
        excluded = [(other, TOTAL) for other in sorted({code, *destinations, *UNKNOWN_OR_SEVERAL})]
        count = _table_remainder(table, total=(TOTAL, TOTAL), excluded=excluded)
        if count is not None:
            found[code] = (count, _query_string(query))
    return found


def _dataset_codes(dataset: Dataset, dimension: str) -> set[str]:
    return set(
        Observation.objects.filter(dataset=dataset)
        .values_list(dimension, flat=True)
        .distinct()
        .order_by()
    )


_PARENTHESES = re.compile(r"\([^)]*\)")


@cache
def incident_country(location: str) -> str | None:
    """The country an incident's location names: from its end (IOM writes "place, region,
    country"), the last comma-separated part whose last words are a country's name (not a
    code: "CA" is California there, not Canada). None when no part names one."""
    text = _PARENTHESES.sub(" ", location)
    for part in reversed(text.split(",")):
        words = part.replace("\u00a0", " ").strip(" .;-").split()
        for size in range(min(len(words), 6), 0, -1):
            found = resolve_country_detail(" ".join(words[-size:]))
            if found.alpha2 is not None and found.match is not Match.CODE:
                return found.alpha2
    return None


def _nationality(origins: Sequence[str]) -> str:
    """An incident's countries of origin as one code, as the observations have it."""
    if not origins:
        return "_U"
    if len(origins) > 1:
        return "_M"
    return origins[0]


def _dead_missing_on_territory(
    dataset: Dataset, window: Window, members: Sequence[str]
) -> dict[str, tuple[_Count, str]]:
    """For each member, the dead and missing of another known nationality in incidents
    located in it, leaving out incidents on routes that lead to it: a table of (country of
    the incident, nationality) protected like every public table."""
    geography = route_geography()
    cells: dict[Key, int] = defaultdict(int)
    cell_batches: dict[Key, set[str]] = defaultdict(set)
    incidents = Incident.objects.filter(
        dataset=dataset,
        superseded_at__isnull=True,
        period__gte=window.start,
        period__lte=window.end,
    ).values_list("location", "route", "origins", "dead", "missing", "batch_id")
    # Every member's incidents, whichever members are asked for: the table, and so its
    # suppressions, is the same for the list and for each profile.
    wanted = {country.pk for country in member_countries()} | set(members)
    for location, route, origins, dead, missing, batch in incidents.iterator(chunk_size=5000):
        territory = incident_country(location or "")
        if territory not in wanted:
            continue
        place = geography.get(route)
        if place is not None and territory in place.destination:
            continue
        key = (territory, _nationality(origins or []))
        cells[key] += (dead or 0) + (missing or 0)
        cell_batches[key].add(str(batch))
    protected = protect_table(cells)
    batches_of: dict[Key, set[str]] = defaultdict(set)
    for cell, batches in cell_batches.items():
        for ancestor in entry_ancestors(cell, {}):
            batches_of[ancestor].update(batches)
    frozen = {key: frozenset(batches) for key, batches in batches_of.items()}
    query = _window_query(
        dataset, window, group_by=("citizenship", "measure"), filters={"measure": DEAD_AND_MISSING}
    )
    found = {}
    for code in members:
        excluded = [(code, other) for other in sorted({code, *UNKNOWN_OR_SEVERAL})]
        count = published_remainder(
            protected.values, protected.published, frozen, total=(code, TOTAL), excluded=excluded
        )
        if count is not None:
            found[code] = (count, _query_string(query))
    return found


CALCULATORS: dict[str, CountCalculator] = {
    "emigrant-stock": _stock("from_country"),
    "immigrant-stock": _stock("to_country"),
    "citizens-encountered-abroad": _between("citizenship", "reporting_country", others_only=True),
    "non-citizens-encountered": _between("reporting_country", "citizenship", others_only=True),
    "returns-received": _between("reporting_country", "from_country", others_only=False),
    "returns-sent": _between("from_country", "reporting_country", others_only=True),
    "citizens-dead-missing": _citizens_dead_missing,
    "dead-missing-on-routes": _dead_missing_on_routes,
    "dead-missing-on-territory": _dead_missing_on_territory,
}


def _metric(spec: IndicatorSpec, count: _Count, population: int | None) -> float | None:
    if spec.unit == COUNT:
        return float(count.value)
    if not population:
        return None
    if spec.unit == PERCENT_OF_POPULATION:
        return round(100 * count.value / population, 2)
    return round(PER_INHABITANTS * count.value / population, 1)


def indicator_figures(spec: IndicatorSpec, members: Sequence[str]) -> dict[str, IndicatorFigure]:
    """The indicator for each of `members` that has a figure."""
    dataset = Dataset.objects.filter(code=spec.dataset).prefetch_related("dimensions").first()
    window = dataset_window(dataset, spec.window) if dataset is not None else None
    if dataset is None or window is None:
        return {}
    counts = CALCULATORS[spec.code](dataset, window, members)
    populations = population_figures(list(counts)) if spec.unit != COUNT else {}
    figures = {}
    for code, (count, query_string) in counts.items():
        found = _nearest_population(populations, code, f"{window.end:%Y}")
        persons, year, population_batch = found if found else (None, "", "")
        metric = _metric(spec, count, persons)
        meets = None if metric is None else metric >= spec.threshold
        if meets is False and count.at_least:
            meets = None  # a lower bound below the threshold says nothing
        figures[code] = IndicatorFigure(
            spec=spec,
            window=window,
            value=count.value,
            at_least=count.at_least,
            metric=metric,
            population=persons,
            population_year=year,
            meets=meets,
            batches=(*count.batches, *([population_batch] if population_batch else [])),
            table_query=query_string,
        )
    return figures


def _status(figures: Sequence[IndicatorFigure]) -> str:
    if any(figure.meets for figure in figures):
        return MEASURED
    if any(figure.meets is False for figure in figures):
        return BELOW_THRESHOLD
    return NO_DATA


def member_roles(countries: Sequence[Country] | None = None) -> dict[str, list[RoleResult]]:
    """Every role of every member (or of `countries`), each indicator computed once for all."""
    chosen = list(countries) if countries is not None else member_countries()
    codes = [country.pk for country in chosen]
    computed = {spec.code: indicator_figures(spec, codes) for spec in INDICATORS}
    results: dict[str, list[RoleResult]] = {}
    for code in codes:
        roles = []
        for role in ROLES:
            figures = [
                computed[spec.code].get(code) or IndicatorFigure(spec=spec, window=None)
                for spec in INDICATORS
                if spec.role == role
            ]
            roles.append(
                RoleResult(
                    role=role,
                    status=_status(figures),
                    figures=figures,
                    lines=mission_lines_for(role),
                )
            )
        results[code] = roles
    return results


# --- corridors --------------------------------------------------------------------------------

# (dataset, window, (dimension of the country, dimension of the other end) as origin, the same
# as destination): how each dataset says "from here to there".
CORRIDOR_SOURCES: tuple[tuple[str, str, tuple[str, str], tuple[str, str]], ...] = (
    ("migrant-stock", LATEST_YEAR, ("from_country", "to_country"), ("to_country", "from_country")),
    (
        "border-encounters",
        LATEST_12_MONTHS,
        ("citizenship", "reporting_country"),
        ("reporting_country", "citizenship"),
    ),
    # A return from D to R: a national of R had gone to D.
    (
        "returns-received",
        LATEST_12_MONTHS,
        ("reporting_country", "from_country"),
        ("from_country", "reporting_country"),
    ),
)


def country_corridors(country: Country) -> list[CorridorGroup]:
    """The largest published corridors from and to the country in each dataset that has
    them (countries only: "other", "unknown" and "several" are no corridor)."""
    groups = []
    for code, window_kind, as_origin, as_destination in CORRIDOR_SOURCES:
        dataset = Dataset.objects.filter(code=code).prefetch_related("dimensions").first()
        window = dataset_window(dataset, window_kind) if dataset is not None else None
        if dataset is None or window is None:
            continue
        period_type = PeriodType.YEAR if window.period_type == PeriodType.YEAR else None
        lists: list[list[Corridor]] = []
        queries: list[str] = []
        for direction, (own, other) in enumerate((as_origin, as_destination)):
            outgoing = direction == 0
            query = _window_query(
                dataset,
                window,
                group_by=(other,),
                filters={own: [country.pk]},
                period_type=period_type,
            )
            ranked, _table = top(query, dimension=other, limit=CORRIDORS_SHOWN + 1)
            corridors = [
                Corridor(
                    origin=country.pk if outgoing else figure.code,
                    destination=figure.code if outgoing else country.pk,
                    value=figure.value,
                    batches=figure.batches,
                )
                for figure in ranked
                if figure.code != country.pk
            ]
            lists.append(corridors[:CORRIDORS_SHOWN])
            queries.append(_query_string(query))
        names = {
            row.pk: row.name
            for row in Country.objects.filter(
                pk__in={
                    code
                    for corridor in lists[0] + lists[1]
                    for code in (corridor.origin, corridor.destination)
                }
            )
        }
        lists = [
            [
                dataclasses.replace(
                    corridor,
                    origin_name=names.get(corridor.origin, corridor.origin),
                    destination_name=names.get(corridor.destination, corridor.destination),
                )
                for corridor in corridors
            ]
            for corridors in lists
        ]
        if lists[0] or lists[1]:
            groups.append(
                CorridorGroup(
                    dataset=code,
                    dataset_name=dataset.name,
                    window=window,
                    outgoing=lists[0],
                    incoming=lists[1],
                    table_queries=(queries[0], queries[1]),
                )
            )
    return groups


# --- returns: events and persons --------------------------------------------------------------

PERSONS_DATASET = "returns-persons"
RETURN_EVENTS = "return-events"
PERSONS_RETURNED = "persons-returned"
PERSONS_FOLLOWED = "persons-followed-12m"
PERSONS_RETURNED_AGAIN = "persons-returned-again-12m"
PERSONS_MEASURES = (RETURN_EVENTS, PERSONS_RETURNED, PERSONS_FOLLOWED, PERSONS_RETURNED_AGAIN)


def _rate(again: int | None, followed: int | None) -> float | None:
    if again is None or not followed:
        return None
    return round(again / followed, 4)


def country_returns(country: Country) -> ReturnsFigures | None:
    """The returns registered at the country's centres, by year: events and persons, persons
    followed for twelve months and returned again, and the re-return rate, all from the one
    roll-up of the case records ("returns-persons", returns.persons_returned), so that
    events and persons count the same returns. None when it has no such figures.

    One public table per measure, each by year: the measures are never added up, so none is
    protected together with another (a total over measures would mean nothing)."""
    dataset = Dataset.objects.filter(code=PERSONS_DATASET).prefetch_related("dimensions").first()
    if (
        dataset is None
        or not Observation.objects.filter(dataset=dataset, reporting_country=country.pk).exists()
    ):
        return None
    tables: dict[str, PublicTable] = {}
    for measure in PERSONS_MEASURES:
        query = table_query(
            dataset=dataset,
            group_by=(PERIOD,),
            period_type=PeriodType.YEAR,
            filters={"reporting_country": [country.pk], "measure": [measure]},
        )
        tables[measure] = public_table(query)
    persons = tables[PERSONS_RETURNED]
    years = sorted(
        {key[0] for key in persons.protected.values if persons.key_published(key)} - {TOTAL}
    )
    followed_years = {key[0] for key in tables[PERSONS_FOLLOWED].protected.values}

    def year_figures(year: str) -> ReturnsYear:
        values: dict[str, int | None] = {}
        batches: set[str] = set()
        for measure, table in tables.items():
            present = (year,) in table.protected.values
            values[measure] = table.value((year,)) if present else None
            batches |= table.batches_of.get((year,), frozenset())
        again = values[PERSONS_RETURNED_AGAIN]
        if (
            again is None
            and year in followed_years
            and (year,) not in (tables[PERSONS_RETURNED_AGAIN].protected.values)
        ):
            again = 0  # followed, and nobody came back
        return ReturnsYear(
            year=year,
            events=values[RETURN_EVENTS],
            persons=values[PERSONS_RETURNED],
            followed=values[PERSONS_FOLLOWED],
            returned_again=again,
            rate=_rate(again, values[PERSONS_FOLLOWED]),
            batches=tuple(sorted(batches)),
        )

    return ReturnsFigures(
        years=[year_figures(year) for year in years],
        total=year_figures(TOTAL),
        persons_query=_query_string(
            dataclasses.replace(
                persons.query,
                filters=(("measure", PERSONS_MEASURES), ("reporting_country", (country.pk,))),
                group_by=(PERIOD, "measure"),
            )
        ),
    )


# --- the profile ------------------------------------------------------------------------------


def country_profile(*, code: str) -> CountryProfile:
    """The profile of a member state; NotFoundError for an unknown code, NotMemberError for a
    country that is not a member."""
    country = member_get(code=code)
    roles = member_roles([country])[country.pk]
    corridors = country_corridors(country)
    returns = country_returns(country)
    batch_ids: set[str] = set()
    for role in roles:
        for figure in role.figures:
            batch_ids.update(figure.batches)
    for group in corridors:
        for corridor in (*group.outgoing, *group.incoming):
            batch_ids.update(corridor.batches)
    if returns is not None:
        for year in (*returns.years, returns.total):
            batch_ids.update(year.batches)
    return CountryProfile(
        country=country,
        roles=roles,
        corridors=corridors,
        returns=returns,
        sources=batch_sources(batch_ids),
    )


@dataclass
class MemberSummary:
    country: Country
    roles: list[RoleResult]


def members_summary() -> list[MemberSummary]:
    """Every member with its roles, for the list of profiles, by name in the language of the
    request."""
    countries = sorted(member_countries(), key=lambda country: country.name)
    roles = member_roles(countries)
    return [MemberSummary(country=country, roles=roles[country.pk]) for country in countries]
