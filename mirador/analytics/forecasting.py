"""Forecasts of the observatory's monthly series, for 3, 12 and 36 months (short, medium and
long term, MISSION.md W-O3), with 80% and 95% prediction intervals and the backtest that says
how far to trust them (the numbers: `forecasting_engine`).

A series is a dataset and a selection of its figures (a TableQuery: period range and
filters), summed by month. It is read as it is published: `public_table` of the selection by
period, after disclosure control, so that nothing is derived from a withheld figure:
- months of the selection withheld by disclosure control are never used; the forecast is
  made from the published months after the last withheld one, if they are enough, and says
  so; if the latest month is withheld, or too few months follow the last withheld one, there
  is no forecast ("withheld"), with a message saying why;
- a month for which the dataset has no figures at all (a gap in its coverage) is not a zero:
  the forecast uses the months after it, the same way;
- a month the dataset covers but in which the selection counted nobody is a (published) 0;
- a series shorter than `MIN_MONTHS` months is "too_short", with a message.

Nothing is computed in a web request. `forecast_get` answers from the cache (the `Forecast`
model) if it holds a result computed from the current data, `forecast_request` queues the
computation (a background task, mirador.analytics.forecasting_tasks) when it does not. The
data version is the set of imported batches of the dataset with the disclosure threshold and
`METHOD_VERSION`: any import, revision or rollback of the dataset makes its cached forecasts
stale, and an import also refreshes the ones already asked for (`refresh_after_import`).

The contract other parts code against: `forecast_get`, `forecast_request`, `SeriesForecast`
(with `ForecastPoint` and `Backtest`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext_lazy

from mirador.analytics.disclosure import disclosure_threshold
from mirador.analytics.figure_blocks import figures_changed_by
from mirador.analytics.forecasting_engine import (
    HORIZONS,
    MIN_MONTHS,
    Backtest,
    EngineResult,
    ForecastPoint,
    SeriesInput,
    add_months,
    forecast_batch,
)
from mirador.analytics.models import Forecast
from mirador.analytics.selectors import PERIOD, QueryError, TableQuery, public_table
from mirador.flows.models import BatchStatus, Dataset, ImportBatch, Observation, PeriodType

__all__ = [
    "HORIZONS",
    "MIN_MONTHS",
    "Backtest",
    "ForecastPoint",
    "SeriesForecast",
    "forecast_get",
    "forecast_request",
]

logger = logging.getLogger(__name__)

# Changing how forecasts are computed makes every cached one stale: raise this with it.
METHOD_VERSION = "1"
OK = "ok"
TOO_SHORT = "too_short"
WITHHELD = "withheld"
# A computation asked for and not done after this long (a worker that stopped, a task that
# failed) is asked for again.
REQUEST_RETRY_AFTER = datetime.timedelta(minutes=15)
# At most this many forecasts of a dataset are refreshed after an import (the most recently
# computed); the others are computed again when someone asks for them.
REFRESH_LIMIT = 200

COMPUTING_MESSAGE = gettext_lazy(
    "The forecast of this series is being computed; ask again in a few seconds."
)
NOT_MONTHLY_MESSAGE = gettext_lazy(
    "Forecasts are made of monthly series; the dataset %(dataset)s has yearly figures only."
)
# What a result says, by the code stored with it (rendered in the reader's language).
MESSAGES = {
    "empty": gettext_lazy("This selection has no published figures: there is nothing to forecast."),
    "too_short": ngettext_lazy(
        "This series has %(months)d month of figures; a forecast needs at least "
        "%(minimum)d: two years to fit the models and one more to test them on.",
        "This series has %(months)d months of figures; a forecast needs at least "
        "%(minimum)d: two years to fit the models and one more to test them on.",
        "months",
    ),
    "too_short_after_gap": ngettext_lazy(
        "The dataset has no figures for %(gap)s: only the month since can be forecast "
        "from, and a forecast needs at least %(minimum)d.",
        "The dataset has no figures for %(gap)s: only the %(months)d months since can be "
        "forecast from, and a forecast needs at least %(minimum)d.",
        "months",
    ),
    "latest_withheld": gettext_lazy(
        "The latest month of this series, %(period)s, is withheld by disclosure control "
        "(counts under %(threshold)d are not published): no forecast is made from a series "
        "whose latest figures are withheld."
    ),
    "withheld": ngettext_lazy(
        "%(count)d month of this series is withheld by disclosure control (counts under "
        "%(threshold)d are not published), %(period)s; too few published months follow it "
        "to forecast from (%(months)d; at least %(minimum)d are needed).",
        "%(count)d months of this series are withheld by disclosure control (counts under "
        "%(threshold)d are not published), the latest %(period)s; too few published months "
        "follow it to forecast from (%(months)d; at least %(minimum)d are needed).",
        "count",
    ),
    "earlier_withheld": ngettext_lazy(
        "%(count)d earlier month of this series is withheld by disclosure control: the "
        "forecast is made from the %(months)d published months since %(start)s.",
        "%(count)d earlier months of this series are withheld by disclosure control: the "
        "forecast is made from the %(months)d published months since %(start)s.",
        "count",
    ),
    "after_gap": gettext_lazy(
        "The dataset has no figures for %(gap)s: the forecast is made from the %(months)d "
        "months since %(start)s."
    ),
}


@dataclass(frozen=True)
class SeriesForecast:
    """A forecast of a monthly series as cached, in the reader's language.

    `status`: "ok", "too_short" or "withheld". `message`: why there is no forecast (the two
    others), or for "ok" a note on months left out (withheld, or a gap), else "".
    `history`: the months the forecast was made from, with their published counts.
    `points`: one per month, up to the longest horizon; the forecast for horizon h is
    `points[:h]`. `withheld`: the months of the selection withheld by disclosure control.
    `batches`: the import batches the figures came from."""

    status: str
    message: str
    history: list[tuple[datetime.date, int]]
    points: list[ForecastPoint]
    horizons: tuple[int, ...]
    backtest: Backtest | None
    computed_at: datetime.datetime
    batches: tuple[str, ...]
    withheld: list[datetime.date] = field(default_factory=list)
    threshold: int | None = None

    def points_until(self, horizon: int) -> list[ForecastPoint]:
        return self.points[:horizon]


# --- the series as published --------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedSeries:
    """Every month of a selection from the first to the last the dataset has figures for:
    its published count, None where withheld; `gaps` are months without any figure."""

    months: list[tuple[datetime.date, int | None]]
    gaps: list[datetime.date]
    batches: tuple[str, ...]
    threshold: int


def series_query(query: TableQuery) -> TableQuery:
    """The monthly series of a query's selection (its own breakdowns are not the series')."""
    if query.stored_period_type != PeriodType.MONTH:
        raise QueryError(
            NOT_MONTHLY_MESSAGE % {"dataset": query.dataset.code},
            details={"field": "period_type"},
        )
    return query.replace(group_by=(PERIOD,), period_type=PeriodType.MONTH)


def _covered_months(query: TableQuery) -> list[datetime.date]:
    """The months the dataset has figures for in the selection's range (whatever its other
    filters, except the reporting country: a country that did not report is not a zero)."""
    rows = Observation.objects.filter(dataset=query.dataset, period_type=PeriodType.MONTH)
    if query.start:
        rows = rows.filter(period__gte=query.start)
    if query.end:
        rows = rows.filter(period__lte=query.end)
    reporting = query.filter_dict().get("reporting_country")
    if reporting:
        rows = rows.filter(reporting_country__in=reporting)
    return sorted(rows.values_list("period", flat=True).distinct().order_by())


def published_series(query: TableQuery) -> PublishedSeries:
    query = series_query(query)
    table = public_table(query)
    covered = _covered_months(query)
    months: list[tuple[datetime.date, int | None]] = []
    gaps: list[datetime.date] = []
    batches: set[str] = set()
    if covered:
        covered_set = set(covered)
        month = covered[0]
        while month <= covered[-1]:
            code = f"{month:%Y-%m}"
            if month not in covered_set:
                gaps.append(month)
            elif (code,) in table.protected.values:
                months.append((month, table.value((code,))))
                batches.update(table.batches_of.get((code,), frozenset()))
            else:
                months.append((month, 0))
            month = add_months(month, 1)
    return PublishedSeries(
        months=months,
        gaps=gaps,
        batches=tuple(sorted(batches)),
        threshold=table.protected.threshold,
    )


@dataclass(frozen=True)
class UsableRun:
    """The months a forecast is made from, or why there are not enough."""

    start: datetime.date | None
    values: list[int]
    status: str  # OK, TOO_SHORT or WITHHELD
    message_code: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def usable_run(series: PublishedSeries) -> UsableRun:
    """The published months after the last withheld month or gap, and the verdict on them."""
    if not series.months:
        return UsableRun(None, [], TOO_SHORT, "empty")
    last_period, last_value = series.months[-1]
    withheld = [month for month, value in series.months if value is None]
    if last_value is None:
        return UsableRun(
            None,
            [],
            WITHHELD,
            "latest_withheld",
            {"period": f"{last_period:%Y-%m}", "threshold": series.threshold},
        )
    last_withheld = withheld[-1] if withheld else None
    last_gap = series.gaps[-1] if series.gaps else None
    breaks = [month for month in (last_withheld, last_gap) if month is not None]
    after = max(breaks) if breaks else None
    run = [(month, value) for month, value in series.months if after is None or month > after]
    values = [int(value) for _month, value in run if value is not None]
    start = run[0][0]
    minimum = {"minimum": MIN_MONTHS, "months": len(values)}
    if len(values) >= MIN_MONTHS:
        if after is None:
            return UsableRun(start, values, OK)
        if after == last_withheld:
            note = {"count": len(withheld), "start": f"{start:%Y-%m}", "months": len(values)}
            return UsableRun(start, values, OK, "earlier_withheld", note)
        note = {"gap": f"{after:%Y-%m}", "start": f"{start:%Y-%m}", "months": len(values)}
        return UsableRun(start, values, OK, "after_gap", note)
    if after is not None and after == last_withheld:
        params = {
            **minimum,
            "count": len(withheld),
            "period": f"{last_withheld:%Y-%m}",
            "threshold": series.threshold,
        }
        return UsableRun(start, values, WITHHELD, "withheld", params)
    if after is not None:
        params = {**minimum, "gap": f"{after:%Y-%m}"}
        return UsableRun(start, values, TOO_SHORT, "too_short_after_gap", params)
    return UsableRun(start, values, TOO_SHORT, "too_short", minimum)


# --- the cache ----------------------------------------------------------------------------------


def selection_of(query: TableQuery) -> dict[str, Any]:
    """What identifies a series: its dataset, period range and filters (codes sorted)."""
    return {
        "dataset": query.dataset.code,
        "start": query.start.isoformat() if query.start else None,
        "end": query.end.isoformat() if query.end else None,
        "filters": {name: sorted(codes) for name, codes in query.filters},
    }


def query_key(query: TableQuery) -> str:
    text = json.dumps(selection_of(query), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def query_from_selection(*, dataset: Dataset, selection: dict[str, Any]) -> TableQuery:
    return TableQuery(
        dataset=dataset,
        group_by=(PERIOD,),
        period_type=PeriodType.MONTH,
        stored_period_type=PeriodType.MONTH,
        start=datetime.date.fromisoformat(selection["start"]) if selection.get("start") else None,
        end=datetime.date.fromisoformat(selection["end"]) if selection.get("end") else None,
        filters=tuple(
            (name, tuple(codes)) for name, codes in sorted(selection.get("filters", {}).items())
        ),
    )


def data_version(dataset: Dataset) -> str:
    """Changes whenever the dataset's current figures may have: an import finished, a batch
    rolled back (the set of imported batches), the disclosure threshold, the method."""
    batches = sorted(
        str(pk)
        for pk in ImportBatch.objects.filter(
            dataset=dataset, status=BatchStatus.IMPORTED, finished_at__isnull=False
        ).values_list("pk", flat=True)
    )
    text = json.dumps([METHOD_VERSION, disclosure_threshold(), batches])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def forecast_get(*, query: TableQuery) -> SeriesForecast | None:
    """The cached forecast of the query's monthly series if it was computed from the current
    data, else None (then call `forecast_request`). Never computes."""
    query = series_query(query)
    record = Forecast.objects.filter(query_key=query_key(query)).first()
    if record is None or record.result is None or record.computed_at is None:
        return None
    if record.data_version != data_version(query.dataset):
        return None
    return _forecast_from(record.result, computed_at=record.computed_at)


def forecast_request(*, query: TableQuery) -> None:
    """Queue the computation of the query's forecast if the cache has none from the current
    data and none is already queued for it."""
    query = series_query(query)
    key = query_key(query)
    version = data_version(query.dataset)
    now = timezone.now()
    with transaction.atomic():
        record, _created = Forecast.objects.select_for_update().get_or_create(
            query_key=key,
            defaults={"dataset": query.dataset, "selection": selection_of(query)},
        )
        if record.data_version == version and record.result is not None:
            return
        if (
            record.requested_version == version
            and record.requested_at is not None
            and now - record.requested_at < REQUEST_RETRY_AFTER
        ):
            return
        record.requested_version = version
        record.requested_at = now
        record.save(update_fields=["requested_version", "requested_at"])
        from mirador.analytics.forecasting_tasks import forecast_compute_task

        forecast_compute_task.enqueue(str(record.pk))


# --- computing ---------------------------------------------------------------------------------


def _result_of(
    series: PublishedSeries, run: UsableRun, computed: EngineResult | None
) -> dict[str, Any]:
    """A computed forecast as stored (JSON): periods as "2024-03", messages as codes."""
    ok = run.status == OK and computed is not None and computed.status == OK
    backtest = computed.backtest if ok and computed is not None else None
    start = run.start
    return {
        "status": run.status,
        "message": {"code": run.message_code, "params": run.params} if run.message_code else None,
        "history": [
            [f"{add_months(start, offset):%Y-%m}", value] for offset, value in enumerate(run.values)
        ]
        if start is not None
        else [],
        "points": [
            {
                "period": f"{point.period:%Y-%m}",
                "mean": point.mean,
                "lo80": point.lo80,
                "hi80": point.hi80,
                "lo95": point.lo95,
                "hi95": point.hi95,
            }
            for point in (computed.points if ok and computed is not None else [])
        ],
        "backtest": _backtest_json(backtest) if backtest is not None else None,
        "batches": list(series.batches),
        "withheld": [f"{month:%Y-%m}" for month, value in series.months if value is None],
        "threshold": series.threshold,
    }


def _backtest_json(backtest: Backtest) -> dict[str, Any]:
    return {
        "horizon": backtest.horizon,
        "origins": backtest.origins,
        "origin_periods": [f"{period:%Y-%m}" for period in backtest.origin_periods],
        "training_months": backtest.training_months,
        "mase": backtest.mase,
        "mae": backtest.mae,
        "coverage80": backtest.coverage80,
        "coverage95": backtest.coverage95,
    }


def _month(code: str) -> datetime.date:
    return datetime.date(int(code[:4]), int(code[5:7]), 1)


def _message(stored: dict[str, Any] | None) -> str:
    if not stored:
        return ""
    template = MESSAGES.get(stored.get("code", ""))
    if template is None:
        return ""
    return str(template % stored.get("params", {}))


def _forecast_from(result: dict[str, Any], *, computed_at: datetime.datetime) -> SeriesForecast:
    backtest = result.get("backtest")
    return SeriesForecast(
        status=result["status"],
        message=_message(result.get("message")),
        history=[(_month(code), int(value)) for code, value in result.get("history", [])],
        points=[
            ForecastPoint(
                period=_month(point["period"]),
                mean=point["mean"],
                lo80=point["lo80"],
                hi80=point["hi80"],
                lo95=point["lo95"],
                hi95=point["hi95"],
            )
            for point in result.get("points", [])
        ],
        horizons=HORIZONS,
        backtest=Backtest(
            horizon=backtest["horizon"],
            origins=backtest["origins"],
            origin_periods=tuple(_month(code) for code in backtest["origin_periods"]),
            training_months=backtest["training_months"],
            mase=dict(backtest["mase"]),
            mae=dict(backtest["mae"]),
            coverage80=backtest["coverage80"],
            coverage95=backtest["coverage95"],
        )
        if backtest
        else None,
        computed_at=computed_at,
        batches=tuple(result.get("batches", [])),
        withheld=[_month(code) for code in result.get("withheld", [])],
        threshold=result.get("threshold"),
    )


def forecasts_compute(*, records: Sequence[Forecast], n_jobs: int = 1) -> int:
    """Compute the forecasts of cache records (of any datasets) from the current data, in
    one run of the models, and store each with the version of the data it came from.
    Returns how many were stored."""
    prepared: list[tuple[Forecast, str, PublishedSeries, UsableRun]] = []
    versions: dict[str, str] = {}
    inputs: list[SeriesInput] = []
    for record in records:
        dataset = record.dataset
        # The version is read before the figures: an import committed in between makes the
        # result look stale (computed again), never a result of old figures look current.
        if dataset.code not in versions:
            versions[dataset.code] = data_version(dataset)
        query = query_from_selection(dataset=dataset, selection=record.selection)
        series = published_series(query)
        run = usable_run(series)
        prepared.append((record, versions[dataset.code], series, run))
        if run.status == OK and run.start is not None:
            inputs.append(SeriesInput(key=str(record.pk), start=run.start, values=run.values))
    computed = forecast_batch(inputs, n_jobs=n_jobs) if inputs else {}
    now = timezone.now()
    stored = 0
    for record, version, series, run in prepared:
        result = _result_of(series, run, computed.get(str(record.pk)))
        with transaction.atomic():
            updated = Forecast.objects.filter(pk=record.pk).update(
                result=result, data_version=version, computed_at=now
            )
        stored += updated
        logger.info(
            "forecast computed",
            extra={"forecast": str(record.pk), "status": result["status"], "version": version},
        )
    return stored


def forecast_compute(*, forecast_id: str) -> str:
    """The task's work: compute one cached forecast (if it still exists) and say its status."""
    record = Forecast.objects.select_related("dataset").filter(pk=forecast_id).first()
    if record is None:
        return "gone"
    forecasts_compute(records=[record])
    record.refresh_from_db(fields=["result"])
    return str((record.result or {}).get("status", ""))


def stale_forecasts(*, dataset: Dataset, limit: int = REFRESH_LIMIT) -> list[Forecast]:
    """The dataset's cached forecasts not computed from its current data, most recently
    computed first."""
    version = data_version(dataset)
    return list(
        Forecast.objects.filter(dataset=dataset)
        .exclude(data_version=version)
        .select_related("dataset")
        .order_by("-computed_at", "-created_at")[:limit]
    )


def forecasts_refresh(*, dataset_id: str) -> int:
    """The task after an import: compute again the dataset's stale forecasts (up to
    `REFRESH_LIMIT`); returns how many."""
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None:
        return 0
    return forecasts_compute(records=stale_forecasts(dataset=dataset))


def refresh_after_import(*, instance: ImportBatch, **_kwargs: Any) -> None:
    """Receiver of ImportBatch's post_save (connected in apps.py, since flows does not know
    analytics): once an import has finished or a batch is rolled back, the dataset's cached
    forecasts are refreshed in the background, when the change is committed."""
    if not figures_changed_by(instance):
        return
    dataset_id = instance.dataset_id

    def enqueue() -> None:
        if Forecast.objects.filter(dataset_id=dataset_id).exists():
            from mirador.analytics.forecasting_tasks import forecasts_refresh_task

            forecasts_refresh_task.enqueue(str(dataset_id))

    transaction.on_commit(enqueue)
