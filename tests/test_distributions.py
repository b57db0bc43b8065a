"""models.distributions: known answers against scipy.stats, the family rule, and bounded time
for every search over extreme inputs."""

from __future__ import annotations

import signal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from models.distributions import (
    FAMILY_LABELS,
    NORMAL_MIN_MEAN,
    Family,
    cdf,
    choose_family,
    expected_shortage,
    family_codes,
    loss_levels,
    negative_binomial_parameters,
    pmf,
    quantile,
    quantile_levels,
    survival,
)

P = Family.POISSON
NB = Family.NEGATIVE_BINOMIAL
N = Family.NORMAL
G = Family.GAMMA


def _scipy(code, mean, variance):
    if code == N:
        return stats.norm(mean, np.sqrt(variance))
    if code == P:
        return stats.poisson(mean)
    if code == G:
        return stats.gamma(mean**2 / variance, scale=variance / mean)
    n, p = mean**2 / (variance - mean), mean / variance
    return stats.nbinom(n, p)


CASES = [(P, 3.5, 3.5), (P, 0.2, 0.2), (NB, 3.0, 12.0), (NB, 0.4, 2.5), (NB, 150.0, 4000.0),
         (N, 80.0, 400.0), (N, 5.0, 30.0), (G, 1.0, 9.0), (G, 40.0, 100.0), (G, 0.3, 0.01)]


@pytest.mark.parametrize(("code", "mean", "variance"), CASES)
def test_cdf_survival_pmf_match_scipy(code, mean, variance):
    reference = _scipy(code, mean, variance)
    x = np.arange(0.0, 3 * mean + 10 * np.sqrt(variance))
    codes = np.full(x.shape, code, dtype=np.int8)
    np.testing.assert_allclose(cdf(codes, mean, variance, x), reference.cdf(x), rtol=1e-10,
                               atol=1e-14)
    np.testing.assert_allclose(survival(codes, mean, variance, x), reference.sf(x), rtol=1e-10,
                               atol=1e-14)
    density = reference.pdf(x) if code in (N, G) else reference.pmf(x)
    np.testing.assert_allclose(pmf(codes, mean, variance, x), density, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("code", "mean", "variance"), CASES)
def test_quantiles_match_scipy(code, mean, variance):
    q = np.array([0.01, 0.1, 0.5, 0.8, 0.95, 0.99, 0.999])
    reference = _scipy(code, mean, variance).ppf(q)
    if code == N:
        reference = np.maximum(reference, 0.0)
    np.testing.assert_allclose(quantile(np.int8(code), mean, variance, q), reference, rtol=1e-9)
    # the whole-unit level is the smallest whole y with P(D <= y) >= q
    levels = quantile_levels(np.full(q.shape, code, dtype=np.int8), np.full(q.shape, mean),
                             np.full(q.shape, variance), q)
    if code in (N, G):
        np.testing.assert_array_equal(levels, np.maximum(np.ceil(reference - 1e-9), 0))
    else:
        np.testing.assert_array_equal(levels, reference)


@pytest.mark.parametrize(("code", "mean", "variance"), CASES)
def test_loss_function_matches_a_direct_sum(code, mean, variance):
    reference = _scipy(code, mean, variance)
    levels = np.arange(0.0, 2 * mean + 6 * np.sqrt(variance), max(1.0, mean / 20)).round()
    codes = np.full(levels.shape, code, dtype=np.int8)
    if code in (N, G):  # checked by numerical integration of the survival function
        from scipy import integrate
        expected = [integrate.quad(reference.sf, y, np.inf)[0] for y in levels]
    else:
        d = np.arange(0.0, reference.ppf(1 - 1e-15) + 1)
        expected = [np.sum(np.maximum(d - y, 0) * reference.pmf(d)) for y in levels]
    np.testing.assert_allclose(expected_shortage(codes, mean, variance, levels), expected,
                               rtol=1e-7, atol=1e-9)
    # the fill-rate level is the smallest whole level whose loss is at most the target
    allowed = np.full(levels.shape, 0.05 * mean)
    found = loss_levels(codes, np.full(levels.shape, mean), np.full(levels.shape, variance),
                            allowed)[0]
    assert expected_shortage(np.int8(code), mean, variance, found) <= 0.05 * mean + 1e-9
    if found >= 1 and code in (P, NB):
        assert expected_shortage(np.int8(code), mean, variance, found - 1) > 0.05 * mean


def test_zero_mean_is_zero_demand_in_every_family():
    codes = np.array([N, P, NB, G], dtype=np.int8)
    zero = np.zeros(4)
    np.testing.assert_array_equal(quantile(codes, zero, zero, 0.9), zero)
    np.testing.assert_array_equal(cdf(codes, zero, zero, zero), np.ones(4))
    np.testing.assert_array_equal(survival(codes, zero, zero, zero), zero)
    np.testing.assert_array_equal(expected_shortage(codes, zero, zero, np.full(4, 2.0)), zero)
    np.testing.assert_array_equal(quantile_levels(codes, zero, zero, np.full(4, 0.99)), zero)


def test_family_rule():
    """Count data: the dispersion decides (negative binomial whenever variance / mean > 1.1,
    even at a high mean); continuous non-negative data: gamma when skewed (CV > 0.5), normal
    otherwise; signed data: normal."""
    mean = np.array([0.0, 2.0, 2.0, 2.0, NORMAL_MIN_MEAN, NORMAL_MIN_MEAN, 5.0])
    variance = np.array([0.0, 1.0, 2.1, 8.0, 300.0, 31.0, 5.0 * (1 + 1e-9)])
    assert choose_family(mean, variance).tolist() == [P, P, P, NB, NB, N, P]
    assert choose_family(mean, variance, "negative_binomial").tolist() == [P, P, NB, NB, NB,
                                                                           NB, P]
    assert choose_family(mean, variance, counts=False).tolist() == [N, N, G, G, G, N, N]
    assert (choose_family(mean, variance, counts=False, nonnegative=False) == N).all()
    assert (choose_family(mean, variance, "poisson") == P).all()
    counts = np.array([True, False, True, True, True, False, False])
    assert choose_family(mean, variance, "auto", counts=counts).tolist() == [P, N, P, NB, NB,
                                                                             N, N]
    with pytest.raises(ValueError, match="choice must be one of auto, normal"):
        choose_family(mean, variance, "beta")


def test_labels_round_trip():
    assert family_codes(FAMILY_LABELS).tolist() == [0, 1, 2, 3]
    assert Family.NEGATIVE_BINOMIAL.label == "negbin"
    with pytest.raises(ValueError, match="must be one of normal, poisson, negbin, gamma; "
                                         "found 'beta'"):
        family_codes(np.array(["normal", "beta"]))


def test_negative_binomial_parameters_guard():
    n, p = negative_binomial_parameters(np.array([0.0, 2.0, 2.0]), np.array([0.0, 2.0, 6.0]))
    assert (n[0], p[0]) == (1.0, 1.0)
    assert np.isfinite(n[1]) and 0 < p[1] < 1  # at the Poisson limit: valid, huge shape
    assert n[2] == pytest.approx(1.0) and p[2] == pytest.approx(1 / 3)


extreme = st.floats(min_value=1e-12, max_value=1e18)


@settings(max_examples=60, deadline=None)
@given(mean=extreme, variance=extreme, level=st.floats(min_value=0.5, max_value=0.999),
       code=st.sampled_from([N, P, NB, G]))
def test_every_search_returns_in_bounded_time(mean, variance, level, code):
    """Any finite mean and variance: the level searches finish with finite levels (a search
    that loops is turned into a failure by an alarm, not left to hang the run)."""
    codes = np.array([code], dtype=np.int8)
    m, v = np.array([mean]), np.array([variance])

    def hung(signum, frame):
        raise AssertionError(f"a search did not return within 60 s for {code!r}, mean "
                             f"{mean!r}, variance {variance!r}")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        by_quantile = quantile_levels(codes, m, v, np.array([level]))
        by_loss = loss_levels(codes, m, v, np.array([(1 - level) * mean]))
        q = quantile(codes, m, v, level)
        loss = expected_shortage(codes, m, v, by_loss)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert np.isfinite(by_quantile).all() and np.isfinite(by_loss).all()
    assert np.isfinite(q).all() and np.isfinite(loss).all()
    assert (by_quantile >= 0).all() and (by_loss >= 0).all()


@pytest.mark.parametrize("code", [N, G, P, NB])
def test_loss_levels_meet_the_allowed_shortage_exactly(code):
    """Continuous levels solve the shortage equation; netting the lead-time demand (the exact
    periodic-review shortage per cycle) needs less stock than Axsäter's approximation."""
    mean, variance = np.array([12.0, 3.0]), np.array([60.0, 20.0])
    lead_mean, lead_variance = mean / 2, variance / 2
    allowed = np.array([0.3, 0.1])
    codes = np.full(2, code, dtype=np.int8)
    whole = code in (P, NB)
    plain = loss_levels(codes, mean, variance, allowed, whole_units=whole)
    netted = loss_levels(codes, mean, variance, allowed, whole_units=whole,
                         netted=(codes, lead_mean, lead_variance))
    shortage = (expected_shortage(codes, mean, variance, netted)
                - expected_shortage(codes, lead_mean, lead_variance, netted))
    assert (netted <= plain).all()
    assert (shortage <= allowed + 1e-9).all()
    if whole:
        before = (expected_shortage(codes, mean, variance, netted - 1)
                  - expected_shortage(codes, lead_mean, lead_variance, netted - 1))
        assert (before > allowed).all()
    else:
        np.testing.assert_allclose(shortage, allowed, rtol=1e-6)
        np.testing.assert_allclose(expected_shortage(codes, mean, variance, plain), allowed,
                                   rtol=1e-6)
