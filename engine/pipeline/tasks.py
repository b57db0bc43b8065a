"""The work a run sends out per SKU partition: forecast, plan (when SKUs are independent),
simulation. Plain module-level functions of plain data, so a Dask worker can run them.

Each task returns only what it adds to the planning dataset (and what it has to report), so the
driver joins partitions in partition order (`engine.pipeline.partitions.combine_additions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from engine.inputs.load import load_inputs
from engine.stages.forecasting import PROTECTION_VARIABLES, ForecastConfig, add_forecast
from engine.stages.plan import PlanConfig, add_plan
from engine.stages.purchases import PURCHASE_VARIABLES
from engine.stages.simulate import SimulationConfig, add_simulation
from models.forecast.core import FAILED_SUFFIX

FORECAST_VARIABLES = ("forecast_mean", "forecast_variance", "forecast_distribution",
                      "forecast_quantile", "forecast_model", "demand_class", "forecast_clamped",
                      *(f"{prefix}_{name}" for prefix in ("protection", "echelon_protection")
                        for name in (*PROTECTION_VARIABLES, "lead_time", "review_period")))
PLAN_VARIABLES = ("move_sku", "move_origin", "move_destination", "move_lane", "move_quantity",
                  "move_kind", "move_reason", "position_after_plan", "inbound",
                  *PURCHASE_VARIABLES,
                  "allocation_series", "allocation_location", "allocation_units",
                  "slow_sku", "slow_location", "slow_cover", "slow_surplus", "slow_channel",
                  "slow_discount")


@dataclass(frozen=True)
class PartitionInput:
    """A partition a worker reads itself from the input directory (a shared path)."""

    path: Path
    freq: str
    skus: tuple[str, ...]
    period_span: tuple


@dataclass(frozen=True)
class ForecastResult:
    """What the forecast of one partition adds and reports."""

    additions: xr.Dataset
    failed: list[str]
    notes: dict = field(default_factory=dict)


def forecast_partition(item: xr.Dataset | PartitionInput,
                       config: ForecastConfig) -> ForecastResult:
    """Forecast one partition (a dataset, or a `PartitionInput` to read first)."""
    if isinstance(item, PartitionInput):
        item = load_inputs(item.path, freq=item.freq, skus=list(item.skus),
                           period_span=item.period_span)
    ds, forecaster = add_forecast(item, config)
    failed = np.flatnonzero(np.char.endswith(ds["forecast_model"].values.astype(str),
                                             FAILED_SUFFIX))
    labels = [f"{s}|{c}|{r}" for s, c, r in zip(ds["series_sku"].values[failed],
                                                 ds["series_channel"].values[failed],
                                                 ds["series_region"].values[failed],
                                                 strict=True)]
    choice = getattr(forecaster, "middle_out_choice_", None)
    notes = {
        "series": int(ds.sizes["series"]),
        "models": {k: list(v) for k, v in forecaster.ensemble_members_.items()},
        "backtest_rmsse": forecaster.backtest_,
        "middle_out": None if choice is None else {
            "parents_split": int(choice.use.sum()), "parents": len(choice.use),
            "backtest_rmsse": choice.rmsse},
    }
    return ForecastResult(ds[list(FORECAST_VARIABLES)], labels, notes)


def plan_partition(part: xr.Dataset, config: PlanConfig):
    """Plan one partition of SKUs that share no capacity with other partitions."""
    ds, outcome = add_plan(part, config)
    return ds[[v for v in PLAN_VARIABLES if v in ds]], outcome


def simulate_partition(part: xr.Dataset, config: SimulationConfig) -> xr.Dataset:
    """Simulate one partition (every SKU has its own seed: partitions do not matter)."""
    ds = add_simulation(part, config)
    return ds[[name for name in ds.data_vars if name.startswith("kpi_")]]
