"""Indicators on the real samples: totals and changes computed here from the CBP file, shares,
top countries, rates with a loaded population, and the sources every figure carries."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db.models import Sum

from mirador.analytics.disclosure import TOTAL
from mirador.analytics.indicators import indicators, period_totals, rates, shares, top
from mirador.analytics.selectors import (
    QueryError,
    TableQuery,
    dataset_get,
    public_table,
    table_query,
)
from mirador.analytics.tests.conftest import cbp_rows, cbp_totals
from mirador.flows.models import ImportBatch, Observation

pytestmark = pytest.mark.django_db


def cbp_query(**kwargs: Any) -> TableQuery:
    return table_query(dataset=dataset_get(code="border-encounters"), **kwargs)


def test_cbp_monthly_totals_equal_the_file(cbp_batch: ImportBatch) -> None:
    monthly, _yearly, _table = period_totals(cbp_query())
    expected = cbp_totals("month")
    assert {figure.period: figure.value for figure in monthly} == dict(expected)


def test_cbp_yearly_totals_and_change_on_the_previous_year_equal_the_file(
    cbp_batch: ImportBatch,
) -> None:
    _monthly, yearly, _table = period_totals(cbp_query())
    by_year = {figure.year: figure for figure in yearly}
    expected = cbp_totals("year")
    assert {year: figure.value for year, figure in by_year.items()} == dict(expected)
    # 2022 and 2023 are whole calendar years in the file (FY2022 starts in October 2021).
    assert by_year["2023"].complete and by_year["2023"].change_basis == "year"
    assert by_year["2023"].change == expected["2023"] - expected["2022"]
    assert by_year["2023"].change_percent == round(
        100 * (expected["2023"] - expected["2022"]) / expected["2022"], 2
    )


def test_an_incomplete_year_is_compared_with_the_same_months_of_the_previous_year(
    cbp_batch: ImportBatch,
) -> None:
    _monthly, yearly, _table = period_totals(cbp_query())
    latest = yearly[-1]
    months = cbp_totals("month")
    present = sorted(month for month in months if month.startswith(latest.year))
    assert not latest.complete and latest.months == len(present)
    now = sum(months[month] for month in present)
    before = sum(months[f"{int(latest.year) - 1}{month[4:]}"] for month in present)
    assert latest.change_basis == "same_months"
    assert latest.change == now - before


def test_a_range_ending_mid_year_compares_the_same_months_of_the_year_before(
    cbp_batch: ImportBatch,
) -> None:
    # 2023 is a whole year in the file; asked up to June, it is a half year.
    _monthly, yearly, _table = period_totals(cbp_query(start="2022-01", end="2023-06"))
    by_year = {figure.year: figure for figure in yearly}
    months = cbp_totals("month")
    first_half = [f"2023-{month:02d}" for month in range(1, 7)]
    assert by_year["2023"].value == sum(months[month] for month in first_half)
    assert not by_year["2023"].complete and by_year["2023"].months == 6
    assert by_year["2023"].change_basis == "same_months"
    before = sum(months[month.replace("2023", "2022")] for month in first_half)
    assert by_year["2023"].change == by_year["2023"].value - before
    assert by_year["2022"].complete


def test_totals_follow_the_filters(cbp_batch: ImportBatch) -> None:
    _monthly, yearly, _table = period_totals(cbp_query(filters={"citizenship": ["HN"]}))
    assert {figure.year: figure.value for figure in yearly} == dict(
        cbp_totals("year", citizenship="HN")
    )


def test_a_period_range_keeps_its_months_only(cbp_batch: ImportBatch) -> None:
    monthly, yearly, _table = period_totals(cbp_query(start="2023-03", end="2023-05"))
    assert [figure.period for figure in monthly] == ["2023-03", "2023-04", "2023-05"]
    months = cbp_totals("month")
    assert yearly[0].value == sum(months[f"2023-0{m}"] for m in (3, 4, 5))


def test_the_share_of_minors_among_cbp_encounters_equals_the_file(
    cbp_batch: ImportBatch,
) -> None:
    figures, _tables = shares(cbp_query())
    by_key = {(figure.indicator, figure.period): figure for figure in figures}
    all_years = cbp_totals("year")
    accompanied = cbp_totals("year", demographic="accompanied-minors")
    unaccompanied = cbp_totals("year", demographic="unaccompanied-minors")
    minors = by_key[("minors", "2023")]
    assert minors.dimension == "demographic"
    assert minors.denominator == all_years["2023"]
    assert minors.numerator == accompanied["2023"] + unaccompanied["2023"]
    assert minors.share == round(minors.numerator / all_years["2023"], 4)
    assert by_key[("unaccompanied_minors", "2023")].numerator == unaccompanied["2023"]
    assert ("women", "2023") not in by_key  # CBP's table has no breakdown by sex


def test_the_share_of_women_among_returns_leaves_unknown_sex_out(
    returns_batch: ImportBatch,
) -> None:
    query = table_query(dataset=dataset_get(code="returns-received"))
    figures, _tables = shares(query)
    women = next(f for f in figures if f.indicator == "women" and f.period == TOTAL)
    stored = Observation.objects.filter(batch=returns_batch)
    females = stored.filter(sex="F").aggregate(total=Sum("value"))["total"]
    known = stored.filter(sex__in=["F", "M"]).aggregate(total=Sum("value"))["total"]
    assert (women.numerator, women.denominator) == (females, known)
    assert women.share == round(females / known, 4)
    indicators_found = {figure.indicator for figure in figures}
    assert indicators_found == {"women", "minors", "unaccompanied_minors"}


def test_top_citizenships_are_ranked_as_in_the_file(cbp_batch: ImportBatch) -> None:
    figures, _table = top(cbp_query(), dimension="citizenship", limit=5)
    expected = Counter(
        {
            code: total
            for code, total in cbp_totals("citizenship").items()
            if not code.startswith("_")
        }
    )
    assert [(figure.code, figure.value) for figure in figures] == expected.most_common(5)
    grand_total = sum(int(row["Encounter Count"]) for row in cbp_rows())
    assert figures[0].share_of_total == round(figures[0].value / grand_total, 4)


def test_rates_per_100000_inhabitants_use_the_loaded_population(
    cbp_batch: ImportBatch, population_batch: ImportBatch
) -> None:
    figures, _table, population_batches = rates(cbp_query(), dimension="citizenship")
    honduras_2023 = next(f for f in figures if f.code == "HN" and f.year == "2023")
    population = Observation.objects.get(
        dataset__code="population", reporting_country="HN", period__year=2023
    ).value
    encounters = cbp_totals("year", citizenship="HN")["2023"]
    assert honduras_2023.population == population
    assert honduras_2023.rate == round(encounters * 100_000 / population, 2)
    assert population_batches == {str(population_batch.pk)}
    assert str(population_batch.pk) in honduras_2023.batches
    # 2025 has no population loaded: the nearest earlier year is used, and said.
    honduras_2025 = next(f for f in figures if f.code == "HN" and f.year == "2025")
    assert honduras_2025.population_year == "2024"


def test_no_rates_without_a_population(cbp_batch: ImportBatch) -> None:
    figures, _table, _batches = rates(cbp_query(), dimension="citizenship")
    assert figures == []


def test_every_figure_names_the_batches_and_files_it_came_from(
    cbp_batch: ImportBatch, population_batch: ImportBatch
) -> None:
    summary = indicators(cbp_query())
    batch_id = str(cbp_batch.pk)
    assert all(figure.batches == (batch_id,) for figure in summary.yearly)
    assert all(batch_id in figure.batches for figure in summary.top)
    files = {source.id: source.file_name for source in summary.sources}
    assert files[batch_id] == cbp_batch.file_name
    assert files[str(population_batch.pk)] == population_batch.file_name
    assert {source.dataset for source in summary.sources} == {"border-encounters", "population"}


def test_small_cells_never_reach_an_indicator(returns_batch: ImportBatch) -> None:
    query = table_query(
        dataset=dataset_get(code="returns-received"),
        group_by=["period", "subdivision", "unaccompanied"],
    )
    table = public_table(query)
    assert table.suppressed_count > 0
    for row in table.rows():
        assert row.value is None or row.value == 0 or row.value >= table.protected.threshold
    summary = indicators(query, top_dimensions=["subdivision"])
    assert all(figure.value >= table.protected.threshold for figure in summary.top)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"group_by": ["nationality"]}, "by"),
        ({"group_by": ["period", "citizenship", "demographic", "component"]}, "by"),
        ({"start": "2024-13"}, "start"),
        ({"start": "March"}, "start"),
        ({"end": "1700"}, "end"),
        ({"start": "2024", "end": "2023"}, "start"),
        ({"filters": {"sex": ["F"]}}, "sex"),
        ({"filters": {"citizenship": ["ZZ"]}}, "citizenship"),
        ({"period_type": "week"}, "period_type"),
    ],
)
def test_questions_that_cannot_be_answered_say_why(
    cbp_batch: ImportBatch, arguments: dict[str, object], field: str
) -> None:
    with pytest.raises(QueryError) as raised:
        cbp_query(**arguments)
    assert raised.value.details["field"] == field
    assert raised.value.http_status == 400


def test_measures_of_missing_migrants_are_never_added_up(db: None) -> None:
    dataset = dataset_get(code="missing-migrants")
    with pytest.raises(QueryError) as raised:
        table_query(dataset=dataset)
    assert raised.value.details["field"] == "measure"
    assert table_query(dataset=dataset, filters={"measure": ["dead"]}).filter_dict() == {
        "measure": ("dead",)
    }
