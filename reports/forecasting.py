"""Demand forecasting for one daily sales series: Holt-Winters with weekly seasonality, simpler
fallbacks for short histories, and the error on held-out recent days. Pure functions, no database.

Quantities (units sold) are floats here; they are rounded to Decimal before they are stored. No money
amount passes through this module.

Method, by the length of the history (days from the first sale seen to yesterday):
- 28 days or more: statsmodels' `ExponentialSmoothing`, additive weekly season (period 7) and, from
  8 weeks on, an additive damped trend. Additive because many days are zero (multiplicative needs > 0).
- 7 to 27 days: weekday-weighted average — each weekday's mean over the weeks seen, recent weeks
  weighing more (weights 1, 2, 3, …).
- 1 to 6 days: the mean daily quantity, flat.
The held-out error refits the same method without the last 14 days (7 when the history is short) and
compares its forecast with what sold: MAE (units per day) and WAPE (sum |error| / sum sold, in %).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import structlog

logger = structlog.get_logger(__name__)

SEASON = 7
HW_MIN_DAYS = 28
TREND_MIN_DAYS = 56
WEEKDAY_MIN_DAYS = 7
HORIZON = 30


@dataclass(frozen=True)
class Forecast:
    method: str  # ForecastMethod value
    daily: list[float]  # next `horizon` days, each >= 0
    history_days: int
    holdout_days: int = 0
    holdout_sold: float = 0.0
    mae: float | None = None
    wape: float | None = None  # percent; None when nothing sold in the held-out days

    @property
    def next_7(self) -> float:
        return float(sum(self.daily[:7]))

    @property
    def next_30(self) -> float:
        return float(sum(self.daily[:30]))


def _holt_winters(history: np.ndarray, horizon: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing  # noqa: PLC0415 - statsmodels takes a second to load: only the forecast run pays for it

    trend = "add" if len(history) >= TREND_MIN_DAYS else None
    model = ExponentialSmoothing(
        history,
        trend=trend,
        damped_trend=trend is not None,
        seasonal="add",
        seasonal_periods=SEASON,
        initialization_method="estimated",
    )
    with warnings.catch_warnings():
        # SLSQP: a tenth of the time of the default L-BFGS-B here for the same held-out error
        # (bench/forecast.py). Short or flat series make the optimiser warn; the fit is still usable.
        warnings.simplefilter("ignore")
        fitted = model.fit(optimized=True, use_brute=False, method="SLSQP")
    return np.asarray(fitted.forecast(horizon), dtype=float)


def _weekday_average(history: np.ndarray, horizon: int) -> np.ndarray:
    """Each future day gets the weighted mean of the same weekday in the history (latest weeks weigh more).

    The history's last value is "yesterday"; position i (0-based) has weekday offset i % 7 counted
    from the first day, so the day after the history has offset len(history) % 7.
    """
    n = len(history)
    by_offset: dict[int, tuple[float, float]] = {}
    for offset in range(SEASON):
        positions = list(range(offset, n, SEASON))
        if not positions:
            continue
        weights = np.arange(1, len(positions) + 1, dtype=float)
        by_offset[offset] = (float(np.dot(history[positions], weights)), float(weights.sum()))
    overall = float(history.mean())
    out = []
    for step in range(horizon):
        total, weight = by_offset.get((n + step) % SEASON, (overall, 1.0))
        out.append(total / weight)
    return np.asarray(out)


def _daily_average(history: np.ndarray, horizon: int) -> np.ndarray:
    return np.full(horizon, float(history.mean()))


def _method_for(days: int) -> str:
    if days >= HW_MIN_DAYS:
        return "HW"
    if days >= WEEKDAY_MIN_DAYS:
        return "WDAVG"
    return "AVG"


def _predict(method: str, history: np.ndarray, horizon: int) -> np.ndarray:
    if method == "HW":
        try:
            result = _holt_winters(history, horizon)
            if np.all(np.isfinite(result)):
                return result
        except (ValueError, np.linalg.LinAlgError) as exc:  # a degenerate series: fall back, don't fail the night
            logger.info("holt-winters failed (%s); using the weekday average", exc)
        return _weekday_average(history, horizon)
    if method == "WDAVG":
        return _weekday_average(history, horizon)
    return _daily_average(history, horizon)


def forecast_series(history: list[float] | np.ndarray, *, horizon: int = HORIZON) -> Forecast:
    """Forecast the next `horizon` days from a gap-free daily series ending yesterday.

    Leading days before the first sale should already be cut off by the caller; zeros after it are
    real days without sales and stay.
    """
    series = np.asarray(history, dtype=float)
    days = len(series)
    if days == 0 or not np.any(series > 0):
        return Forecast(method="NONE", daily=[0.0] * horizon, history_days=days)
    method = _method_for(days)
    daily = np.clip(_predict(method, series, horizon), 0, None)

    # Held-out error: refit on all but the last weeks, forecast them, compare with what sold.
    holdout = 14 if days >= HW_MIN_DAYS + 14 else (7 if days >= 14 else 0)
    mae = wape = None
    sold = 0.0
    if holdout:
        train, test = series[:-holdout], series[-holdout:]
        predicted = np.clip(_predict(_method_for(len(train)), train, holdout), 0, None)
        errors = np.abs(predicted - test)
        mae = float(errors.mean())
        sold = float(test.sum())
        wape = float(errors.sum() / sold * 100) if sold > 0 else None
    return Forecast(
        method=method,
        daily=[float(x) for x in daily],
        history_days=days,
        holdout_days=holdout,
        holdout_sold=sold,
        mae=mae,
        wape=wape,
    )
