"""The forecast on series whose answer is known: a weekly pattern, a short history, no sales."""

import numpy as np
import pytest

from reports.forecasting import forecast_series

# (The session fixture that seeds the migration rows needs the database, even for these pure tests.)
pytestmark = pytest.mark.django_db

PATTERN = [10, 12, 14, 16, 30, 40, 8]  # Monday … Sunday, say


def test_holt_winters_recovers_a_weekly_pattern_with_noise():
    rng = np.random.default_rng(7)
    days = 84  # 12 weeks
    history = [PATTERN[i % 7] + rng.normal(0, 1.0) for i in range(days)]
    result = forecast_series(history)
    assert result.method == "HW"
    # The day after the history is weekday 84 % 7 = 0: the forecast must follow the pattern from there.
    for step in range(14):
        expected = PATTERN[(days + step) % 7]
        assert result.daily[step] == pytest.approx(expected, abs=1.5), (step, result.daily[step], expected)
    assert result.next_7 == pytest.approx(sum(PATTERN), rel=0.05)
    assert result.next_30 == pytest.approx(sum(PATTERN[(days + s) % 7] for s in range(30)), rel=0.05)
    # Error on the held-out last 14 days: about the noise (σ = 1 → mean |error| ≈ 0.8), far below the level.
    assert result.holdout_days == 14
    assert result.mae < 1.5
    assert result.wape < 10


def test_holt_winters_follows_a_trend():
    history = [20 + 0.5 * i + (6 if i % 7 == 5 else 0) for i in range(70)]
    result = forecast_series(history)
    assert result.method == "HW"
    assert result.daily[0] > history[-7] - 1  # still rising (damped, so not above the straight line)
    assert result.next_7 > sum(history[-7:])


def test_weekday_average_fallback_by_hand():
    # 14 days: week 1 sells 1..7, week 2 sells 3 every day.
    history = [1, 2, 3, 4, 5, 6, 7] + [3] * 7
    result = forecast_series(history)
    assert result.method == "WDAVG"
    # Day 15 has the weekday of day 1: (1·1 + 3·2) / 3 = 7/3; day 16: (2 + 6) / 3 = 8/3; …
    assert result.daily[:7] == pytest.approx([(d + 6) / 3 for d in range(1, 8)])
    assert result.daily[7] == pytest.approx(7 / 3)  # the week repeats
    # Held out: the last 7 days, predicted from week 1 alone (= 1..7) against 3 each day.
    # |errors| = 2,1,0,1,2,3,4 → MAE 13/7, WAPE 13/21.
    assert result.holdout_days == 7
    assert result.mae == pytest.approx(13 / 7)
    assert result.wape == pytest.approx(13 / 21 * 100)
    assert result.holdout_sold == 21


def test_under_a_week_is_a_flat_daily_average_without_error_figure():
    result = forecast_series([0, 0, 3, 0, 1])
    assert result.method == "AVG"
    assert result.daily == pytest.approx([0.8] * 30)
    assert result.next_7 == pytest.approx(5.6)
    assert result.mae is None and result.wape is None and result.holdout_days == 0


def test_no_sales_is_no_forecast():
    assert forecast_series([]).method == "NONE"
    result = forecast_series([0] * 40)
    assert result.method == "NONE"
    assert result.next_30 == 0


def test_forecast_is_never_negative():
    # A collapse to zero: the additive model would go below zero; the forecast is clipped.
    history = [50] * 35 + [0] * 21
    result = forecast_series(history)
    assert min(result.daily) >= 0


def test_holdout_wape_is_none_when_nothing_sold_in_the_held_out_days():
    history = [5, 0, 0, 0, 0, 0, 0] + [0] * 7
    result = forecast_series(history)
    assert result.method == "WDAVG"
    assert result.wape is None
    assert result.mae == pytest.approx(5 / 7)
