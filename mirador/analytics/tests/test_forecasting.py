"""Forecasts of monthly series (analytics.forecasting and its engine): intervals, horizons,
the backtest's MASE checked against a direct computation, series too short or withheld by
disclosure control, and the cache with its background tasks, on the CBP sample and on
generated series imported through the real import service."""

from __future__ import annotations

import csv
import datetime
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.test import override_settings
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from mirador.analytics import forecasting
from mirador.analytics.forecasting_engine import (
    BACKTEST_HORIZON,
    ENSEMBLE,
    HORIZONS,
    MIN_MONTHS,
    MIN_TRAINING_MONTHS,
    MODEL_NAMES,
    SEASONAL_NAIVE,
    EngineResult,
    SeriesInput,
    add_months,
    default_models,
    forecast_batch,
)
from mirador.analytics.models import Forecast
from mirador.analytics.selectors import PERIOD, public_table, table_query
from mirador.analytics.tests.conftest import _imported, cbp_totals
from mirador.flows.models import Dataset, ImportBatch
from mirador.flows.services import batch_rollback
from mirador.flows.tasks import run_pending_tasks
from mirador.returns.services import ROLLUP_COLUMNS, ROLLUP_FORMAT

START = datetime.date(2020, 1, 1)


def seasonal_counts(months: int, *, level: float = 800.0, seed: int = 1) -> list[int]:
    """Monthly counts with a yearly season, a slow trend and Poisson noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    expected = level * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * np.exp(0.004 * t)
    return [int(value) for value in rng.poisson(expected)]


# --- the engine, on generated series ------------------------------------------------------------


@pytest.fixture(scope="module")
def sixty_months() -> tuple[list[int], EngineResult]:
    values = seasonal_counts(60)
    return values, forecast_batch([SeriesInput("s", START, values)])["s"]


def test_the_forecast_covers_the_three_horizons_month_by_month(
    sixty_months: tuple[list[int], EngineResult],
) -> None:
    _values, result = sixty_months
    assert result.status == "ok"
    assert len(result.points) == max(HORIZONS) == 36
    last = add_months(START, 59)
    assert [point.period for point in result.points] == [
        add_months(last, step) for step in range(1, 37)
    ]


def test_the_95_percent_interval_contains_the_80_percent_one(
    sixty_months: tuple[list[int], EngineResult],
) -> None:
    _values, result = sixty_months
    for point in result.points:
        assert 0 <= point.lo95 <= point.lo80 <= point.mean <= point.hi80 <= point.hi95
    # The long term is less certain than the short term.
    first, last = result.points[0], result.points[-1]
    assert last.hi95 - last.lo95 > first.hi95 - first.lo95


def test_the_backtest_mase_is_each_models_error_over_the_seasonal_naive_forecasts(
    sixty_months: tuple[list[int], EngineResult],
) -> None:
    values, result = sixty_months
    backtest = result.backtest
    assert backtest is not None
    # Origins 12, 15, 18 and 21 months before the end, 12 months forecast from each.
    cutoffs = [60 - 21, 60 - 18, 60 - 15, 60 - 12]
    assert backtest.origins == 4 and backtest.horizon == BACKTEST_HORIZON == 12
    assert backtest.training_months == cutoffs[0]
    assert backtest.origin_periods == tuple(add_months(START, cut - 1) for cut in cutoffs)
    # The seasonal naive forecast of month c + k from origin c is the month a year before.
    errors = [
        abs(values[cut + step] - values[cut + step - 12])
        for cut in cutoffs
        for step in range(BACKTEST_HORIZON)
    ]
    naive_mae = sum(errors) / len(errors)
    assert backtest.mae[SEASONAL_NAIVE] == pytest.approx(naive_mae, abs=0.01)
    assert backtest.mase[SEASONAL_NAIVE] == 1
    for name in MODEL_NAMES:
        assert backtest.mase[name] == pytest.approx(backtest.mae[name] / naive_mae, abs=1e-3)
    assert backtest.coverage80 is not None and backtest.coverage95 is not None
    assert 0 <= backtest.coverage80 <= backtest.coverage95 <= 1


def test_a_series_shorter_than_the_minimum_is_too_short_and_not_fitted() -> None:
    values = seasonal_counts(MIN_MONTHS)
    results = forecast_batch(
        [
            SeriesInput("short", START, values[:-1]),
            SeriesInput("enough", START, values),
        ]
    )
    assert results["short"].status == "too_short"
    assert results["short"].points == [] and results["short"].backtest is None
    enough = results["enough"]
    assert enough.status == "ok" and enough.backtest is not None
    # Exactly long enough: one origin, after the two years the models need.
    assert enough.backtest.origins == 1
    assert enough.backtest.training_months == MIN_TRAINING_MONTHS == 24


def test_a_model_that_cannot_fit_a_series_leaves_the_ensemble_to_the_others() -> None:
    from statsforecast.models import AutoETS

    def with_multiplicative_ets() -> list[Any]:
        # Multiplicative errors need positive data: log(1 + 0) is 0, so this one fails.
        models = default_models()
        models[0] = AutoETS(season_length=12, model="MZZ")
        return models

    values = [
        0 if month % 12 in (0, 1) else count for month, count in enumerate(seasonal_counts(40))
    ]
    result = forecast_batch([SeriesInput("s", START, values)], models=with_multiplicative_ets)["s"]
    assert result.status == "ok" and result.backtest is not None
    assert result.backtest.mase["auto_ets"] is None
    assert result.backtest.mase[ENSEMBLE] is not None
    assert all(math.isfinite(point.mean) for point in result.points)


def test_a_series_the_seasonal_naive_forecast_gets_exactly_right_has_no_mase() -> None:
    year = [300, 280, 350, 400, 420, 390, 360, 380, 410, 450, 330, 310]
    result = forecast_batch([SeriesInput("s", START, year * 4)])["s"]
    assert result.backtest is not None
    assert result.backtest.mae[SEASONAL_NAIVE] == 0
    assert all(value is None for value in result.backtest.mase.values())
    # The forecast keeps the season.
    for point in result.points[:12]:
        assert point.mean == pytest.approx(year[point.period.month - 1], rel=0.05)


# --- which months a forecast is made from ------------------------------------------------------


def published(
    values: list[int | None], *, gaps: tuple[int, ...] = ()
) -> forecasting.PublishedSeries:
    months = [
        (add_months(START, index), value) for index, value in enumerate(values) if index not in gaps
    ]
    return forecasting.PublishedSeries(
        months=months,
        gaps=[add_months(START, index) for index in gaps],
        batches=(),
        threshold=5,
    )


def test_a_series_is_forecast_from_all_its_months_when_none_is_withheld() -> None:
    run = forecasting.usable_run(published([10] * 40))
    assert (run.status, run.start, len(run.values), run.message_code) == ("ok", START, 40, "")


def test_a_series_whose_latest_month_is_withheld_is_not_forecast() -> None:
    run = forecasting.usable_run(published([10] * 40 + [None]))
    assert run.status == "withheld" and run.message_code == "latest_withheld"
    assert run.params["period"] == f"{add_months(START, 40):%Y-%m}"


def test_the_months_after_the_last_withheld_one_are_used_when_they_are_enough() -> None:
    run = forecasting.usable_run(published([10, None, 10, None] + [10] * MIN_MONTHS))
    assert run.status == "ok" and run.message_code == "earlier_withheld"
    assert run.start == add_months(START, 4) and run.values == [10] * MIN_MONTHS
    assert run.params["count"] == 2


def test_too_few_months_after_the_last_withheld_one_give_no_forecast() -> None:
    run = forecasting.usable_run(published([10] * 30 + [None] + [10] * 20))
    assert run.status == "withheld" and run.message_code == "withheld"
    assert run.params["months"] == 20 and run.params["minimum"] == MIN_MONTHS


def test_a_month_without_figures_is_a_break_not_a_zero() -> None:
    values: list[int | None] = [10] * 60
    run = forecasting.usable_run(published(values, gaps=(10,)))
    assert run.status == "ok" and run.message_code == "after_gap"
    assert run.start == add_months(START, 11) and len(run.values) == 49
    run = forecasting.usable_run(published(values, gaps=(40,)))
    assert run.status == "too_short" and run.message_code == "too_short_after_gap"


def test_an_empty_or_short_series_is_too_short() -> None:
    assert forecasting.usable_run(published([])).message_code == "empty"
    run = forecasting.usable_run(published([10] * (MIN_MONTHS - 1)))
    assert run.status == "too_short" and run.message_code == "too_short"


# --- the published series, from the database ----------------------------------------------------


@pytest.mark.django_db
def test_the_series_is_the_published_monthly_totals_of_the_file(cbp_batch: ImportBatch) -> None:
    dataset = Dataset.objects.get(code="border-encounters")
    series = forecasting.published_series(
        table_query(dataset=dataset, filters={"citizenship": ["HN"]})
    )
    expected = cbp_totals("month", citizenship="HN")
    assert {f"{month:%Y-%m}": value for month, value in series.months} == dict(expected)
    assert series.gaps == [] and series.batches == (str(cbp_batch.pk),)


def small_counts_query() -> Any:
    """Unaccompanied Salvadoran children met by CBP's Office of Field Operations: small
    counts, some of them (the latest month among them) withheld."""
    return table_query(
        dataset=Dataset.objects.get(code="border-encounters"),
        filters={
            "citizenship": ["SV"],
            "demographic": ["unaccompanied-minors"],
            "component": ["us-cbp-ofo"],
        },
    )


@pytest.mark.django_db
def test_withheld_months_are_those_disclosure_control_withholds(cbp_batch: ImportBatch) -> None:
    query = small_counts_query()
    table = public_table(query.replace(group_by=(PERIOD,)))
    suppressed = sorted(key[0] for key in table.protected.suppressed if len(key[0]) == 7)
    series = forecasting.published_series(query)
    assert suppressed, "the selection has small counts"
    assert [f"{month:%Y-%m}" for month, value in series.months if value is None] == suppressed
    # No figure of the series is a withheld one.
    for month, value in series.months:
        if value is not None:
            assert table.value((f"{month:%Y-%m}",)) == value


# --- the cache and the tasks ---------------------------------------------------------------------


def returns_file(directory: Path, name: str, counts: dict[datetime.date, int]) -> Path:
    """A roll-up file of the mirador-returns format (the columns returns' roll-up writes):
    Honduran returns by month."""
    path = directory / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROLLUP_COLUMNS)
        for month, count in sorted(counts.items()):
            writer.writerow(
                [f"{month:%Y-%m}", "HN", "US", "F", "Y_GE18", "N", "air", "HN-CR", count]
            )
    return path


def import_returns(path: Path) -> ImportBatch:
    return _imported(format_code=ROLLUP_FORMAT, path=path)


def returns_query() -> Any:
    dataset = Dataset.objects.get(code="returns-received")
    return table_query(dataset=dataset, filters={"reporting_country": ["HN"]})


def months_from(start: datetime.date, counts: list[int]) -> dict[datetime.date, int]:
    return {add_months(start, index): count for index, count in enumerate(counts)}


@pytest.mark.django_db
def test_a_forecast_is_computed_in_the_background_once_and_then_served(tmp_path: Path) -> None:
    counts = seasonal_counts(40, level=300)
    batch = import_returns(returns_file(tmp_path, "a.csv", months_from(START, counts)))
    query = returns_query()
    assert forecasting.forecast_get(query=query) is None
    forecasting.forecast_request(query=query)
    forecasting.forecast_request(query=query)  # already queued: not twice
    assert forecasting.forecast_get(query=query) is None
    assert run_pending_tasks() == 1
    found = forecasting.forecast_get(query=query)
    assert found is not None and found.status == "ok" and found.message == ""
    assert found.history == [(add_months(START, i), count) for i, count in enumerate(counts)]
    assert found.horizons == (3, 12, 36) and len(found.points) == 36
    assert found.points_until(3) == found.points[:3]
    assert found.batches == (str(batch.pk),)
    assert found.backtest is not None and set(found.backtest.mase) == set(MODEL_NAMES)
    forecasting.forecast_request(query=query)  # current: nothing to do
    assert run_pending_tasks() == 0


@pytest.mark.django_db
def test_new_data_makes_the_forecast_stale_and_a_request_refreshes_it(tmp_path: Path) -> None:
    counts = seasonal_counts(41, level=300)
    import_returns(returns_file(tmp_path, "a.csv", months_from(START, counts[:40])))
    query = returns_query()
    forecasting.forecast_request(query=query)
    run_pending_tasks()
    assert forecasting.forecast_get(query=query) is not None
    with override_settings(MIRADOR_DISCLOSURE_THRESHOLD=10):
        assert forecasting.forecast_get(query=query) is None  # published otherwise
    latest = import_returns(returns_file(tmp_path, "b.csv", {add_months(START, 40): counts[40]}))
    assert forecasting.forecast_get(query=query) is None
    forecasting.forecast_request(query=query)
    assert run_pending_tasks() == 1
    found = forecasting.forecast_get(query=query)
    assert found is not None and len(found.history) == 41
    assert found.history[-1] == (add_months(START, 40), counts[40])
    assert str(latest.pk) in found.batches
    assert Forecast.objects.count() == 1
    batch_rollback(actor=None, batch=latest)
    assert forecasting.forecast_get(query=query) is None


@pytest.mark.django_db
def test_an_import_refreshes_the_forecasts_of_its_dataset_in_the_background(
    tmp_path: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    counts = seasonal_counts(41, level=300)
    import_returns(returns_file(tmp_path, "a.csv", months_from(START, counts[:40])))
    query = returns_query()
    forecasting.forecast_request(query=query)
    run_pending_tasks()
    with django_capture_on_commit_callbacks(execute=True):
        import_returns(returns_file(tmp_path, "b.csv", {add_months(START, 40): counts[40]}))
    assert forecasting.forecast_get(query=query) is None
    queued = list(DBTaskResult.objects.ready().values_list("task_path", flat=True))
    # The refresh, nobody having asked (and, on PostgreSQL, the dashboards' figure blocks).
    assert "mirador.analytics.forecasting_tasks.forecasts_refresh_task" in queued
    assert run_pending_tasks() == len(queued)
    found = forecasting.forecast_get(query=query)
    assert found is not None and len(found.history) == 41


@pytest.mark.django_db
def test_a_short_series_is_answered_too_short_with_a_message_in_the_readers_language(
    cbp_batch: ImportBatch,
) -> None:
    dataset = Dataset.objects.get(code="border-encounters")
    query = table_query(dataset=dataset, start="2024-01", filters={"citizenship": ["HN"]})
    forecasting.forecast_request(query=query)
    run_pending_tasks()
    found = forecasting.forecast_get(query=query)
    assert found is not None and found.status == "too_short"
    assert found.points == [] and found.backtest is None
    assert "20 months" in found.message and str(MIN_MONTHS) in found.message
    with translation.override("es"):
        spanish = forecasting.forecast_get(query=query)
    assert spanish is not None and spanish.message != found.message
    assert "20 meses" in spanish.message


@pytest.mark.django_db
def test_a_series_whose_latest_month_is_withheld_says_so(cbp_batch: ImportBatch) -> None:
    query = small_counts_query()
    forecasting.forecast_request(query=query)
    run_pending_tasks()
    found = forecasting.forecast_get(query=query)
    assert found is not None and found.status == "withheld"
    assert "2025-08" in found.message and "disclosure control" in found.message
    assert found.points == [] and datetime.date(2025, 8, 1) in found.withheld
