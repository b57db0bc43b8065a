"""Running a night's partition work on a Dask cluster.

`DaskExecutor` starts a local cluster of worker processes (``workers=N``) or connects to an
existing one (``scheduler="tcp://host:8786"``) and runs the run's partition tasks
(`engine.pipeline.tasks`: forecast, the plan of SKUs that share no capacity, simulation) there,
one task per SKU partition, results gathered in partition order. What couples SKUs (the
deployment LP when a location or lane capacity can bind) stays on the driver, as do loading and
checking the input, the targets (vectorised, seconds for millions of pairs) and writing the
outputs.

Data goes out as partitions: a forecast task gets the partition's rows (or, for an input
directory, only its SKU list, and reads its rows from the directory itself, which must then be
on a path every worker can read); a plan or simulation task gets its partition of the planning
dataset. Tasks are pure functions of their partition, so the scheduler reruns a task whose
worker died on another worker, and the night completes with the same result. Numba's own
threads are not used on the workers (one task per worker process): simulation tasks get
``execution="serial"`` in their settings (`DaskExecutor.simulation_execution`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from distributed import Client, LocalCluster, as_completed

from engine.simulation.network import Execution


class DaskExecutor:
    """Partition work on Dask workers (see the module docstring).

    Parameters
    ----------
    workers : int, optional
        Start a local cluster of this many single-threaded worker processes.
    scheduler : str, optional
        Address of an existing ``dask.distributed`` scheduler instead.
    """

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None):
        if (workers is None) == (scheduler is None):
            raise ValueError("give either workers (a local cluster) or scheduler (an address)")
        self.cluster = None
        if scheduler is not None:
            self.client = Client(scheduler)
        else:
            if workers < 1:
                raise ValueError(f"workers must be at least 1; found {workers}")
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                        processes=True, dashboard_address=":0")
            self.client = Client(self.cluster)

    simulation_execution: Execution = "serial"
    """How simulation tasks spread their SKUs over the cores on a worker: one after the other,
    as each worker process already runs one task per core."""

    @property
    def workers(self) -> int:
        return max(len(self.client.scheduler_info()["workers"]), 1)

    def map(self, function: Callable, items: Iterable, *args,
            on_done: Callable[[], None] | None = None) -> list:
        """``function(item, *args)`` for every item on the workers, results in item order;
        ``on_done()`` as each finishes."""
        items = list(items)
        futures = self.client.map(function, items, *[[a] * len(items) for a in args],
                                  pure=False, retries=2)
        if on_done is not None:
            for _ in as_completed(futures):
                on_done()
        return self.client.gather(futures)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

