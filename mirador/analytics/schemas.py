"""What the analytics API reads and returns. Codes are those of the datasets' code lists
(ISO 3166-1 alpha-2 for countries, ISO 3166-2 for subdivisions, SDMX's _T for a total, _O
other, _U unknown); periods are 2024-03 (a month) or 2024 (a year)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, Literal

from django.urls import reverse
from ninja import Field, Schema

PERIOD_PATTERN = r"^\d{4}(-\d{2})?$"


class TableFilters(Schema):
    """The selection of figures: a period range and codes of any of the dataset's
    dimensions (repeat a parameter, or separate codes with commas, for several)."""

    period_type: Literal["month", "year"] | None = Field(
        None, description="Of the figures published; by default the dataset's own."
    )
    start: str | None = Field(None, pattern=PERIOD_PATTERN, description="2024 or 2024-03.")
    end: str | None = Field(None, pattern=PERIOD_PATTERN, description="2024 or 2024-03.")
    minors: bool | None = Field(
        None, description="true: minors only; false: adults only (age group or demographic)."
    )
    reporting_country: list[str] = Field([], description="ISO 3166-1 alpha-2.")
    from_country: list[str] = Field([], description="Country returned from.")
    to_country: list[str] = Field([], description="Country of destination.")
    citizenship: list[str] = Field([], description="ISO 3166-1 alpha-2; _O other, _U unknown.")
    sex: list[str] = Field([], description="F, M, _U.")
    age_group: list[str] = Field([], description="Y_LT18, Y_GE18, _U.")
    demographic: list[str] = []
    unaccompanied: list[str] = Field([], description="Y, N, _U.")
    means: list[str] = Field([], description="air, land, sea, _U.")
    subdivision: list[str] = Field([], description="ISO 3166-2 (HN-CR, ...).")
    authority: list[str] = []
    encounter_type: list[str] = []
    component: list[str] = []
    route: list[str] = []
    cause: list[str] = []
    measure: list[str] = Field(
        [], description="Required for datasets of several measures (dead, missing, ...)."
    )


class TableParams(TableFilters):
    by: list[str] = Field(
        [],
        description="Breakdowns: period and/or dimension codes (at most 3); none gives the "
        "total of the selection.",
    )
    totals: bool = Field(True, description="false: the cells only, without totals (_T).")
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class IndicatorParams(TableFilters):
    top: list[str] = Field(
        [], description="Dimensions to rank (default: every country and subdivision dimension)."
    )
    top_limit: int = Field(10, ge=1, le=50)
    rate_dimension: str | None = Field(
        None, description="Country dimension for rates per 100,000 inhabitants."
    )


class CodeOut(Schema):
    code: str
    name_en: str
    name_es: str


class DimensionOut(Schema):
    code: str
    name_en: str
    name_es: str
    kind: str
    code_list: str | None = None


class DimensionDetailOut(DimensionOut):
    codes: list[CodeOut]


class DatasetOut(Schema):
    code: str
    name_en: str
    name_es: str
    description: str
    dimensions: list[DimensionOut]
    period_types: list[str]
    first_period: datetime.date | None
    last_period: datetime.date | None


class DatasetDetailOut(DatasetOut):
    dimensions: list[DimensionDetailOut]  # type: ignore[assignment]


class SourceOut(Schema):
    id: str
    dataset: str
    file_name: str
    format_code: str
    source: str
    sha256: str
    imported_at: datetime.datetime | None


class RowOut(Schema):
    codes: dict[str, str]
    value: int | None = Field(description="Empty (null) when suppressed.")
    suppressed: bool
    batches: list[str]


class QueryOut(Schema):
    dataset: str
    breakdown: list[str]
    period_type: str
    start: str | None
    end: str | None
    filters: dict[str, list[str]]


class TableOut(Schema):
    query: QueryOut
    disclosure_threshold: int
    suppressed: int
    count: int
    limit: int
    offset: int
    items: list[RowOut]
    sources: list[SourceOut]


class PeriodFigureOut(Schema):
    period: str
    value: int | None
    batches: list[str]


class YearFigureOut(Schema):
    year: str
    value: int | None
    months: int
    complete: bool
    previous: int | None
    change: int | None
    change_percent: float | None
    change_basis: str
    batches: list[str]


class ShareFigureOut(Schema):
    indicator: str
    dimension: str
    period: str
    numerator: int | None
    denominator: int | None
    share: float | None
    batches: list[str]


class TopFigureOut(Schema):
    dimension: str
    code: str
    value: int
    share_of_total: float | None
    batches: list[str]


class RateFigureOut(Schema):
    dimension: str
    code: str
    year: str
    value: int | None
    population: int
    population_year: str
    rate: float | None
    batches: list[str]


class IndicatorsOut(Schema):
    query: QueryOut
    disclosure_threshold: int
    suppressed: int
    monthly: list[PeriodFigureOut]
    yearly: list[YearFigureOut]
    shares: list[ShareFigureOut]
    top: list[TopFigureOut]
    rates: list[RateFigureOut]
    sources: list[SourceOut]


# --- monthly bulletins (mirador/analytics/bulletins.py) ---------------------------------------


class BulletinRequestIn(Schema):
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="The month, 2024-03; it has ended.")
    languages: list[Literal["es", "en"]] = Field(
        ["es", "en"], description="One edition per language."
    )


class BulletinEditionOut(Schema):
    id: uuid.UUID
    month: str = Field(description="2024-03.")
    language: str
    number: int | None = Field(description="The edition of the month; null until published.")
    status: Literal["queued", "running", "published", "failed"]
    trigger: Literal["on_demand", "schedule"]
    message: str = Field(description="Why it failed.")
    requested_at: datetime.datetime
    published_at: datetime.datetime | None
    sha256: str = Field(description="Of the PDF, once published.")
    size: int
    batches: list[str] = Field(description="The import batches its figures came from.")
    download: str | None = Field(description="The PDF, once published (public).")

    @staticmethod
    def resolve_month(edition: Any) -> str:
        return f"{edition.month:%Y-%m}"

    @staticmethod
    def resolve_requested_at(edition: Any) -> datetime.datetime:
        return edition.created_at

    @staticmethod
    def resolve_batches(edition: Any) -> list[str]:
        return sorted(str(batch.pk) for batch in edition.batches.all())

    @staticmethod
    def resolve_download(edition: Any) -> str | None:
        if edition.status != "published":
            return None
        return reverse("api:bulletin_pdf", kwargs={"edition_id": edition.pk})


# --- country profiles (mirador/analytics/profiles.py) -----------------------------------------


class MissionLineOut(Schema):
    id: str = Field(description="The line's ID in MISSION.md (D-R2, W-O5, ...).")
    text_en: str
    text_es: str


class RoleIndicatorOut(Schema):
    indicator: str
    label: str
    rule: str = Field(description="The indicator and its threshold, in a sentence.")
    dataset: str
    unit: Literal["percent_of_population", "per_100000", "count"]
    threshold: float
    period_start: str | None = Field(description="2019, 2024-09; null: no data.")
    period_end: str | None
    value: int | None = Field(description="The count; null: no figure for the country.")
    at_least: bool = Field(description="A lower bound: some parts are withheld.")
    metric: float | None = Field(description="The count in the unit of the threshold.")
    population: int | None
    population_year: str
    meets_threshold: bool | None = Field(description="null: cannot be compared.")
    batches: list[str]


class RoleOut(Schema):
    role: Literal["origin", "transit", "destination"]
    status: Literal["measured", "below_threshold", "no_data"]
    indicators: list[RoleIndicatorOut]
    mission_lines: list[MissionLineOut] = []


class CountryRolesOut(Schema):
    country: str = Field(description="ISO 3166-1 alpha-2.")
    name_en: str
    name_es: str
    roles: list[RoleOut]


class CorridorOut(Schema):
    origin: str
    destination: str
    value: int
    batches: list[str]


class CorridorGroupOut(Schema):
    dataset: str
    period_start: str
    period_end: str
    outgoing: list[CorridorOut] = Field(description="From the country: it is the origin.")
    incoming: list[CorridorOut] = Field(description="To the country: it is the destination.")


class ReturnsYearOut(Schema):
    year: str = Field(description="A year, or _T for all the years with persons figures.")
    events: int | None
    persons: int | None
    followed: int | None = Field(description="Persons whose 12 months of follow-up are over.")
    returned_again: int | None = Field(description="Of the followed, returned again.")
    rate: float | None = Field(description="Re-return rate: returned_again / followed.")
    batches: list[str]


class ReturnsOut(Schema):
    years: list[ReturnsYearOut]
    total: ReturnsYearOut


class CountryProfileOut(CountryRolesOut):
    disclosure_threshold: int
    corridors: list[CorridorGroupOut]
    returns: ReturnsOut | None = Field(
        description="Events and persons, where Mirador holds the case records; else null."
    )
    sources: list[SourceOut]


# --- forecasts (mirador/analytics/forecasting.py) ---------------------------------------------


class ForecastParams(TableFilters):
    """The series to forecast: the monthly totals of a selection (the same filters as the
    indicators; no breakdown)."""


class ForecastHistoryOut(Schema):
    period: str = Field(description="2024-03.")
    value: int


class ForecastPointOut(Schema):
    period: str = Field(description="2025-09: a month after the last of the series.")
    mean: float = Field(description="The point forecast (the ensemble's median).")
    lo80: float
    hi80: float
    lo95: float
    hi95: float


class BacktestOut(Schema):
    horizon: int = Field(description="Months forecast from each origin.")
    origins: int = Field(description="How many origins the backtest forecast from.")
    origin_periods: list[str] = Field(description="The last month known at each origin.")
    training_months: int = Field(description="Months the models were fitted on.")
    mase: dict[str, float | None] = Field(
        description="By model: its mean absolute error over the backtest divided by the "
        "seasonal naive forecast's (below 1: better than it; seasonal_naive is 1); null where "
        "a model could not be fitted or the seasonal naive forecast made no error."
    )
    mae: dict[str, float] = Field(description="By model: mean absolute error, in counts.")
    coverage80: float | None = Field(
        description="Share of backtest months inside the ensemble's 80% interval."
    )
    coverage95: float | None


class ForecastOut(Schema):
    query: QueryOut
    status: Literal["ok", "too_short", "withheld"]
    message: str = Field(
        description="Why there is no forecast; for ok, a note on months left out, or empty."
    )
    horizons: list[int] = Field(
        description="Months ahead: short, medium and long term; the forecast for horizon h "
        "is the first h points."
    )
    history: list[ForecastHistoryOut] = Field(description="The months forecast from.")
    points: list[ForecastPointOut]
    backtest: BacktestOut | None
    withheld: list[str] = Field(description="Months of the selection withheld (small counts).")
    disclosure_threshold: int | None
    minimum_months: int = Field(description="The shortest series forecast.")
    computed_at: datetime.datetime
    batches: list[str]
    sources: list[SourceOut]


class ForecastPendingOut(Schema):
    query: QueryOut
    status: Literal["computing"]
    message: str
