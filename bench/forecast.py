"""How long the nightly forecast takes per product (reports/forecasting.py), on synthetic daily series.

    /work/main/.venv/bin/python bench/forecast.py [products] [days]

Each series: a product selling Poisson(λ) units a day, λ between 0.5 and 40, with a weekly pattern
(Friday/Saturday +60 %, Sunday −30 %) and, for a third of them, a slow trend. Times the whole of
`forecast_series` (the forecast plus the held-out refit) and prints the median and mean per product,
the methods used and the median WAPE against the held-out fortnight. No database.
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reports.forecasting import forecast_series  # noqa: E402

WEEK = np.array([1.0, 1.0, 1.0, 1.0, 1.6, 1.6, 0.7])


def series(rng, days: int) -> np.ndarray:
    rate = rng.uniform(0.5, 40)
    trend = np.linspace(1.0, rng.uniform(0.7, 1.5), days) if rng.random() < 1 / 3 else np.ones(days)
    return rng.poisson(rate * WEEK[np.arange(days) % 7] * trend).astype(float)


def main(products: int = 200, days: int = 120) -> None:
    rng = np.random.default_rng(2026)
    forecast_series(series(rng, days))  # imports statsmodels once, outside the timing
    times, wapes, methods = [], [], {}
    for _ in range(products):
        history = series(rng, days)
        started = time.perf_counter()
        result = forecast_series(history)
        times.append(time.perf_counter() - started)
        methods[result.method] = methods.get(result.method, 0) + 1
        if result.wape is not None:
            wapes.append(result.wape)
    print(f"{products} products × {days} days of history")
    print(f"per product: median {statistics.median(times) * 1000:.0f} ms, mean {statistics.fmean(times) * 1000:.0f} ms")
    print(f"20,000 products would take ≈ {statistics.fmean(times) * 20000 / 60:.0f} min on one core")
    print(f"methods: {methods}; median held-out WAPE {statistics.median(wapes):.1f} %")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
