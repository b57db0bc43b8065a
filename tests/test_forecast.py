"""The forecasting library on synthetic series with known answers, odd series, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.distributions import Family
from models.forecast import (
    CHINA_RETAIL_FESTIVALS,
    DemandClass,
    DemandForecaster,
    classify,
    forecast,
    sample_paths,
)
from models.forecast.events import exposure
from models.forecast.intervals import StepDistribution, covered
from models.forecast.uplift import estimate_uplifts, local_baseline

WEEKS = pd.date_range("2024-01-01", periods=104, freq="W-MON")


def _long(values: dict[str, np.ndarray], dates=WEEKS, promo: dict | None = None) -> pd.DataFrame:
    frames = []
    for uid, y in values.items():
        frame = pd.DataFrame({"unique_id": uid, "ds": dates[-len(y):], "y": y})
        if promo is not None:
            frame["promo"] = promo.get(uid, np.zeros(len(y)))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _poisson_panel(n: int, rate: float, periods: int = 104, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {f"s{i}": rng.poisson(rate, periods).astype(float) for i in range(n)}


# -- classes --------------------------------------------------------------------------------


def test_syntetos_boylan_classes():
    t = 52
    smooth = np.full(t, 10.0)
    erratic = np.tile([1.0, 30.0], t // 2)
    intermittent = np.where(np.arange(t) % 3 == 0, 5.0, 0.0)
    lumpy = np.zeros(t)
    lumpy[::3] = np.tile([1.0, 40.0, 3.0], t)[: len(lumpy[::3])]
    short = np.concatenate([np.full(t - 5, np.nan), np.full(5, 4.0)])
    stopped = np.concatenate([np.full(t - 20, 6.0), np.zeros(20)])
    y = np.vstack([smooth, erratic, intermittent, lumpy, short, stopped])
    found = classify(y, min_history=13, inactive_periods=13).names().tolist()
    assert found == ["smooth", "erratic", "intermittent", "lumpy", "new", "inactive"]


def test_a_seasonal_stop_is_not_inactivity():
    # sells half of every year: a 26-week silence at the end is its usual pattern
    season = np.tile(np.r_[np.full(26, 8.0), np.zeros(26)], 3)
    found = classify(season[None, :], min_history=13, inactive_periods=13).names()
    assert found[0] != DemandClass.INACTIVE


# -- the pipeline ---------------------------------------------------------------------------


def test_forecast_equals_fit_then_predict():
    history = _long(_poisson_panel(30, 4.0))
    one_call = forecast(history, horizon=8, freq="W-MON", backtest_horizon=8)
    two_steps = DemandForecaster(freq="W-MON", backtest_horizon=8).fit(history).predict(8)
    pd.testing.assert_frame_equal(one_call, two_steps)


def test_output_columns_and_order():
    history = _long(_poisson_panel(5, 3.0))
    out = forecast(history, horizon=6, freq="W-MON", quantiles=(0.05, 0.5, 0.95))
    assert list(out.columns) == ["unique_id", "ds", "mean", "q5", "q50", "q95", "model",
                                 "demand_class", "variance", "distribution"]
    assert len(out) == 30
    assert (out.groupby("unique_id")["ds"].min() == WEEKS[-1] + pd.Timedelta(weeks=1)).all()
    assert (out["q5"] <= out["q50"]).all() and (out["q50"] <= out["q95"]).all()


def test_a_stationary_poisson_panel_is_forecast_at_its_rate_with_calibrated_bands():
    history = _long(_poisson_panel(200, 6.0, seed=3))
    out = forecast(history, horizon=13, freq="W-MON")
    assert abs(out["mean"].mean() - 6.0) < 0.3
    # Poisson(6): 10% and 90% quantiles are 3 and 9
    future = np.random.default_rng(99).poisson(6.0, len(out))
    inside = (future >= out["q10"]) & (future <= out["q90"])
    assert 0.72 <= inside.mean() <= 0.92
    assert set(out["distribution"]) <= {"poisson", "negbin"}


def test_non_count_data_get_normal_distributions():
    rng = np.random.default_rng(1)
    history = _long({f"s{i}": 100 + rng.normal(0, 5, 104) for i in range(40)})
    out = forecast(history, horizon=4, freq="W-MON")
    assert set(out["distribution"]) == {"normal"}
    assert abs(out["mean"].mean() - 100) < 2


def test_odd_series_all_get_a_forecast():
    rng = np.random.default_rng(5)
    spiky = rng.poisson(1, 104).astype(float)
    spiky[[10, 50, 90]] = 500
    gapped = rng.poisson(5, 104).astype(float)
    gapped[[20, 21, 60]] = np.nan
    values = {
        "all_zero": np.zeros(104),
        "constant": np.full(104, 7.0),
        "one_point": np.array([3.0]),
        "two_points": np.array([0.0, 4.0]),
        "nan_gapped": gapped,
        "spiky": spiky,
        "trailing_nan": np.r_[rng.poisson(2, 100).astype(float), np.full(4, np.nan)],
    }
    out = forecast(_long(values), horizon=5, freq="W-MON")
    assert len(out) == 5 * len(values)
    assert np.isfinite(out[["mean", "q10", "q50", "q90", "variance"]].to_numpy()).all()
    by_id = out.groupby("unique_id")["mean"].mean()
    assert by_id["all_zero"] == 0
    assert by_id["constant"] == pytest.approx(7.0, rel=0.05)
    assert by_id["spiky"] < 60


def test_promotions_do_not_inflate_the_baseline_and_planned_ones_lift_their_window():
    rng = np.random.default_rng(11)
    values, promo = {}, {}
    for i in range(60):
        flags = (rng.random(104) < 0.1).astype(float)
        values[f"s{i}"] = rng.poisson(np.where(flags == 1, 20.0, 10.0)).astype(float)
        promo[f"s{i}"] = flags
    history = _long(values, promo=promo)
    forecaster = DemandForecaster(freq="W-MON").fit(history)
    assert forecaster.uplifts_.beta[0, -1] == pytest.approx(1.0, abs=0.15)   # +100% on promo
    future_dates = pd.date_range(WEEKS[-1], periods=5, freq="W-MON")[1:]
    plan = pd.DataFrame({"unique_id": "s0", "ds": future_dates[2], "promo": 1}, index=[0])
    out = forecaster.predict(4, future=plan)
    s0 = out[out.unique_id == "s0"]["mean"].to_numpy()
    assert s0[[0, 1, 3]] == pytest.approx(10.0, rel=0.12)          # baseline, not inflated
    assert s0[2] == pytest.approx(2 * s0[0], rel=0.15)              # lifted in its window only
    override = forecaster.predict(4, future=plan.assign(uplift=3.0))
    assert override[override.unique_id == "s0"]["mean"].iloc[2] == pytest.approx(3 * s0[0])


def test_festival_uplift_is_learned_and_applied_in_its_window_only():
    dates = pd.date_range("2023-01-02", periods=156, freq="W-MON")
    share = exposure(dates, "W-MON", CHINA_RETAIL_FESTIVALS)
    double_11 = share[[f.name for f in CHINA_RETAIL_FESTIVALS].index("double_11")]
    rng = np.random.default_rng(2)
    values = {f"s{i}": rng.poisson(8 * (1 + 1.5 * double_11[:146])).astype(float)
              for i in range(50)}
    history = _long(values, dates=dates[:146])                 # ends the week before 2025-10-20
    forecaster = DemandForecaster(freq="W-MON", festivals=CHINA_RETAIL_FESTIVALS).fit(history)
    out = forecaster.predict(8)
    mean = out.groupby("ds")["mean"].mean()
    lifted = mean[double_11[146:154] > 0.9]
    plain = mean[double_11[146:154] == 0]
    assert len(lifted) and len(plain)
    assert (lifted / plain.mean()).between(2.0, 3.0).all()


def test_new_series_borrow_from_the_same_sku_elsewhere():
    rng = np.random.default_rng(4)
    values, rows = {}, []
    for sku in range(30):
        level = 2 + sku
        values[f"{sku}|tmall"] = rng.poisson(level, 104).astype(float)
        values[f"{sku}|jd"] = rng.poisson(level / 2, 104).astype(float)
        rows += [(f"{sku}|tmall", sku, "tmall"), (f"{sku}|jd", sku, "jd")]
    values["29|douyin"] = np.array([10.0, 20.0])            # newly listed, two weeks of sales
    rows.append(("29|douyin", 29, "douyin"))
    groups = pd.DataFrame(rows, columns=["unique_id", "sku", "channel"])
    groups["category"] = "skincare"
    groups["region"] = "east"
    out = forecast(_long(values), horizon=4, freq="W-MON", groups=groups)
    new = out[out.unique_id == "29|douyin"]
    assert (new["demand_class"] == "new").all()
    assert new["model"].iloc[0].startswith("analogue:")
    assert 5 < new["mean"].iloc[0] < 40


def test_sample_paths_match_the_forecast_moments():
    history = _long(_poisson_panel(20, 5.0))
    out = forecast(history, horizon=6, freq="W-MON")
    ids, dates, paths = sample_paths(out, n_samples=4000, seed=1)
    assert paths.shape == (20, 4000, 6)
    mean = out["mean"].to_numpy().reshape(20, 6)
    variance = out["variance"].to_numpy().reshape(20, 6)
    assert np.allclose(paths.mean(axis=1), mean, rtol=0.08)
    assert np.allclose(paths.var(axis=1), variance, rtol=0.2)
    again = sample_paths(out, n_samples=4000, seed=1)[2]
    assert np.array_equal(paths, again)


def test_discrete_coverage_uses_the_cdf_correctly():
    dist = StepDistribution(np.array([[3.0]]), np.array([[3.0]]),
                            np.array([[Family.POISSON]], dtype=np.int8))
    q = dist.quantiles(np.array([0.1, 0.9]))[0, 0]
    for y in range(0, 12):
        inside = covered(np.array([[float(y)]]), dist.mean, dist.variance, dist.family, 0.1,
                         0.9)[0, 0]
        assert inside == (q[0] <= y <= q[1])


def test_uplift_estimate_recovers_a_known_effect():
    rng = np.random.default_rng(8)
    n, t = 100, 80
    flags = rng.random((n, t)) < 0.15
    y = rng.poisson(np.where(flags, 15.0, 10.0)).astype(float)
    baseline = local_baseline(y, flags, 4)
    up = estimate_uplifts(y, baseline, flags[None].astype(float), np.zeros(n, int), 1,
                          ("promo",))
    assert up.beta[0, 0] == pytest.approx(0.5, abs=0.08)


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"freq": "weekly"}, r"freq must be a pandas frequency alias"),
    ({"freq": "W-MON", "quantiles": (0.1, 1.0)}, r"quantiles must be probabilities in \(0, 1\)"),
    ({"freq": "W-MON", "models": "best"}, r"models must be one of fast, accurate"),
    ({"freq": "W-MON", "selection": "magic"}, r"selection must be one of class, series"),
    ({"freq": "W-MON", "n_windows": 0}, r"n_windows must be a whole number >= 1"),
    ({"freq": "W-MON", "festivals": ("618",)}, r"festivals must hold Festival objects"),
])
def test_bad_settings(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        DemandForecaster(**kwargs)


def test_bad_history():
    good = _long(_poisson_panel(2, 3.0))
    with pytest.raises(ValueError, match=r"history must have the columns unique_id, ds and y; "
                                         r"missing y"):
        forecast(good.drop(columns="y"), horizon=2, freq="W-MON")
    with pytest.raises(ValueError, match=r"history.y row 3: expected a number >= 0"):
        forecast(good.assign(y=np.where(good.index == 3, -1.0, good.y)), horizon=2,
                 freq="W-MON")
    shifted = good.assign(ds=np.where(good.index == 5, good.ds + pd.Timedelta(days=1), good.ds))
    with pytest.raises(ValueError, match=r"history.ds row 5: 2024-02-06 is not on the "
                                         r"frequency 'W-MON'"):
        forecast(shifted, horizon=2, freq="W-MON")
    with pytest.raises(ValueError, match=r"horizon must be a whole number >= 1"):
        DemandForecaster(freq="W-MON").fit(good).predict(0)
    with pytest.raises(RuntimeError, match=r"call fit\(\) before predict\(\)"):
        DemandForecaster(freq="W-MON").predict(3)


def test_a_new_series_far_from_its_analogue_gets_a_wider_band():
    """The cold-start level of a series selling far below its analogues is uncertain: its
    relative spread is at least the gap between its own sales and that level, while a new
    series selling like its analogues keeps the typical spread."""
    rng = np.random.default_rng(5)
    values = {f"m{i}": rng.gamma(20.0, 5.0, 60) for i in range(30)}   # about 100 a period
    values["near"] = np.array([98.0, 104.0])
    values["far"] = np.array([0.8, 0.7])
    out = forecast(_long(values), horizon=2, freq="W-MON").set_index("unique_id")
    near, far = out.loc["near"].iloc[0], out.loc["far"].iloc[0]
    assert near["demand_class"] == far["demand_class"] == "new"
    gap = (0.75 - far["mean"]) / far["mean"]
    assert far["variance"] >= (gap * far["mean"]) ** 2 * (1 - 1e-9)
    assert far["q10"] <= 0.75                      # its own rate is inside the band
    assert np.sqrt(far["variance"]) / far["mean"] > 3 * np.sqrt(near["variance"]) / near["mean"]


def test_the_global_model_joins_only_a_panel():
    """GlobalLGBM is a candidate of a class family from GLOBAL_MIN_SERIES series on; a small
    family is forecast by the local models alone (and never imports LightGBM)."""
    from models.forecast.candidates import GLOBAL_LGBM, GLOBAL_MIN_SERIES, candidates, for_panel

    options = candidates(DemandClass.SMOOTH, "fast")
    assert GLOBAL_LGBM in options
    assert for_panel(options, GLOBAL_MIN_SERIES) == options
    small = for_panel(options, GLOBAL_MIN_SERIES - 1)
    assert GLOBAL_LGBM not in small and len(small) == len(options) - 1
    rng = np.random.default_rng(3)
    out = forecast(_long({f"s{i}": rng.poisson(9.0, 60).astype(float) for i in range(40)}),
                   horizon=2, freq="W-MON")
    assert not out["model"].str.contains("GlobalLGBM").any()
