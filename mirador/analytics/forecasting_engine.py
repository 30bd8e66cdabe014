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
on the months before the first origin, and rolled forward over the later origins with its
parameters unchanged (statsforecast's cross-validation without refitting): no model ever
sees the months it is judged on, and a thousand series are backtested in minutes. The final
forecast refits every model on the whole series.

MASE here is the mean absolute error of a model over every backtest month, divided by the
mean absolute error of the seasonal naive forecast over the same months: below 1 is better
than the baseline, and the baseline's own MASE is 1 by definition. (Hyndman and Koehler's
MASE scales by the naive method's *in-sample* error; scaling by its error over the same
out-of-sample months, their "relative MAE", answers the question the observatory asks:
does the model beat the obvious guess where it counted.) A series whose seasonal naive
forecast made no error at all (a constant series) has no MASE (None).
"""

from __future__ import annotations

import datetime
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

# pandas and statsforecast (seconds to import) are imported where the models run, so that a
# web process that only reads cached forecasts never loads them.

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
_BASELINE_ALIAS = "SeasonalNaive"
# statsforecast's monthly frequency, with periods on the first of the month.
_FREQUENCY = "MS"
_LOG_CEILING = 700.0


def _models() -> list[Any]:
    """The models, a new set for each call (statsforecast keeps fitted state on them).

    AutoARIMA's search is narrowed (orders up to 2 and seasonal orders up to 1, at most 20
    models tried, the conditional-sum-of-squares fit while searching): its default search
    fits some 30 models by exact likelihood and takes over a second a series on this machine,
    which a thousand series with backtests cannot afford; monthly counts rarely need more."""
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    return [
        AutoETS(season_length=SEASON_LENGTH),
        AutoARIMA(
            season_length=SEASON_LENGTH,
            max_p=2,
            max_q=2,
            max_P=1,
            max_Q=1,
            nmodels=20,
            approximation=True,
        ),
        AutoTheta(season_length=SEASON_LENGTH),
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


def _frame(series: Sequence[SeriesInput]) -> pd.DataFrame:
    import pandas as pd

    ids, periods, values = [], [], []
    for item in series:
        ids += [item.key] * len(item.values)
        periods += [add_months(item.start, offset) for offset in range(len(item.values))]
        values += [float(value) for value in item.values]
    return pd.DataFrame(
        {
            "unique_id": ids,
            "ds": pd.to_datetime(periods),
            "y": np.log1p(np.asarray(values, dtype=float)),
        }
    )


def _back(values: pd.Series | np.ndarray) -> np.ndarray:
    """From the log scale to counts, never below 0 (nor above what a float holds: a bound of
    an exploding model 36 months ahead could overflow)."""
    return np.expm1(np.clip(np.asarray(values, dtype=float), 0.0, _LOG_CEILING))


def _combined(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Point forecasts and bounds of every model and of the ensemble, as counts: name ->
    array, with "<name>-lo-80" and so on for the bounds."""
    found: dict[str, np.ndarray] = {}
    suffixes = ["", *(f"-{side}-{level}" for level in LEVELS for side in ("lo", "hi"))]
    for suffix in suffixes:
        members = []
        for name, alias in MEMBERS.items():
            found[name + suffix] = _back(frame[alias + suffix])
            members.append(found[name + suffix])
        # A member that failed on a series gives NaN there: the others decide.
        found[ENSEMBLE + suffix] = np.nanmedian(np.vstack(members), axis=0)
        found[SEASONAL_NAIVE + suffix] = _back(frame[_BASELINE_ALIAS + suffix])
    return found


def _statsforecast(n_jobs: int) -> Any:
    from statsforecast import StatsForecast

    return StatsForecast(models=_models(), freq=_FREQUENCY, n_jobs=n_jobs)


def _rounded(value: float) -> float:
    return round(float(value), 2)


def _backtests(
    series: Sequence[SeriesInput], *, n_jobs: int
) -> dict[str, tuple[pd.DataFrame, int]]:
    """statsforecast's cross-validation of each series (grouped by their number of origins,
    which it takes once per call), with the number of origins."""
    by_origins: dict[int, list[SeriesInput]] = defaultdict(list)
    for item in series:
        by_origins[backtest_origins(len(item.values))].append(item)
    found: dict[str, tuple[pd.DataFrame, int]] = {}
    for origins, group in sorted(by_origins.items()):
        table = _statsforecast(n_jobs).cross_validation(
            h=BACKTEST_HORIZON,
            df=_frame(group),
            n_windows=origins,
            step_size=BACKTEST_STEP,
            level=list(LEVELS),
            refit=False,
        )
        for key, rows in table.groupby("unique_id", sort=False):
            found[str(key)] = (rows, origins)
    return found


def _backtest(item: SeriesInput, rows: pd.DataFrame, origins: int) -> Backtest:
    actual_by_period = {
        add_months(item.start, offset): value for offset, value in enumerate(item.values)
    }
    actual = np.asarray(
        [actual_by_period[stamp.date()] for stamp in rows["ds"]],
        dtype=float,
    )
    forecasts = _combined(rows)
    mae = {name: float(np.mean(np.abs(actual - forecasts[name]))) for name in MODEL_NAMES}
    baseline = mae[SEASONAL_NAIVE]
    mase = {
        name: (_rounded(error / baseline) if baseline > 0 else None) for name, error in mae.items()
    }
    coverage = {
        level: float(
            np.mean(
                (forecasts[f"{ENSEMBLE}-lo-{level}"] <= actual)
                & (actual <= forecasts[f"{ENSEMBLE}-hi-{level}"])
            )
        )
        for level in LEVELS
    }
    cutoffs = sorted({stamp.date() for stamp in rows["cutoff"]})
    first_origin = cutoffs[0]
    return Backtest(
        horizon=BACKTEST_HORIZON,
        origins=origins,
        origin_periods=tuple(cutoffs),
        training_months=(first_origin.year - item.start.year) * 12
        + first_origin.month
        - item.start.month
        + 1,
        mase=mase,
        mae={name: _rounded(error) for name, error in mae.items()},
        coverage80=round(coverage[80], 4),
        coverage95=round(coverage[95], 4),
    )


def forecast_batch(series: Sequence[SeriesInput], *, n_jobs: int = 1) -> dict[str, EngineResult]:
    """Forecasts of `LONGEST_HORIZON` months with backtests, by series key; a series shorter
    than `MIN_MONTHS` is "too_short" and not fitted. `n_jobs` processes share the fits."""
    results: dict[str, EngineResult] = {}
    long_enough = []
    for item in series:
        if len(item.values) < MIN_MONTHS:
            results[item.key] = EngineResult(status="too_short")
        else:
            long_enough.append(item)
    if not long_enough:
        return results
    # The models warn of slow convergence and of overflows they recover from; their output
    # is checked below (bounds floored, nothing infinite kept), and a worker's log is no
    # place for thousands of them.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        backtests = _backtests(long_enough, n_jobs=n_jobs)
        final = _statsforecast(n_jobs).forecast(
            h=LONGEST_HORIZON, df=_frame(long_enough), level=list(LEVELS)
        )
    final_by_key = {str(key): rows for key, rows in final.groupby("unique_id", sort=False)}
    for item in long_enough:
        rows = final_by_key[item.key]
        forecasts = _combined(rows)
        points = []
        for index, stamp in enumerate(rows["ds"]):
            bounds = [
                forecasts[ENSEMBLE + suffix][index]
                for suffix in ("", "-lo-80", "-hi-80", "-lo-95", "-hi-95")
            ]
            mean, lo80, hi80, lo95, hi95 = (_rounded(value) for value in bounds)
            points.append(
                ForecastPoint(
                    period=stamp.date(), mean=mean, lo80=lo80, hi80=hi80, lo95=lo95, hi95=hi95
                )
            )
        rows_backtest, origins = backtests[item.key]
        results[item.key] = EngineResult(
            status="ok", points=points, backtest=_backtest(item, rows_backtest, origins)
        )
    return results
