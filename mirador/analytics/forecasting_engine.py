"""The numbers of the observatory's forecasts, apart from the database: statsforecast's
automatic ETS, ARIMA and Theta models and their median, against the seasonal naive forecast,
with a rolling-origin backtest of each series. `forecasting` feeds it the published series and
caches what it returns; the benchmark calls it on a thousand series at once.

How a series is forecast, and why:
- On the logarithm of the counts (log(1 + y)): migration counts grow and fall by proportions,
  their seasonal swing is proportional to their level, and they are never negative. Every
  model works on that scale; forecasts and interval bounds are brought back with exp(x) - 1
  and floored at 0. A quantile maps to the same quantile through a monotone function, so the
  bounds stay 80% and 95% prediction intervals; the point forecast is then the median of the
  forecast distribution (not its mean), which is the better figure for a skewed count.
- The ensemble is the median, month by month, of the three models' point forecasts, and of
  each of their interval bounds (a median of quantiles, which keeps the bands nested: each
  model's 95% band contains its 80% band, and the median preserves that order). A median
  rather than a mean so that one model going astray on a series (ARIMA's drift after a
  break, say) does not drag the ensemble with it; chosen for that reason, not by trying
  both on the backtests.
- The seasonal naive forecast (each month as the same month a year before) is the baseline
  every backtest is measured against: it is what a reader of the tables would guess.

The backtest: origins at the end of the series minus 12, 15, 18 and 21 months (as many of
them as leave at least `MIN_TRAINING_MONTHS` before the first); from each, 12 months are
forecast (the medium term) and compared with what was published. Each model is fitted once,
on the months before the first origin (where the automatic models also choose their form:
ARIMA's orders, ETS's trend and season, Theta's variant), and rolled forward over the later
origins with its parameters unchanged (statsforecast's `forward`): no model ever sees the
months it is judged on. The final forecast keeps the form each model chose there and
estimates every parameter again on the whole series (Theta, whose search is cheap, searches
again); running AutoARIMA's search once rather than twice is most of what makes a thousand
series with backtests fit in minutes. The backtest therefore judges the procedure that
makes the forecast shown.

MASE here is the mean absolute error of a model over every backtest month, divided by the
mean absolute error of the seasonal naive forecast over the same months: below 1 is better
than the baseline, and the baseline's own MASE is 1 by definition. (Hyndman and Koehler's
MASE scales by the naive method's *in-sample* error; scaling by its error over the same
out-of-sample months, what the forecasting literature calls the relative MAE, answers the
question the observatory asks: does the model beat the obvious guess where it counted.) A
series whose seasonal naive forecast made no error at all (a constant series) has no MASE.
"""

from __future__ import annotations

import datetime
import math
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# statsforecast (seconds to import) is imported where the models run, so that a web process
# that only reads cached forecasts never loads it.

SEASON_LENGTH = 12
HORIZONS = (3, 12, 36)
LONGEST_HORIZON = max(HORIZONS)
LEVELS = (80, 95)
BACKTEST_HORIZON = 12
BACKTEST_ORIGINS = 4
BACKTEST_STEP = 3
# Two full years before the first origin: a seasonal model needs at least two cycles to tell
# a season from noise, and the seasonal naive forecast needs the year before every month.
MIN_TRAINING_MONTHS = 2 * SEASON_LENGTH
# The shortest series forecast: two years to fit, and one year to backtest on.
MIN_MONTHS = MIN_TRAINING_MONTHS + BACKTEST_HORIZON

ENSEMBLE = "ensemble"
SEASONAL_NAIVE = "seasonal_naive"
# The ensemble's members, by the names the results use, with statsforecast's aliases.
MEMBERS = {"auto_ets": "AutoETS", "auto_arima": "AutoARIMA", "auto_theta": "AutoTheta"}
MODEL_NAMES = (ENSEMBLE, *MEMBERS, SEASONAL_NAIVE)
# Series handed to a process at a time when several share the work.
_CHUNK = 8
_LOG_CEILING = 700.0
# An error this small on counts is none (what remains of log(1 + y) and back in floats).
_NO_ERROR = 1e-6
ModelSet = Callable[[], list[Any]]


def default_models() -> list[Any]:
    """The models, a new set for each call (statsforecast keeps fitted state on them), in the
    order of `MEMBERS`, then the seasonal naive.

    On the log scale, where a count's proportional noise and season are additive: AutoETS
    with additive errors, AutoTheta with an additive seasonal decomposition. Narrowed where
    it pays (benchmarks/forecasts.py measures it):
    AutoARIMA's stepwise search with orders up to 2, seasonal orders up to 1 and at most 6
    models tried. Its default search fits some 30 models by exact likelihood, over a second a
    series on this machine, which a thousand series with backtests cannot afford, and did no
    better on the benchmark's generated series."""
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    return [
        AutoETS(season_length=SEASON_LENGTH, model="AZZ"),
        AutoARIMA(season_length=SEASON_LENGTH, max_p=2, max_q=2, max_P=1, max_Q=1, nmodels=6),
        AutoTheta(season_length=SEASON_LENGTH, decomposition_type="additive"),
        SeasonalNaive(season_length=SEASON_LENGTH),
    ]


@dataclass(frozen=True)
class SeriesInput:
    """A monthly series: its first month and one count a month, consecutive."""

    key: str
    start: datetime.date
    values: Sequence[int]


@dataclass(frozen=True)
class ForecastPoint:
    """One forecast month: the point forecast and its 80% and 95% prediction intervals."""

    period: datetime.date
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


@dataclass(frozen=True)
class Backtest:
    """How the models did on the series' own recent past (see the module's docstring):
    `mase` and `mae` by model name (the ensemble's members, "ensemble", "seasonal_naive"),
    `coverage80`/`coverage95` the share of backtest months the ensemble's bands contained."""

    horizon: int
    origins: int
    origin_periods: tuple[datetime.date, ...]  # the last month known at each origin
    training_months: int  # before the first origin: what the models were fitted on
    mase: dict[str, float | None]
    mae: dict[str, float]
    coverage80: float | None
    coverage95: float | None


@dataclass
class EngineResult:
    status: str  # "ok" or "too_short"
    points: list[ForecastPoint] = field(default_factory=list)
    backtest: Backtest | None = None


def add_months(period: datetime.date, months: int) -> datetime.date:
    index = period.year * 12 + period.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def backtest_origins(length: int) -> int:
    """How many origins a series of `length` months is backtested from (0: too short)."""
    if length < MIN_MONTHS:
        return 0
    room = length - MIN_TRAINING_MONTHS - BACKTEST_HORIZON
    return min(BACKTEST_ORIGINS, room // BACKTEST_STEP + 1)


def _back(values: Any) -> np.ndarray:
    """From the log scale to counts, never below 0 (nor above what a float holds: a bound of
    an exploding model 36 months ahead could overflow)."""
    return np.expm1(np.clip(np.asarray(values, dtype=float), 0.0, _LOG_CEILING))


def _rounded(value: float) -> float:
    return round(float(value), 2)


_BOUNDS = ("mean", *(f"{side}-{level}" for level in LEVELS for side in ("lo", "hi")))


def _as_counts(output: dict[str, Any]) -> dict[str, np.ndarray]:
    return {bound: _back(output[bound]) for bound in _BOUNDS}


def _missing(horizon: int) -> dict[str, np.ndarray]:
    return {bound: np.full(horizon, np.nan) for bound in _BOUNDS}


def _ensemble(members: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The median of the members, bound by bound; a member that failed (NaN) is left out."""
    found = {}
    for bound in _BOUNDS:
        stacked = np.vstack([member[bound] for member in members])
        has_nan = np.isnan(stacked).any()
        found[bound] = np.nanmedian(stacked, axis=0) if has_nan else np.median(stacked, axis=0)
    return found


def _refit_on(fitted: Any, fresh: Any) -> Any:
    """The model of the final forecast: the form each model chose on the months before the
    first origin (ARIMA's orders, ETS's error, trend and season), every parameter estimated
    again on the whole series. AutoARIMA's and AutoETS's searches are most of the cost of a
    forecast and are not run twice; AutoTheta's is cheap and runs again."""
    from statsforecast.models import ARIMA, AutoARIMA, AutoETS

    if isinstance(fitted, AutoARIMA):
        p, q, seasonal_p, seasonal_q, _season, d, seasonal_d = fitted.model_["arma"]
        coefficients = fitted.model_["coef"]
        return ARIMA(
            order=(p, d, q),
            seasonal_order=(seasonal_p, seasonal_d, seasonal_q),
            season_length=SEASON_LENGTH,
            include_mean="intercept" in coefficients,
            include_drift="drift" in coefficients,
            alias=fitted.alias,
        )
    if isinstance(fitted, AutoETS):
        components = fitted.model_["components"]
        return AutoETS(
            season_length=SEASON_LENGTH,
            model=components[:3],
            damped=components[3] == "D",
            alias=fitted.alias,
        )
    return fresh


def _final_forecast(fitted: Any, fresh: Any, y: np.ndarray) -> dict[str, np.ndarray]:
    levels = list(LEVELS)
    refit = _refit_on(fitted, fresh)
    try:
        return _as_counts(refit.forecast(y=y, h=LONGEST_HORIZON, level=levels))
    except Exception:
        if refit is fresh:
            raise
        # The chosen form cannot be fitted on the whole series (an estimation that diverges
        # after a break, say): the model searches again on it.
        return _as_counts(fresh.forecast(y=y, h=LONGEST_HORIZON, level=levels))


def _cutoffs(length: int) -> list[int]:
    """The backtest's origins, as the number of months known at each, earliest first."""
    return sorted(
        length - BACKTEST_HORIZON - BACKTEST_STEP * index
        for index in range(backtest_origins(length))
    )


def _forecast_one(item: SeriesInput, models: ModelSet) -> EngineResult:
    """Backtest and forecast one series that is long enough (see the module's docstring)."""
    y = np.log1p(np.asarray(item.values, dtype=float))
    cutoffs = _cutoffs(len(y))
    levels = list(LEVELS)
    backtest_models, final_models = models(), models()
    by_model: dict[str, list[dict[str, np.ndarray]]] = {}
    final: dict[str, dict[str, np.ndarray]] = {}
    names = [*MEMBERS, SEASONAL_NAIVE]
    for name, model, fresh in zip(names, backtest_models, final_models, strict=True):
        try:
            model.fit(y=y[: cutoffs[0]])
            by_model[name] = [
                _as_counts(model.forward(y=y[:cutoff], h=BACKTEST_HORIZON, level=levels))
                for cutoff in cutoffs
            ]
            final[name] = _final_forecast(model, fresh, y)
        except Exception:
            if name == SEASONAL_NAIVE:
                raise
            # A member that cannot be fitted on this series leaves the ensemble to the
            # others (and has no MASE); the seasonal naive forecast never fails.
            by_model[name] = [_missing(BACKTEST_HORIZON) for _cutoff in cutoffs]
            final[name] = _missing(LONGEST_HORIZON)
    member_names = list(MEMBERS)
    by_model[ENSEMBLE] = [
        _ensemble([by_model[name][index] for name in member_names]) for index in range(len(cutoffs))
    ]
    final[ENSEMBLE] = _ensemble([final[name] for name in member_names])
    if np.isnan(final[ENSEMBLE]["mean"]).any():  # every member failed
        by_model[ENSEMBLE], final[ENSEMBLE] = by_model[SEASONAL_NAIVE], final[SEASONAL_NAIVE]
    last = add_months(item.start, len(y) - 1)
    points = [
        ForecastPoint(
            period=add_months(last, step + 1),
            mean=_rounded(final[ENSEMBLE]["mean"][step]),
            lo80=_rounded(final[ENSEMBLE]["lo-80"][step]),
            hi80=_rounded(final[ENSEMBLE]["hi-80"][step]),
            lo95=_rounded(final[ENSEMBLE]["lo-95"][step]),
            hi95=_rounded(final[ENSEMBLE]["hi-95"][step]),
        )
        for step in range(LONGEST_HORIZON)
    ]
    return EngineResult(status="ok", points=points, backtest=_backtest(item, cutoffs, by_model))


def _backtest(
    item: SeriesInput, cutoffs: Sequence[int], by_model: dict[str, list[dict[str, np.ndarray]]]
) -> Backtest:
    values = np.asarray(item.values, dtype=float)
    actual = np.concatenate([values[cutoff : cutoff + BACKTEST_HORIZON] for cutoff in cutoffs])

    def joined(name: str, bound: str) -> np.ndarray:
        return np.concatenate([window[bound] for window in by_model[name]])

    mae = {name: float(np.mean(np.abs(actual - joined(name, "mean")))) for name in MODEL_NAMES}
    baseline = mae[SEASONAL_NAIVE]
    coverage = {
        level: float(
            np.mean(
                (joined(ENSEMBLE, f"lo-{level}") <= actual)
                & (actual <= joined(ENSEMBLE, f"hi-{level}"))
            )
        )
        for level in LEVELS
    }
    return Backtest(
        horizon=BACKTEST_HORIZON,
        origins=len(cutoffs),
        origin_periods=tuple(add_months(item.start, cutoff - 1) for cutoff in cutoffs),
        training_months=cutoffs[0],
        mase={
            name: (
                round(error / baseline, 4)
                if baseline > _NO_ERROR and math.isfinite(error)
                else None
            )
            for name, error in mae.items()
        },
        mae={name: _rounded(error) for name, error in mae.items() if math.isfinite(error)},
        coverage80=round(coverage[80], 4),
        coverage95=round(coverage[95], 4),
    )


def _forecast_chunk(chunk: Sequence[SeriesInput], models: ModelSet) -> list[EngineResult]:
    # The models warn of slow convergence and of overflows they recover from; their output
    # is checked (bounds floored, nothing infinite kept), and a worker's log is no place for
    # thousands of them.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return [_forecast_one(item, models) for item in chunk]


def forecast_batch(
    series: Sequence[SeriesInput], *, n_jobs: int = 1, models: ModelSet = default_models
) -> dict[str, EngineResult]:
    """Forecasts of `LONGEST_HORIZON` months with backtests, by series key; a series shorter
    than `MIN_MONTHS` is "too_short" and not fitted. `n_jobs` processes share the series.
    `models` makes the statsforecast models, the ensemble's members in the order of
    `MEMBERS` then the seasonal naive (the benchmark compares other settings)."""
    results: dict[str, EngineResult] = {}
    long_enough = []
    for item in series:
        if len(item.values) < MIN_MONTHS:
            results[item.key] = EngineResult(status="too_short")
        else:
            long_enough.append(item)
    if n_jobs <= 1 or len(long_enough) < 2:
        computed = _forecast_chunk(long_enough, models)
    else:
        # Chunks of a few series, longest first so that no process is left with the
        # slowest at the end.
        ordered = sorted(long_enough, key=lambda item: -len(item.values))
        chunks = [ordered[index : index + _CHUNK] for index in range(0, len(ordered), _CHUNK)]
        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            done = list(pool.map(_forecast_chunk, chunks, [models] * len(chunks)))
        long_enough = [item for chunk in chunks for item in chunk]
        computed = [result for chunk_results in done for result in chunk_results]
    for item, result in zip(long_enough, computed, strict=True):
        results[item.key] = result
    return results
