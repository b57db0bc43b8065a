"""The deployment LP at about 1e5 and 1e6 variables, PuLP against HiGHS, and a whole nightly run.

- build against solve: `build_deployment_lp` (the sparse matrices of the whole LP) as a ratio to
  a bare HiGHS solve of the same LP (goal: at most 0.2), at about 1e5 and 1e6 columns of the
  benchmark network of `bench_solver` (uncoupled: capacities that cannot bind);
- PuLP against HiGHS: `solve_deployment` with each backend on the 1e5 instance, one LP each;
- the nightly run: the whole `engine.run` (load, forecast, targets, plan, simulate, outputs) on
  the weekly demo of ``OMNISTOCK_BENCH_RUN_SKUS`` SKUs (default 10,000), seconds per stage.

Sizes: ``OMNISTOCK_BENCH_LP_COLUMNS`` (comma separated, default ``100000,1000000``) and
``OMNISTOCK_BENCH_RUN_SKUS``; CI runs them small with ``--benchmark-disable``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest
from bench_solver import bare_highs, network
from benchtools import compare

from engine import InputSource, RunConfig, run
from engine.pipeline.runlog import RunLog
from solvers import SolveStatus, build_deployment_lp, solve_deployment

COLUMNS = [int(c) for c in os.environ.get("OMNISTOCK_BENCH_LP_COLUMNS",
                                          "100000,1000000").split(",")]


def _skus_for(columns: int) -> int:
    per_sku = build_deployment_lp(network(50, coupled=False)).program.shape[1] / 50
    return max(5, round(columns / per_sku))


@pytest.mark.parametrize("columns", COLUMNS)
def test_build_against_highs_solve(benchmark, columns):
    problem = network(_skus_for(columns), coupled=False)
    lp = build_deployment_lp(problem)
    ratio = compare(benchmark, lambda: build_deployment_lp(problem),
                    lambda: bare_highs(lp.program), rounds=2, label="highs_solve")
    if not benchmark.disabled:
        benchmark.extra_info.update({"columns": lp.program.shape[1], "rows": lp.program.shape[0],
                                     "skus": problem.n_skus})
        print(f"  {lp.program.shape[1]:,} columns, {lp.program.shape[0]:,} rows: build / solve "
              f"= {ratio:.3f}")


def test_pulp_against_highs(benchmark):
    problem = network(_skus_for(COLUMNS[0]), coupled=False)
    timings = {}

    def highs():
        tic = time.perf_counter()
        result = solve_deployment(problem, backend="highs", chunk_skus=None)
        timings.setdefault("highs", []).append(time.perf_counter() - tic)
        assert result.status is SolveStatus.OPTIMAL
        return result

    reference = highs()
    ratio = compare(benchmark, lambda: solve_deployment(problem, backend="pulp", chunk_skus=None),
                    highs, rounds=1, label="highs")
    if not benchmark.disabled:
        benchmark.extra_info["skus"] = problem.n_skus
        print(f"  PuLP / HiGHS on {problem.n_skus:,} SKUs (objective {reference.objective:,.0f})"
              f": {ratio:.1f}x")


def test_nightly_run_on_the_demo(benchmark):
    skus = int(os.environ.get("OMNISTOCK_BENCH_RUN_SKUS", "10000"))
    seconds = {}

    def nightly():
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run(InputSource(demo_skus=skus), RunConfig(), Path(tmp) / "run",
                          log=RunLog(open(os.devnull, "w")))  # noqa: SIM115
            seconds.update(outcome.seconds)

    benchmark.pedantic(nightly, rounds=1, iterations=1)
    if not benchmark.disabled:
        benchmark.extra_info.update({"skus": skus, **{f"{k}_seconds": v
                                                      for k, v in seconds.items()}})
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items())
        print(f"\nnightly run, {skus:,}-SKU demo: {sum(seconds.values()):.1f} s ({stages})")
