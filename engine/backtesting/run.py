"""The decision backtest: replay the nightly plan over the last N periods against actual sales.

For each policy (`engine.backtesting.policies.POLICIES`) and service level asked, for each origin
t of the last ``periods`` periods of the history, in order: the policy decides tonight's moves
and purchases from the history before t and the state the replay has reached, deliveries due
at t received (`engine.backtesting.policies`), then period t is played with the actual sales
(`engine.backtesting.replay.play_period`) and the state carries to t + 1. Every policy and level
starts from the same state: the input's stock on hand at the first origin (``start="input"``),
or each location at the policy's first-origin order-up-to level (``start="at-target"``: the
omnistock targets, or the baseline's own levels, a buying location holding what the baseline's
echelon level leaves above the levels below it), with nothing on the way and nothing owed.

Outputs (`write_backtest`, written atomically: a hidden staging directory renamed at the end):

- ``summary.parquet`` (`SUMMARY`): per policy, service level, channel and region (``*`` for
  all): demand, units served at once and the realised fill rate (their ratio), cycle service
  (the share of stream-periods with demand served in full at once), stock-out stream-periods,
  lost and still-owed units; on the ``*`` rows also the average on-hand units per location kind
  and their value at unit cost, units moved and their transport cost, units purchased, holding
  cost (on-hand value x holding rate per period) and the cost of lost sales (lost units x
  margin);
- ``periods.parquet`` (`PERIODS`): per policy, level, period, sku and location: start, shipped,
  receipts, served, end (rows with any stock or flow);
- ``streams.parquet`` (`STREAMS`): per policy, level, period and stream: demand, owed before,
  served, served at once, backordered, lost (rows with any demand or debt);
- ``backtest.html``: the trade-off chart (realised fill rate against average stock value, one
  curve per policy over the service levels), the calibration table (asked vs realised per
  channel) and the streams with the largest lost or owed units;
- ``manifest.json``: input, settings, refits, seconds, rows.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from engine.backtesting.policies import (
    POLICIES,
    BaselinePolicy,
    OmnistockPolicy,
    baseline_levels,
    history_view,
    with_state,
)
from engine.backtesting.replay import Network, PeriodRecord, ReplayState, play_period, receive
from engine.economics import stream_margins
from engine.inputs.calendar import periods_per_year
from engine.inputs.load import load_inputs
from engine.network import root_location, series_index
from engine.pipeline.config import RunConfig
from engine.pipeline.tasks import FORECAST_VARIABLES
from engine.stages.forecasting import add_forecast
from engine.stages.simulate import preference_lists
from engine.stages.targets import add_targets

STARTS = ("input", "at-target")


@dataclass(frozen=True)
class BacktestSettings:
    """What a backtest replays.

    Attributes
    ----------
    periods : int
        Origins: the last ``periods`` periods of the history.
    service_levels : tuple of float
        Service levels asked of every channel, each replayed.
    policies : tuple of str
        Policies replayed (`engine.backtesting.policies.POLICIES`).
    refit_every : int
        Omnistock refits its forecast every this many origins.
    start : {"input", "at-target"}
        Starting stock (module docstring).
    """

    periods: int = 26
    service_levels: tuple[float, ...] = (0.90, 0.95, 0.98)
    policies: tuple[str, ...] = POLICIES
    refit_every: int = 4
    start: str = "input"
    config: RunConfig = field(default_factory=RunConfig)

    def __post_init__(self):
        if self.periods < 1:
            raise ValueError(f"periods must be at least 1; found {self.periods}")
        if self.refit_every < 1:
            raise ValueError(f"refit_every must be at least 1; found {self.refit_every}")
        bad = [p for p in self.policies if p not in POLICIES]
        if bad or not self.policies:
            raise ValueError(f"policies must be among {', '.join(POLICIES)}; found "
                             f"{', '.join(bad) or 'none'}")
        if not self.service_levels or not all(0 < s < 1 for s in self.service_levels):
            raise ValueError("service levels must be in (0, 1); found "
                             f"{', '.join(map(str, self.service_levels)) or 'none'}")
        if self.start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(STARTS)}; found {self.start!r}")


@dataclass
class BacktestResult:
    """The tables of a backtest (module docstring) and what it took."""

    summary: pd.DataFrame
    periods: pd.DataFrame
    streams: pd.DataFrame
    refits: dict[str, int]
    seconds: float
    cut_units: float


def backtest(ds: xr.Dataset | str | os.PathLike, settings: BacktestSettings = BacktestSettings(),
             *, workers: int = 1, executor=None, progress=None) -> BacktestResult:
    """Replay every policy and service level over the last ``settings.periods`` periods.

    Omnistock's forecasts at its refit origins come first (they depend on neither the level
    nor the replay's state); then each (policy, service level) replays on its own. With
    ``workers`` > 1 both run in that many local processes; the result is the same.

    Parameters
    ----------
    ds : xarray.Dataset or path-like
        The planning dataset (`engine.load_inputs`), or an input directory to load.
    settings : BacktestSettings
    workers : int
        Local processes (1: this one).
    executor : optional
        A Dask executor (`engine.pipeline.distributed.DaskExecutor`, e.g. on an existing
        cluster) to run the refits and replays on instead; ``workers`` is then ignored.
    progress : callable, optional
        ``progress(n)`` as work finishes: one unit per refit, one per origin replayed (of
        each policy and level; in this process after every origin, from workers when a
        replay of all origins finishes). `work_units` gives the total.
    """
    if not isinstance(ds, xr.Dataset):
        ds = load_inputs(ds)
    n_periods = ds.sizes["period"]
    if settings.periods >= n_periods - 1:
        raise ValueError(f"periods must leave history before the first origin: at most "
                         f"{n_periods - 2} of the {n_periods} periods; found {settings.periods}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1; found {workers}")
    tic = time.perf_counter()
    first = n_periods - settings.periods
    forecasts = {}
    if "omnistock" in settings.policies:
        origins = list(range(first, n_periods, settings.refit_every))
        fits = _map(_forecast_at, [(ds, t, settings.config) for t in origins], workers,
                    progress, executor)
        forecasts = dict(zip(origins, fits, strict=True))
    jobs = [(ds, first, policy, level, settings, forecasts)
            for policy in settings.policies for level in settings.service_levels]
    replays = _map(_replay, jobs, workers, progress, executor, units=settings.periods)
    refits = {f"{job[3]:g}": replay[3] for job, replay in zip(jobs, replays, strict=True)
              if job[2] == "omnistock"}
    return BacktestResult(pd.concat([r[0] for r in replays], ignore_index=True),
                          pd.concat([r[1] for r in replays], ignore_index=True),
                          pd.concat([r[2] for r in replays], ignore_index=True),
                          refits, time.perf_counter() - tic, sum(r[4] for r in replays))


def work_units(settings: BacktestSettings) -> int:
    """Units of work `backtest` reports to ``progress``: refits, then origins replayed."""
    refits = len(range(0, settings.periods, settings.refit_every)) \
        if "omnistock" in settings.policies else 0
    return refits + len(settings.policies) * len(settings.service_levels) * settings.periods


def _map(function, items: list, workers: int, progress, executor=None, *,
         units: int = 1) -> list:
    """``function(*item)`` for every item, in order: on ``executor`` when given, else in
    ``workers`` local processes when > 1. Each item is ``units`` units of progress; in this
    process a function of several units reports them itself (``tick``)."""
    done = None if progress is None else (lambda: progress(units))
    if executor is not None:
        return executor.map(_call, items, function, on_done=done)
    if workers == 1 or len(items) <= 1:
        out = []
        for item in items:
            if units > 1:
                out.append(function(*item, tick=progress))
            else:
                out.append(function(*item))
                if done is not None:
                    done()
        return out
    # fork where the system has it: scripts that call engine.backtest need no main guard,
    # and the workers start without importing the engine again
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=context) as pool:
        futures = [pool.submit(function, *item) for item in items]
        for future in as_completed(futures):
            future.result()
            if done is not None:
                done()
        return [f.result() for f in futures]


def _call(item: tuple, function):
    return function(*item)


def _forecast_at(ds: xr.Dataset, t: int, config: RunConfig) -> xr.Dataset:
    """Omnistock's forecast at origin ``t`` (history before t only)."""
    view = history_view(ds, t)
    fitted, _ = add_forecast(view, config.forecast())
    return fitted[list(FORECAST_VARIABLES)]


def _replay(ds: xr.Dataset, first: int, policy_name: str, level: float,
            settings: BacktestSettings, forecasts: dict, tick=None) -> tuple:
    """One policy at one service level over every origin: its summary, periods and streams
    tables (built where it ran), refits and move units cut."""
    network = _network(ds)
    demand = np.nan_to_num(ds["sales"].values)
    policy = (OmnistockPolicy(settings.config, settings.refit_every, dict(forecasts))
              if policy_name == "omnistock" else BaselinePolicy(policy_name, settings.config))
    state = _start_state(ds, first, level, policy_name, settings, forecasts)
    played = []
    for t in range(first, ds.sizes["period"]):
        received = receive(state, t)
        decisions = policy.decide(ds, t, state, level, state.backlog)
        played.append((policy_name, level, t, play_period(state, t, decisions, demand[:, t],
                                                          network, received)))
        if tick is not None:
            tick(1)
    periods, streams = _period_tables(ds, played)
    return (_summary(ds, played), periods, streams, getattr(policy, "refits", 0),
            sum(record.cut_units for *_, record in played))


def _network(ds: xr.Dataset) -> Network:
    sku, channel, region = series_index(ds)
    preference, pointer = preference_lists(ds, channel, region)
    priority = ds["priority"].values[channel]
    order = np.argsort(-priority, kind="stable").astype(np.int64)
    return Network(sku.astype(np.int64), preference.astype(np.int64), pointer.astype(np.int64),
                   order, ds["backorders"].values[channel].astype(bool))


def _start_state(ds: xr.Dataset, first: int, level: float, policy: str,
                 settings: BacktestSettings, forecasts: dict) -> ReplayState:
    on_hand = ds["on_hand"].values.astype(float).copy()
    if settings.start == "at-target":
        state = ReplayState(on_hand, np.zeros(ds.sizes["series"]))
        view = with_state(history_view(ds, first), state, level)
        if policy == "omnistock":
            fit = forecasts[first]
            fitted = view.assign(fit.data_vars).assign_coords(fit.coords)
            on_hand = np.ceil(add_targets(fitted, settings.config.targets())[
                "target_order_up_to"].values)
        else:
            installation, echelon = baseline_levels(
                view, "textbook" if policy == "none" else policy, level, settings.config)
            # a buyer holds what its echelon level leaves above the levels of the locations
            # below it
            root = root_location(view)
            below = np.zeros_like(installation)
            others = root != np.arange(len(root))
            np.add.at(below.T, root[others], installation[:, others].T)
            buyers = ~others
            installation[:, buyers] = np.maximum(installation[:, buyers],
                                                 echelon[:, buyers] - below[:, buyers])
            on_hand = np.ceil(installation)
    return ReplayState(on_hand, np.zeros(ds.sizes["series"]))


# -- tables ---------------------------------------------------------------------------------------


def _summary(ds: xr.Dataset, records: list[tuple[str, float, int, PeriodRecord]]) -> pd.DataFrame:
    sku, channel, region = series_index(ds)
    cost = ds["unit_cost"].values
    margin = stream_margins(ds)
    holding = ds["holding_rate"].values / periods_per_year(ds.attrs["freq"])
    kind = ds["location_kind"].values
    rows = []
    keys = pd.DataFrame({"channel": ds["channel"].values[channel],
                         "region": ds["region"].values[region]})
    frame = pd.DataFrame([(p, lv, t) for p, lv, t, _ in records],
                         columns=["policy", "service_level", "t"])
    groups = frame.groupby(["policy", "service_level"], sort=False).groups
    for (policy, level), index in groups.items():
        chosen = [records[i][3] for i in index]
        demand = np.stack([r.demand for r in chosen])               # (origins, series)
        on_time = np.stack([r.served_on_time for r in chosen])
        lost = np.stack([r.lost for r in chosen])
        owed = chosen[-1].backordered
        per = pd.DataFrame({"demand": demand.sum(axis=0), "served_at_once": on_time.sum(axis=0),
                            "stockout_periods": (on_time < demand - 1e-9).sum(axis=0),
                            "cycle_periods": (demand > 0).sum(axis=0),
                            "in_full": ((demand > 0) & (on_time >= demand - 1e-9)).sum(axis=0),
                            "lost_units": lost.sum(axis=0), "owed_units": owed,
                            "lost_margin": (lost * margin).sum(axis=0)})
        per = pd.concat([keys, per], axis=1)
        grouped = per.groupby(["channel", "region"], sort=True).sum(numeric_only=True)
        total = per.sum(numeric_only=True).to_frame().T.assign(channel="*", region="*")
        table = pd.concat([grouped.reset_index(), total], ignore_index=True)
        end = np.stack([r.end for r in chosen])                   # (origins, sku, location)
        value = end * cost[None, :, None]
        for k in ("dc", "rdc", "pool"):
            table[f"on_hand_{k}"] = np.nan
            table.loc[table["channel"] == "*", f"on_hand_{k}"] = \
                end[:, :, kind == k].sum(axis=(1, 2)).mean()
        star = table["channel"] == "*"
        table["stock_value"] = np.nan
        table.loc[star, "stock_value"] = value.sum(axis=(1, 2)).mean()
        table["holding_cost"] = np.nan
        table.loc[star, "holding_cost"] = (value * holding[None, None, :]).sum()
        for name in ("move_units", "move_cost", "purchase_units"):
            table[name] = np.nan
            table.loc[star, name] = sum(getattr(r, name) for r in chosen)
        table.insert(0, "policy", policy)
        table.insert(1, "service_level", level)
        rows.append(table)
    out = pd.concat(rows, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["fill_rate"] = out["served_at_once"] / out["demand"]
        out["cycle_service"] = out["in_full"] / out["cycle_periods"]
    return out.drop(columns=["in_full"])


def _period_tables(ds: xr.Dataset, records) -> tuple[pd.DataFrame, pd.DataFrame]:
    dates = ds["period"].values
    sku, channel, region = series_index(ds)
    n_sku, n_loc = ds.sizes["sku"], ds.sizes["location"]
    s_index, l_index = np.divmod(np.arange(n_sku * n_loc), n_loc)
    places, streams = [], []
    for policy, level, t, r in records:
        flows = np.stack([r.start, r.shipped, r.receipts, r.served_at, r.end]).reshape(5, -1)
        keep = flows.any(axis=0)
        places.append(pd.DataFrame({
            "policy": policy, "service_level": level, "date": dates[t],
            "sku": ds["sku"].values[s_index[keep]],
            "location": ds["location"].values[l_index[keep]],
            "start": flows[0, keep], "shipped": flows[1, keep], "receipts": flows[2, keep],
            "served": flows[3, keep], "end": flows[4, keep]}))
        active = (r.demand > 0) | (r.owed_before > 0) | (r.backordered > 0)
        streams.append(pd.DataFrame({
            "policy": policy, "service_level": level, "date": dates[t],
            "sku": ds["sku"].values[sku[active]], "channel": ds["channel"].values[channel[active]],
            "region": ds["region"].values[region[active]], "demand": r.demand[active],
            "owed_before": r.owed_before[active], "served": r.served[active],
            "served_at_once": r.served_on_time[active], "backordered": r.backordered[active],
            "lost": r.lost[active]}))
    return pd.concat(places, ignore_index=True), pd.concat(streams, ignore_index=True)


# -- writing --------------------------------------------------------------------------------------


def write_backtest(result: BacktestResult, output: str | os.PathLike, *, source: str,
                   settings: BacktestSettings, overwrite: bool = False) -> Path:
    """Write the backtest's directory atomically (module docstring)."""
    from engine.backtesting.page import render_backtest

    target = Path(output)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite (--force) to replace it")
    staging = target.parent / f".{target.name}.partial-backtest-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        result.summary.to_parquet(staging / "summary.parquet", index=False)
        result.periods.to_parquet(staging / "periods.parquet", index=False)
        result.streams.to_parquet(staging / "streams.parquet", index=False)
        manifest = {
            "input": source,
            "settings": {**{k: v for k, v in asdict(settings).items() if k != "config"},
                         "config": settings.config.as_dict()},
            "refits": result.refits, "seconds": round(result.seconds, 3),
            "cut_move_units": result.cut_units,
            "rows": {"summary": len(result.summary), "periods": len(result.periods),
                     "streams": len(result.streams)},
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        (staging / "backtest.html").write_text(render_backtest(result, manifest))
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}"
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def tradeoff(summary: pd.DataFrame) -> pd.DataFrame:
    """Per policy and service level: realised fill rate and average stock value (``*`` rows),
    and for omnistock the stock value the best baseline needs for the same fill rate
    (interpolated along its curve; NaN outside it) and the ratio."""
    total = summary[summary["channel"] == "*"][["policy", "service_level", "fill_rate",
                                                 "stock_value"]].reset_index(drop=True)
    total["best_baseline_value"] = np.nan
    for i, row in total[total["policy"] == "omnistock"].iterrows():
        needed = []
        baselines = total[total["policy"].isin(["textbook", "empirical"])]
        for _, curve in baselines.groupby("policy"):
            curve = curve.sort_values("fill_rate")
            x, y = curve["fill_rate"].to_numpy(), curve["stock_value"].to_numpy()
            if len(x) and x[0] <= row["fill_rate"] <= x[-1]:
                needed.append(float(np.interp(row["fill_rate"], x, y)))
        if needed:
            total.loc[i, "best_baseline_value"] = min(needed)
    total["ratio"] = total["stock_value"] / total["best_baseline_value"]
    return total


