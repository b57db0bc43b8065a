"""Runs on a local Dask cluster of two worker processes give the outputs of a one-process run,
also when workers read their partitions from the input directory and when a worker dies."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from engine import InputSource, RunConfig, run, write_inputs
from engine.pipeline.distributed import DaskExecutor
from engine.pipeline.partitions import (
    LocalExecutor,
    combine_additions,
    make_partitions,
    take_partition,
)
from engine.pipeline.runlog import RunLog

DATA = ("forecast.parquet", "targets.parquet", "plan.parquet", "allocation.parquet",
        "kpis.parquet")
CONFIG = RunConfig(horizon=6, partition_skus=40, samples=100)


def _quiet() -> RunLog:
    return RunLog(open(os.devnull, "w"))


def _data(directory) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in DATA}


@pytest.fixture(scope="module")
def cluster():
    executor = DaskExecutor(workers=2)
    yield executor
    executor.close()


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    target = tmp_path_factory.mktemp("local") / "run"
    run(InputSource(demo_skus=150), CONFIG, target, log=_quiet())
    return target


def test_partitions_cover_every_sku_once(small_demo):
    parts = make_partitions(small_demo.sizes["sku"], 25)
    assert [p.stop - p.start for p in parts] == [25, 25, 10]
    pieces = [take_partition(small_demo, p) for p in parts]
    assert sum(p.sizes["series"] for p in pieces) == small_demo.sizes["series"]
    joined = combine_additions([p[["sales", "on_hand"]] for p in pieces])
    assert np.array_equal(np.nan_to_num(joined["sales"].values, nan=-1),
                          np.nan_to_num(small_demo["sales"].values, nan=-1))
    assert np.array_equal(joined["on_hand"].values, small_demo["on_hand"].values)
    with pytest.raises(ValueError, match="partition_skus must be at least 1"):
        make_partitions(10, 0)


def test_two_workers_give_the_one_process_outputs(cluster, one_process, tmp_path):
    assert cluster.workers == 2
    target = tmp_path / "run"
    run(InputSource(demo_skus=150), CONFIG, target, log=_quiet(), executor=cluster)
    assert _data(target) == _data(one_process)


def test_workers_read_their_partitions_from_the_input_directory(cluster, tmp_path):
    from engine import demo_inputs

    source = write_inputs(demo_inputs(skus=150), tmp_path / "input")
    local = tmp_path / "local"
    run(InputSource(path=source), CONFIG, local, log=_quiet(), executor=LocalExecutor())
    distributed = tmp_path / "distributed"
    run(InputSource(path=source), CONFIG, distributed, log=_quiet(), executor=cluster)
    assert _data(local) == _data(distributed)


def test_the_plan_goes_out_in_partitions_when_skus_share_no_capacity(cluster, tmp_path):
    from engine import demo_inputs
    from engine.pipeline.nightly import STAGES, Stage

    def unlimited(ds, context):
        return ds.assign(location_capacity=ds["location_capacity"] * np.inf,
                         lane_capacity=ds["lane_capacity"] * np.inf)

    stages = (Stage("unlimited", unlimited), *STAGES)
    source = write_inputs(demo_inputs(skus=120), tmp_path / "input")
    local = run(InputSource(path=source), CONFIG, tmp_path / "local", log=_quiet(),
                stages=stages)
    assert local.dataset.sizes["move"] > 0
    remote = run(InputSource(path=source), CONFIG, tmp_path / "remote", log=_quiet(),
                 stages=stages, executor=cluster)
    assert _data(tmp_path / "local") == _data(tmp_path / "remote")
    import json

    manifest = json.loads((tmp_path / "remote" / "manifest.json").read_text())
    assert manifest["allocation"]["partitions"] == 3
    del remote


@pytest.mark.slow
def test_a_worker_killed_mid_run_and_the_run_still_completes(tmp_path):
    config = RunConfig(horizon=6, partition_skus=30, samples=100)
    reference = tmp_path / "reference"
    run(InputSource(demo_skus=300), config, reference, log=_quiet())
    with DaskExecutor(workers=2) as executor:
        pids = list(executor.client.run(os.getpid).values())
        killed = []

        def kill_one():
            time.sleep(2.0)
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

        killer = threading.Thread(target=kill_one)
        killer.start()
        target = tmp_path / "distributed"
        run(InputSource(demo_skus=300), config, target, log=_quiet(), executor=executor)
        killer.join()
    assert killed
    assert _data(target) == _data(reference)


def test_simulate_tasks_run_as_their_executor_says(tmp_path):
    """The execution of the simulation travels in the task settings, from the executor."""
    from engine.stages.simulate import SimulationConfig

    class Recording(LocalExecutor):
        simulation_execution = "serial"
        settings: list = []

        def map(self, function, items, *args, on_done=None):
            self.settings.extend(args)
            return super().map(function, items, *args, on_done=on_done)

    run(InputSource(demo_skus=50), RunConfig(horizon=4, samples=20), tmp_path / "run",
        log=_quiet(), executor=Recording())
    simulations = [s for s in Recording.settings if isinstance(s, SimulationConfig)]
    assert [s.execution for s in simulations] == ["serial"]
