"""SKU partitions of the planning dataset, and the executors that run work over them.

A run splits its SKUs into fixed partitions of ``partition_skus`` consecutive SKUs (with all
their series, shipments and receipts). The forecast and the simulation run partition by
partition: in this process one after the other (`LocalExecutor`), or on a Dask cluster
(`engine.pipeline.distributed.DaskExecutor`). The partitions depend only on the data and
``partition_skus``, never on the number of workers, and partition results are combined in
partition order, so a run gives identical outputs on one process or on any cluster.

What a partition pools: the forecast's statistics that are estimated over many series (uplifts
per category x channel, the model choice and spread calibration per demand class, the peers of
new series) are estimated within a partition. With the default of 5,000 SKUs (some 35,000
series) a partition is large enough for them; a run smaller than one partition is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from engine.simulation.network import DEFAULT_EXECUTION, Execution

ROW_KEYS = {"shipment": "shipment_sku", "receipt": "receipt_sku", "move": "move_sku",
            "purchase": "purchase_sku", "slow_mover": "slow_sku"}
"""Row dimensions of the dataset and the variable naming each row's SKU."""


@dataclass(frozen=True)
class Partition:
    """A block of consecutive SKUs: positions ``start`` to ``stop - 1`` on ``sku``."""

    index: int
    start: int
    stop: int


def make_partitions(n_skus: int, size: int) -> list[Partition]:
    """Fixed partitions of ``size`` consecutive SKUs (the last may be smaller)."""
    if size < 1:
        raise ValueError(f"partition_skus must be at least 1; found {size}")
    starts = range(0, max(n_skus, 1), size)
    return [Partition(i, s, min(s + size, n_skus)) for i, s in enumerate(starts)]


def take_partition(ds: xr.Dataset, partition: Partition) -> xr.Dataset:
    """The partition's SKUs with their series, shipments, receipts and planned moves."""
    skus = ds["sku"].values[partition.start:partition.stop]
    subset = ds.isel(sku=slice(partition.start, partition.stop))
    subset = subset.isel(series=np.flatnonzero(np.isin(ds["series_sku"].values, skus)))
    for dim, key in ROW_KEYS.items():
        if dim in subset.dims:
            subset = subset.isel({dim: np.flatnonzero(np.isin(subset[key].values, skus))})
    if "allocation" in subset.dims:          # allocation rows point at full-dataset series
        subset = subset.drop_dims("allocation")
    return subset.assign_coords(series=np.arange(subset.sizes["series"]))


JOIN_DIMS = ("series", "sku", "move", "purchase", "allocation", "slow_mover")


def combine_additions(parts: list[xr.Dataset]) -> xr.Dataset:
    """Join the variables partitions added, in partition order.

    Each variable joins along the first of `JOIN_DIMS` it has; coordinates of other dimensions
    (forecast steps, quantiles) come from the first partition.
    """
    first = parts[0]
    joined = {}
    for name, variable in first.data_vars.items():
        dim = next(d for d in JOIN_DIMS if d in variable.dims)
        joined[name] = xr.Variable.concat([p[name].variable for p in parts], dim=dim)
    coords = {name: first[name] for name in first.coords
              if name not in ("series", "sku") and "series" not in first[name].dims
              and "sku" not in first[name].dims}
    return xr.Dataset(joined, coords=coords)


class LocalExecutor:
    """Runs partition work in this process, in order."""

    workers = 1
    simulation_execution: Execution = DEFAULT_EXECUTION
    """How simulation tasks spread their SKUs over the cores here: numba's threads
    (`engine.simulation.network.DEFAULT_EXECUTION`)."""

    def map(self, function: Callable, items: Iterable, *args,
            on_done: Callable[[], None] | None = None) -> list:
        """``function(item, *args)`` for every item; ``on_done()`` after each."""
        results = []
        for item in items:
            results.append(function(item, *args))
            if on_done is not None:
                on_done()
        return results

    def close(self) -> None:
        pass


