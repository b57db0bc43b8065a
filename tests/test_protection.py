"""Protection-interval distributions (DemandForecaster.predict_protection) and targets straight
from a forecast (models.policy.targets_from_forecast / targets_from_protection)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.distributions import Family, expected_shortage, family_codes, loss_levels
from models.forecast import DemandForecaster
from models.forecast.middle_out import recent_shares
from models.forecast.panel import from_long
from models.forecast.protection import history_sums, taylor_prior
from models.policy import targets_from_forecast, targets_from_protection
from models.policy.from_forecast import TARGET_CAP_MULTIPLE
from models.policy.replay import replay_base_stock


def _history(values: dict[str, np.ndarray], freq: str = "W-MON") -> pd.DataFrame:
    frames = []
    for uid, y in values.items():
        dates = pd.date_range("2020-01-06", periods=len(y), freq=freq)
        frames.append(pd.DataFrame({"unique_id": uid, "ds": dates, "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def poisson_world():
    """60 weekly series of i.i.d. Poisson demand at rates 0.5 to 40: 104 weeks of history and
    52 weeks of future demand from the same process."""
    rng = np.random.default_rng(3)
    rates = np.geomspace(0.5, 40.0, 60)
    history = rng.poisson(rates[:, None], (60, 104)).astype(float)
    future = rng.poisson(rates[:, None], (60, 52)).astype(float)
    ids = [f"s{i:02d}" for i in range(60)]
    return ids, rates, _history(dict(zip(ids, history, strict=True))), future


@pytest.fixture(scope="module")
def poisson_forecaster(poisson_world):
    _, _, history, _ = poisson_world
    return DemandForecaster(freq="W-MON").fit(history)


def test_protection_table_is_keyed_and_sums_the_forecast(poisson_forecaster, poisson_world):
    ids = poisson_world[0]
    lead = pd.Series(np.r_[np.full(30, 1.0), np.full(30, 2.5)], index=ids[::-1])
    table = poisson_forecaster.predict_protection(lead, 1)
    assert table["unique_id"].tolist() == sorted(ids)
    assert {"mean", "variance", "family", "q10", "q50", "q90", "lead_mean", "clamped"} <= set(
        table.columns)
    steps, _ = poisson_forecaster.predict_distribution(4)
    order = pd.Index(poisson_forecaster.panel_.ids)
    lead_of = lead.reindex(order).to_numpy()
    weights = np.clip((lead_of + 1)[:, None] - np.arange(4)[None, :], 0, 1)
    np.testing.assert_allclose(table["mean"], (steps.mean * weights).sum(axis=1))
    assert (table["q10"] <= table["q50"]).all() and (table["q50"] <= table["q90"]).all()
    assert set(table["family"]) <= {"poisson", "negbin", "normal"}  # whole units: counts


def test_protection_arguments_are_checked(poisson_forecaster):
    with pytest.raises(ValueError, match="lead_time has no value for 1 series"):
        poisson_forecaster.predict_protection(pd.Series({"s00": 1.0}).iloc[:0].reindex(
            [f"s{i:02d}" for i in range(59)]).fillna(1.0))
    with pytest.raises(ValueError, match="review_period must be a finite number > 0"):
        poisson_forecaster.predict_protection(1, 0)
    with pytest.raises(ValueError, match="lead_time must be a finite number >= 0"):
        poisson_forecaster.predict_protection(-1)
    with pytest.raises(TypeError, match="lead_time must be a number or a pandas Series"):
        poisson_forecaster.predict_protection("1")
    with pytest.raises(RuntimeError, match="call fit"):
        DemandForecaster(freq="W-MON").predict_protection(1)


def test_fill_rate_asked_is_fill_rate_delivered_on_fresh_poisson_demand(poisson_forecaster,
                                                                         poisson_world):
    """The promise on data from the process the history came from: base-stock levels from
    targets_from_forecast, replayed against a year of new demand, deliver the fill rate
    asked for within 2 points (and do not overshoot by more)."""
    ids, _, _, future = poisson_world
    for beta in (0.9, 0.95, 0.98):
        targets = targets_from_forecast(poisson_forecaster, lead_time=1, service_level=beta)
        level = targets.set_index("unique_id").loc[ids, "reorder_point"].to_numpy()
        assert (targets["reorder_point"] == targets["order_up_to"]).all()  # base stock
        replay = replay_base_stock(np.repeat(level[:, None], 52, axis=1), future, lead_time=1)
        delivered = replay.served.sum() / future.sum()
        assert abs(delivered - beta) <= 0.02, (beta, delivered)


def test_variance_is_bounded_by_the_history_for_a_launch():
    """A series that sold once, and launches that ramp from near zero, cannot get a variance
    beyond the documented multiple of what their history could justify."""
    rng = np.random.default_rng(0)
    series = {f"m{i}": rng.poisson(20, 80).astype(float) for i in range(30)}
    once = np.zeros(80)
    once[40] = 1154.0
    series["once"] = once
    launch = np.zeros(80)
    launch[60:] = np.linspace(0.01, 90, 20).round()
    series["launch"] = launch
    forecaster = DemandForecaster(freq="W-MON").fit(_history(series))
    table = forecaster.predict_protection(1, 1).set_index("unique_id")
    steps, _ = forecaster.predict_distribution(2)
    for uid in ("once", "launch"):
        y = series[uid]
        sums = (y[:-1] + y[1:])[np.argmax(y > 0):]
        bound = 4.0 * max(np.mean(sums**2), table.loc[uid, "mean"] ** 2)
        assert table.loc[uid, "variance"] <= bound * (1 + 1e-9)
        row = list(forecaster.panel_.ids).index(uid)
        assert (steps.variance[row] <= 4.0 * max(np.mean(y[np.argmax(y > 0):] ** 2),
                                                 steps.mean[row].max() ** 2) * 1.000001).all()
    targets = targets_from_forecast(forecaster, lead_time=1, service_level=0.98)
    level = targets.set_index("unique_id")["reorder_point"]
    assert level["once"] <= TARGET_CAP_MULTIPLE * max(1154.0, table.loc["once", "mean"])


def test_launch_level_starts_at_the_first_sale():
    """Leading zeros before a launch do not count: the new series is forecast near its recent
    rate, not its pre-launch average."""
    y = np.r_[np.zeros(40), np.full(6, 90.0)]
    panel = from_long(_history({"launch": y}), "W-MON").from_first_sale()
    assert panel.start[0] == 40
    forecaster = DemandForecaster(freq="W-MON").fit(_history({"launch": y}))
    assert forecaster.predict(1)["mean"].iloc[0] == pytest.approx(90.0, rel=0.05)


def test_middle_out_shares_of_a_launched_child_count_from_its_first_sale():
    values = np.full((2, 26), np.nan)
    values[0] = 100.0
    values[1, 20:] = 90.0
    values[1, :20] = 0.0
    codes = np.array([0, 0])
    old = recent_shares(values, codes, 1, 26, 26)
    new = recent_shares(values, codes, 1, 26, 26, first_sale=np.array([0, 20]))
    assert old[1] == pytest.approx(540 / 3140)
    assert new[1] == pytest.approx(90 / 190)
    assert new.sum() == pytest.approx(1.0)


def _protection(mean, variance, family, lead_mean=None, lead_variance=None, **extra):
    n = len(mean)
    lead_mean = np.zeros(n) if lead_mean is None else lead_mean
    lead_variance = np.zeros(n) if lead_variance is None else lead_variance
    return pd.DataFrame({"unique_id": [f"p{i}" for i in range(n)], "mean": mean,
                         "variance": variance, "family": family, "lead_mean": lead_mean,
                         "lead_variance": lead_variance, "lead_family": family, **extra})


def test_targets_from_protection_known_levels():
    """Base stock: the smallest level whose netted shortage meets (1 - beta) of the review
    period's share of the mean, per family; count data whole, continuous data exact."""
    mean = np.array([20.0, 20.0, 20.0, 20.0])
    variance = np.array([20.0, 80.0, 80.0, 80.0])
    family = np.array(["poisson", "negbin", "normal", "gamma"])
    table = _protection(mean, variance, family, mean / 2, variance / 2,
                        lead_time=1.0, review_period=1.0)
    out = targets_from_protection(table, service_level=0.95)
    codes = family_codes(family)
    expected = loss_levels(codes, mean, variance, 0.05 * mean / 2,
                           netted=(codes, mean / 2, variance / 2), whole_units=False)
    np.testing.assert_allclose(out["reorder_point"][2:], expected[2:], rtol=1e-9)
    assert out["reorder_point"][0] == np.ceil(out["reorder_point"][0])
    for i in (0, 1):  # whole units: the unit below does not meet the target
        level = out["reorder_point"][i]
        c = codes[i:i + 1]

        def shortage(y, i=i, c=c):
            return (expected_shortage(c, mean[i], variance[i], y)
                    - expected_shortage(c, mean[i] / 2, variance[i] / 2, y))[0]

        assert shortage(level) <= 0.05 * 10 + 1e-12 < shortage(level - 1)
    np.testing.assert_array_equal(out["order_up_to"], out["reorder_point"])
    np.testing.assert_allclose(out["safety_stock"], out["reorder_point"] - mean)
    assert not out["capped"].any()


def test_a_minimum_lot_lowers_the_reorder_point_and_adds_the_lot():
    table = _protection(np.array([8.0]), np.array([24.0]), np.array(["negbin"]),
                        np.array([4.0]), np.array([12.0]), lead_time=1.0, review_period=1.0)
    base = targets_from_protection(table, service_level=0.95)
    lumpy = targets_from_protection(table, service_level=0.95, moq=40)
    assert lumpy["reorder_point"][0] < base["reorder_point"][0]
    assert lumpy["order_up_to"][0] == lumpy["reorder_point"][0] + 40
    packs = targets_from_protection(table, service_level=0.95, moq=40, pack_size=12)
    assert packs["order_up_to"][0] - packs["reorder_point"][0] == 48


def test_levels_are_capped_by_the_history():
    table = _protection(np.array([10.0]), np.array([1e12]), np.array(["negbin"]),
                        largest_sum=np.array([30.0]))
    out = targets_from_protection(table, service_level=0.98)
    assert out["reorder_point"][0] == TARGET_CAP_MULTIPLE * 30.0
    assert out["capped"][0]


def test_cycle_service_is_the_quantile():
    table = _protection(np.array([12.0]), np.array([12.0]), np.array(["poisson"]))
    out = targets_from_protection(table, service_level=0.9, service="cycle")
    from scipy import stats
    assert out["reorder_point"][0] == stats.poisson(12).ppf(0.9)


def test_targets_arguments_are_checked():
    table = _protection(np.array([1.0]), np.array([1.0]), np.array(["poisson"]))
    with pytest.raises(ValueError, match="service must be one of cycle, fill_rate"):
        targets_from_protection(table, service_level=0.9, service="type3")
    with pytest.raises(ValueError, match="service_level must be in"):
        targets_from_protection(table, service_level=1.0)
    with pytest.raises(ValueError, match="protection lacks the columns lead_family"):
        targets_from_protection(table.drop(columns="lead_family"), service_level=0.9)
    with pytest.raises(ValueError, match=r"protection.variance must hold finite numbers"):
        targets_from_protection(table.assign(variance=np.inf), service_level=0.9)
    with pytest.raises(ValueError, match="pack_size must hold whole numbers"):
        targets_from_protection(table, service_level=0.9, pack_size=1.5)
    assert Family.GAMMA.label == "gamma"


def test_history_sums_count_a_sale_in_the_last_period():
    """A series that first sold in its last period has that sale as its largest interval sum,
    so the target cap (a multiple of it) is tied to the history; a series that never sold
    has 0, and the mean square counts only windows from the first sale on."""
    values = np.array([[0.0, 0.0, 0.0, 0.0, 0.77],
                       [0.0, 0.0, 0.0, 0.0, 0.0],
                       [1.0, 2.0, 3.0, 0.0, 1.0]])
    start = np.array([4, 5, 0])
    mean_square, largest = history_sums(values, start, 2.0)
    assert largest.tolist() == pytest.approx([0.77, 0.0, 5.0])
    assert mean_square[0] == 0.0 and mean_square[1] == 0.0
    assert mean_square[2] == pytest.approx((9 + 25 + 9 + 1) / 4)


def test_taylor_prior_follows_the_class_line_and_stays_in_its_range():
    """Dispersions that fall as 1 / level give a prior on that line, clipped to the range of
    the fitted dispersions; too few series give the pooled value."""
    level = np.array([1.0, 10.0, 100.0, 1000.0, 10000.0, 1e6, 0.0, 1e-9])
    dispersion = np.array([1.0, 0.1, 0.01, 0.001, 0.0001, 0.0, 0.0, 0.0])
    seen = np.array([True] * 5 + [False] * 3)
    prior = taylor_prior(dispersion, level, seen, np.ones(8), pooled=0.5)
    assert prior[:5] == pytest.approx([1.0, 0.1, 0.01, 0.001, 0.0001], rel=1e-9)
    assert prior[5] == pytest.approx(0.0001)      # beyond the fitted levels: clipped
    assert prior[6] == 0.5                        # no level: the pool
    assert prior[7] == pytest.approx(1.0)         # clipped at the largest dispersion seen
    few = taylor_prior(dispersion, level, seen & (level < 100), np.ones(8), pooled=0.5)
    assert np.all(few == 0.5)
