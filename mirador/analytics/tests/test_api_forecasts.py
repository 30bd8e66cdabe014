"""The forecast operation of the researchers' API (GET /api/v1/analytics/datasets/{code}/
forecast): public; 202 while being computed, then 200 with the forecast and its backtest; a
series too short or withheld answered with its status and a message; bad parameters 400 or
422, never 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from mirador.analytics.forecasting import COMPUTING_MESSAGE, MIN_MONTHS, NOT_MONTHLY_MESSAGE
from mirador.analytics.tests.conftest import cbp_totals
from mirador.flows.models import ImportBatch
from mirador.flows.tasks import run_pending_tasks

pytestmark = pytest.mark.django_db

FORECAST = "/api/v1/analytics/datasets/border-encounters/forecast"


def forecast(client: Client, **params: Any) -> Any:
    """The forecast once computed: 202 first, then 200."""
    first = client.get(FORECAST, params)
    assert first.status_code == 202, first.content[:300]
    assert first.json()["status"] == "computing"
    assert first.json()["message"] == str(COMPUTING_MESSAGE)
    run_pending_tasks()
    answer = client.get(FORECAST, params)
    assert answer.status_code == 200, answer.content[:300]
    return answer.json()


def test_a_forecast_is_202_while_computed_then_200_with_its_backtest(
    client: Client, cbp_batch: ImportBatch
) -> None:
    body = forecast(client, citizenship="GT")
    assert body["status"] == "ok" and body["message"] == ""
    assert body["query"]["filters"] == {"citizenship": ["GT"]}
    assert body["horizons"] == [3, 12, 36]
    expected = cbp_totals("month", citizenship="GT")
    assert {entry["period"]: entry["value"] for entry in body["history"]} == dict(expected)
    assert [point["period"] for point in body["points"][:4]] == [
        "2025-09",
        "2025-10",
        "2025-11",
        "2025-12",
    ]
    assert len(body["points"]) == 36
    for point in body["points"]:
        assert point["lo95"] <= point["lo80"] <= point["mean"] <= point["hi80"] <= point["hi95"]
    backtest = body["backtest"]
    assert backtest["mase"]["seasonal_naive"] == 1
    assert set(backtest["mase"]) == {
        "ensemble",
        "auto_ets",
        "auto_arima",
        "auto_theta",
        "seasonal_naive",
    }
    assert backtest["origins"] == 4 and backtest["horizon"] == 12
    assert body["batches"] == [str(cbp_batch.pk)]
    assert [source["id"] for source in body["sources"]] == [str(cbp_batch.pk)]
    assert body["minimum_months"] == MIN_MONTHS and body["withheld"] == []


def test_a_series_too_short_is_200_with_its_status_and_a_message(
    client: Client, cbp_batch: ImportBatch
) -> None:
    body = forecast(client, citizenship="MX", start="2024-06")
    assert body["status"] == "too_short"
    assert body["points"] == [] and body["backtest"] is None
    assert str(MIN_MONTHS) in body["message"]


def test_a_withheld_series_is_200_with_its_status_and_the_withheld_months(
    client: Client, cbp_batch: ImportBatch
) -> None:
    body = forecast(
        client, citizenship="SV", demographic="unaccompanied-minors", component="us-cbp-ofo"
    )
    assert body["status"] == "withheld" and body["points"] == []
    assert "2025-08" in body["withheld"] and "2025-08" in body["message"]


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"by": "sex"}, 400, "by"),
        ({"period_type": "year"}, 400, "period_type"),
        ({"start": "2025-13"}, 400, "start"),
        ({"start": "2025", "end": "2024"}, 400, "start"),
        ({"citizenship": "XX"}, 400, "citizenship"),
        ({"sexo": "F"}, 400, "sexo"),
        ({"minors": "maybe"}, 422, None),
        ({"start": "last year"}, 422, None),
    ],
)
def test_bad_parameters_are_refused_with_a_message(
    client: Client, cbp_batch: ImportBatch, params: dict[str, str], status: int, field: str | None
) -> None:
    response = client.get(FORECAST, params)
    assert response.status_code == status, response.content[:300]
    error = response.json()["error"]
    assert error["message"]
    if field is not None:
        assert error["details"]["field"] == field


def test_a_dataset_of_yearly_figures_or_an_unknown_one_has_no_forecast(
    client: Client, population_batch: ImportBatch
) -> None:
    yearly = client.get("/api/v1/analytics/datasets/population/forecast")
    assert yearly.status_code == 400
    with translation.override(settings.LANGUAGE_CODE):  # what a caller with no language reads
        expected = str(NOT_MONTHLY_MESSAGE % {"dataset": "population"})
    assert yearly.json()["error"]["message"] == expected
    assert client.get("/api/v1/analytics/datasets/nothing/forecast").status_code == 404
