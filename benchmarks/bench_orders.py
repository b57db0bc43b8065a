"""The order-system API (`engine.orders`) on a demo plan: one-line latency, batches, re-plans.

A nightly run of the weekly demo is made once; `engine.Plan.load` reads it. Figures (printed and
stored in ``benchmark.extra_info``), each next to a reference timed in the same run:

- **load**: `engine.Plan.load` against `pandas.read_parquet` of the files it reads.

- **one line**: p50 and p99 latency of many single-line ``source`` calls (a random traded
  stream each, 1-6 units, list-of-dicts input, no commit); goal p99 under 1 ms. Reference:
  building the one-row result DataFrame with pandas, the floor of any call that returns one.
- **a batch of 10,000 lines** (a DataFrame) with the plan's stock, where most of the demo's
  stock is soon gone and many lines end unfilled, and with a stock picture given as ``stock=``
  (0 to 80 units of every SKU at every location: more lines filled, more split); goal under
  1 s. Reference: the pandas join of the lines with
  the fulfilment rules and the stock table, i.e. what just lining up the candidate locations
  costs before any decision.
- **reoptimize 5 SKUs** (the network's planning dataset already built by an earlier call; the
  first call's extra cost is reported too). Reference: the night's plan stage
  (`engine.stages.plan.add_plan` on the whole planning dataset).

Sizes: ``OMNISTOCK_BENCH_ORDERS_SKUS`` (default 200, or ``OMNISTOCK_BENCH_SKUS`` when that is
smaller, as CI sets it with ``--benchmark-disable``), ``OMNISTOCK_BENCH_ORDER_LINES`` (default
10,000) and ``OMNISTOCK_BENCH_SINGLE_CALLS`` (default 5,000).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest
from benchtools import compare

import engine
from engine.orders import SOURCE_COLUMNS, Plan, reoptimize
from engine.pipeline.config import RunConfig
from engine.pipeline.nightly import InputSource
from engine.pipeline.runlog import RunLog
from engine.stages.plan import add_plan


def _size(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@pytest.fixture(scope="module")
def bench_order_skus() -> int:
    if "OMNISTOCK_BENCH_ORDERS_SKUS" in os.environ:
        return int(os.environ["OMNISTOCK_BENCH_ORDERS_SKUS"])
    return min(200, int(os.environ.get("OMNISTOCK_BENCH_SKUS", 200)))


@pytest.fixture(scope="module")
def night(tmp_path_factory, bench_order_skus):
    with open(os.devnull, "w") as sink:
        return engine.run(InputSource(demo_skus=bench_order_skus), RunConfig(),
                          tmp_path_factory.mktemp("orders") / "run", log=RunLog(sink))


@pytest.fixture(scope="module")
def streams(night) -> pd.DataFrame:
    return pd.read_parquet(night.directory / "forecast.parquet",
                           columns=["sku", "channel", "region"]).drop_duplicates(
                               ignore_index=True)


def _lines(streams: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lines = streams.iloc[rng.integers(0, len(streams), n)].reset_index(drop=True)
    return lines.assign(quantity=rng.integers(1, 7, n).astype(float))


def test_load(benchmark, night):
    files = sorted(night.directory.glob("*.parquet")) + sorted(
        (night.directory / "network").glob("*.parquet"))
    files = [f for f in files if f.name != "kpis.parquet"]
    ratio = compare(benchmark, lambda: Plan.load(night.directory),
                    lambda: [pd.read_parquet(f) for f in files], rounds=3,
                    label="read_parquet")
    assert ratio != ratio or ratio < 10, f"loading takes {ratio:.1f}x reading the files"


def test_one_line_latency(benchmark, night, streams):
    plan = Plan.load(night.directory)
    calls = _size("OMNISTOCK_BENCH_SINGLE_CALLS", 5_000)
    lines = _lines(streams, calls, 1).to_dict("records")
    for line in lines[:200]:                                     # warm up
        plan.source([line])
    seconds: list[float] = []

    def singles():
        seconds.clear()
        for line in lines:
            start = time.perf_counter()
            plan.source([line])
            seconds.append(time.perf_counter() - start)

    one_row = {name: [0] for name in SOURCE_COLUMNS}
    frames: list[float] = []
    for _ in range(calls):
        start = time.perf_counter()
        pd.DataFrame(one_row)
        frames.append(time.perf_counter() - start)
    benchmark.pedantic(singles, rounds=1, iterations=1, warmup_rounds=0)
    if benchmark.disabled:
        return
    p50, p99 = (float(np.percentile(seconds, q)) * 1e3 for q in (50, 99))
    frame = float(np.median(frames)) * 1e3
    ratio = p50 / frame
    benchmark.extra_info.update({"p50_ms": p50, "p99_ms": p99, "calls": calls,
                                 "dataframe_ms": frame, "ratio": ratio})
    print(f"\none-line source: p50 {p50:.3f} ms, p99 {p99:.3f} ms over {calls:,} calls "
          f"(one-row DataFrame {frame:.3f} ms: p50 ratio {ratio:.1f})")
    assert ratio < 20, f"a one-line call takes {ratio:.1f}x building its result frame"


def _join_reference(night, lines: pd.DataFrame):
    rules = pd.read_parquet(night.directory / "network" / "fulfilment.parquet").astype(str)
    stock = pd.read_parquet(night.directory / "network" / "inventory.parquet").astype(
        {"sku": str, "location": str})

    def join():
        candidates = lines.reset_index().merge(rules, on=["channel", "region"])
        return candidates.merge(stock, on=["sku", "location"], how="left")

    return join


@pytest.mark.parametrize("stock", ["plan", "given"])
def test_batch_of_lines(benchmark, night, streams, stock):
    plan = Plan.load(night.directory)
    n = _size("OMNISTOCK_BENCH_ORDER_LINES", 10_000)
    lines = _lines(streams, n, 2)
    given = None
    if stock == "given":
        rng = np.random.default_rng(3)
        given = pd.DataFrame([(s, loc, float(rng.integers(0, 81))) for s in plan.skus
                              for loc in plan.locations], columns=["sku", "location", "units"])
    result = plan.source(lines, given)
    assert np.allclose(result.groupby("line")["quantity"].sum(), lines["quantity"])
    ratio = compare(benchmark, lambda: plan.source(lines, given),
                    _join_reference(night, lines), rounds=5, label="pandas_join")
    if benchmark.disabled:
        return
    unfilled = float(result.loc[result["status"] == "unfilled", "quantity"].sum())
    split = int((result[result["status"] == "sourced"].groupby("line").size() > 1).sum())
    seconds = benchmark.stats.stats.median
    benchmark.extra_info.update({"lines": n, "rows": len(result), "split_lines": split,
                                 "unfilled_share": unfilled / lines["quantity"].sum(),
                                 "lines_per_second": n / seconds})
    print(f"{n:,}-line batch ({stock} stock): {seconds:.3f} s, {n / seconds:,.0f} lines/s, "
          f"{split} lines split, {unfilled / lines['quantity'].sum():.0%} of units unfilled")
    assert ratio < 20, f"sourcing takes {ratio:.1f}x the pandas join of lines and rules"


def test_reoptimize_five_skus(benchmark, night):
    plan = Plan.load(night.directory)
    counts = plan.moves()["sku"].value_counts()
    five = counts.index[:5].tolist()
    start = time.perf_counter()
    reoptimize(plan, skus=five)                 # builds the network's planning dataset once
    first = time.perf_counter() - start
    whole = night.dataset.drop_dims([d for d in ("move", "allocation", "slow_mover")
                                     if d in night.dataset.dims])
    config = RunConfig().plan()
    ratio = compare(benchmark, lambda: reoptimize(plan, skus=five),
                    lambda: add_plan(whole, config), rounds=5, label="night_plan_stage")
    if benchmark.disabled:
        return
    benchmark.extra_info.update({"first_call_seconds": first, "skus": five})
    print(f"reoptimize 5 SKUs: {benchmark.stats.stats.median:.3f} s (first call {first:.3f} s, "
          f"building the network dataset), {ratio:.2f}x the night's plan stage")
    assert ratio < 1.0, f"a 5-SKU re-plan takes {ratio:.2f}x the whole night's plan stage"
