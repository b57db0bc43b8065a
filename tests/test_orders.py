"""The order-system API (`engine.orders`): loading a run, queries, ATP, sourcing, commits, threads.

One small demo run per module; every check compares against the run directory's own files
(fulfilment rules, inventory, plan, allocation) or the run's dataset, not against the module's
internals.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.orders import Plan, RunDirectoryError, UnknownNameError
from engine.outputs import MOVE_KINDS
from engine.pipeline.config import RunConfig
from engine.pipeline.nightly import InputSource
from engine.pipeline.runlog import RunLog

TOL = 1e-6


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    with open(os.devnull, "w") as sink:
        return engine.run(InputSource(demo_skus=60), RunConfig(horizon=6),
                          tmp_path_factory.mktemp("orders") / "run", log=RunLog(sink))


@pytest.fixture(scope="module")
def run_dir(outcome):
    return outcome.directory


@pytest.fixture(scope="module")
def plan(run_dir):
    """Shared by tests that never commit."""
    return Plan.load(run_dir)


@pytest.fixture(scope="module")
def reference(run_dir, outcome):
    """What the run directory says, read with pandas only."""
    network = run_dir / "network"
    rules = pd.read_parquet(network / "fulfilment.parquet").astype(str)
    inventory = pd.read_parquet(network / "inventory.parquet").astype({"sku": str,
                                                                       "location": str})
    moves = pd.read_parquet(run_dir / "plan.parquet")
    moves = moves[moves["kind"].isin(MOVE_KINDS)]       # not clearance suggestions, purchases
    stock = inventory.groupby(["sku", "location"])["on_hand"].sum()
    outbound = moves.groupby(["sku", "origin"])["quantity"].sum().rename_axis(["sku",
                                                                               "location"])
    stock = stock.sub(outbound, fill_value=0.0)
    ds = outcome.dataset
    position = pd.DataFrame(ds["position_after_plan"].values, index=ds["sku"].values,
                            columns=ds["location"].values).stack()
    streams = pd.read_parquet(run_dir / "forecast.parquet",
                              columns=["sku", "channel", "region"]).drop_duplicates()
    return {
        "eligible": set(map(tuple, rules[["channel", "region", "location"]].to_numpy())),
        "stock": stock.to_dict(),                          # on hand less planned outbound
        "position": position.to_dict(),                    # after tonight's moves
        "fences": pd.read_parquet(run_dir / "allocation.parquet"),
        "streams": streams.reset_index(drop=True),
        "moves": moves,
    }


@pytest.fixture
def fast_switching():
    """Switch threads every 0.1 ms (default 5 ms), so that a call working on unguarded state
    is interrupted mid-update: without the lock these tests fail nearly every time."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(interval)


def _stock_of(reference, sku, location):
    return reference["stock"].get((sku, location), 0.0)


def _lines(reference, n, seed, *, extra_streams=0):
    """``n`` order lines of traded streams (and some untraded ones), 1-6 units each."""
    rng = np.random.default_rng(seed)
    streams = reference["streams"]
    picked = streams.iloc[rng.integers(0, len(streams), n)].reset_index(drop=True)
    if extra_streams:
        plan_channels = sorted({c for c, _, _ in reference["eligible"]})
        regions = sorted({r for _, r, _ in reference["eligible"]})
        odd = pd.DataFrame({
            "sku": picked["sku"].to_numpy()[:extra_streams],
            "channel": rng.choice(plan_channels, extra_streams),
            "region": rng.choice(regions, extra_streams)})
        picked = pd.concat([picked, odd], ignore_index=True)
    return picked.assign(quantity=rng.integers(1, 7, len(picked)).astype(float))


def _check_batch(result, lines, reference, start_stock):
    """Eligibility, stock and ring-fence invariants of one sourcing result."""
    sourced = result[result["status"] == "sourced"]
    for channel, region, location in sourced[["channel", "region", "location"]].to_numpy():
        assert (channel, region, location) in reference["eligible"]
    # every line is accounted for in full
    per_line = result.groupby("line")["quantity"].sum()
    assert np.allclose(per_line.reindex(range(len(lines))).to_numpy(),
                       lines["quantity"].to_numpy())
    # never more than the stock at a location, across all lines of the batch
    taken = sourced.groupby(["sku", "location"])["quantity"].sum()
    for (sku, location), units in taken.items():
        assert units <= start_stock(sku, location) + TOL
    # ring-fences of other streams stay covered by what is left plus what arrives
    by_stream = sourced.groupby(["sku", "channel", "region", "location"])["quantity"].sum()
    fences = reference["fences"].set_index(["sku", "channel", "region", "location"])["units"]
    left_fence = fences.sub(by_stream.reindex(fences.index, fill_value=0.0)).clip(lower=0.0)
    left_fence = left_fence.groupby(level=["sku", "location"]).sum()
    for (sku, location), fenced in left_fence.items():
        arriving = reference["position"][(sku, location)] - _stock_of(reference, sku, location)
        left = start_stock(sku, location) - taken.get((sku, location), 0.0)
        assert left + arriving >= fenced - TOL, (sku, location)


# ------------------------------------------------------------------------------ loading


def test_load_reads_the_run_directory(plan, run_dir, reference):
    assert len(plan.skus) == 60 and "tmall" in plan.channels and "dc_main" in plan.locations
    assert plan.config["horizon"] == 6
    moves = plan.moves()
    assert len(moves) == len(reference["moves"])
    assert moves["quantity"].sum() == pytest.approx(reference["moves"]["quantity"].sum())
    allocation = plan.allocation()
    assert len(allocation) == len(reference["fences"])
    assert allocation["units"].sum() == pytest.approx(reference["fences"]["units"].sum())
    for sku in plan.skus[:10]:
        stock = plan.stock(sku).set_index("location")
        for location, row in stock.iterrows():
            assert row["available"] == pytest.approx(_stock_of(reference, sku, location))
            # the ring-fences are of the stock after tonight's moves
            position = reference["position"][(sku, location)]
            assert row["available"] + row["arriving"] == pytest.approx(position)
            assert row["ring_fenced"] <= position + TOL


def test_queries_return_the_run_directory_rows(plan, run_dir, reference):
    forecast = pd.read_parquet(run_dir / "forecast.parquet")
    sku, channel, region = reference["streams"].iloc[5]
    expected = forecast[(forecast["sku"] == sku) & (forecast["channel"] == channel)
                        & (forecast["region"] == region)].reset_index(drop=True)
    pd.testing.assert_frame_equal(plan.forecast(sku, channel, region), expected,
                                  check_dtype=False)
    targets = pd.read_parquet(run_dir / "targets.parquet")
    expected = targets[targets["sku"] == sku].reset_index(drop=True)
    pd.testing.assert_frame_equal(plan.targets(sku), expected, check_dtype=False)
    location = expected["location"].iloc[0]
    assert list(plan.targets(sku, location)["location"]) == [location]
    moves = reference["moves"]
    some = moves["sku"].iloc[0]
    assert len(plan.moves(some)) == (moves["sku"] == some).sum()
    touching = plan.moves(location="dc_main")
    assert len(touching) == ((moves["origin"] == "dc_main")
                             | (moves["destination"] == "dc_main")).sum()
    assert len(plan.moves(some, "dc_main")) == ((moves["sku"] == some)
                                                & ((moves["origin"] == "dc_main")
                                                   | (moves["destination"] == "dc_main"))).sum()


def test_an_untraded_stream_has_an_empty_forecast(plan, reference):
    traded = set(map(tuple, reference["streams"].to_numpy()))
    sku = plan.skus[0]
    untraded = next((sku, c, r) for c in plan.channels for r in plan.regions
                    if (sku, c, r) not in traded)
    frame = plan.forecast(*untraded)
    assert frame.empty and "mean" in frame.columns


def test_unknown_names_raise_naming_what_exists(plan):
    with pytest.raises(UnknownNameError, match="unknown sku 'NOPE'; the plan has 60 skus"):
        plan.forecast("NOPE", "tmall", "east")
    with pytest.raises(KeyError, match="unknown channel 'tiktok'.*channels: tmall, jd"):
        plan.forecast(plan.skus[0], "tiktok", "east")
    with pytest.raises(ValueError, match="unknown region 'mars'.*regions: "):
        plan.atp(plan.skus[0], "tmall", "mars")
    with pytest.raises(UnknownNameError, match="unknown location 'moon'.*dc_main"):
        plan.targets(plan.skus[0], "moon")
    with pytest.raises(UnknownNameError, match="unknown location 'moon'"):
        plan.moves(location="moon")


def test_loading_a_missing_or_incomplete_directory_is_a_clear_error(tmp_path, run_dir):
    with pytest.raises(FileNotFoundError, match="run directory .*nowhere.* does not exist"):
        Plan.load(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "allocation.parquet").unlink()
    (broken / "network" / "fulfilment.parquet").unlink()
    with pytest.raises(RunDirectoryError, match="incomplete: missing allocation.parquet, "
                                                "network/fulfilment.parquet"):
        Plan.load(broken)
    shutil.copy(run_dir / "allocation.parquet", broken / "allocation.parquet")
    shutil.copy(run_dir / "network" / "fulfilment.parquet",
                broken / "network" / "fulfilment.parquet")
    forecast = pd.read_parquet(broken / "forecast.parquet")
    forecast.drop(columns=["mean"]).to_parquet(broken / "forecast.parquet")
    with pytest.raises(ValueError, match="forecast.parquet in .* lacks columns mean"):
        Plan.load(broken)
    forecast.to_parquet(broken / "forecast.parquet")
    allocation = pd.read_parquet(broken / "allocation.parquet")
    allocation.loc[0, "location"] = "atlantis"
    allocation.to_parquet(broken / "allocation.parquet")
    with pytest.raises(RunDirectoryError, match="allocation.parquet: column location names "
                                                "location 'atlantis'"):
        Plan.load(broken)


# ------------------------------------------------------------------------------ sourcing


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400))
def test_a_batch_never_breaks_eligibility_stock_or_ring_fences(plan, reference, seed, n):
    lines = _lines(reference, n, seed, extra_streams=min(n, 20))
    result = plan.source(lines)
    assert list(result.columns) == ["line", "sku", "channel", "region", "location", "quantity",
                                    "from_allocation", "lead_time", "cost_per_unit", "cost",
                                    "status", "reason"]
    _check_batch(result, lines, reference, lambda s, loc: _stock_of(reference, s, loc))
    assert (result["reason"].str.len() > 0).all()
    unfilled = result[result["status"] == "unfilled"]
    assert unfilled["location"].isna().all() and unfilled["reason"].str.contains("unfilled").all()
    sourced = result[result["status"] == "sourced"]
    assert (sourced["from_allocation"] <= sourced["quantity"] + TOL).all()
    assert np.allclose(sourced["cost"], sourced["quantity"] * sourced["cost_per_unit"])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_stock_override_replaces_the_plans_stock(plan, reference, seed):
    rng = np.random.default_rng(seed)
    lines = _lines(reference, 150, seed)
    skus = rng.choice(lines["sku"].unique(), size=min(5, lines["sku"].nunique()),
                      replace=False)
    given_stock = {(str(s), loc): float(rng.integers(0, 30))
                   for s in skus for loc in rng.choice(plan.locations, 4, replace=False)}

    def start(sku, location):
        if sku in skus:
            return given_stock.get((sku, location), 0.0)
        return _stock_of(reference, sku, location)

    before = plan.stock(str(skus[0]))
    result = plan.source(lines, stock=given_stock)
    sourced = result[result["status"] == "sourced"]
    for (sku, location), units in sourced.groupby(["sku", "location"])["quantity"].sum().items():
        assert units <= start(sku, location) + TOL
    pd.testing.assert_frame_equal(plan.stock(str(skus[0])), before)   # a query changes nothing


def test_other_streams_ring_fences_are_respected(run_dir, reference):
    """Stock fenced for one stream, with nothing arriving, is not given to another stream."""
    plan = Plan.load(run_dir)
    fences = reference["fences"]
    case = None
    for row in fences.itertuples():
        stock = plan.stock(row.sku).set_index("location").loc[row.location]
        fully_fenced = stock["available"] == stock["ring_fenced"] > 0
        if stock["arriving"] > 0 or not fully_fenced:
            continue
        fenced_here = {(f.channel, f.region) for f in fences.itertuples()
                       if f.sku == row.sku and f.location == row.location}
        rivals = [(c, r) for c, r, loc in reference["eligible"]
                  if loc == row.location and (c, r) not in fenced_here]
        if rivals:
            case = row, rivals[0], stock
            break
    assert case is not None, "the demo should have a fully fenced location"
    fence, (channel, region), stock = case
    rival = plan.atp(fence.sku, channel, region).by_location.set_index("location")
    assert rival.loc[fence.location, "units"] == 0.0
    result = plan.source([{"sku": fence.sku, "channel": channel, "region": region,
                           "quantity": 1e6}])
    assert fence.location not in set(result["location"].dropna())
    own = plan.atp(fence.sku, fence.channel, fence.region).by_location.set_index("location")
    assert own.loc[fence.location, "units"] == pytest.approx(fence.units)
    # with three more units there (a stock override), the rival gets exactly those three
    given = plan.stock(fence.sku)
    given = given.assign(sku=fence.sku, units=given["available"])[["sku", "location", "units"]]
    given.loc[given["location"] == fence.location, "units"] += 3
    rival = plan.atp(fence.sku, channel, region, stock=given).by_location.set_index("location")
    assert rival.loc[fence.location, "units"] == pytest.approx(3.0)


def test_a_line_is_split_over_locations_when_one_cannot_fill_it(plan, reference):
    # a stream with two eligible locations and a SKU without ring-fences there
    fences = reference["fences"]
    sku = None
    for channel, region in sorted({(c, r) for c, r, _ in reference["eligible"]}):
        places = plan.atp(plan.skus[0], channel, region).by_location["location"].tolist()
        if len(places) < 2:
            continue
        fenced = set(fences.loc[fences["location"].isin(places), "sku"])
        sku = next((s for s in plan.skus if s not in fenced), None)
        if sku is not None:
            break
    assert sku is not None, "the demo should have a stream with two eligible locations"
    given = {(sku, places[0]): 4.0, (sku, places[1]): 10.0}
    result = plan.source([{"sku": sku, "channel": channel, "region": region,
                           "quantity": 9}], given)
    assert list(result["location"]) == places[:2]
    assert list(result["quantity"]) == [4.0, 5.0]
    assert list(result["status"]) == ["sourced", "sourced"]
    assert result["reason"].iloc[0].startswith(f"choice 1 of {len(places)} for {channel}")
    assert result["reason"].iloc[1].startswith(f"choice 2 of {len(places)}")
    # more than both hold: both emptied, the rest unfilled with its reason
    result = plan.source([{"sku": sku, "channel": channel, "region": region,
                           "quantity": 20}], given)
    assert list(result["quantity"]) == [4.0, 10.0, 6.0]
    assert list(result["status"]) == ["sourced", "sourced", "unfilled"]
    assert result["reason"].iloc[2].startswith("6 units unfilled: no stock left at the "
                                               "eligible locations")


def test_locations_are_tried_in_region_then_lead_time_then_cost_order(plan, run_dir):
    locations = pd.read_parquet(run_dir / "network" / "locations.parquet").astype(str)
    region_of = dict(zip(locations["location"], locations["region"], strict=True))
    for channel in plan.channels:
        for region in plan.regions:
            ranked = plan.atp(plan.skus[0], channel, region).by_location
            elsewhere = [region_of[loc] != region for loc in ranked["location"]]
            assert all(lead == 0 for lead, away in zip(ranked["lead_time"], elsewhere,
                                                      strict=True) if not away)
            key = list(zip(elsewhere, ranked["lead_time"], ranked["cost_per_unit"], strict=True))
            assert key == sorted(key)
    east = plan.atp(plan.skus[0], "tmall", "east").by_location
    assert east["location"].iloc[0] == "tmall_pool_east"        # own pool first in region


def test_a_channel_without_a_rule_in_a_region_gets_nothing(plan, reference):
    channel, region = next((c, r) for c in plan.channels for r in plan.regions
                           if not any(c == a and r == b for a, b, _ in reference["eligible"]))
    result = plan.source([{"sku": plan.skus[0], "channel": channel, "region": region,
                           "quantity": 2}])
    assert list(result["status"]) == ["unfilled"]
    assert f"{channel} may not serve {region}" in result["reason"].iloc[0]
    assert plan.atp(plan.skus[0], channel, region).total == 0.0


def test_atp_is_what_a_large_enough_order_gets(plan, reference):
    streams = reference["streams"].iloc[::7]
    for sku, channel, region in streams.to_numpy():
        available = plan.atp(sku, channel, region)
        result = plan.source([{"sku": sku, "channel": channel, "region": region,
                               "quantity": available.total + 50}])
        sourced = result[result["status"] == "sourced"]
        assert sourced["quantity"].sum() == pytest.approx(available.total)
        by_location = available.by_location.set_index("location")["units"]
        for location, units in sourced.groupby("location")["quantity"].sum().items():
            assert units == pytest.approx(by_location[location])
        assert result["quantity"].iloc[-1] == pytest.approx(50.0)


def test_source_is_a_pure_query_unless_committed(run_dir, reference):
    plan = Plan.load(run_dir)
    sku, channel, region = max(reference["streams"].to_numpy(),
                               key=lambda s: plan.atp(*s).total)
    line = [{"sku": sku, "channel": channel, "region": region, "quantity": 3}]
    total = plan.atp(sku, channel, region).total
    assert total >= 6
    first = plan.source(line)
    pd.testing.assert_frame_equal(plan.source(line), first)
    assert plan.atp(sku, channel, region).total == total

    committed = plan.source(line, commit=True)
    pd.testing.assert_frame_equal(committed, first)
    assert plan.atp(sku, channel, region).total == pytest.approx(total - 3)
    stock = plan.stock(sku).set_index("location")
    assert stock["committed"].sum() == pytest.approx(3.0)
    for location, units in committed.groupby("location")["quantity"].sum().items():
        assert stock.loc[location, "available"] == pytest.approx(
            _stock_of(reference, sku, location) - units)
    # a second call sees less
    big = [{"sku": sku, "channel": channel, "region": region, "quantity": 1e6}]
    assert plan.source(big)["quantity"].iloc[:-1].sum() == pytest.approx(total - 3)
    plan.source(big, commit=True)
    assert plan.atp(sku, channel, region).total == 0.0
    assert plan.source(line)["status"].tolist() == ["unfilled"]


def _joined(calls, results):
    """Lines of many calls as one batch, and their results renumbered to match."""
    offsets = np.cumsum([0] + [len(c) for c in calls[:-1]])
    lines = pd.concat([pd.DataFrame(c) for c in calls], ignore_index=True)
    joined = pd.concat([r.assign(line=r["line"] + o)
                        for r, o in zip(results, offsets, strict=True)], ignore_index=True)
    return lines, joined


def test_a_committed_stock_override_becomes_the_working_stock(run_dir, reference):
    plan = Plan.load(run_dir)
    sku, channel, region = reference["streams"].iloc[0]
    places = plan.atp(sku, channel, region).by_location["location"].tolist()
    given = {(sku, places[0]): 7.0}
    ring_fenced = plan.stock(sku).set_index("location")["ring_fenced"]
    result = plan.source([{"sku": sku, "channel": channel, "region": region, "quantity": 2}],
                         given, commit=True)
    taken = result.loc[result["status"] == "sourced", "quantity"].sum()
    stock = plan.stock(sku).set_index("location")
    assert stock.loc[places[0], "available"] == pytest.approx(7.0 - taken)
    assert stock["available"].drop(places[0]).eq(0).all()      # not listed: 0 units now
    assert (stock["ring_fenced"] <= ring_fenced + TOL).all()
    assert plan.freq == "W-MON"


def test_committed_calls_never_exceed_the_stock_together(run_dir, reference):
    plan = Plan.load(run_dir)
    calls = [_lines(reference, 300, seed).to_dict("records") for seed in range(6)]
    results = [plan.source(call, commit=True) for call in calls]
    lines, joined = _joined(calls, results)
    _check_batch(joined, lines, reference, lambda s, loc: _stock_of(reference, s, loc))
    for sku in plan.skus:
        assert (plan.stock(sku)["available"] >= -TOL).all()


def test_eight_threads_committing_never_over_allocate(run_dir, reference, fast_switching):
    """One stream per SKU: whatever the order, each stream gets exactly its ATP in total."""
    first = Plan.load(run_dir)
    streams = reference["streams"].drop_duplicates("sku")
    streams = [tuple(s) for s in streams.to_numpy() if first.atp(*s).total > 0][:12]
    atp = {s: first.atp(*s).total for s in streams}
    rng = np.random.default_rng(3)
    calls = [[[{"sku": s[0], "channel": s[1], "region": s[2],
                "quantity": float(rng.integers(1, 4))}
               for s in (streams[i] for i in rng.integers(0, len(streams), rng.integers(1, 4)))]
              for _ in range(60)] for _ in range(8)]

    def totals(results):
        out = defaultdict(float)
        for result in results:
            sourced = result[result["status"] == "sourced"]
            for key, units in sourced.groupby(["sku", "channel", "region"])["quantity"].sum(
                    ).items():
                out[key] += units
        return out

    sequential_plan = Plan.load(run_dir)
    sequential = totals([sequential_plan.source(c, commit=True) for batch in calls
                         for c in batch])
    concurrent_plan = Plan.load(run_dir)
    results: list[list[pd.DataFrame]] = [[] for _ in calls]
    barrier = threading.Barrier(len(calls))

    def worker(k):
        barrier.wait()
        for call in calls[k]:
            results[k].append(concurrent_plan.source(call, commit=True))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent = totals([r for batch in results for r in batch])
    assert sum(len(batch) for batch in results) == 8 * 60
    demand = defaultdict(float)
    for batch in calls:
        for call in batch:
            for line in call:
                demand[(line["sku"], line["channel"], line["region"])] += line["quantity"]
    for stream in streams:
        expected = min(atp[stream], demand[stream])
        assert sequential.get(stream, 0.0) == pytest.approx(expected)
        assert concurrent.get(stream, 0.0) == pytest.approx(expected)
        left = concurrent_plan.stock(stream[0])
        assert (left["available"] >= -TOL).all()
        assert left["committed"].sum() == pytest.approx(expected)


def test_eight_threads_on_shared_skus_keep_stock_and_ring_fences(run_dir, reference,
                                                               fast_switching):
    """Streams sharing SKUs and locations: the invariants hold whatever the interleaving."""
    plan = Plan.load(run_dir)
    calls = [[_lines(reference, 25, 100 * k + i).to_dict("records") for i in range(12)]
             for k in range(8)]
    results: list[list[pd.DataFrame]] = [[] for _ in calls]
    barrier = threading.Barrier(len(calls))

    def worker(k):
        barrier.wait()
        results[k] = [plan.source(call, commit=True) for call in calls[k]]

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines, joined = _joined([c for batch in calls for c in batch],
                            [r for batch in results for r in batch])
    _check_batch(joined, lines, reference, lambda s, loc: _stock_of(reference, s, loc))
    sourced = joined[joined["status"] == "sourced"]
    committed = sum(plan.stock(sku)["committed"].sum() for sku in plan.skus)
    assert committed == pytest.approx(sourced["quantity"].sum())


# ------------------------------------------------------------------------------ bad input


def test_bad_lines_raise_naming_the_line_and_field(plan):
    sku = plan.skus[0]
    good = {"sku": sku, "channel": "tmall", "region": "east", "quantity": 1}
    with pytest.raises(ValueError, match=r"line 1, field sku: unknown sku 'NOPE'"):
        plan.source([good, {**good, "sku": "NOPE"}])
    with pytest.raises(ValueError, match=r"line 0, field channel: unknown channel 'tiktok' "
                                         r"\(the plan has channels: tmall"):
        plan.source([{**good, "channel": "tiktok"}])
    with pytest.raises(ValueError, match="line 0, field quantity: expected a number of units "
                                         "> 0, found -1"):
        plan.source([{**good, "quantity": -1}])
    with pytest.raises(ValueError, match="line 0, field quantity: .* found 'two'"):
        plan.source([{**good, "quantity": "two"}])
    with pytest.raises(ValueError, match="line 0: missing field region"):
        plan.source([{k: v for k, v in good.items() if k != "region"}])
    with pytest.raises(ValueError, match="2 problems in lines: line 0, field region: .*; "
                                         "line 1, field quantity"):
        plan.source([{**good, "region": "mars"}, {**good, "quantity": 0}])
    frame = pd.DataFrame([good, good])
    with pytest.raises(ValueError, match="lines lacks field quantity"):
        plan.source(frame.drop(columns=["quantity"]))
    with pytest.raises(ValueError, match="line 1, field quantity: expected a number of units "
                                         "> 0, found -2"):
        plan.source(frame.assign(quantity=[1, -2]))
    with pytest.raises(TypeError, match="lines must be a pandas DataFrame or a list"):
        plan.source(good)
    with pytest.raises(ValueError, match=r"1 problem in stock: key .*'dc_main'\), units: "
                                         r"expected a number of units >= 0, found -5"):
        plan.source([good], {(sku, "dc_main"): -5})
    with pytest.raises(ValueError, match="unknown location 'moon'"):
        plan.source([good], {(sku, "moon"): 5})
    given = pd.DataFrame({"sku": [sku, "NOPE", sku], "location": ["dc_main", "dc_main", "x"],
                          "units": [-1, 2, 3]})
    with pytest.raises(ValueError, match=r"3 problems in stock: row 0, units: expected a "
                                         r"number of units >= 0, found -1; row 1: unknown sku "
                                         r"'NOPE'.*; row 2: unknown location 'x'"):
        plan.source([good], given)
    with pytest.raises(ValueError, match=r"stock names \('.*', 'dc_main'\) more than once"):
        plan.source([good], given.iloc[[0, 0]].assign(units=1.0))
    with pytest.raises(ValueError, match="stock lacks column units"):
        plan.source([good], given.drop(columns=["units"]))
    with pytest.raises(TypeError, match="commit must be True or False"):
        plan.source([good], commit="yes")
    assert plan.source([]).empty
