"""Background tasks of the observatory's forecasts (django-tasks, run by the worker of
mirador.flows.tasks: `mirador worker`, or a thread of `mirador serve` in the demo)."""

from __future__ import annotations

from django_tasks import task

from mirador.analytics import forecasting


@task()
def forecast_compute_task(forecast_id: str) -> str:
    """Compute one cached forecast from the current data; returns its status."""
    return forecasting.forecast_compute(forecast_id=forecast_id)


@task()
def forecasts_refresh_task(dataset_id: str) -> int:
    """After an import or a rollback: compute again the dataset's stale cached forecasts."""
    return forecasting.forecasts_refresh(dataset_id=dataset_id)
