"""`engine.reoptimize`: the deployment LP again for a few SKUs, the rest of the plan fixed."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

import engine
from engine.orders import Plan, UnknownNameError, reoptimize
from engine.pipeline.config import RunConfig
from engine.pipeline.nightly import InputSource
from engine.pipeline.runlog import RunLog

TOL = 1e-6


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    with open(os.devnull, "w") as sink:
        outcome = engine.run(InputSource(demo_skus=60), RunConfig(horizon=6),
                             tmp_path_factory.mktemp("reoptimize") / "run", log=RunLog(sink))
    return outcome.directory


@pytest.fixture(scope="module")
def plan(run_dir):
    return Plan.load(run_dir)


def _network_tables(run_dir) -> dict[str, pd.DataFrame]:
    tables = {name: pd.read_parquet(run_dir / "network" / f"{name}.parquet")
              for name in ("lanes", "fulfilment", "skus", "locations")}
    for frame in tables.values():
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype(str)
    return tables


@pytest.fixture(scope="module")
def network(run_dir):
    return _network_tables(run_dir)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _busiest(plan: Plan, n: int) -> list[str]:
    """The ``n`` SKUs with the most planned moves."""
    return plan.moves()["sku"].value_counts().index[:n].tolist()


def _check_feasible(new: Plan, skus, before: dict[str, pd.Series], network, config):
    """Moves within the stock they start from, along lanes arriving in time and within the
    capacity all SKUs share; ring-fences at eligible locations within the stock after the
    moves."""
    lanes = network["lanes"]
    in_time = lanes[lanes["lead_time"] <= config["coverage_periods"]]
    usable = set(zip(in_time["origin"], in_time["destination"], strict=True))
    eligible = set(map(tuple, network["fulfilment"][["channel", "region", "location"]]
                       .to_numpy()))
    for sku in skus:
        moves = new.moves(sku)
        assert set(zip(moves["origin"], moves["destination"], strict=True)) <= usable
        out = moves.groupby("origin")["quantity"].sum()
        for location, units in out.items():
            assert units <= before[sku][location] + TOL
        stock = new.stock(sku).set_index("location")
        assert np.allclose(stock["on_hand"], before[sku].reindex(stock.index))
        assert (stock["available"] >= -TOL).all()
        fences = new.allocation(sku)
        assert set(map(tuple, fences[["channel", "region", "location"]].to_numpy())) <= eligible
        fenced = fences.groupby("location")["units"].sum()
        for location, units in fenced.items():
            position = stock.loc[location, "available"] + stock.loc[location, "arriving"]
            assert units <= position + TOL
    capacity = lanes.groupby(["origin", "destination"])["capacity"].sum()
    used = new.moves().groupby(["origin", "destination"])["quantity"].sum()
    assert (used <= capacity.reindex(used.index) + TOL).all()
    # location volume, all SKUs: within capacity, or no more than before the moves
    held, after = _volumes(new, network)
    limit = np.maximum(network["locations"].set_index("location")["capacity"], held)
    assert (after <= limit + 1e-9).all(), (after - limit).max()


def _volumes(plan: Plan, network) -> tuple[pd.Series, pd.Series]:
    """Volume at every location before tonight's moves (stock and inbound) and after them."""
    volume = network["skus"].set_index("sku")["unit_volume"]
    held = pd.Series(0.0, index=plan.locations)
    after = pd.Series(0.0, index=plan.locations)
    for sku in plan.skus:
        stock = plan.stock(sku).set_index("location")
        by_move = plan.moves(sku).groupby("destination")["quantity"].sum()
        inbound = stock["arriving"].sub(by_move, fill_value=0.0)
        held += volume[sku] * (stock["on_hand"] + inbound)
        after += volume[sku] * (stock["on_hand"] - stock["planned_outbound"]
                                + stock["arriving"])
    return held, after


def test_replanning_every_sku_reproduces_the_night(plan, run_dir):
    night = json.loads((run_dir / "manifest.json").read_text())["allocation"]
    again = reoptimize(plan, skus=list(plan.skus))
    (record,) = again.replans
    assert record.status == "optimal"
    assert record.objective == pytest.approx(night["objective"], rel=1e-9)
    pd.testing.assert_frame_equal(_sorted(again.moves()), _sorted(plan.moves()))
    pd.testing.assert_frame_equal(_sorted(again.allocation()), _sorted(plan.allocation()))


def test_reoptimize_changes_only_the_requested_skus(plan, network):
    chosen = _busiest(plan, 3)
    moves, allocation = plan.moves(), plan.allocation()
    stocks = {sku: plan.stock(sku) for sku in plan.skus}
    given = plan.stock(chosen[0])
    given = given.assign(sku=chosen[0], units=given["on_hand"] * 2)[["sku", "location",
                                                                      "units"]]
    new = reoptimize(plan, skus=chosen, stock=given)
    others = [s for s in plan.skus if s not in chosen]
    keep = ~moves["sku"].isin(chosen)
    pd.testing.assert_frame_equal(_sorted(new.moves()[~new.moves()["sku"].isin(chosen)]),
                                  _sorted(moves[keep]))
    pd.testing.assert_frame_equal(
        _sorted(new.allocation()[~new.allocation()["sku"].isin(chosen)]),
        _sorted(allocation[~allocation["sku"].isin(chosen)]))
    for sku in others:
        pd.testing.assert_frame_equal(new.stock(sku), stocks[sku])
    # the plan it started from is untouched
    pd.testing.assert_frame_equal(plan.moves(), moves)
    pd.testing.assert_frame_equal(plan.allocation(), allocation)
    # the re-planned SKUs: feasible from their stock (the override for the first)
    before = {sku: (stocks[sku].set_index("location")["available"]
                    + stocks[sku].set_index("location")["planned_outbound"]) for sku in chosen}
    before[chosen[0]] = given.set_index("location")["units"]
    _check_feasible(new, chosen, before, network, plan.config)
    assert new.replans[-1].skus == tuple(sorted(chosen)) and plan.replans == ()


def test_reoptimize_uses_the_given_stock(plan, network):
    sku = _busiest(plan, 1)[0]
    plenty = {(sku, "dc_main"): 5_000.0}
    new = reoptimize(plan, skus=[sku], stock=plenty)
    stock = new.stock(sku).set_index("location")
    assert stock.loc["dc_main", "on_hand"] == 5_000.0
    assert stock["on_hand"].drop("dc_main").eq(0).all()
    before = {sku: pd.Series(0.0, index=plan.locations).add(
        pd.Series({"dc_main": 5_000.0}), fill_value=0.0)}
    _check_feasible(new, [sku], before, network, plan.config)
    assert new.moves(sku)["origin"].eq("dc_main").all() and len(new.moves(sku)) > 0

    empty = reoptimize(plan, skus=[sku], stock={(sku, "dc_main"): 0.0})
    assert empty.moves(sku).empty
    stock = empty.stock(sku)
    assert (stock["available"] == 0).all()
    fenced = empty.allocation(sku).groupby("location")["units"].sum()
    arriving = stock.set_index("location")["arriving"]
    assert (fenced <= arriving.reindex(fenced.index) + TOL).all()


def test_reoptimize_starts_from_the_stock_left_after_commits(run_dir, network):
    plan = Plan.load(run_dir)
    streams = pd.read_parquet(run_dir / "allocation.parquet")
    sku, channel, region = streams.sort_values("units").iloc[-1][["sku", "channel",
                                                                  "region"]]
    taken = plan.source([{"sku": sku, "channel": channel, "region": region,
                          "quantity": 3}], commit=True)
    assert taken["quantity"].sum() == 3 and (taken["status"] == "sourced").all()
    before = plan.stock(sku).set_index("location")
    start = before["on_hand"] - before["committed"]
    new = reoptimize(plan, skus=[sku])
    after = new.stock(sku).set_index("location")
    assert np.allclose(after["on_hand"], start)
    assert (after["committed"] == 0).all()
    _check_feasible(new, [sku], {sku: start}, network, plan.config)
    # the new plan sources against its own stock and ring-fences
    result = new.source([{"sku": sku, "channel": channel, "region": region,
                          "quantity": 1e6}])
    assert result["quantity"].iloc[:-1].sum() == pytest.approx(
        new.atp(sku, channel, region).total)


def test_capacity_other_skus_use_is_held_fixed(tmp_path):
    """Pools too small for the night's wishes: a re-plan must live with what others leave."""
    ds = engine.demo_inputs(skus=60, seed=0)
    pool = ds["location_kind"].values == "pool"
    ds = ds.assign(location_capacity=("location", np.where(
        pool, 0.6, ds["location_capacity"].values)))
    with open(os.devnull, "w") as sink:
        outcome = engine.run(InputSource(path=engine.write_inputs(ds, tmp_path / "input")),
                             RunConfig(horizon=6), tmp_path / "run", log=RunLog(sink))
    plan = Plan.load(outcome.directory)
    network = _network_tables(outcome.directory)
    _, after = _volumes(plan, network)
    locations = network["locations"]
    pools = locations.loc[locations["kind"] == "pool", "location"]
    full = after.index[(after > 0.6 - 1e-3) & after.index.isin(pools)]
    assert len(full), "some pool should be full after the night's plan"
    moves = plan.moves()
    chosen = moves.loc[moves["destination"].isin(full), "sku"].value_counts().index[:2]
    chosen = chosen.tolist()
    new = reoptimize(plan, skus=chosen, stock={(sku, "dc_main"): 5_000.0 for sku in chosen})
    before = {sku: pd.Series(0.0, index=plan.locations).add(
        pd.Series({"dc_main": 5_000.0}), fill_value=0.0) for sku in chosen}
    _check_feasible(new, chosen, before, network, plan.config)


def test_reoptimize_rejects_bad_arguments(plan):
    with pytest.raises(UnknownNameError, match="unknown sku 'NOPE'; the plan has 60 skus"):
        reoptimize(plan, skus=["NOPE"])
    with pytest.raises(ValueError, match="skus must name at least one SKU"):
        reoptimize(plan, skus=[])
    with pytest.raises(TypeError, match="skus must be a list of SKU names; found str"):
        reoptimize(plan, skus=plan.skus[0])
    first, second = plan.skus[:2]
    with pytest.raises(ValueError, match=f"stock names SKU '{second}', which is not among"):
        reoptimize(plan, skus=[first], stock={(second, "dc_main"): 1.0})
    with pytest.raises(ValueError, match="units: expected a number of units >= 0"):
        reoptimize(plan, skus=[first], stock={(first, "dc_main"): -1.0})
