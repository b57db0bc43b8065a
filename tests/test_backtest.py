"""The decision backtest (issue 15): the replay's state table by hand, conservation as a
property, no look-ahead, and a small end-to-end replay with its directory."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtesting import BacktestSettings, backtest, tradeoff, write_backtest
from engine.backtesting.policies import BaselinePolicy, OmnistockPolicy
from engine.backtesting.replay import Decisions, Network, ReplayState, play_period, receive
from engine.backtesting.run import work_units
from engine.cli import main
from engine.pipeline.config import RunConfig

# -- one period at a time, by hand -----------------------------------------------------------------


def _two_locations(backorders: bool) -> Network:
    """One SKU, a DC (0) and a store (1); one stream served by the store only."""
    return Network(series_sku=np.array([0]), preference=np.array([1]),
                   preference_ptr=np.array([0, 1]), order=np.array([0]),
                   backorders=np.array([backorders]))


def _decide(moves=(), purchases=()) -> Decisions:
    d = Decisions.none()
    if moves:
        origin, destination, quantity, lead = map(np.array, zip(*moves, strict=True))
        d.move_sku = np.zeros(len(moves), np.int64)
        d.move_origin, d.move_destination = origin, destination
        d.move_quantity, d.move_lead = quantity.astype(float), lead
        d.move_cost = np.full(len(moves), 0.5)
    if purchases:
        location, quantity, lead = map(np.array, zip(*purchases, strict=True))
        d.purchase_sku = np.zeros(len(purchases), np.int64)
        d.purchase_location, d.purchase_quantity = location, quantity.astype(float)
        d.purchase_lead = lead
    return d


def test_three_periods_two_locations_by_hand():
    state = ReplayState(np.array([[10.0, 2.0]]), np.zeros(1))
    network = _two_locations(backorders=True)
    plays = [
        # t0: 5 units DC -> store arrive at t1; 8 bought at the DC arrive at t2; 4 sold
        (_decide(moves=[(0, 1, 5, 1)], purchases=[(0, 8, 2)]), 4.0),
        # t1: 3 more with lead time 0 arrive at once; 1 sold (and 2 owed)
        (_decide(moves=[(0, 1, 3, 0)]), 1.0),
        # t2: nothing moves; the purchase arrives; 7 sold
        (_decide(), 7.0),
    ]
    rows, streams = [], []
    for t, (decisions, demand) in enumerate(plays):
        received = receive(state, t)                     # the driver's order: receive, decide
        r = play_period(state, t, decisions, np.array([demand]), network, received)
        for location in (0, 1):
            rows.append((t, location, r.start[0, location], r.shipped[0, location],
                         r.receipts[0, location], r.served_at[0, location], r.end[0, location]))
        streams.append((t, r.demand[0], r.owed_before[0], r.served[0], r.served_on_time[0],
                        r.backordered[0], r.lost[0]))
    assert rows == [
        (0, 0, 10, 5, 0, 0, 5), (0, 1, 2, 0, 0, 2, 0),
        (1, 0, 5, 3, 0, 0, 2), (1, 1, 0, 0, 8, 3, 5),
        (2, 0, 2, 0, 8, 0, 10), (2, 1, 5, 0, 0, 5, 0),
    ]
    assert streams == [(0, 4, 0, 2, 2, 2, 0), (1, 1, 2, 3, 1, 0, 0), (2, 7, 0, 5, 5, 2, 0)]
    assert len(state.pending_quantity) == 0


def test_what_arrives_at_the_start_of_a_period_can_move_that_night():
    state = ReplayState(np.array([[0.0, 0.0]]), np.zeros(1))
    network = _two_locations(backorders=True)
    play_period(state, 0, _decide(purchases=[(0, 6, 1)]), np.array([0.0]), network,
                receive(state, 0))
    received = receive(state, 1)                        # the purchase is on hand at t1 ...
    assert received.tolist() == [[6.0, 0.0]]
    r = play_period(state, 1, _decide(moves=[(0, 1, 6, 0)]), np.array([4.0]), network,
                    received)                          # ... and moves to the store at once
    assert r.cut_units == 0 and r.served[0] == 4
    assert r.receipts.tolist() == [[6.0, 6.0]] and r.start.tolist() == [[0.0, 0.0]]
    assert r.end.tolist() == [[0.0, 2.0]]


def test_lost_sales_are_not_owed():
    state = ReplayState(np.array([[0.0, 3.0]]), np.zeros(1))
    r = play_period(state, 0, _decide(), np.array([5.0]), _two_locations(backorders=False))
    assert (r.served[0], r.lost[0], r.backordered[0]) == (3, 2, 0)
    assert state.backlog[0] == 0


def test_a_move_is_cut_to_the_stock_on_hand():
    state = ReplayState(np.array([[4.0, 0.0]]), np.zeros(1))
    r = play_period(state, 0, _decide(moves=[(0, 1, 6, 0)]), np.array([0.0]),
                    _two_locations(backorders=True))
    assert r.cut_units == 2 and r.move_units == 4
    assert r.end.tolist() == [[0.0, 4.0]]


# -- conservation, for any decisions and demand ----------------------------------------------------


@st.composite
def _replays(draw):
    n_sku, n_loc, n_series = (draw(st.integers(1, 3)), draw(st.integers(1, 3)),
                              draw(st.integers(1, 4)))
    preference, pointer = [], [0]
    for _ in range(n_series):
        chosen = draw(st.lists(st.integers(0, n_loc - 1), min_size=1, max_size=n_loc,
                               unique=True))
        preference += chosen
        pointer.append(len(preference))
    network = Network(np.array(draw(st.lists(st.integers(0, n_sku - 1), min_size=n_series,
                                             max_size=n_series))),
                      np.array(preference), np.array(pointer),
                      np.array(draw(st.permutations(range(n_series)))),
                      np.array(draw(st.lists(st.booleans(), min_size=n_series,
                                             max_size=n_series))))
    stock = draw(st.lists(st.integers(0, 30), min_size=n_sku * n_loc, max_size=n_sku * n_loc))
    periods = []
    for _ in range(draw(st.integers(1, 6))):
        moves = draw(st.lists(st.tuples(st.integers(0, n_sku - 1), st.integers(0, n_loc - 1),
                                        st.integers(0, n_loc - 1), st.integers(0, 25),
                                        st.integers(0, 3)), max_size=4))
        buys = draw(st.lists(st.tuples(st.integers(0, n_sku - 1), st.integers(0, n_loc - 1),
                                       st.integers(1, 25), st.integers(0, 3)), max_size=2))
        demand = draw(st.lists(st.integers(0, 20), min_size=n_series, max_size=n_series))
        periods.append((moves, buys, demand))
    return network, np.array(stock, float).reshape(n_sku, n_loc), periods


@settings(max_examples=200, deadline=None)
@given(_replays())
def test_units_are_conserved_in_every_period(replay):
    network, stock, periods = replay
    state = ReplayState(stock.copy(), np.zeros(len(network.series_sku)))
    delivered = 0.0
    sent = 0.0
    for t, (moves, buys, demand) in enumerate(periods):
        d = Decisions.none()
        if moves:
            a = np.array(moves)
            d.move_sku, d.move_origin, d.move_destination = a[:, 0], a[:, 1], a[:, 2]
            d.move_quantity, d.move_lead = a[:, 3].astype(float), a[:, 4]
            d.move_cost = np.zeros(len(a))
        if buys:
            b = np.array(buys)
            d.purchase_sku, d.purchase_location = b[:, 0], b[:, 1]
            d.purchase_quantity, d.purchase_lead = b[:, 2].astype(float), b[:, 3]
        r = play_period(state, t, d, np.array(demand, float), network, receive(state, t))
        assert np.allclose(r.start - r.shipped + r.receipts - r.served_at, r.end)
        assert (r.end >= -1e-9).all()
        assert (r.served <= r.demand + r.owed_before + 1e-9).all()
        assert (r.served_on_time <= r.demand + 1e-9).all()
        assert np.allclose(r.served + r.backordered + r.lost, r.demand + r.owed_before)
        served_by_sku = np.bincount(network.series_sku, weights=r.served,
                                    minlength=stock.shape[0])
        assert np.allclose(r.served_at.sum(axis=1), served_by_sku)
        sent += r.move_units + r.purchase_units
        delivered += r.receipts.sum()
        # everything sent is delivered or still on the way
        assert sent == pytest.approx(delivered + state.pending_quantity.sum())


# -- policies see only the history before the origin ---------------------------------------------


@pytest.mark.parametrize("policy", ["omnistock", "textbook", "empirical"])
def test_decisions_do_not_look_ahead(small_demo, policy):
    ds = small_demo
    t = ds.sizes["period"] - 3
    changed = ds.copy(deep=True)
    changed["sales"].values[:, t:] = changed["sales"].values[:, t:] * 3 + 7
    config = RunConfig(horizon=6)
    decided = []
    for data in (ds, changed):
        state = ReplayState(data["on_hand"].values.astype(float).copy(),
                            np.zeros(data.sizes["series"]))
        rule = OmnistockPolicy(config, refit_every=1) if policy == "omnistock" else \
            BaselinePolicy(policy, config)
        decided.append(rule.decide(data, t, state, 0.95, state.backlog))
    first, second = decided
    for name in ("move_sku", "move_origin", "move_destination", "move_quantity",
                 "purchase_sku", "purchase_location", "purchase_quantity"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name
    assert len(first.move_quantity) + len(first.purchase_quantity) > 0


# -- a small replay end to end ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_backtest(small_demo):
    settings_ = BacktestSettings(periods=3, service_levels=(0.9, 0.98), refit_every=2,
                                 config=RunConfig(horizon=6))
    return backtest(small_demo, settings_), settings_


def test_the_replay_tables_hold_together(small_backtest, small_demo):
    result, settings_ = small_backtest
    periods, streams, summary = result.periods, result.streams, result.summary
    assert set(summary["policy"]) == {"omnistock", "textbook", "empirical", "none"}
    assert np.allclose(periods["start"] - periods["shipped"] + periods["receipts"]
                       - periods["served"], periods["end"])
    assert (streams["served"] <= streams["demand"] + streams["owed_before"] + 1e-9).all()
    # units served at locations = units served to streams, per policy, level and period
    keys = ["policy", "service_level", "date"]
    by_place = periods.groupby(keys)["served"].sum()
    by_stream = streams.groupby(keys)["served"].sum()
    assert np.allclose(by_place.sort_index(), by_stream.reindex(by_place.index).fillna(0))
    # the "*" row adds up its channels
    for (_, _), rows in summary.groupby(["policy", "service_level"]):
        star = rows[rows["channel"] == "*"].iloc[0]
        parts = rows[rows["channel"] != "*"]
        assert star["demand"] == pytest.approx(parts["demand"].sum())
        assert 0 <= star["fill_rate"] <= 1
        assert star["served_at_once"] == pytest.approx(parts["served_at_once"].sum())
    # the actual sales are the demand
    actual = np.nansum(small_demo["sales"].values[:, -settings_.periods:])
    total = summary[summary["channel"] == "*"]["demand"]
    assert np.allclose(total, actual)
    assert result.cut_units == 0
    assert result.refits == {"0.9": 2, "0.98": 2}
    # no moves in the "none" policy
    none = summary[(summary["policy"] == "none") & (summary["channel"] == "*")]
    assert (none["move_units"] == 0).all()
    table = tradeoff(summary)
    assert set(table.columns) >= {"fill_rate", "stock_value", "best_baseline_value", "ratio"}


def test_the_backtest_directory_appears_whole(small_backtest, tmp_path):
    result, settings_ = small_backtest
    target = write_backtest(result, tmp_path / "bt", source="demo", settings=settings_)
    assert sorted(p.name for p in target.iterdir()) == [
        "backtest.html", "manifest.json", "periods.parquet", "streams.parquet",
        "summary.parquet"]
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["settings"]["periods"] == 3 and manifest["cut_move_units"] == 0
    assert "Fill rate against stock" in (target / "backtest.html").read_text()
    pd.testing.assert_frame_equal(pd.read_parquet(target / "summary.parquet"), result.summary)
    with pytest.raises(FileExistsError):
        write_backtest(result, target, source="demo", settings=settings_)
    assert [p.name for p in tmp_path.iterdir()] == ["bt"]     # nothing half-written left


def test_the_command_line_backtest(small_demo_dir, tmp_path, capsys):
    output = tmp_path / "bt"
    code = main(["backtest", "--input", str(small_demo_dir), "--periods", "2", "--output",
                 str(output), "--policies", "textbook,none", "--service-levels", "0.9"])
    assert code == 0
    assert (output / "summary.parquet").exists()
    assert main(["backtest", "--input", str(small_demo_dir), "--periods", "2", "--output",
                 str(output)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["backtest", "--input", str(small_demo_dir), "--periods", "5000", "--output",
                 str(tmp_path / "other")]) == 2
    assert not (tmp_path / "other").exists()


def test_worker_processes_give_the_same_replay(small_demo):
    settings_ = BacktestSettings(periods=2, service_levels=(0.9, 0.95),
                                 policies=("textbook", "none"), config=RunConfig(horizon=4))
    ticks, chunks = [], []
    one = backtest(small_demo, settings_, progress=ticks.append)
    two = backtest(small_demo, settings_, workers=2, progress=chunks.append)
    # in this process every origin reports; from workers every replay of 2 origins
    assert ticks == [1] * 8 and sorted(chunks) == [2] * 4 and work_units(settings_) == 8
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.periods, two.periods)
    pd.testing.assert_frame_equal(one.streams, two.streams)


def test_at_target_start_puts_the_buyer_at_its_echelon_level(small_demo):
    from engine.backtesting.policies import baseline_levels, history_view, with_state
    from engine.backtesting.run import _start_state

    settings_ = BacktestSettings(periods=2, policies=("textbook",), start="at-target",
                                 config=RunConfig(horizon=4))
    first = small_demo.sizes["period"] - 2
    state = _start_state(small_demo, first, 0.95, "textbook", settings_, {})
    view = with_state(history_view(small_demo, first),
                      ReplayState(state.on_hand, np.zeros(small_demo.sizes["series"])), 0.95)
    installation, echelon = baseline_levels(view, "textbook", 0.95, settings_.config)
    dc = np.flatnonzero(small_demo["location_kind"].values == "dc")
    others = np.setdiff1d(np.arange(small_demo.sizes["location"]), dc)
    assert np.array_equal(state.on_hand[:, others], np.ceil(installation[:, others]))
    expected = np.maximum(installation[:, dc[0]],
                          echelon[:, dc[0]] - installation[:, others].sum(axis=1))
    assert np.array_equal(state.on_hand[:, dc[0]], np.ceil(expected))
    assert state.on_hand[:, dc[0]].sum() > 0


def test_a_dask_cluster_gives_the_same_replay(small_demo):
    from engine.pipeline.distributed import DaskExecutor

    settings_ = BacktestSettings(periods=2, service_levels=(0.9,), policies=("empirical",),
                                 config=RunConfig(horizon=4))
    one = backtest(small_demo, settings_)
    with DaskExecutor(workers=2) as executor:
        done = []
        on_dask = backtest(small_demo, settings_, executor=executor, progress=done.append)
    pd.testing.assert_frame_equal(one.summary, on_dask.summary)
    pd.testing.assert_frame_equal(one.streams, on_dask.streams)
    assert sum(done) == work_units(settings_) == 2       # one replay of 2 origins


def test_a_held_forecast_protects_the_periods_ahead_of_tonight(small_demo):
    """Between refits the replay moves the fitted forecast forward; its protection intervals
    must move with it. They did not: a January fit held until May protected January to March
    in March, and the stallion replay lost 45% of April's sales (0.848 delivered for 0.90)."""
    from engine.backtesting.policies import _shifted
    from engine.stages.forecasting import ForecastConfig, add_forecast
    from models.forecast.protection import interval_weights

    fit, _ = add_forecast(small_demo, ForecastConfig(horizon=8, middle_out=False))
    ramp = np.linspace(1.0, 3.0, 8)[None, :] * fit["forecast_mean"].values
    fit = fit.assign(forecast_mean=(("series", "step"), ramp))
    moved = _shifted(fit, 2)
    np.testing.assert_array_equal(moved["forecast_mean"].values[:, 0], ramp[:, 2])
    for prefix in ("protection", "echelon_protection"):
        lead = fit[f"{prefix}_lead_time"].values
        total = lead + fit[f"{prefix}_review_period"].values
        weights = interval_weights(total, 8)
        before = (weights * ramp).sum(axis=1)
        ratio = (weights * moved["forecast_mean"].values).sum(axis=1) / np.where(
            before > 0, before, 1.0)
        active = before > 0
        assert active.sum() > 10 and (ratio[active] > 1.05).all()
        np.testing.assert_allclose(moved[f"{prefix}_mean"].values[active],
                                   fit[f"{prefix}_mean"].values[active] * ratio[active],
                                   rtol=1e-9)
        # the spread is kept: the same coefficient of variation or excess dispersion
        old_cv = fit[f"{prefix}_variance"].values / fit[f"{prefix}_mean"].values ** 2
        new_cv = moved[f"{prefix}_variance"].values / moved[f"{prefix}_mean"].values ** 2
        assert (new_cv[active] <= old_cv[active] + 1e-12).all()
    assert _shifted(fit, 0) is fit
