"""The base-stock replay (`models.policy.replay`): hand-worked state tables, unit conservation,
a plain-Python reference on random inputs, and the argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from models.policy.replay import replay_base_stock

STATE = ("on_hand_start", "receipts", "cleared", "orders", "served", "backordered",
         "on_hand_end", "backlog_end")


def state_table(replay) -> dict[str, list[float]]:
    """The per-period state of the first series, as lists."""
    return {name: getattr(replay, name)[0].tolist() for name in STATE}


def test_hand_worked_lead_time_one():
    # S = 10, 10, 12, 8; d = 4, 9, 15, 3; L = 1. Start: on hand 10, nothing in transit.
    #
    # t  OH start  receive  clear  IP   order  serve  backorder  OH end  backlog
    # 0    10        0        0    10    0       4       0          6       0
    # 1     6        0        0     6    4       6       3          0       3
    # 2     0        4        3     1   11       1      14          0      14
    # 3     0       11       11    -3   11       0       3          0       6
    #
    # t2: 4 arrive, 3 clear the backlog, IP = 1 - 0 + 0 in transit, order 12 - 1 = 11.
    # t3: 11 arrive, all clear 11 of the 14 backordered, IP = 0 - 3 + 0, order 8 + 3 = 11.
    # fill rate 11 / 31 (backorders served later do not count); average on hand 6 / 4.
    replay = replay_base_stock([[10.0, 10.0, 12.0, 8.0]], [[4.0, 9.0, 15.0, 3.0]],
                               lead_time=1)
    assert state_table(replay) == {
        "on_hand_start": [10, 6, 0, 0],
        "receipts": [0, 0, 4, 11],
        "cleared": [0, 0, 3, 11],
        "orders": [0, 4, 11, 11],
        "served": [4, 6, 1, 0],
        "backordered": [0, 3, 14, 3],
        "on_hand_end": [6, 0, 0, 0],
        "backlog_end": [0, 3, 14, 6],
    }
    assert replay.fill_rate.tolist() == [11 / 31]
    assert replay.average_on_hand.tolist() == [1.5]
    assert replay.lead_time == 1


def test_hand_worked_lead_time_zero():
    # S = 5, 5, 5; d = 3, 7, 2; L = 0: the order arrives in the period it is placed, before
    # demand is served.
    #
    # t  OH start  IP   order=receive  clear  serve  backorder  OH end  backlog
    # 0     5       5        0           0      3       0          2       0
    # 1     2       2        3           0      5       2          0       2
    # 2     0      -2        7           2      2       0          3       0
    replay = replay_base_stock([[5.0, 5.0, 5.0]], [[3.0, 7.0, 2.0]], lead_time=0)
    assert state_table(replay) == {
        "on_hand_start": [5, 2, 0],
        "receipts": [0, 3, 7],
        "cleared": [0, 0, 2],
        "orders": [0, 3, 7],
        "served": [3, 5, 2],
        "backordered": [0, 2, 0],
        "on_hand_end": [2, 0, 3],
        "backlog_end": [0, 2, 0],
    }
    assert replay.fill_rate.tolist() == [10 / 12]


def test_hand_worked_lead_time_two():
    # S = 6 throughout; d = 2, 3, 4, 1, 5; L = 2 (the order of t arrives at t + 2).
    #
    # t  OH start  receive  clear  in transit  IP   order  serve  backorder  OH end  backlog
    # 0     6        0        0        0        6     0      2       0          4       0
    # 1     4        0        0        0        4     2      3       0          1       0
    # 2     1        0        0        2        3     3      1       3          0       3
    # 3     0        2        2        3        2     4      0       1          0       2
    # 4     0        3        2        4        5     1      1       4          0       4
    #
    # (in transit after the receipt, before the order; the orders of t3 and t4 are due after
    # the replay ends.)
    replay = replay_base_stock([[6.0] * 5], [[2.0, 3.0, 4.0, 1.0, 5.0]], lead_time=2)
    assert state_table(replay) == {
        "on_hand_start": [6, 4, 1, 0, 0],
        "receipts": [0, 0, 0, 2, 3],
        "cleared": [0, 0, 0, 2, 2],
        "orders": [0, 2, 3, 4, 1],
        "served": [2, 3, 1, 0, 1],
        "backordered": [0, 0, 3, 1, 4],
        "on_hand_end": [4, 1, 0, 0, 0],
        "backlog_end": [0, 0, 3, 2, 4],
    }
    assert replay.fill_rate.tolist() == [7 / 15]


def test_not_trading_is_no_demand_and_no_series_demand_is_nan():
    replay = replay_base_stock([[0.0, 4.0, 4.0], [3.0, 3.0, 3.0]],
                               [[np.nan, 2.0, 5.0], [np.nan, np.nan, np.nan]], lead_time=1)
    assert replay.served[0].tolist() == [0, 0, 2]  # the stock ordered at t1 arrives at t2
    assert replay.fill_rate[0] == pytest.approx(2 / 7)
    assert np.isnan(replay.fill_rate[1])
    assert replay.average_on_hand[1] == 3.0
    assert not replay.served.flags.writeable


def reference_replay(levels: list[float], demand: list[float], lead_time: int) -> dict:
    """One series, one period at a time, in plain Python floats."""
    on_hand, backlog, pipeline = max(levels[0], 0.0), 0.0, {}
    rows = {name: [] for name in STATE}
    for t, (level, d) in enumerate(zip(levels, demand, strict=True)):
        d = 0.0 if d != d else d  # NaN: not trading yet
        rows["on_hand_start"].append(on_hand)
        received = pipeline.pop(t, 0.0)
        on_hand += received
        clear = min(backlog, on_hand)
        on_hand, backlog = on_hand - clear, backlog - clear
        order = max(level - (on_hand - backlog + sum(pipeline.values())), 0.0)
        if lead_time == 0:
            received += order
            on_hand += order
            more = min(backlog, on_hand)
            on_hand, backlog, clear = on_hand - more, backlog - more, clear + more
        else:
            pipeline[t + lead_time] = order
        serve = min(d, on_hand)
        on_hand -= serve
        backlog += d - serve
        for name, value in (("receipts", received), ("cleared", clear), ("orders", order),
                            ("served", serve), ("backordered", d - serve),
                            ("on_hand_end", on_hand), ("backlog_end", backlog)):
            rows[name].append(value)
    return rows


@pytest.mark.parametrize("lead_time", [0, 1, 2, 4])
def test_matches_a_plain_python_loop_per_series(lead_time):
    rng = np.random.default_rng(lead_time)
    n_series, n_periods = 40, 26
    mean = rng.lognormal(1.0, 1.5, n_series)[:, None]
    demand = rng.poisson(rng.gamma(0.8, mean / 0.8, (n_series, n_periods))).astype(float)
    demand[:5, :rng.integers(1, 10)] = np.nan  # launches
    levels = np.maximum(rng.normal(2.5 * mean, mean, (n_series, n_periods)), 0.0)
    levels[7] = -3.0  # a negative level is allowed: it plans to run backorders
    levels[8, 0] = -3.0  # ... and a negative first level starts with nothing on hand
    replay = replay_base_stock(levels, demand, lead_time=lead_time)
    for i in range(n_series):
        expected = reference_replay(levels[i].tolist(), demand[i].tolist(), lead_time)
        for name in STATE:
            np.testing.assert_allclose(getattr(replay, name)[i], expected[name],
                                       rtol=1e-12, atol=1e-9, err_msg=f"{name}, series {i}")
    total = np.nansum(demand, axis=1)
    some = total > 0
    np.testing.assert_allclose(replay.fill_rate[some],
                               replay.served.sum(axis=1)[some] / total[some])
    assert np.isnan(replay.fill_rate[~some]).all()


quantities = st.floats(0.0, 1e4, allow_nan=False, allow_subnormal=False)


@st.composite
def replays(draw):
    """Levels, demand (with NaN launches) and a lead time for a few series."""
    n_series = draw(st.integers(1, 4))
    n_periods = draw(st.integers(1, 12))
    shape = (n_series, n_periods)
    levels = draw(hnp.arrays(np.float64, shape, elements=st.floats(-50.0, 1e4,
                                                                  allow_subnormal=False)))
    demand = draw(hnp.arrays(np.float64, shape, elements=quantities))
    launch = draw(hnp.arrays(np.int64, n_series, elements=st.integers(0, n_periods)))
    demand[np.arange(n_periods)[None, :] < launch[:, None]] = np.nan
    return levels, demand, draw(st.integers(0, 5))


@settings(max_examples=200, deadline=None)
@given(replays())
def test_units_are_conserved(arguments):
    levels, demand, lead_time = arguments
    replay = replay_base_stock(levels, demand, lead_time=lead_time)
    d = np.nan_to_num(demand)
    scale = 1e-9 * (1.0 + np.abs(levels).max() + d.sum())
    # stock: what was there and came in is served, clears backorders or stays
    np.testing.assert_allclose(replay.on_hand_start + replay.receipts,
                               replay.cleared + replay.served + replay.on_hand_end, atol=scale)
    # backorders: the backlog grows by new backorders and shrinks by what is cleared
    backlog_start = np.concatenate([np.zeros((len(d), 1)), replay.backlog_end[:, :-1]], axis=1)
    np.testing.assert_allclose(replay.backlog_end - backlog_start,
                               replay.backordered - replay.cleared, atol=scale)
    np.testing.assert_allclose(replay.served + replay.backordered, d, atol=scale)
    # stock carries over; nothing is negative; on hand and backlog never coexist at the end
    np.testing.assert_allclose(replay.on_hand_start[:, 1:], replay.on_hand_end[:, :-1])
    for name in STATE:
        assert np.all(getattr(replay, name) >= -scale), name
    assert np.all(np.minimum(replay.on_hand_end, replay.backlog_end) <= scale)
    # what arrived was ordered L periods earlier (the start stock is not a receipt)
    if lead_time:
        np.testing.assert_allclose(replay.receipts[:, lead_time:],
                                   replay.orders[:, :-lead_time], atol=scale)
        assert np.all(replay.receipts[:, :lead_time] == 0)
    else:
        np.testing.assert_allclose(replay.receipts, replay.orders)
    fill = replay.fill_rate[d.sum(axis=1) > 0]
    assert np.all((fill >= 0) & (fill <= 1 + 1e-12))


@settings(max_examples=100, deadline=None)
@given(replays())
def test_after_the_first_lead_time_the_position_is_the_level(arguments):
    """Order-up-to every period: once orders can be placed, the inventory position after
    ordering is max(S_t, position before ordering)."""
    levels, demand, lead_time = arguments
    replay = replay_base_stock(levels, demand, lead_time=lead_time)
    after = replay.on_hand_start + replay.receipts - replay.cleared
    backlog_start = np.concatenate([np.zeros((len(levels), 1)), replay.backlog_end[:, :-1]],
                                   axis=1)
    n_periods = levels.shape[1]
    in_transit = np.zeros_like(levels)
    for t in range(n_periods):
        placed = replay.orders[:, max(t - lead_time + 1, 0):t + 1].sum(axis=1)
        in_transit[:, t] = placed if lead_time else 0.0
    position = after - (backlog_start - replay.cleared) + in_transit
    scale = 1e-9 * (1.0 + np.abs(levels).max() + np.nansum(demand))
    assert np.all(position >= levels - scale)
    ordered = replay.orders > 0
    np.testing.assert_allclose(position[ordered], levels[ordered], atol=scale)


@pytest.mark.parametrize(("levels", "demand", "lead_time", "error", "match"), [
    ([[1.0, 2.0]], [[1.0, 2.0, 3.0]], 1, ValueError, r"same shape.*\(1, 2\) and \(1, 3\)"),
    ([1.0, 2.0], [1.0, 2.0], 1, ValueError, r"`levels` must be a two-dimensional.*\(2,\)"),
    ([[1.0, np.nan]], [[1.0, 2.0]], 1, ValueError, r"`levels` must be finite.*period 1"),
    ([[1.0, np.inf]], [[1.0, 2.0]], 1, ValueError, r"`levels` must be finite"),
    ([[1.0, 2.0]], [[1.0, -2.0]], 1, ValueError, r"`demand` must be .* >= 0.*found -2.0"),
    ([[1.0, 2.0]], [[np.inf, 2.0]], 1, ValueError, r"`demand` must be finite"),
    ([[1.0, 2.0]], [["a", "b"]], 1, TypeError, r"`demand` must be an array of numbers"),
    ([[1.0, 2.0]], [[1.0, 2.0]], -1, ValueError, r"`lead_time` must be a whole number >= 0"),
    ([[1.0, 2.0]], [[1.0, 2.0]], 1.5, ValueError, r"`lead_time` .*found 1.5"),
    ([[1.0, 2.0]], [[1.0, 2.0]], "1", ValueError, r"`lead_time` .*found '1'"),
    ([[1.0, 2.0]], [[1.0, 2.0]], True, ValueError, r"`lead_time` .*found True"),
])
def test_bad_arguments_are_named(levels, demand, lead_time, error, match):
    with pytest.raises(error, match=match):
        replay_base_stock(levels, demand, lead_time=lead_time)


def test_whole_float_and_numpy_lead_times_are_accepted():
    first = replay_base_stock([[3.0, 3.0]], [[2.0, 2.0]], lead_time=2.0)
    second = replay_base_stock([[3.0, 3.0]], [[2.0, 2.0]], lead_time=np.int64(2))
    assert first.lead_time == second.lead_time == 2
    np.testing.assert_array_equal(first.served, second.served)
