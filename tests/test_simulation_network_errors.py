"""Bad input to `NetworkArrays` and `simulate_network` raises ValueError or TypeError naming the
argument (and the offending entry)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.simulation import NetworkArrays, simulate_network


def valid_fields() -> dict:
    """A DC (0) feeding an RDC (1) feeding a pool (2); two SKUs, three streams."""
    return {
        "source": np.array([-1, 0, 1]),
        "lead_time_pmf": np.array([[0.0, 0.5, 0.5], [0.2, 0.8, 0.0], [1.0, 0.0, 0.0]]),
        "location_priority": np.array([1.0, 2.0, 3.0]),
        "sku_key": np.array([11, 12]),
        "reorder_point": np.array([[10.0, 4.0, 1.0], [-np.inf, 2.0, 0.0]]),
        "order_up_to": np.array([[30.0, 12.0, 5.0], [20.0, 8.0, 3.0]]),
        "holding_cost": np.full((2, 3), 0.5),
        "on_hand": np.array([[30.0, 10.0, 4.0], [5.0, 0.0, 0.0]]),
        "arrivals": np.zeros((2, 3, 4)),
        "receipts": np.zeros((2, 3, 2)),
        "order_cost": np.ones((2, 3)),
        "sku_stream_ptr": np.array([0, 2, 3]),
        "stream_ptr": np.array([0, 2, 3, 4]),
        "stream_locations": np.array([2, 1, 1, 0]),
        "backorders": np.array([False, True, False]),
        "shortage_cost": np.array([3.0, 1.0, 2.0]),
        "stream_priority": np.array([1.0, 2.0, 1.0]),
    }


def make(**changes) -> NetworkArrays:
    return NetworkArrays(**{**valid_fields(), **changes})


VALID_RUN = {"samples": 3, "periods": 5, "seed": 0, "demand": np.ones((3, 3, 5))}


def simulate(**changes):
    return simulate_network(make(), **{**VALID_RUN, **changes})


def test_valid_arguments_run():
    result = simulate()
    assert np.isfinite(result.stream_statistics).all()
    assert result.summary().stream.shape == (3, 10, 3)


@pytest.mark.parametrize(("field", "value", "error", "message"), [
    ("source", np.array([-1.0, 0.0, 1.0]), TypeError,
     r"^source must be an array of integers; found dtype float64"),
    ("source", np.array([-1, 0, 3]), ValueError,
     r"^source must hold -1 \(supplier\) or another location in 0\.\.2; found source\[2\] = 3"),
    ("source", np.array([-1, 1, 1]), ValueError, r"^source must hold .*found source\[1\] = 1"),
    ("source", np.array([-1, 2, 1]), ValueError,
     r"^source must form a forest \(no cycles\); found the cycle 1 -> 2 -> 1"),
    ("source", np.zeros(0, dtype=int), ValueError, r"^source must have between 1 and"),
    ("lead_time_pmf", np.ones((2, 2)) / 2, ValueError,
     r"^lead_time_pmf must have shape \(locations, Lmax \+ 1\) = \(3, >=1\); found \(2, 2\)"),
    ("lead_time_pmf", np.array([[1.2, -0.2]] * 3), ValueError,
     r"^lead_time_pmf must hold finite numbers >= 0; found lead_time_pmf\[0, 1\] = "),
    ("lead_time_pmf", np.array([[0.5, 0.4]] * 3), ValueError,
     r"^lead_time_pmf rows must sum to 1; found lead_time_pmf\[0\] summing to 0\.9$"),
    ("location_priority", np.ones(4), ValueError,
     r"^location_priority must have shape \(3,\); found \(4,\)"),
    ("location_priority", np.array([1.0, np.nan, 1.0]), ValueError,
     r"^location_priority must hold finite numbers; found location_priority\[1\] = "),
    ("sku_key", np.array([1, -2]), ValueError,
     r"^sku_key must hold integers >= 0; found sku_key\[1\] = -2"),
    ("sku_key", np.array(["a", "b"]), TypeError, r"^sku_key must be an array of integers"),
    ("reorder_point", np.array([[10.0, 14.0, 1.0], [0.0, 2.0, 0.0]]), ValueError,
     r"^reorder_point must be at most order_up_to; found reorder_point\[0, 1\] = 14\.0 > "
     r"order_up_to\[0, 1\] = 12\.0"),
    ("reorder_point", np.array([[10.0, np.nan, 1.0], [0.0, 2.0, 0.0]]), ValueError,
     r"^reorder_point must hold finite numbers or -inf; found reorder_point\[0, 1\] = "),
    ("order_up_to", np.array([[30.0, np.inf, 5.0], [20.0, 8.0, 3.0]]), ValueError,
     r"^order_up_to must hold finite numbers; found order_up_to\[0, 1\] = "),
    ("order_up_to", np.ones((3, 3)), ValueError,
     r"^order_up_to must have shape \(2, 3\); found \(3, 3\)"),
    ("holding_cost", np.full((2, 3), -0.5), ValueError,
     r"^holding_cost must hold finite numbers >= 0; found holding_cost\[0, 0\] = -0\.5$"),
    ("on_hand", np.array([[30.0, -1.0, 4.0], [5.0, 0.0, 0.0]]), ValueError,
     r"^on_hand must hold finite numbers >= 0; found on_hand\[0, 1\] = "),
    ("on_hand", np.array([[True] * 3] * 2), TypeError,
     r"^on_hand must be an array of real numbers; found dtype bool"),
    ("arrivals", np.zeros((2, 4, 4)), ValueError,
     r"^arrivals must have shape \(2, 3, 'periods'\); found \(2, 4, 4\)"),
    ("arrivals", np.zeros((2, 3)), ValueError, r"^arrivals must be a 3-dimensional array"),
    ("arrivals", np.full((2, 3, 1), -1.0), ValueError,
     r"^arrivals must hold finite numbers >= 0; found arrivals\[0, 0, 0\] = "),
    ("receipts", np.full((2, 3, 1), np.nan), ValueError,
     r"^receipts must hold finite numbers >= 0; found receipts\[0, 0, 0\] = "),
    ("order_cost", -np.ones((2, 3)), ValueError, r"^order_cost must hold finite numbers >= 0"),
    ("sku_stream_ptr", np.array([0, 2, 4]), ValueError,
     r"^sku_stream_ptr must start at 0 and end at the number of streams .* = 3; found "
     r"\[0, 2, 4\]"),
    ("sku_stream_ptr", np.array([0, 2]), ValueError,
     r"^sku_stream_ptr must have shape \(3,\); found \(2,\)"),
    ("sku_stream_ptr", np.array([0, 4, 3]), ValueError,
     r"^sku_stream_ptr must not decrease; found sku_stream_ptr\[1\] = 4, sku_stream_ptr\[2\] = "
     r"3"),
    ("stream_ptr", np.array([0, 2, 2, 4]), ValueError,
     r"^stream_ptr must increase \(every stream has an eligible location\); found "
     r"stream_ptr\[1\] = 2, stream_ptr\[2\] = 2"),
    ("stream_ptr", np.array([0, 2, 3, 5]), ValueError,
     r"^stream_ptr must start at 0 and end at len\(stream_locations\) = 4"),
    ("stream_locations", np.array([2, 1, 1, 3]), ValueError,
     r"^stream_locations must hold locations in 0\.\.2; found stream_locations\[3\] = 3"),
    ("stream_locations", np.array([2, 2, 1, 0]), ValueError,
     r"^stream_locations must not repeat a location within a stream; found stream 0 eligible "
     r"at \[2, 2\]"),
    ("backorders", np.array([0, 1, 0]), TypeError,
     r"^backorders must be a boolean array; found dtype int64"),
    ("backorders", np.array([False, True]), ValueError,
     r"^backorders must have shape \(streams,\) = \(3,\); found \(2,\)"),
    ("shortage_cost", np.array([3.0, -1.0, 2.0]), ValueError,
     r"^shortage_cost must hold finite numbers >= 0; found shortage_cost\[1\] = "),
    ("stream_priority", np.array([1.0, np.inf, 1.0]), ValueError,
     r"^stream_priority must hold finite numbers; found stream_priority\[1\] = "),
])
def test_bad_network_arrays(field, value, error, message):
    with pytest.raises(error, match=message):
        make(**{field: value})


@pytest.mark.parametrize(("name", "value", "error", "message"), [
    ("samples", 0, ValueError, r"^samples must be an integer in 1\.\.4294967295; found 0"),
    ("samples", 2.0, TypeError, r"^samples must be an integer; found float"),
    ("periods", 70_000, ValueError, r"^periods must be an integer in 1\.\.65535; found 70000"),
    ("seed", -1, ValueError, r"^seed must be an integer >= 0; found -1"),
    ("seed", None, TypeError, r"^seed must be an integer; found NoneType"),
    ("rationing", "fifo", ValueError,
     r"^rationing must be one of 'priority', 'fair_share'; found 'fifo'"),
    ("execution", "gpu", ValueError,
     r"^execution must be one of 'serial', 'prange', 'threads'; found 'gpu'"),
    ("chunk_skus", 0, ValueError, r"^chunk_skus must be an integer >= 1; found 0"),
    ("record_trajectory", "yes", TypeError, r"^record_trajectory must be True or False"),
    ("demand", np.ones((3, 3, 4)), ValueError,
     r"^demand must have shape \(3, 3, 5\); found \(3, 3, 4\)"),
    ("demand", -np.ones((3, 3, 5)), ValueError,
     r"^demand must hold finite numbers >= 0; found demand\[0, 0, 0\] = "),
    ("demand", np.full((3, 3, 5), np.nan), ValueError, r"^demand must hold finite numbers"),
])
def test_bad_run_arguments(name, value, error, message):
    with pytest.raises(error, match=message):
        simulate(**{name: value})


def test_arrays_must_be_network_arrays():
    with pytest.raises(TypeError, match=r"^arrays must be a NetworkArrays; found dict"):
        simulate_network(valid_fields(), **VALID_RUN)


PARAMETERS = {"demand_mean": np.full((3, 5), 2.0), "demand_variance": np.full((3, 5), 4.0),
              "demand_family": np.array([0, 1, 2])}


def test_demand_parameters_run():
    result = simulate(demand=None, **PARAMETERS)
    assert result.stream("demand").sum() > 0


@pytest.mark.parametrize(("changes", "message"), [
    ({}, r"^demand must be given either as draws \(demand\) or as parameters .*not both"),
    ({"demand": None, "demand_variance": None, "demand_family": None},
     r"^demand must be given as draws \(demand\) or as parameters; missing demand_variance, "
     r"demand_family"),
    ({"demand": None, "demand_mean": -PARAMETERS["demand_mean"]},
     r"^demand_mean must hold finite numbers >= 0; found demand_mean\[0, 0\] = "),
    ({"demand": None, "demand_variance": np.ones((3, 4))},
     r"^demand_variance must have shape \(3, 5\); found \(3, 4\)"),
    ({"demand": None, "demand_family": np.array([0, 1, 4])},
     r"^demand_family must hold 0 \(normal\), 1 \(poisson\), 2 \(negative_binomial\), "
     r"3 \(gamma\); found demand_family\[2\] = 4"),
    ({"demand": None, "demand_variance": np.full((3, 5), 2.0)},
     r"^demand_variance must exceed demand_mean for a negative binomial stream \(use 1, "
     r"Poisson, otherwise\); found demand_variance\[2, 0\] = 2\.0 <= demand_mean\[2, 0\] = "
     r"2\.0"),
    ({"demand": None, "demand_level_variance": np.array([0.1, -0.1, 0.0])},
     r"^demand_level_variance must hold finite numbers >= 0; found "
     r"demand_level_variance\[1\] = -0\.1"),
    ({"demand": None, "demand_level_variance": np.zeros(2)},
     r"^demand_level_variance must have shape \(3,\)"),
    ({"demand_mean": None, "demand_variance": None, "demand_family": None,
      "demand_level_variance": np.zeros(3)},
     r"^demand_level_variance goes with demand drawn from parameters"),
])
def test_bad_demand_parameters(changes, message):
    with pytest.raises(ValueError, match=message):
        simulate(**{**PARAMETERS, **changes})


def test_a_zero_level_variance_draws_what_none_draws():
    plain = simulate(demand=None, **PARAMETERS)
    zero = simulate(demand=None, demand_level_variance=np.zeros(3), **PARAMETERS)
    np.testing.assert_array_equal(plain.stream_statistics, zero.stream_statistics)
    wider = simulate(demand=None, demand_level_variance=np.full(3, 0.5), **PARAMETERS)
    assert not np.array_equal(plain.stream_statistics, wider.stream_statistics)


@pytest.mark.parametrize("family", [0, 1, 2, 3])
def test_a_level_factor_widens_sums_as_documented(family):
    """Var of a sum over periods = sum v_t + c (sum q_t + (sum m_t)^2) (`simulate_network`);
    200,000 samples: the sample variance is within 2% (its standard error is under 0.5%)."""
    from engine.simulation.network import _draw_with_level

    m = np.array([3.0, 4.0, 5.0, 0.0]) * (10 if family == 0 else 1)
    v = {0: 0.1 * m**2, 1: m.copy()}.get(family, 2.5 * m)          # the normal rarely cut at 0
    c = 0.3
    out = np.empty((200_000, 4))
    _draw_with_level(np.random.default_rng(5), m, v, family, c, out)
    q = {0: v, 1: 0 * v, 2: v - m, 3: v}[family]
    expected = v.sum() + c * (q.sum() + m.sum() ** 2)
    assert out[:, 3].max() == 0.0                              # a period of mean 0 stays 0
    np.testing.assert_allclose(out.mean(axis=0)[:3], m[:3], rtol=0.01)
    assert out.sum(axis=1).var() == pytest.approx(expected, rel=0.02)


def test_bad_family_type():
    with pytest.raises(TypeError, match=r"^demand_family must be an array of integers"):
        simulate(**{**PARAMETERS, "demand": None, "demand_family": np.array([0.0, 1.0, 2.0])})


def test_bad_result_queries():
    result = simulate()
    with pytest.raises(ValueError, match=r"^name must be one of demand, served, .*; found 'x'"):
        result.stream("x")
    with pytest.raises(ValueError, match=r"^name must be one of avg_on_hand, .*; found 'x'"):
        result.location("x")
    with pytest.raises(ValueError, match=r"^quantiles must be a sequence of numbers in \[0, 1\]"):
        result.summary(quantiles=[0.5, 1.5])


def test_bad_sku_selection():
    with pytest.raises(ValueError, match=r"^skus must hold SKU indices in 0\.\.1; found "
                                         r"skus\[1\] = 2"):
        make().take([0, 2])
    with pytest.raises(TypeError, match=r"^skus must be an array of integers"):
        make().stream_rows([0.5])


def test_the_execution_is_an_argument_and_the_environment_has_no_say(monkeypatch):
    """The execution travels as an argument (`SimulationConfig.execution`), never through the
    environment: the variable that once chose it is ignored."""
    monkeypatch.setenv("OMNISTOCK_SIMULATION_EXECUTION", "fast")
    np.testing.assert_array_equal(simulate().stream_statistics,
                                  simulate(execution="serial").stream_statistics)
    with pytest.raises(ValueError, match=r"^execution must be one of 'serial', 'prange', "
                                         r"'threads'; found None"):
        simulate(execution=None)


def test_executors_say_how_their_simulation_tasks_run():
    from engine.pipeline.distributed import DaskExecutor
    from engine.pipeline.partitions import LocalExecutor
    from engine.stages.simulate import SimulationConfig

    assert SimulationConfig().execution == LocalExecutor.simulation_execution == "threads"
    assert DaskExecutor.simulation_execution == "serial"
