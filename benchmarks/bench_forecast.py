"""Forecast throughput on the weekly demo, and the overhead against statsforecast itself.

- ``test_forecast_throughput``: series per second of the engine's default forecast
  configuration (fast profile, festivals, middle-out by sku x channel) on the first
  ``OMNISTOCK_BENCH_SERIES`` series (default 10,000) of the weekly demo.
- ``test_forecast_overhead_vs_statsforecast``: the pipeline without middle-out against a
  hand-written statsforecast script doing the same model work on the same series (those long
  enough for statsforecast's cross-validation): for each
  demand-class family its candidate models, a 3-window rolling cross-validation of 13 weeks and
  a final 13-week forecast (``StatsForecast.cross_validation`` + ``StatsForecast.forecast``).
  The ratio is what the pipeline's classification, cleaning, uplifts, choice, calibration,
  quantiles and cold start cost on top of the models (goal: within 1.1x).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from benchtools import compare
from statsforecast import StatsForecast

import engine
from engine.stages.forecasting import ForecastConfig, planned_uplifts, series_history
from models.forecast import DemandForecaster
from models.forecast.candidates import candidates
from models.forecast.classes import DemandClass


@pytest.fixture(scope="module")
def weekly_series():
    n_series = int(os.environ.get("OMNISTOCK_BENCH_SERIES", "10000"))
    skus = max(50, int(n_series / 6.5))
    ds = engine.demo_inputs(skus=min(skus, 100_000), seed=0)
    ds = ds.isel(series=slice(0, n_series))
    history, groups = series_history(ds)
    return ds, history, groups


def test_forecast_throughput(benchmark, weekly_series):
    ds, history, groups = weekly_series
    config = ForecastConfig()
    future = planned_uplifts(ds, config.horizon)

    def run():
        forecaster = config.forecaster(ds.attrs["freq"]).fit(history, groups=groups)
        return forecaster.predict_distribution(config.horizon, future=future)

    benchmark.pedantic(run, rounds=2, iterations=1)
    if not benchmark.disabled:
        n = ds.sizes["series"]
        rate = n / benchmark.stats.stats.median
        benchmark.extra_info.update({"series": n, "series_per_second": rate})
        print(f"\nforecast: {n:,} series in {benchmark.stats.stats.median:.2f} s = "
              f"{rate:,.0f} series/s")


def test_forecast_overhead_vs_statsforecast(benchmark, weekly_series):
    ds, history, groups = weekly_series
    freq = ds.attrs["freq"]
    # statsforecast's cross-validation refuses series shorter than its windows: compare on the
    # series long enough for three 13-week windows
    length = history.groupby("unique_id")["ds"].transform("count")
    history = history[length > 3 * 13 + 2]
    forecaster = DemandForecaster(freq=freq, backtest_horizon=13)
    fitted = forecaster.fit(history, groups=groups)
    ids = fitted.panel_.ids
    code = fitted.classes_.code
    families = {
        DemandClass.SMOOTH: ids[np.isin(code, [DemandClass.SMOOTH.code,
                                               DemandClass.ERRATIC.code])],
        DemandClass.INTERMITTENT: ids[np.isin(code, [DemandClass.INTERMITTENT.code,
                                                     DemandClass.LUMPY.code])],
    }
    inputs = []
    for family, members in families.items():
        # the statsforecast models of the profile (the global LightGBM candidate is not one)
        models = [c.make(52) for c in candidates(family, "fast") if c.run is None]
        frame = history[history["unique_id"].isin(members)][["unique_id", "ds", "y"]]
        inputs.append((models, frame))

    def statsforecast_script():
        for models, frame in inputs:
            sf = StatsForecast(models=models, freq=freq, n_jobs=1,
                               fallback_model=candidates(DemandClass.SMOOTH, "fast")[0].make(1))
            sf.cross_validation(df=frame, h=13, n_windows=3, step_size=13)
            sf.forecast(df=frame, h=13)

    def pipeline():
        model = DemandForecaster(freq=freq, backtest_horizon=13,
                                 festivals=ForecastConfig().forecaster(freq).festivals)
        model.fit(history, groups=groups).predict_distribution(13)

    ratio = compare(benchmark, pipeline, statsforecast_script, rounds=2, label="statsforecast")
    assert ratio != ratio or ratio < 3.0
