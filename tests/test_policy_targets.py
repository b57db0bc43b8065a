"""Vectorised stock targets against scalar scipy computations, pair by pair; rounding, caps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from models.distributions import NORMAL_MIN_MEAN, POISSON_MAX_DISPERSION
from models.policy import Family, echelon_targets, stock_targets

# -- scalar references ----------------------------------------------------------------------------


def scalar_distribution(mu: float, var: float, code: int):
    """The frozen scipy distribution a pair's code stands for."""
    if code == Family.NORMAL:
        return stats.norm(mu, np.sqrt(var))
    if code == Family.POISSON:
        return stats.poisson(mu)
    return stats.nbinom(mu * mu / (var - mu), mu / var)


def expected_code(mu: float, var: float) -> int:
    """The documented "auto" rule: the dispersion decides, then the volume."""
    if mu > 0 and var > POISSON_MAX_DISPERSION * mu:
        return Family.NEGATIVE_BINOMIAL
    if mu >= NORMAL_MIN_MEAN:
        return Family.NORMAL
    return Family.POISSON


def scalar_cycle_level(distribution, alpha: float) -> float:
    if isinstance(distribution.dist, stats.rv_continuous):
        return max(np.ceil(distribution.ppf(alpha) - 1e-9), 0.0)
    return float(distribution.ppf(alpha))


def scalar_fill_level(distribution, allowed: float) -> float:
    """Smallest level with E[(D - y)+] <= allowed: a root of the normal loss, or a search."""
    if isinstance(distribution.dist, stats.rv_continuous):
        mu, sd = distribution.mean(), distribution.std()

        def shortage(y):  # sigma (phi(z) - z (1 - Phi(z))), checked against quad below
            z = (y - mu) / sd
            return sd * (stats.norm.pdf(z) - z * stats.norm.sf(z)) - allowed

        level = optimize.brentq(shortage, mu - 40 * sd - allowed - 1, mu + 40 * sd, xtol=1e-12)
        return max(np.ceil(level - 1e-9), 0.0)
    values = np.arange(0, int(distribution.ppf(1 - 1e-15)) + 50)
    pmf = distribution.pmf(values)
    level = 0
    while np.sum(np.maximum(values - level, 0) * pmf) > allowed:
        level += 1
    return float(level)


@pytest.mark.parametrize(("mu", "sd", "y"), [(50, 8, 40), (50, 8, 61.5), (120, 20, 190),
                                             (30, 2, 10)])
def test_normal_loss_formula_of_the_reference_against_integration(mu, sd, y):
    distribution = stats.norm(mu, sd)
    integral = integrate.quad(distribution.sf, y, mu + 40 * sd, epsabs=1e-13, limit=200)[0]
    z = (y - mu) / sd
    assert sd * (stats.norm.pdf(z) - z * stats.norm.sf(z)) == pytest.approx(integral, rel=1e-9)


def random_pairs(seed: int, count: int):
    rng = np.random.default_rng(seed)
    high = rng.random(count) < 0.3
    mean = np.where(high, rng.uniform(8, 200, count), rng.uniform(0.02, 6, count))
    dispersion = rng.choice([0.7, 1.0, 1.05, 1.3, 2.5, 6.0], count)
    return {
        "mean": mean,
        "variance": mean * dispersion,
        "lead_time": rng.choice([0.0, 1.0, 2.0, 4.5], count),
        "lead_time_sd": rng.choice([0.0, 0.0, 0.5, 1.5], count),
        "review_period": rng.choice([1.0, 1.0, 2.0, 7.0], count),
        "service_level": rng.uniform(0.5, 0.995, count),
    }


# -- pair by pair against scipy ------------------------------------------------------------------


@pytest.mark.parametrize("service", ["cycle", "fill_rate"])
@pytest.mark.parametrize("distribution", ["auto", "normal", "poisson", "negative_binomial"])
def test_targets_match_scalar_scipy_pair_by_pair(service, distribution):
    seed = ["auto", "normal", "poisson", "negative_binomial"].index(distribution) * 2 + (
        service == "cycle")
    pairs = random_pairs(seed=seed, count=150)
    result = stock_targets(**pairs, service=service, distribution=distribution)
    periods = pairs["lead_time"] + pairs["review_period"]
    for i in range(150):
        mean = pairs["mean"][i]
        mu = periods[i] * mean
        var = periods[i] * pairs["variance"][i] + (mean * pairs["lead_time_sd"][i]) ** 2
        assert result.protection_mean[i] == pytest.approx(mu, rel=1e-12)
        assert result.protection_variance[i] == pytest.approx(var, rel=1e-12)
        code = result.distribution[i]
        if distribution == "auto":
            assert code == expected_code(mu, var)
        elif distribution == "negative_binomial" and var <= mu * (1 + 1e-6):
            assert code == Family.POISSON
        else:
            assert code == Family[distribution.upper()]
        scalar = scalar_distribution(mu, var, code)
        if service == "cycle":
            expected = scalar_cycle_level(scalar, pairs["service_level"][i])
        else:
            allowed = (1 - pairs["service_level"][i]) * pairs["review_period"][i] * mean
            expected = scalar_fill_level(scalar, allowed)
        assert result.reorder_point[i] == expected, (i, mu, var, code)
        assert result.safety_stock[i] == pytest.approx(expected - mu, abs=1e-9)
        lot = np.ceil(pairs["review_period"][i] * mean - 1e-9)
        assert result.order_up_to[i] == expected + lot


def test_all_three_distributions_occur_under_auto():
    result = stock_targets(**random_pairs(seed=3, count=300))
    assert set(np.unique(result.distribution)) == {0, 1, 2}


def test_protection_interval_is_lead_time_plus_review_period():
    """L = 2, R = 1: demand over 3 periods; var adds m^2 var(L)."""
    result = stock_targets(40.0, 90.0, lead_time=2, lead_time_sd=0.5, review_period=1,
                           service_level=0.95, distribution="normal")
    assert result.protection_mean == 120.0
    assert result.protection_variance == pytest.approx(3 * 90.0 + 40.0**2 * 0.25)
    sigma = np.sqrt(3 * 90.0 + 400.0)
    assert result.reorder_point == np.ceil(120.0 + stats.norm.ppf(0.95) * sigma)


def test_deterministic_demand():
    """Zero variance: the level is the mean demand (cycle) or the mean minus the allowance."""
    cycle = stock_targets(40.0, 0.0, lead_time=2, service_level=0.9)
    assert cycle.reorder_point == 120.0 and cycle.safety_stock == 0.0
    fill = stock_targets(40.0, 0.0, lead_time=2, service_level=0.9, service="fill_rate")
    assert fill.reorder_point == 116.0  # 120 - (1 - 0.9) x 40


def test_zero_demand_needs_no_stock_and_no_order():
    result = stock_targets([0.0, 0.0], [0.0, 3.0], lead_time=3, service_level=0.99, moq=10,
                           pack_size=6)
    assert result.reorder_point.tolist() == [0.0, 0.0]
    assert result.order_up_to.tolist() == [0.0, 0.0]
    assert result.safety_stock.tolist() == [0.0, 0.0]


# -- lots, pack sizes, MOQ and caps ---------------------------------------------------------------


def test_lot_is_review_period_demand_rounded_up_to_packs():
    # Poisson(4 x 3) over L + R = 3 periods; lot = 3 x 4 = 12 units
    base = stock_targets(4.0, 4.0, lead_time=1, review_period=2, service_level=0.9)
    reorder_point = base.reorder_point
    assert reorder_point == stats.poisson(12).ppf(0.9)
    assert base.order_up_to - reorder_point == 8.0
    for pack_size, lot in [(1, 8), (5, 10), (8, 8), (12, 12), (3, 9)]:
        result = stock_targets(4.0, 4.0, lead_time=1, review_period=2, service_level=0.9,
                               pack_size=pack_size)
        assert result.reorder_point == reorder_point
        assert result.order_up_to - result.reorder_point == lot, pack_size


def test_moq_raises_the_lot_then_packs_round_it():
    kwargs = {"lead_time": 1, "service_level": 0.9}
    assert (stock_targets(3.0, 3.0, moq=10, **kwargs).order_up_to
            - stock_targets(3.0, 3.0, **kwargs).reorder_point) == 10
    result = stock_targets(3.0, 3.0, moq=10, pack_size=4, **kwargs)
    assert result.order_up_to - result.reorder_point == 12
    result = stock_targets(30.0, 30.0, moq=10, pack_size=4, **kwargs)  # lot 30 > MOQ -> 32
    assert result.order_up_to - result.reorder_point == 32


def test_caps_clip_both_levels_and_keep_their_order():
    mean = np.array([1.0, 20.0, 80.0])
    free = stock_targets(mean, mean, lead_time=2, service_level=0.95)
    capped = stock_targets(mean, mean, lead_time=2, service_level=0.95, minimum=10,
                           maximum=100)
    assert np.array_equal(capped.reorder_point, np.clip(free.reorder_point, 10, 100))
    assert np.array_equal(capped.order_up_to, np.clip(free.order_up_to, 10, 100))
    assert np.all(capped.order_up_to >= capped.reorder_point)
    assert np.array_equal(capped.safety_stock, capped.reorder_point - capped.protection_mean)
    assert capped.reorder_point[0] == 10 and capped.order_up_to[2] == 100


def test_caps_per_pair_and_infinite_maximum():
    result = stock_targets([50.0, 50.0], 50.0, lead_time=1, service_level=0.9,
                           maximum=[np.inf, 60.0])
    assert result.order_up_to[0] > 60 and result.order_up_to[1] == 60


# -- shapes and broadcasting ----------------------------------------------------------------------


def test_arguments_broadcast_and_outputs_keep_the_shape():
    mean = np.full((2, 3), 5.0)
    result = stock_targets(mean, 5.0, lead_time=[[1.0], [3.0]], service_level=[0.8, 0.9, 0.99],
                           review_period=1)
    for array in (result.safety_stock, result.reorder_point, result.order_up_to,
                  result.distribution, result.protection_mean):
        assert array.shape == (2, 3)
    assert np.all(result.reorder_point[1] > result.reorder_point[0])
    assert np.all(np.diff(result.reorder_point, axis=1) > 0)


def test_scalar_inputs_give_zero_dimensional_arrays():
    result = stock_targets(5, 5, lead_time=1, service_level=0.9)
    assert result.reorder_point.shape == ()


def test_result_arrays_are_read_only():
    result = stock_targets([5.0, 6.0], 5.0, lead_time=1, service_level=0.9)
    with pytest.raises(ValueError, match="read-only"):
        result.reorder_point[0] = 0.0


# -- the echelon view -----------------------------------------------------------------------------


def test_echelon_targets_cover_aggregate_downstream_demand_over_the_dc_lead_time():
    """A DC feeding three regional warehouses: sum the means and variances downstream."""
    downstream_mean = np.array([[12.0, 3.0, 25.0], [0.5, 0.2, 1.0]])  # (sku, warehouse)
    downstream_variance = np.array([[20.0, 4.0, 60.0], [0.9, 0.2, 2.5]])
    result = echelon_targets(downstream_mean.sum(axis=1), downstream_variance.sum(axis=1),
                             lead_time=4, service_level=0.98, service="fill_rate")
    direct = stock_targets(downstream_mean.sum(axis=1), downstream_variance.sum(axis=1),
                           lead_time=4, service_level=0.98, service="fill_rate")
    assert np.array_equal(result.reorder_point, direct.reorder_point)
    assert result.protection_mean.tolist() == [5 * 40.0, 5 * 1.7]
    assert result.protection_variance.tolist() == pytest.approx([5 * 84.0, 5 * 3.6])
    # variance / mean 2.1 at a mean of 200: overdispersed, so negative binomial at any volume
    assert result.distribution.tolist() == [Family.NEGATIVE_BINOMIAL,
                                            Family.NEGATIVE_BINOMIAL]
