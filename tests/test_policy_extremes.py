"""Every target search returns, for any finite input (issue 14: `stock_targets` used to loop
forever once a level passed 2**53)."""

from __future__ import annotations

import signal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.policy import stock_targets, targets_from_protection

extreme = st.floats(min_value=1e-12, max_value=1e18)


def _within(seconds: int, call):
    def hung(signum, frame):
        raise AssertionError(f"did not return within {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        return call()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_the_issue_case_returns():
    result = _within(60, lambda: stock_targets(8.6, 1e16, lead_time=1, service_level=0.95,
                                               service="fill_rate"))
    assert np.isfinite(result.reorder_point).all()


@settings(max_examples=80, deadline=None)
@given(mean=extreme, variance=extreme, lead=st.floats(0, 20), level=st.floats(0.5, 0.999),
       service=st.sampled_from(["cycle", "fill_rate"]),
       distribution=st.sampled_from(["auto", "normal", "poisson", "negative_binomial",
                                     "gamma"]))
def test_stock_targets_return_finite_levels_for_extreme_inputs(mean, variance, lead, level,
                                                               service, distribution):
    result = _within(60, lambda: stock_targets(mean, variance, lead_time=lead,
                                               service_level=level, service=service,
                                               distribution=distribution))
    assert np.isfinite(result.reorder_point).all() and (result.reorder_point >= 0).all()
    assert (result.order_up_to >= result.reorder_point).all()


@settings(max_examples=80, deadline=None)
@given(mean=extreme, variance=extreme, share=st.floats(0.0, 1.0), level=st.floats(0.5, 0.999),
       family=st.sampled_from(["normal", "poisson", "negbin", "gamma"]), moq=st.sampled_from(
           [0.0, 50.0, 1e9]))
def test_targets_from_protection_return_for_extreme_inputs(mean, variance, share, level,
                                                           family, moq):
    import pandas as pd

    table = pd.DataFrame({"unique_id": ["x"], "mean": [mean], "variance": [variance],
                          "family": [family], "lead_mean": [mean * share],
                          "lead_variance": [variance * share], "lead_family": [family],
                          "largest_sum": [mean * 2]})
    out = _within(60, lambda: targets_from_protection(table, service_level=level, moq=moq))
    assert np.isfinite(out["reorder_point"]).all()
    assert (out["reorder_point"] <= 3 * max(mean * 2, mean) * (1 + 1e-12)).all()
