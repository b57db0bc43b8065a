"""One process against a local Dask cluster of two workers on the nightly run.

The weekly demo of ``OMNISTOCK_BENCH_DASK_SKUS`` SKUs (default 4,000) in partitions of
``OMNISTOCK_BENCH_PARTITION_SKUS`` (default 500), run once in this process (`LocalExecutor`)
and once on two worker processes (`DaskExecutor`, started before the clock). The ratio is the
two-worker time over the one-process time; the efficiency is one-process time over twice the
two-worker time (1.0: perfect scaling on two cores). Outputs must be identical.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchtools import compare

from engine import InputSource, RunConfig, run
from engine.pipeline.distributed import DaskExecutor
from engine.pipeline.partitions import LocalExecutor
from engine.pipeline.runlog import RunLog


def test_two_workers_against_one_process(benchmark):
    skus = int(os.environ.get("OMNISTOCK_BENCH_DASK_SKUS", "4000"))
    size = int(os.environ.get("OMNISTOCK_BENCH_PARTITION_SKUS", "500"))
    config = RunConfig(partition_skus=size)
    source = InputSource(demo_skus=skus)
    outputs: dict[str, bytes] = {}

    def nightly(executor, label):
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run(source, config, Path(tmp) / "run", executor=executor,
                          log=RunLog(open(os.devnull, "w")))  # noqa: SIM115
            outputs[label] = (outcome.directory / "kpis.parquet").read_bytes()
            seconds = outcome.seconds
        return seconds

    with DaskExecutor(workers=2) as cluster:
        ratio = compare(benchmark, lambda: nightly(cluster, "dask"),
                        lambda: nightly(LocalExecutor(), "local"), rounds=1,
                        label="one_process")
    assert outputs["dask"] == outputs["local"]
    if not benchmark.disabled:
        efficiency = 1 / (2 * ratio)
        benchmark.extra_info.update({"skus": skus, "partition_skus": size,
                                     "efficiency": efficiency})
        print(f"  {skus:,} SKUs, partitions of {size}: two workers / one process = {ratio:.2f}"
              f", efficiency {efficiency:.0%}")
