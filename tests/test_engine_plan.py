"""The plan stage on the demo network: feasible moves, reasons, fallback, slow movers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import solvers
from engine import cli
from engine.network import lane_kinds
from engine.stages.forecasting import ForecastConfig, add_forecast
from engine.stages.plan import (
    PlanConfig,
    add_plan,
    add_slow_movers,
    build_problem,
    closed_locations,
    in_launch,
    plan_table,
    usable_lanes,
)
from engine.stages.targets import add_targets


@pytest.fixture(scope="module")
def targeted(small_demo):
    ds, _ = add_forecast(small_demo, ForecastConfig(horizon=8, middle_out=False))
    return add_targets(ds)


@pytest.fixture(scope="module")
def planned(targeted):
    return add_plan(targeted, PlanConfig())


def test_the_plan_is_optimal_and_feasible(planned, targeted):
    ds, outcome = planned
    assert outcome.status == "optimal" and np.isfinite(outcome.objective)
    assert ds.sizes["move"] > 0
    sku = pd.Index(ds["sku"].values).get_indexer(ds["move_sku"].values)
    origin = pd.Index(ds["location"].values).get_indexer(ds["move_origin"].values)
    shipped = np.zeros(ds["on_hand"].shape)
    np.add.at(shipped, (sku, origin), ds["move_quantity"].values)
    assert (shipped <= targeted["on_hand"].values + 1e-9).all()       # only stock on hand moves
    assert (ds["move_quantity"].values > 0).all()
    packs = ds["pack_size"].values[sku]
    assert np.allclose(ds["move_quantity"].values % packs, 0)         # whole packs
    before = targeted["on_hand"].values + ds["inbound"].values
    assert np.allclose(ds["position_after_plan"].values.sum(axis=1), before.sum(axis=1))
    assert (ds["position_after_plan"].values >= -1e-9).all()


def test_moves_use_lanes_that_arrive_in_time_with_their_kinds(planned, targeted):
    ds, _ = planned
    lanes = pd.Series(lane_kinds(targeted), index=targeted["lane"].values)
    allowed = set(targeted["lane"].values[usable_lanes(targeted, PlanConfig())])
    assert set(ds["move_lane"].values) <= allowed
    assert (lanes[ds["move_lane"].values].to_numpy() == ds["move_kind"].values).all()
    assert all(reason for reason in ds["move_reason"].values)
    deploy = ds["move_kind"].values == "deploy"
    assert all(r.startswith("forward deploy") for r in ds["move_reason"].values[deploy])


def test_the_problem_respects_the_channel_rules(targeted):
    problem = build_problem(targeted, PlanConfig())
    stream_channel = pd.Index(targeted["channel"].values).get_indexer(
        targeted["series_channel"].values)
    stream_region = pd.Index(targeted["region"].values).get_indexer(
        targeted["series_region"].values)
    pairs_ok = targeted["eligible"].values[stream_channel[problem.pair_stream],
                                           stream_region[problem.pair_stream],
                                           problem.pair_location]
    assert pairs_ok.all()
    widths = np.asarray(problem.segment_width)
    values = np.asarray(problem.segment_value)
    assert (np.diff(values, axis=1) <= 1e-12).all()                   # concave curves
    assert np.isinf(widths[:, -1]).all()


def test_plan_table(planned):
    ds, _ = planned
    table = plan_table(ds)
    assert list(table.columns) == ["sku", "origin", "destination", "quantity", "kind", "reason",
                                   "channel", "discount_band", "lane"]
    assert set(table["kind"]) <= {"deploy", "transfer", "cross_channel", "purchase",
                                  "clearance"}
    # moves first, then the purchases (origin: the supplier, no lane), then the suggestions
    order = table["kind"].map({"deploy": 0, "transfer": 0, "cross_channel": 0, "purchase": 1,
                               "clearance": 2})
    assert order.is_monotonic_increasing
    purchases = table[table["kind"] == "purchase"]
    assert (purchases["origin"] == "supplier").all() and (purchases["lane"] == "").all()


def test_slow_movers_get_a_clearance_suggestion(targeted):
    ds = targeted.copy()
    on_hand = ds["on_hand"].values.copy()
    on_hand[0] = 0
    on_hand[0, 0] = 1e6                                    # SKU 0 flooded at the DC
    ds["on_hand"] = (("sku", "location"), on_hand)
    planned, _ = add_plan(ds, PlanConfig())
    table = plan_table(planned)
    row = table[(table["kind"] == "clearance") & (table["sku"] == ds["sku"].values[0])]
    assert len(row) == 1
    assert row["discount_band"].iloc[0] == "40-60%"
    assert row["channel"].iloc[0] in set(ds["channel"].values)
    assert row["quantity"].iloc[0] > 9e5


def test_slow_mover_cover_is_in_weeks_whatever_the_period(targeted):
    # 100 periods of cover: slow on weekly data (100 weeks > 26), not on daily data (100 days)
    from engine.stages.plan import add_slow_movers

    planned, _ = add_plan(targeted, PlanConfig())
    sku = 3
    per_period = planned["forecast_mean"].values.mean(axis=1)
    demand = per_period[planned["series_sku"].values == planned["sku"].values[sku]].sum()
    on_hand = np.zeros_like(planned["on_hand"].values)
    on_hand[sku, 0] = 100 * demand
    flooded = planned.assign(on_hand=(("sku", "location"), on_hand),
                             inbound=(("sku", "location"), np.zeros_like(on_hand)))
    weekly = add_slow_movers(flooded, PlanConfig())
    assert weekly["slow_sku"].values.tolist() == [planned["sku"].values[sku]]
    assert weekly["slow_cover"].values[0] == pytest.approx(100)                 # weeks
    daily = flooded.copy()
    daily.attrs["freq"] = "D"          # (its 104 periods of history are now 104 days: a SKU
    established = PlanConfig(launch_weeks=0)             # in its launch unless told otherwise)
    assert add_slow_movers(daily, established).sizes["slow_mover"] == 0
    daily["on_hand"] = (("sku", "location"), on_hand * 2)                       # 200 days
    assert add_slow_movers(daily, PlanConfig()).sizes["slow_mover"] == 0
    slow = add_slow_movers(daily, established)
    assert slow["slow_cover"].values.tolist() == pytest.approx([200 / 7])


def test_a_failed_lp_falls_back_to_the_policy_plan(targeted, monkeypatch, tmp_path, capsys):
    real = solvers.solve_deployment

    def failing(problem, **kwargs):
        result = real(problem, **kwargs)
        return type(result)(**{**{f: getattr(result, f) for f in result.__dataclass_fields__},
                               "status": solvers.SolveStatus.ERROR})

    monkeypatch.setattr("engine.stages.plan.solve_deployment", failing)
    ds, outcome = add_plan(targeted, PlanConfig())
    assert outcome.status.startswith("fallback")
    assert len(outcome.fallback_skus) == targeted.sizes["sku"]
    below = targeted["on_hand"].values < targeted["target_reorder_point"].values
    assert ds.sizes["move"] > 0 and below.any()
    target = tmp_path / "run"
    assert cli.main(["run", "--demo", "--skus", "50", "--horizon", "4", "--output",
                     str(target)]) == 3
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["allocation"]["status"].startswith("fallback")
    assert manifest["fallbacks"]["allocation_skus"]["count"] == 50
    capsys.readouterr()


def test_a_failed_chunk_falls_back_alone(targeted, monkeypatch):
    # the LP of the chunk holding SKU 0 fails; the other chunks keep their LP plan and SKU 0
    # gets the policy plan on its inventory position
    import solvers.deployment as deployment

    real = deployment._solve

    def failing_first(program, backend, left, pulp_solver):
        solution = real(program, backend, left, pulp_solver)
        failing_first.calls += 1
        if failing_first.calls == 1:
            return type(solution)(**{**{f: getattr(solution, f)
                                       for f in solution.__dataclass_fields__},
                                    "status": solvers.SolveStatus.ERROR})
        return solution

    failing_first.calls = 0
    monkeypatch.setattr(deployment, "_solve", failing_first)
    targeted = targeted.assign(   # no shared capacity: the SKUs are solved in chunks
        location_capacity=("location", np.full(targeted.sizes["location"], np.inf)),
        lane_capacity=("lane", np.full(targeted.sizes["lane"], np.inf)))
    ds, outcome = add_plan(targeted, PlanConfig(chunk_skus=10))
    assert outcome.chunks == -(-targeted.sizes["sku"] // 10)
    assert outcome.status.startswith("optimal; 10 SKUs fell back")
    assert outcome.fallback_skus == tuple(targeted["sku"].values[:10])
    moved = set(ds["move_sku"].values)
    assert moved - set(targeted["sku"].values[:10])          # the LP chunks still move stock
    # the fallback's moves for the first ten SKUs: the policy plan on inventory positions
    from engine.network import location_priority
    from engine.stages.plan import policy_plan, usable_lanes
    sku, _, quantity = policy_plan(targeted, usable_lanes(targeted, PlanConfig()),
                                   location_priority(targeted), skus=np.arange(10))
    mine = np.isin(ds["move_sku"].values, targeted["sku"].values[:10])
    assert ds["move_quantity"].values[mine].sum() == pytest.approx(quantity.sum())
    assert set(sku) <= set(range(10))


def test_both_solvers_give_the_same_objective(targeted):
    small = targeted.isel(sku=slice(0, 12))
    small = small.isel(series=np.flatnonzero(np.isin(small["series_sku"].values,
                                                     small["sku"].values)))
    _, highs = add_plan(small, PlanConfig(solver="highs"))
    _, pulp = add_plan(small, PlanConfig(solver="pulp"))
    assert highs.objective == pytest.approx(pulp.objective, rel=1e-6)


def test_the_allocation_ring_fences_stock_where_the_stream_may_draw(planned, targeted):
    from engine.stages.plan import allocation_table

    ds, _ = planned
    table = allocation_table(ds)
    assert len(table) > 0 and (table["units"] > 0).all()
    assert np.allclose(table["units"], np.round(table["units"]))
    channel = pd.Index(ds["channel"].values).get_indexer(table["channel"])
    region = pd.Index(ds["region"].values).get_indexer(table["region"])
    location = pd.Index(ds["location"].values).get_indexer(table["location"])
    assert ds["eligible"].values[channel, region, location].all()
    held = table.groupby(["sku", "location"])["units"].sum()
    sku = pd.Index(ds["sku"].values).get_indexer(held.index.get_level_values(0))
    where = pd.Index(ds["location"].values).get_indexer(held.index.get_level_values(1))
    assert (held.to_numpy() <= ds["position_after_plan"].values[sku, where] + 1e-9).all()


def test_the_phased_plan_has_no_dc_floor(targeted):
    # the demo's DC serves a few channels itself, yet the time-phased plan gives it no
    # installation floor (the whole SKU's demand over the supplier lead time): its stock is
    # valued by the demand its moves reach; the warehouses keep their reorder points
    from engine.stages.plan import build_problem

    dc = np.flatnonzero(targeted["location_kind"].values == "dc")
    phased = build_problem(targeted, PlanConfig())
    single = build_problem(targeted, PlanConfig(phased=False))
    assert phased.periods == PlanConfig().coverage_periods and single.periods == 1
    assert np.isin(dc, phased.pair_location).all()              # it serves streams
    assert (single.safety_stock[:, dc] > 0).any()
    assert (phased.safety_stock[:, dc] == 0).all()
    rdc = targeted["location_kind"].values == "rdc"
    assert np.array_equal(phased.safety_stock[:, rdc], single.safety_stock[:, rdc])


def test_a_daily_network_is_replenished_along_week_long_lanes():
    """Daily lanes of up to 10 days: the phased horizon stretches to the longest replenishment
    lane + 1 periods, so tonight's moves can use every replenishment lane."""
    import engine
    from engine.network import replenishment_lane
    from engine.stages.plan import plan_horizon
    from engine.stages.targets import add_targets

    ds = engine.demo_inputs(skus=50, seed=3, freq="D")
    ds, _ = add_forecast(ds, ForecastConfig(horizon=14, middle_out=False))
    ds = add_targets(ds)
    lane = replenishment_lane(ds)
    longest = int(np.ceil(ds["lead_time"].values[lane[lane >= 0]].max()))
    assert longest >= PlanConfig().coverage_periods         # the default horizon is too short
    config = plan_horizon(ds, PlanConfig())
    assert config.coverage_periods == longest + 1
    assert plan_horizon(ds, PlanConfig(phased=False)).coverage_periods == 4
    assert usable_lanes(ds, config).size > usable_lanes(ds, PlanConfig()).size
    planned, outcome = add_plan(ds, PlanConfig())
    assert outcome.status == "optimal"
    moved = planned["move_lane"].values
    lead = pd.Series(ds["lead_time"].values, index=ds["lane"].values)[moved].to_numpy()
    assert (lead >= PlanConfig().coverage_periods).any()    # a week-long lane carries stock


def test_the_plan_values_service_with_the_simulations_penalties(targeted):
    """A backorder stream's per-period value is what the simulation charges per period a unit
    waits; a lost-sale stream's is its margin spread over the horizon (`engine.economics`)."""
    from engine.economics import shortage_costs, stream_backorders, stream_margins
    from engine.stages.simulate import SimulationConfig, network_arrays
    from models.policy.value import COARSE_GRID, value_curves

    config = PlanConfig()
    problem = build_problem(targeted, config)
    C = problem.periods
    waits = stream_backorders(targeted)
    assert waits.any() and (~waits).any()
    charged = network_arrays(targeted, SimulationConfig()).shortage_cost
    np.testing.assert_allclose(charged, shortage_costs(targeted))
    margin = stream_margins(targeted)
    np.testing.assert_allclose(charged[~waits], margin[~waits])
    np.testing.assert_allclose(charged[waits], 0.1 * margin[waits])      # weekly: 10% a week
    # unit curves (value 1) of the same demand: the plan's curves are v x them
    mean = np.cumsum(targeted["forecast_mean"].values[:, :C], axis=1).ravel()
    variance = np.cumsum(targeted["forecast_variance"].values[:, :C], axis=1).ravel()
    counts = np.repeat(targeted["forecast_distribution"].values[:, 0] != "normal", C)
    _, unit = value_curves(mean, variance, np.ones(mean.size), counts=counts, grid=COARSE_GRID)
    unit = unit.reshape(problem.period_value.shape)
    expected = np.where(waits, charged, margin / C)
    np.testing.assert_allclose(problem.period_value, expected[:, None, None] * unit, rtol=1e-12)
    # a backordered unit waiting the whole horizon costs less than a lost sale
    assert (expected[waits] * C < margin[waits]).all()


def test_daily_backorders_cost_a_seventh_of_the_weekly_rate_per_period():
    from engine.economics import BACKORDER_COST_PER_WEEK, backorder_cost_rate

    assert backorder_cost_rate("D") == pytest.approx(BACKORDER_COST_PER_WEEK / 7)
    assert backorder_cost_rate("W-MON") == pytest.approx(BACKORDER_COST_PER_WEEK)
    assert backorder_cost_rate("MS") == pytest.approx(BACKORDER_COST_PER_WEEK * 365.25 / 12 / 7)


def test_serving_away_from_the_primary_location_costs_at_least_the_lane_into_it(targeted):
    from engine.economics import OFF_PRIMARY_COST
    from engine.network import primary_location, replenishment_lane

    problem = build_problem(targeted, PlanConfig())
    primary = primary_location(targeted)[problem.pair_stream]
    at_primary = problem.pair_location == primary
    assert at_primary.any() and (~at_primary).any()
    assert (problem.fulfilment_cost[at_primary] == 0).all()
    away = ~at_primary
    sku = problem.stream_sku[problem.pair_stream[away]]
    lane = replenishment_lane(targeted)[primary[away]]
    leg = np.where(lane >= 0, targeted["cost_per_unit"].values[np.maximum(lane, 0)], 0.0)
    np.testing.assert_allclose(problem.fulfilment_cost[away],
                               np.maximum(leg, OFF_PRIMARY_COST
                                          * targeted["unit_cost"].values[sku]))
    assert (problem.fulfilment_cost[away] > 0).all()


def test_a_location_of_capacity_0_receives_nothing(targeted):
    """Capacity 0 is a closed location (issue 17, point 9: the plan still moved 286 units in):
    no move or purchase goes to it, and the manifest lists it."""
    ds = targeted.copy()
    capacity = ds["location_capacity"].values.copy()
    names = list(ds["location"].values)
    for closed in ("rdc_east", "dc_main"):
        capacity[names.index(closed)] = 0.0
    ds["location_capacity"] = ("location", capacity)
    before, _ = add_plan(targeted)
    assert (before["move_destination"].values == "rdc_east").any()
    assert (before["purchase_location"].values == "dc_main").any()
    after, _ = add_plan(ds)
    assert not (after["move_destination"].values == "rdc_east").any()
    assert not (after["purchase_location"].values == "dc_main").any()
    assert (after["move_origin"].values == "rdc_east").any()     # its stock may still leave
    assert closed_locations(ds) == ["dc_main", "rdc_east"]


def test_a_sku_in_its_launch_is_never_cleared(planned):
    """A new SKU with stock and no sales history was offered a 40-60% markdown (issue 17,
    point 4): a SKU without a sales row, or whose first is less than `launch_weeks` ago, is not
    a slow mover; a SKU that has sold nothing for a year is, from where its stock is."""
    ds = planned[0].copy()
    config = PlanConfig()
    sku = pd.Index(ds["sku"].values).get_indexer(ds["series_sku"].values)
    sales = ds["sales"].values.copy()
    on_hand = ds["on_hand"].values.copy()
    new, dead, recent = 0, 1, 2
    sales[sku == new] = np.nan                                  # no sales row at all
    sales[sku == dead] = np.where(np.isnan(sales[sku == dead]), np.nan, 0.0)
    sales[sku == recent] = np.nan
    sales[np.flatnonzero(sku == recent), -3:] = 0.0              # listed three weeks ago
    forecast = ds["forecast_mean"].values.copy()
    forecast[np.isin(sku, (new, dead, recent))] = 0.0
    on_hand[[new, dead, recent], 3] = 500.0
    ds = ds.assign(sales=(("series", "period"), sales),
                   forecast_mean=(("series", "step"), forecast),
                   on_hand=(("sku", "location"), on_hand))
    assert in_launch(ds, config)[[new, dead, recent]].tolist() == [True, False, True]
    slow = add_slow_movers(ds, config)
    listed = dict(zip(slow["slow_sku"].values, slow["slow_location"].values, strict=True))
    names = ds["sku"].values
    assert names[new] not in listed and names[recent] not in listed
    assert listed[names[dead]] == ds["location"].values[on_hand[dead].argmax()]
    assert (slow["slow_surplus"].values >= 1).all()
    rows = plan_table(slow)
    assert (rows.loc[rows["kind"] == "clearance", "origin"] != "").all()
