"""Indicators of a dataset for any selection of its figures: monthly and yearly totals,
change on the previous year, shares (women, minors, unaccompanied minors), top countries and
subdivisions, rates per 100,000 inhabitants where a population figure is loaded.

Each indicator is read off a public table (analytics.selectors.public_table) of the same
selection, after disclosure control: a figure that table suppresses gives no indicator (None),
and every figure names the batches it came from. Nothing here adds a number that the table
of the same query does not publish, except ratios of published numbers.

Population: the "population" dataset (yearly, by reporting_country), created by this app's
migration 0001 and loaded with the mapping analytics/formats/un_population.toml (UN World
Population Prospects totals, in persons); see docs/open-data.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mirador.analytics.disclosure import TOTAL
from mirador.analytics.selection_figures import dataset_fact
from mirador.analytics.selectors import (
    PERIOD,
    BatchSource,
    PublicTable,
    TableQuery,
    batch_sources,
    public_table,
)
from mirador.flows.models import Dataset, Dimension, DimensionKind, Observation, PeriodType

APP_DIR = Path(__file__).resolve().parent
POPULATION_DATASET = "population"
# The mapping of UN population figures, and illustrative figures for tests and the demo.
POPULATION_MAPPING = APP_DIR / "formats" / "un_population.toml"
POPULATION_SAMPLE = APP_DIR / "data" / "population_sample.csv"
POPULATION_DIMENSION = "reporting_country"
PER_INHABITANTS = 100_000


@dataclass(frozen=True)
class ShareSpec:
    """A share: figures with `numerator` codes of `dimension` over those with `denominator`
    codes (the codes known: unknown sex or age is left out of both)."""

    indicator: str
    dimension: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]


# For each indicator, the first spec whose dimension the dataset has is used.
SHARE_SPECS: tuple[ShareSpec, ...] = (
    ShareSpec("women", "sex", ("F",), ("F", "M")),
    ShareSpec("minors", "age_group", ("Y_LT18",), ("Y_LT18", "Y_GE18")),
    ShareSpec(
        "minors",
        "demographic",
        ("accompanied-minors", "unaccompanied-minors"),
        ("single-adults", "family-units", "accompanied-minors", "unaccompanied-minors"),
    ),
    ShareSpec("unaccompanied_minors", "unaccompanied", ("Y",), ("Y", "N")),
    ShareSpec(
        "unaccompanied_minors",
        "demographic",
        ("unaccompanied-minors",),
        ("single-adults", "family-units", "accompanied-minors", "unaccompanied-minors"),
    ),
)


@dataclass(frozen=True)
class PeriodFigure:
    period: str  # "2024-03", "2024"
    value: int | None  # None: suppressed
    batches: tuple[str, ...]


@dataclass(frozen=True)
class YearFigure:
    year: str
    value: int | None
    months: int  # months of the year the dataset has figures for (12 for yearly data)
    complete: bool
    # Change on the previous year: the whole year, or for an incomplete year the same months
    # of the previous year (`change_basis`).
    previous: int | None
    change: int | None
    change_percent: float | None
    change_basis: str  # "year", "same_months" or ""
    batches: tuple[str, ...]


@dataclass(frozen=True)
class ShareFigure:
    indicator: str
    dimension: str
    period: str  # a year, or TOTAL for the whole range
    numerator: int | None
    denominator: int | None
    share: float | None  # from 0 to 1
    batches: tuple[str, ...]


@dataclass(frozen=True)
class TopFigure:
    dimension: str
    code: str
    value: int
    share_of_total: float | None
    batches: tuple[str, ...]


@dataclass(frozen=True)
class RateFigure:
    dimension: str
    code: str
    year: str
    value: int | None
    population: int
    population_year: str
    rate: float | None  # per 100,000 inhabitants
    batches: tuple[str, ...]


@dataclass
class Indicators:
    monthly: list[PeriodFigure]
    yearly: list[YearFigure]
    shares: list[ShareFigure]
    top: list[TopFigure]
    rates: list[RateFigure]
    sources: list[BatchSource] = field(default_factory=list)
    suppressed: int = 0


def _batches(table: PublicTable, key: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(table.batches_of.get(key, frozenset())))


def _months_with_figures(query: TableQuery) -> dict[str, set[int]]:
    """Months of each year, within the query's period range, that the dataset has any figure
    for (whatever the filters): a year is complete when it has twelve. A range that ends in
    June makes its last year a half year, compared with the same months of the year before."""

    def months() -> dict[str, set[int]]:
        periods = (
            Observation.objects.filter(dataset=query.dataset, period_type=PeriodType.MONTH)
            .values_list("period", flat=True)
            .distinct()
            .order_by()
        )
        found: dict[str, set[int]] = {}
        for period in periods:
            found.setdefault(f"{period:%Y}", set()).add(period.month)
        return found

    # A scan of every figure of the dataset: kept until its data changes (never modified).
    found = dataset_fact("months", query.dataset, months)
    first = (query.start.year, query.start.month) if query.start else (1, 1)
    last = (query.end.year, query.end.month) if query.end else (9999, 12)
    in_range = {
        year: {month for month in months if first <= (int(year), month) <= last}
        for year, months in found.items()
    }
    return {year: months for year, months in in_range.items() if months}


def period_totals(query: TableQuery) -> tuple[list[PeriodFigure], list[YearFigure], PublicTable]:
    """Monthly totals (monthly datasets) and yearly totals with their change on the previous
    year, of the query's selection."""
    table = public_table(query.replace(group_by=(PERIOD,), period_type=query.stored_period_type))
    monthly_data = query.stored_period_type == PeriodType.MONTH
    monthly: list[PeriodFigure] = []
    years: dict[str, int | None] = {}
    month_values: dict[str, dict[int, int | None]] = {}
    for (code,), _value in sorted(table.protected.values.items()):
        if code == TOTAL:
            continue
        published = table.value((code,))
        if monthly_data and len(code) == 7:
            monthly.append(PeriodFigure(code, published, _batches(table, (code,))))
            month_values.setdefault(code[:4], {})[int(code[5:])] = published
        elif len(code) == 4:
            years[code] = published
    coverage = _months_with_figures(query) if monthly_data else {}
    yearly: list[YearFigure] = []
    for year in sorted(years):
        months = len(coverage.get(year, set())) if monthly_data else 12
        complete = months == 12
        previous_year = str(int(year) - 1)
        previous: int | None = None
        current = years[year]
        basis = ""
        if previous_year in years and complete:
            previous, basis = years[previous_year], "year"
        elif previous_year in years and monthly_data:
            same = sorted(coverage.get(year, set()))
            now = [month_values.get(year, {}).get(month, 0) for month in same]
            before = [month_values.get(previous_year, {}).get(month, 0) for month in same]
            if None in now or None in before:
                current, previous = None, None
            else:
                current = sum(value or 0 for value in now)
                previous = sum(value or 0 for value in before)
            basis = "same_months"
        change = current - previous if current is not None and previous is not None else None
        percent = round(100 * change / previous, 2) if change is not None and previous else None
        yearly.append(
            YearFigure(
                year=year,
                value=years[year],
                months=months,
                complete=complete,
                previous=previous,
                change=change,
                change_percent=percent,
                change_basis=basis if change is not None else "",
                batches=_batches(table, (year,)),
            )
        )
    return monthly, yearly, table


def shares(query: TableQuery) -> tuple[list[ShareFigure], list[PublicTable]]:
    """The shares the dataset's dimensions allow, by year and over the whole range."""
    declared = {dimension.code for dimension in query.dataset.dimensions.all()}
    figures: list[ShareFigure] = []
    tables: list[PublicTable] = []
    done: set[str] = set()
    for spec in SHARE_SPECS:
        if spec.indicator in done or spec.dimension not in declared:
            continue
        done.add(spec.indicator)
        table = public_table(
            query.replace(group_by=(PERIOD, spec.dimension), period_type=PeriodType.YEAR)
        )
        tables.append(table)
        periods = sorted(
            {key[0] for key in table.protected.values if table.key_published(key)},
            key=lambda code: (code == TOTAL, code),
        )
        for period in periods:
            numerator = _sum_published(table, period, spec.numerator)
            denominator = _sum_published(table, period, spec.denominator)
            share = (
                round(numerator / denominator, 4) if numerator is not None and denominator else None
            )
            batches = sorted(
                {
                    batch
                    for code in spec.denominator
                    for batch in table.batches_of.get((period, code), frozenset())
                }
            )
            figures.append(
                ShareFigure(
                    indicator=spec.indicator,
                    dimension=spec.dimension,
                    period=period,
                    numerator=numerator,
                    denominator=denominator,
                    share=share,
                    batches=tuple(batches),
                )
            )
    return figures, tables


def _sum_published(table: PublicTable, period: str, codes: Sequence[str]) -> int | None:
    total = 0
    for code in codes:
        value = table.value((period, code))
        if value is None:
            return None
        total += value
    return total


def top(
    query: TableQuery, *, dimension: str, limit: int = 10
) -> tuple[list[TopFigure], PublicTable]:
    """The codes of a dimension (countries, subdivisions) with the largest published totals
    over the query's selection. Groupings that are not one country or subdivision (_O other,
    _U unknown, _M several) and suppressed figures are not ranked."""
    table = public_table(query.replace(group_by=(dimension,)))
    grand_total = table.value((TOTAL,))
    ranked = sorted(
        (
            (value, code)
            for (code,), _true in table.protected.values.items()
            if code != TOTAL
            and not code.startswith("_")
            and (value := table.value((code,))) is not None
            and value > 0
        ),
        key=lambda pair: (-pair[0], pair[1]),
    )
    return [
        TopFigure(
            dimension=dimension,
            code=code,
            value=value,
            share_of_total=round(value / grand_total, 4) if grand_total else None,
            batches=_batches(table, (code,)),
        )
        for value, code in ranked[:limit]
    ], table


def population_loaded() -> bool:
    """Whether any population figure is loaded (rates need one); kept until the population
    figures change."""
    dataset = Dataset.objects.filter(code=POPULATION_DATASET).first()
    if dataset is None:
        return False
    return dataset_fact(
        "population-loaded", dataset, Observation.objects.filter(dataset=dataset).exists
    )


def population_figures(
    countries: Sequence[str] | None = None,
) -> dict[tuple[str, str], tuple[int, str]]:
    """Loaded population figures: (country, year) -> (persons, batch id)."""
    rows = Observation.objects.filter(dataset__code=POPULATION_DATASET, period_type=PeriodType.YEAR)
    if countries is not None:
        rows = rows.filter(**{f"{POPULATION_DIMENSION}__in": list(countries)})
    return {
        (row[POPULATION_DIMENSION], f"{row['period']:%Y}"): (row["value"], str(row["batch_id"]))
        for row in rows.values(POPULATION_DIMENSION, "period", "value", "batch_id")
    }


def _population_for(
    figures: dict[tuple[str, str], tuple[int, str]], country: str, year: str
) -> tuple[int, str, str] | None:
    """The population of the year, or else of the nearest earlier year loaded."""
    years = sorted(
        (loaded for (code, loaded) in figures if code == country and loaded <= year), reverse=True
    )
    if not years:
        return None
    value, batch = figures[(country, years[0])]
    return value, years[0], batch


def rates(query: TableQuery, *, dimension: str) -> tuple[list[RateFigure], PublicTable, set[str]]:
    """Yearly figures per 100,000 inhabitants of each country of a country dimension (the
    country of citizenship, the reporting country, ...) that has a population loaded."""
    table = public_table(query.replace(group_by=(dimension, PERIOD), period_type=PeriodType.YEAR))
    countries = sorted(
        {key[0] for key in table.protected.values if key[0] != TOTAL and not key[0].startswith("_")}
    )
    population = population_figures(countries)
    figures: list[RateFigure] = []
    population_batches: set[str] = set()
    for key in sorted(table.protected.values):
        country, year = key
        if country == TOTAL or year == TOTAL or not table.key_published(key):
            continue
        found = _population_for(population, country, year)
        if found is None:
            continue
        persons, population_year, batch = found
        value = table.value(key)
        population_batches.add(batch)
        figures.append(
            RateFigure(
                dimension=dimension,
                code=country,
                year=year,
                value=value,
                population=persons,
                population_year=population_year,
                rate=(
                    round(value * PER_INHABITANTS / persons, 2)
                    if value is not None and persons
                    else None
                ),
                batches=(*_batches(table, key), batch),
            )
        )
    return figures, table, population_batches


def country_dimensions(query: TableQuery) -> list[Dimension]:
    return [
        dimension
        for dimension in query.dataset.dimensions.all()
        if dimension.kind in (DimensionKind.COUNTRY, DimensionKind.SUBDIVISION)
    ]


def indicators(
    query: TableQuery,
    *,
    top_dimensions: Sequence[str] | None = None,
    top_limit: int = 10,
    rate_dimension: str | None = None,
) -> Indicators:
    """Every indicator of a selection: totals, changes, shares, top countries and
    subdivisions (of `top_dimensions`, by default every country and subdivision dimension),
    rates (of `rate_dimension`, by default the first country dimension with a population)."""
    monthly, yearly, totals_table = period_totals(query)
    share_figures, share_tables = shares(query)
    tables = [totals_table, *share_tables]
    dimensions = [dimension.code for dimension in country_dimensions(query)]
    top_figures: list[TopFigure] = []
    for name in top_dimensions if top_dimensions is not None else dimensions:
        if name in dimensions and name not in query.filter_dict():
            figures, table = top(query, dimension=name, limit=top_limit)
            top_figures += figures
            tables.append(table)
    rate_figures: list[RateFigure] = []
    extra_batches: set[str] = set()
    country_names = [
        dimension.code
        for dimension in country_dimensions(query)
        if dimension.kind == DimensionKind.COUNTRY
    ]
    candidates = [rate_dimension] if rate_dimension else country_names
    for name in candidates:
        if name not in country_names:
            continue
        rate_figures, table, extra_batches = rates(query, dimension=name)
        tables.append(table)
        if rate_figures:
            break
    batch_ids = {source.id for table in tables for source in table.sources} | extra_batches
    return Indicators(
        monthly=monthly,
        yearly=yearly,
        shares=share_figures,
        top=top_figures,
        rates=rate_figures,
        sources=batch_sources(batch_ids),
        suppressed=sum(table.suppressed_count for table in tables),
    )
