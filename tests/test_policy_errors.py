"""Bad input raises ValueError or TypeError whose message names the argument."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from models.policy import (
    RQ,
    SS,
    BaseStock,
    echelon_targets,
    eoq,
    newsvendor,
    optimal_rQ,
    optimal_sS,
    stock_targets,
)

# -- policy types -------------------------------------------------------------------------------


def test_policies_are_frozen_and_keep_whole_numbers():
    policy = SS(4, 10)
    assert (policy.s, policy.S) == (4, 10) and isinstance(policy.s, int)
    assert RQ(2.5, 7.0) == RQ(2.5, 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.s = 5


@pytest.mark.parametrize(("s", "S"), [(5, 5), (6, 5), (10.5, -3)])
def test_ss_needs_s_below_S(s, S):
    with pytest.raises(ValueError, match=r"S must be greater than s .*found s="):
        SS(s, S)


@pytest.mark.parametrize("Q", [0, -1, 0.0])
def test_rq_needs_positive_Q(Q):
    with pytest.raises(ValueError, match=r"Q must be > 0; found"):
        RQ(3, Q)


@pytest.mark.parametrize(("make", "field"), [(lambda: BaseStock("40"), "level"),
                                              (lambda: SS(None, 5), "s"),
                                              (lambda: RQ(True, 5), "r")])
def test_policy_fields_must_be_numbers(make, field):
    with pytest.raises(TypeError, match=rf"^{field} must be a real number"):
        make()


@pytest.mark.parametrize(("make", "field"), [(lambda: BaseStock(float("nan")), "level"),
                                              (lambda: SS(1, float("inf")), "S"),
                                              (lambda: RQ(float("-inf"), 5), "r")])
def test_policy_fields_must_be_finite(make, field):
    with pytest.raises(ValueError, match=rf"^{field} must be finite"):
        make()


# -- optimisers: costs ----------------------------------------------------------------------------

SOLVERS = {
    "newsvendor": lambda **costs: newsvendor(stats.poisson(5), **costs),
    "optimal_sS": lambda **costs: optimal_sS(stats.poisson(5), fixed_cost=10, **costs),
    "optimal_rQ": lambda **costs: optimal_rQ(2.0, fixed_cost=10, lead_time=1, **costs),
}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(("argument", "value"), [("holding_cost", -1.0), ("holding_cost", 0),
                                                 ("shortage_cost", -0.5),
                                                 ("shortage_cost", 0.0)])
def test_costs_must_be_positive(solver, argument, value):
    costs = {"holding_cost": 1.0, "shortage_cost": 9.0, argument: value}
    with pytest.raises(ValueError, match=rf"^{argument} must be > 0; found"):
        SOLVERS[solver](**costs)


@pytest.mark.parametrize("solver", SOLVERS)
def test_costs_must_be_numbers(solver):
    with pytest.raises(TypeError, match=r"^holding_cost must be a real number; found str"):
        SOLVERS[solver](holding_cost="1", shortage_cost=9.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_costs_must_be_finite(solver):
    with pytest.raises(ValueError, match=r"^shortage_cost must be finite; found nan"):
        SOLVERS[solver](holding_cost=1.0, shortage_cost=float("nan"))


def test_fixed_cost_must_not_be_negative():
    with pytest.raises(ValueError, match=r"^fixed_cost must be >= 0; found -1.0"):
        optimal_sS(stats.poisson(5), holding_cost=1, shortage_cost=9, fixed_cost=-1.0)
    with pytest.raises(ValueError, match=r"^fixed_cost must be >= 0"):
        optimal_rQ(2, holding_cost=1, shortage_cost=9, fixed_cost=-1, lead_time=1)


def test_eoq_arguments_must_be_positive():
    with pytest.raises(ValueError, match=r"^fixed_cost must be > 0; found 0"):
        eoq(fixed_cost=0, holding_cost=1, demand_rate=100)
    with pytest.raises(ValueError, match=r"^demand_rate must be > 0; found -5"):
        eoq(fixed_cost=8, holding_cost=1, demand_rate=-5)
    with pytest.raises(TypeError, match=r"^holding_cost must be a real number"):
        eoq(fixed_cost=8, holding_cost=[1], demand_rate=100)


def test_rq_demand_rate_and_lead_time():
    with pytest.raises(ValueError, match=r"^demand_rate must be > 0; found 0"):
        optimal_rQ(0, holding_cost=1, shortage_cost=9, fixed_cost=1, lead_time=1)
    with pytest.raises(ValueError, match=r"^lead_time must be >= 0; found -0.5"):
        optimal_rQ(2, holding_cost=1, shortage_cost=9, fixed_cost=1, lead_time=-0.5)


def test_optimisers_take_options_by_keyword_only():
    with pytest.raises(TypeError):
        newsvendor(stats.poisson(5), 1.0, 9.0)


# -- optimisers: the demand distribution ----------------------------------------------------------


@pytest.mark.parametrize("demand", [10, [1, 2, 3], "poisson", np.array([3.0])])
def test_demand_must_be_a_frozen_distribution(demand):
    with pytest.raises(TypeError, match=r"^demand must be a frozen scipy.stats distribution"):
        newsvendor(demand, holding_cost=1, shortage_cost=9)


def test_an_unfrozen_family_is_refused():
    with pytest.raises(TypeError, match=r"^demand must be a frozen .*parameters of poisson"):
        optimal_sS(stats.poisson, holding_cost=1, shortage_cost=9, fixed_cost=64)


@pytest.mark.parametrize("demand", [stats.poisson(-3), stats.norm(10, -1), stats.randint(5, 5)])
def test_a_distribution_without_support_is_refused(demand):
    with pytest.raises(ValueError, match=r"^demand has no support \(are its parameters valid"):
        newsvendor(demand, holding_cost=1, shortage_cost=9)


def test_demand_needs_a_finite_mean():
    with pytest.raises(ValueError, match=r"^demand must have a finite mean; found nan"):
        newsvendor(stats.cauchy(10, 2), holding_cost=1, shortage_cost=9)


def test_discrete_demand_must_live_on_the_integers():
    demand = stats.rv_discrete(values=([0.5, 2.0], [0.5, 0.5]))
    with pytest.raises(ValueError, match=r"^demand must take integer values"):
        newsvendor(demand, holding_cost=1, shortage_cost=9)


def test_sS_needs_discrete_non_negative_non_degenerate_demand():
    costs = {"holding_cost": 1, "shortage_cost": 9, "fixed_cost": 64}
    with pytest.raises(TypeError, match=r"^demand must be a discrete distribution"):
        optimal_sS(stats.norm(10, 2), **costs)
    with pytest.raises(ValueError, match=r"^demand must be non-negative"):
        optimal_sS(stats.skellam(3, 2), **costs)
    with pytest.raises(ValueError, match=r"^demand must be positive with positive probability"):
        optimal_sS(stats.poisson(0), **costs)


@pytest.mark.parametrize(("lead_time", "error", "message"),
                         [(-1, ValueError, r"^lead_time must be an integer >= 0; found -1"),
                          (1.5, TypeError, r"^lead_time must be an integer; found float")])
def test_sS_lead_time_is_whole_periods(lead_time, error, message):
    with pytest.raises(error, match=message):
        optimal_sS(stats.poisson(5), holding_cost=1, shortage_cost=9, fixed_cost=64,
                   lead_time=lead_time)


# -- stock targets --------------------------------------------------------------------------------


def targets(**overrides):
    arguments = {"mean": [5.0, 50.0], "variance": [5.0, 80.0], "lead_time": 2,
                 "service_level": 0.95}
    arguments.update(overrides)
    return stock_targets(arguments.pop("mean"), arguments.pop("variance"), **arguments)


@pytest.mark.parametrize("service_level", [1.0, 0.0, 1.5, -0.1, float("nan")])
def test_service_level_must_be_strictly_between_zero_and_one(service_level):
    with pytest.raises(ValueError, match=r"^service_level must be a finite number in "
                                         r"\(0.0, 1.0\); found"):
        targets(service_level=service_level)


def test_service_level_array_message_gives_the_first_bad_index():
    with pytest.raises(ValueError, match=r"^service_level must hold finite numbers in "
                                         r"\(0.0, 1.0\); found 1.0 at index 1$"):
        targets(service_level=[0.9, 1.0])


@pytest.mark.parametrize(("argument", "value", "message"), [
    ("mean", [5.0, -1.0], r"^mean must hold finite numbers in \[0.0, inf\); found -1.0 at "
                          r"index 1"),
    ("variance", [np.nan, 1.0], r"^variance must hold finite numbers in \[0.0, inf\); "
                                r"found nan at index 0"),
    ("lead_time", -1, r"^lead_time must be a finite number in \[0.0, inf\); found -1.0"),
    ("lead_time_sd", np.inf, r"^lead_time_sd must be a finite number"),
    ("review_period", 0, r"^review_period must be a finite number in \(0.0, inf\); found 0.0"),
    ("pack_size", 0, r"^pack_size must be a whole number in \[1.0, inf\); found 0.0"),
    ("pack_size", 2.5, r"^pack_size must be a whole number .*found 2.5"),
    ("moq", -3, r"^moq must be a finite number in \[0.0, inf\); found -3.0"),
    ("minimum", -1, r"^minimum must be a finite number"),
    ("maximum", -1, r"^maximum must be a number in \[0.0, inf\]; found -1.0"),
])
def test_out_of_range_arguments_are_named(argument, value, message):
    with pytest.raises(ValueError, match=message):
        targets(**{argument: value})


def test_maximum_below_minimum():
    with pytest.raises(ValueError, match=r"^maximum must be >= minimum, in whole units .*"
                                         r"found maximum 4.0 < minimum 5.0 at index 1"):
        targets(minimum=[0, 5], maximum=[10, 4.5])


def test_choices_list_the_allowed_values():
    with pytest.raises(ValueError, match=r"^service must be one of cycle, fill_rate; "
                                         r"found 'type2'"):
        targets(service="type2")
    with pytest.raises(ValueError, match=r"^distribution must be one of auto, normal, poisson, "
                                         r"negative_binomial, gamma; found 'weibull'"):
        targets(distribution="weibull")


def test_non_numeric_arrays_are_type_errors():
    with pytest.raises(TypeError, match=r"^mean must be numeric \(int or float\); found dtype"):
        targets(mean=["5", "6"])
    with pytest.raises(TypeError, match=r"^pack_size must be numeric"):
        targets(pack_size=True)


def test_arrays_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"^the array arguments must broadcast together; found "
                                         r"shapes mean \(2,\), variance \(2,\), lead_time "
                                         r"\(3,\)"):
        targets(lead_time=[1, 2, 3])


def test_echelon_messages_name_the_aggregates():
    with pytest.raises(ValueError, match=r"^aggregate_mean must be a finite number"):
        echelon_targets(-1.0, 1.0, lead_time=2, service_level=0.9)
    with pytest.raises(ValueError, match=r"^aggregate_variance must be a finite number"):
        echelon_targets(1.0, -1.0, lead_time=2, service_level=0.9)
