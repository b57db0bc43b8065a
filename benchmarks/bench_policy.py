"""Stock targets for a million SKU x location pairs, against scipy's own vectorised quantiles.

The subject computes full targets (distribution per pair, reorder point, lot with pack size and
MOQ, caps) for a realistic mix: a fifth of the pairs high-volume (normal), the long tail
low-volume (Poisson or negative binomial), half of them on a cycle service level and half on a
fill rate. The reference, timed in the same run, is the bare cycle-service quantile of the same
pairs with ``scipy.stats.{norm,poisson,nbinom}.ppf`` on whole arrays, so the ratio says what the
whole target computation costs over scipy's quantile alone.

Size from ``OMNISTOCK_BENCH_PAIRS`` (default 1,000,000, or 10 pairs per SKU when only
``OMNISTOCK_BENCH_SKUS`` is set, as CI does when it runs the suite small with
``--benchmark-disable``).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from benchtools import compare
from scipy import stats

from models.distributions import choose_family
from models.policy import Family, stock_targets


@pytest.fixture(scope="module")
def bench_pairs() -> int:
    """``OMNISTOCK_BENCH_PAIRS``; else 10 pairs per SKU of ``OMNISTOCK_BENCH_SKUS``; else 1e6."""
    if "OMNISTOCK_BENCH_PAIRS" in os.environ:
        return int(os.environ["OMNISTOCK_BENCH_PAIRS"])
    if "OMNISTOCK_BENCH_SKUS" in os.environ:
        return 10 * int(os.environ["OMNISTOCK_BENCH_SKUS"])
    return 1_000_000


@pytest.fixture(scope="module")
def pairs(bench_pairs) -> dict[str, np.ndarray]:
    """Per-period demand and replenishment settings of ``bench_pairs`` SKU x location pairs."""
    rng = np.random.default_rng(0)
    n = bench_pairs
    high_volume = rng.random(n) < 0.2
    mean = np.where(high_volume, rng.lognormal(np.log(25.0), 0.8, n),
                    rng.lognormal(np.log(0.6), 1.0, n))
    dispersion = np.where(rng.random(n) < 0.4, 1.0, rng.uniform(1.3, 6.0, n))
    return {
        "mean": mean,
        "variance": mean * dispersion,
        "lead_time": rng.choice([1.0, 2.0, 3.0, 5.0], n),
        "lead_time_sd": rng.choice([0.0, 0.5, 1.0], n),
        "review_period": rng.choice([1.0, 1.0, 7.0], n),
        "service_level": rng.choice([0.9, 0.95, 0.98, 0.99], n),
        "pack_size": rng.choice([1.0, 6.0, 12.0, 24.0], n),
        "moq": rng.choice([0.0, 0.0, 12.0, 48.0], n),
        "maximum": np.where(rng.random(n) < 0.1, 500.0, np.inf),
    }


def all_targets(pairs: dict[str, np.ndarray]):
    """Half the pairs on a cycle service level, half on a fill rate."""
    half = pairs["mean"].size // 2
    first = {name: values[:half] for name, values in pairs.items()}
    second = {name: values[half:] for name, values in pairs.items()}
    return (stock_targets(first.pop("mean"), first.pop("variance"), **first, service="cycle"),
            stock_targets(second.pop("mean"), second.pop("variance"), **second,
                          service="fill_rate"))


def scipy_quantiles(pairs: dict[str, np.ndarray]) -> np.ndarray:
    """The reference: cycle-service quantiles with scipy.stats ppf on whole arrays."""
    periods = pairs["lead_time"] + pairs["review_period"]
    mu = periods * pairs["mean"]
    var = periods * pairs["variance"] + (pairs["mean"] * pairs["lead_time_sd"]) ** 2
    codes = choose_family(mu, var, "auto")
    alpha = pairs["service_level"]
    out = np.empty(mu.size)
    pick = codes == Family.NORMAL
    out[pick] = stats.norm.ppf(alpha[pick], mu[pick], np.sqrt(var[pick]))
    pick = codes == Family.POISSON
    out[pick] = stats.poisson.ppf(alpha[pick], mu[pick])
    pick = codes == Family.NEGATIVE_BINOMIAL
    m, v = mu[pick], var[pick]
    out[pick] = stats.nbinom.ppf(alpha[pick], m * m / (v - m), m / v)
    return out


def test_stock_targets_for_a_million_pairs(benchmark, pairs, bench_pairs):
    cycle, fill_rate = all_targets(pairs)  # warm-up, and a sanity check of the output
    assert np.all(cycle.order_up_to >= cycle.reorder_point)
    assert np.all(fill_rate.order_up_to >= fill_rate.reorder_point)
    mix = np.bincount(np.concatenate([cycle.distribution, fill_rate.distribution]),
                      minlength=3) / bench_pairs

    ratio = compare(benchmark, lambda: all_targets(pairs), lambda: scipy_quantiles(pairs),
                    label="scipy_ppf")
    if benchmark.disabled:
        return
    seconds = benchmark.stats.stats.median
    benchmark.extra_info.update({
        "pairs": bench_pairs, "seconds": seconds, "pairs_per_second": bench_pairs / seconds,
        "share_normal": mix[Family.NORMAL], "share_poisson": mix[Family.POISSON],
        "share_negative_binomial": mix[Family.NEGATIVE_BINOMIAL]})
    print(f"{bench_pairs:,} pairs in {seconds:.2f} s = {bench_pairs / seconds:,.0f} pairs/s "
          f"(normal {mix[0]:.0%}, Poisson {mix[1]:.0%}, negative binomial {mix[2]:.0%})")
    assert ratio < 10, f"targets take {ratio:.1f}x scipy's bare quantiles"
