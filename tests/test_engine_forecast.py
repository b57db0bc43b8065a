"""The forecast stage of the engine: dataset in, forecast variables and forecast.parquet out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import cli
from engine.stages.forecasting import (
    ForecastConfig,
    add_forecast,
    backtest_report,
    forecast_table,
    future_dates,
    planned_uplifts,
)


@pytest.fixture(scope="module")
def forecast_demo(small_demo):
    return add_forecast(small_demo, ForecastConfig(horizon=8))


def test_forecast_variables_on_the_dataset(forecast_demo, small_demo):
    ds, forecaster = forecast_demo
    assert ds["forecast_mean"].dims == ("series", "step")
    assert ds["forecast_quantile"].dims == ("series", "step", "quantile")
    assert ds.sizes["step"] == 8 and ds.sizes["series"] == small_demo.sizes["series"]
    assert (ds["forecast_date"].values == future_dates(small_demo, 8).to_numpy()).all()
    q = ds["forecast_quantile"].values
    assert (np.diff(q, axis=2) >= 0).all()
    assert np.isfinite(ds["forecast_mean"].values).all()
    assert set(np.unique(ds["demand_class"].values)) <= {"smooth", "erratic", "intermittent",
                                                         "lumpy", "new", "inactive"}
    # the input variables are untouched
    assert (ds["sales"].fillna(-1) == small_demo["sales"].fillna(-1)).all()


def test_forecast_table_matches_design(forecast_demo):
    ds, _ = forecast_demo
    table = forecast_table(ds)
    assert list(table.columns[:8]) == ["sku", "channel", "region", "date", "mean", "q10",
                                       "q50", "q90"]
    assert {"model", "demand_class"} <= set(table.columns)
    assert len(table) == ds.sizes["series"] * 8
    first = table.iloc[0]
    assert (first["sku"], first["channel"], first["region"]) == (
        ds["series_sku"].values[0], ds["series_channel"].values[0], ds["series_region"].values[0])


def test_planned_promotions_become_multipliers_in_their_window(small_demo):
    ds = small_demo
    plan = planned_uplifts(ds, 13)
    dates = future_dates(ds, 13)
    tmall = np.flatnonzero(ds["series_channel"].values == "tmall")
    double_12 = plan[plan["unique_id"].isin(tmall)]
    # Double 12 (1-12 December, x1.4) touches the weeks starting 30 Nov and 7 Dec
    touched = sorted(pd.DatetimeIndex(double_12["ds"].unique()))
    assert touched[:2] == [pd.Timestamp("2026-11-30"), pd.Timestamp("2026-12-07")]
    week_of_30_nov = double_12[double_12["ds"] == pd.Timestamp("2026-11-30")]
    assert np.allclose(week_of_30_nov["uplift"], 1 + 0.4 * 6 / 7)      # 1-6 Dec of 30 Nov-6 Dec
    week_of_7_dec = double_12[double_12["ds"] == pd.Timestamp("2026-12-07")]
    assert np.allclose(week_of_7_dec["uplift"], 1 + 0.4 * 6 / 7)       # 7-12 Dec of 7-13 Dec
    assert pd.Timestamp(dates[0]) not in touched                         # 23 Nov: no promotion
    # category promotions reach only that category
    gift = plan[plan["ds"] == pd.Timestamp("2027-01-25")]
    categories = pd.Series(ds["category"].values, index=ds["sku"].values)
    assert set(categories[ds["series_sku"].values[gift["unique_id"]]]) <= {"gift_sets"}


def test_backtest_report_has_the_benchmarks(small_demo):
    report = backtest_report(small_demo, ForecastConfig(horizon=6, middle_out=False), windows=1)
    methods = set(report["overall"]["method"])
    assert methods == {"omnistock", "Naive", "SeasonalNaive", "WindowAverage"}
    assert {"demand_class", "rmsse", "mase", "wape", "bias", "coverage"} <= set(
        report["by_class"].columns)
    assert set(report["by_channel"]["channel"]) <= set(small_demo["channel"].values)
    ours = report["overall"].set_index("method").loc["omnistock"]
    assert 0.5 <= ours["coverage"] <= 1.0


def test_cli_forecast_writes_the_parquet(capsys, tmp_path):
    target = tmp_path / "out" / "forecast.parquet"
    code = cli.main(["forecast", "--demo", "--skus", "50", "--horizon", "4", "--output",
                     str(target)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    table = pd.read_parquet(target)
    assert {"sku", "channel", "region", "date", "mean", "q10", "q50", "q90", "model",
            "demand_class"} <= set(table.columns)
    assert table.groupby(["sku", "channel", "region"]).size().eq(4).all()
    assert "forecast by demand class" in captured.out


def test_cli_backtest_writes_the_report(capsys, tmp_path):
    code = cli.main(["forecast", "--demo", "--skus", "50", "--horizon", "4", "--backtest",
                     "--windows", "1", "--no-middle-out", "--output", str(tmp_path / "report")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "by_channel.csv", "by_class.csv", "overall.csv"]
    assert "SeasonalNaive" in captured.out


def test_cli_forecast_bad_arguments(capsys):
    assert cli.main(["forecast", "--demo", "--skus", "50", "--horizon", "0"]) == 2
    assert "--horizon must be at least 1" in capsys.readouterr().err
