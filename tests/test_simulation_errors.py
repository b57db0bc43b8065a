"""Bad input to `simulate_policy` raises ValueError or TypeError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from engine.simulation import simulate_policy
from models.policy import RQ, SS, BaseStock

VALID = {"policy": SS(4, 10), "lead_time": 1, "holding_cost": 1.0, "shortage_cost": 4.0,
         "fixed_cost": 5.0, "periods": 50, "samples": 2, "seed": 0}


def call(demand=None, **changes):
    return simulate_policy(stats.poisson(6) if demand is None else demand,
                           **{**VALID, **changes})


def test_valid_arguments_run():
    for policy in (BaseStock(12), SS(4, 10), RQ(5, 6)):
        assert np.isfinite(call(policy=policy).cost)


@pytest.mark.parametrize("name", ["holding_cost", "shortage_cost", "fixed_cost"])
def test_negative_cost(name):
    with pytest.raises(ValueError, match=rf"^{name} must be a finite number >= 0; found -1\.0"):
        call(**{name: -1})


@pytest.mark.parametrize("name", ["holding_cost", "shortage_cost", "fixed_cost"])
def test_cost_must_be_a_number(name):
    with pytest.raises(TypeError, match=rf"^{name} must be a real number; found str"):
        call(**{name: "1"})


def test_infinite_cost():
    with pytest.raises(ValueError, match=r"^shortage_cost must be a finite number >= 0; found inf"):
        call(shortage_cost=np.inf)


@pytest.mark.parametrize(("periods", "warmup"), [(50, 50), (10, 30)])
def test_periods_must_exceed_warmup(periods, warmup):
    with pytest.raises(ValueError, match=rf"^periods must be greater than warmup .*found "
                                         rf"periods={periods}, warmup={warmup}"):
        call(periods=periods, warmup=warmup)


def test_negative_warmup():
    with pytest.raises(ValueError, match=r"^warmup must be an integer >= 0; found -1"):
        call(warmup=-1)


@pytest.mark.parametrize(("name", "value", "error", "message"), [
    ("samples", 0, ValueError, r"^samples must be an integer >= 1; found 0"),
    ("samples", 2.0, TypeError, r"^samples must be an integer; found float"),
    ("periods", 0, ValueError, r"^periods must be an integer >= 1; found 0"),
    ("lead_time", -1, ValueError, r"^lead_time must be an integer >= 0; found -1"),
    ("lead_time", 1.5, TypeError, r"^lead_time must be an integer; found float 1\.5"),
    ("lead_time", True, TypeError, r"^lead_time must be an integer; found bool"),
    ("seed", -3, ValueError, r"^seed must be an integer >= 0; found -3"),
    ("seed", None, TypeError, r"^seed must be an integer; found NoneType"),
    ("backorders", "yes", TypeError, r"^backorders must be True or False; found str"),
])
def test_whole_number_and_flag_arguments(name, value, error, message):
    with pytest.raises(error, match=message):
        call(**{name: value})


@pytest.mark.parametrize("policy", [(4, 10), "SS(4, 10)", None])
def test_policy_must_be_a_policy_type(policy):
    with pytest.raises(TypeError, match=r"^policy must be one of models\.policy\.BaseStock, "
                                        r"models\.policy\.SS, models\.policy\.RQ; found"):
        call(policy=policy)


@pytest.mark.parametrize(("demand", "message"), [
    (6.0, r"^demand must be a frozen scipy\.stats distribution .*; found float"),
    (stats.poisson, r"^demand must be a frozen scipy\.stats distribution: give the parameters "
                    r"of poisson"),
    (np.array([3, 5, 6]), r"^demand must be a frozen scipy\.stats distribution .*; "
                          r"found ndarray"),
])
def test_demand_must_be_a_frozen_distribution(demand, message):
    with pytest.raises(TypeError, match=message):
        call(demand)


@pytest.mark.parametrize(("demand", "message"), [
    (stats.norm(5, 3), r"^demand must be non-negative: P\(D < 0\) must be at most 0\.001.*"
                       r"found P\(D < 0\) = 0\.0478"),
    (stats.randint(-2, 5), r"^demand must be non-negative: .*found P\(D < 0\) = 0\.286"),
    (stats.cauchy(50, 1), r"^demand must have a finite mean"),
])
def test_demand_must_be_a_non_negative_demand_model(demand, message):
    with pytest.raises(ValueError, match=message):
        call(demand)


def test_demand_accepts_tables_and_rarely_negative_normals():
    table = stats.rv_discrete(values=([0, 2, 5], [0.2, 0.5, 0.3]))
    assert np.isfinite(call(table).cost)
    assert np.isfinite(call(stats.norm(40, 10)).cost)  # P(D < 0) = 3e-5
