"""The nightly run: stages in order, checkpoints, an atomic run directory and its manifest.

A run reads its input (a directory or the demo), then runs the stages of `STAGES` one after the
other on the planning dataset. Everything is written inside a hidden staging directory next to
the output (``.NAME.partial-FINGERPRINT``): a checkpoint after every stage, then the output files
and the manifest; the finished run directory is moved into place with one rename. A run killed at
any moment therefore leaves earlier runs untouched and no half-written run visible; started
again with ``resume=True`` and the same inputs and configuration (the same fingerprint), it
reuses the stages that had finished.

A stage may fall back instead of failing (a forecast that could not be fitted, an LP chunk that
could not be solved): the fallbacks are counted, listed in the manifest, and the run ends with
status ``fallbacks`` (exit code 3) rather than failing the night.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from engine.demo import demo_inputs
from engine.inputs.dataset import to_tables
from engine.inputs.load import load_inputs
from engine.inputs.tables import remove_path, replace_directory
from engine.outputs import (
    ALLOCATION,
    FORECAST,
    KPIS,
    MANIFEST,
    NETWORK,
    NETWORK_TABLES,
    PLAN,
    REPORT,
    RUN_TABLES,
    TARGETS,
    OutputTable,
)
from engine.pipeline.config import RunConfig
from engine.pipeline.partitions import (
    LocalExecutor,
    combine_additions,
    make_partitions,
    take_partition,
)
from engine.pipeline.report import render_report
from engine.pipeline.runlog import RunLog
from engine.pipeline.tasks import (
    PartitionInput,
    forecast_partition,
    plan_partition,
    simulate_partition,
)
from engine.stages.forecasting import forecast_table
from engine.stages.plan import (
    add_plan,
    allocation_table,
    build_problem,
    closed_locations,
    plan_table,
)
from engine.stages.simulate import kpi_table
from engine.stages.targets import add_targets, targets_table
from models.policy.from_forecast import TARGET_CAP_MULTIPLE

PACKAGES = ("omnistock", "numpy", "scipy", "pandas", "pyarrow", "xarray", "statsforecast",
            "numba", "highspy", "pulp")


@dataclass(frozen=True)
class InputSource:
    """Where the run's input comes from: a directory, or the demo network."""

    path: Path | None = None
    demo_skus: int = 200
    demo_seed: int = 0
    demo_freq: str = "W-MON"

    def describe(self) -> dict:
        """What identifies the input: file names with SHA-256 checksums, or the demo settings."""
        if self.path is None:
            return {"demo": {"skus": self.demo_skus, "seed": self.demo_seed,
                             "freq": self.demo_freq}}
        files = {}
        for file in sorted(Path(self.path).iterdir()):
            if file.is_file() and not file.name.startswith("."):
                files[file.name] = _sha256(file)
        return {"directory": str(Path(self.path).resolve()), "files": files}

    def load(self, freq: str | None, as_of: str | None = None) -> xr.Dataset:
        if self.path is None:
            return demo_inputs(skus=self.demo_skus, seed=self.demo_seed, freq=self.demo_freq)
        return load_inputs(self.path, freq=freq, as_of=as_of)


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class RunContext:
    """What the stages share besides the dataset: settings, log, where partition work runs,
    fallbacks and notes for the manifest."""

    config: RunConfig
    log: RunLog
    executor: object = field(default_factory=LocalExecutor)
    source: InputSource | None = None
    fallbacks: dict[str, list] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    """A named step: ``run(dataset, context) -> dataset``."""

    name: str
    run: Callable[[xr.Dataset, RunContext], xr.Dataset]


def _partitions(ds: xr.Dataset, context: RunContext):
    return make_partitions(ds.sizes["sku"], context.config.partition_skus)


def _forecast_stage(ds: xr.Dataset, context: RunContext) -> xr.Dataset:
    parts = _partitions(ds, context)
    span = (ds["period"].values[0], ds["period"].values[-1])
    path = context.source.path if context.source is not None else None
    if path is not None and context.executor.workers > 1:
        # workers read their own partition from the input directory
        items = [PartitionInput(Path(path), ds.attrs["freq"],
                                tuple(ds["sku"].values[p.start:p.stop]), span) for p in parts]
    else:
        items = [take_partition(ds, p) for p in parts]
    with context.log.progress("forecast", len(items), "partitions") as advance:
        results = context.executor.map(forecast_partition, items, context.config.forecast(),
                                       on_done=advance)
    added = combine_additions([r.additions for r in results])
    ds = ds.assign(added.data_vars).assign_coords(added.coords)
    failed = [label for r in results for label in r.failed]
    if failed:
        context.fallbacks["forecast_series"] = failed
    context.notes["forecast"] = {"partitions": [r.notes for r in results]}
    context.notes["bounds"] = forecast_bounds(ds)
    return ds


BOUND_EXAMPLES = 20
"""Series or pairs listed by name in the manifest's ``bounds`` note (all are counted)."""


def forecast_bounds(ds: xr.Dataset) -> dict:
    """What the forecast clamped to the bounds its history justifies (for the manifest).

    ``forecast_variance``: series whose per-step variance hit ``VARIANCE_CAP`` times the mean
    square of their history; ``protection_variance`` / ``echelon_protection_variance``: series
    whose protection-interval variance hit its cap (`models.forecast.core`); each with a count
    and the first `BOUND_EXAMPLES` as ``sku|channel|region``.
    """
    labels = np.char.add(np.char.add(np.char.add(ds["series_sku"].values.astype(str), "|"),
                                     np.char.add(ds["series_channel"].values.astype(str), "|")),
                         ds["series_region"].values.astype(str))
    out = {}
    for name, variable in (("forecast_variance", "forecast_clamped"),
                           ("protection_variance", "protection_clamped"),
                           ("echelon_protection_variance", "echelon_protection_clamped")):
        hit = np.asarray(ds[variable].values, dtype=bool)
        out[name] = {"clamped": int(hit.sum()), "examples": labels[hit][:BOUND_EXAMPLES].tolist()}
    return out


def _targets_stage(ds: xr.Dataset, context: RunContext) -> xr.Dataset:
    overrides = context.config.service_levels
    unknown = sorted(set(overrides) - set(ds["channel"].values))
    if unknown:
        raise ValueError(f"service_levels names unknown channels {', '.join(unknown)}; "
                         f"channels: {', '.join(ds['channel'].values)}")
    if overrides:
        levels = ds["service_level"].to_series()
        for channel, level in overrides.items():
            levels[channel] = level
        ds = ds.assign(service_level=("channel", levels.to_numpy()))
    ds = add_targets(ds, context.config.targets())
    sku, location = np.nonzero(ds["target_capped"].values)
    bounds = context.notes.setdefault("bounds", {})
    bounds["targets"] = {
        "capped": int(len(sku)),
        "cap": f"{TARGET_CAP_MULTIPLE:g} x max(largest historical interval demand, forecast "
               "mean over the interval)",
        "examples": [f"{ds['sku'].values[k]}@{ds['location'].values[j]}"
                     for k, j in zip(sku[:BOUND_EXAMPLES], location[:BOUND_EXAMPLES],
                                     strict=True)]}
    return ds


def _plan_stage(ds: xr.Dataset, context: RunContext) -> xr.Dataset:
    config = context.config.plan()
    problem = build_problem(ds, config)
    if problem.coupled:
        # shared capacities tie the SKUs together: their chunks are coordinated by prices and
        # capacity shares (solvers.decomposition), here
        ds, outcome = add_plan(ds, config, problem=problem)
        outcomes, parts = [outcome], 1
    else:
        partitions = _partitions(ds, context)
        with context.log.progress("plan", len(partitions), "partitions") as advance:
            results = context.executor.map(plan_partition, [take_partition(ds, p)
                                                            for p in partitions], config,
                                           on_done=advance)
        offsets = np.cumsum([0] + [int(np.isin(ds["series_sku"].values, ds["sku"].values[
            p.start:p.stop]).sum()) for p in partitions[:-1]])
        additions = [added.assign(allocation_series=added["allocation_series"] + offset)
                     for (added, _), offset in zip(results, offsets, strict=True)]
        added = combine_additions(additions)
        ds = ds.assign(added.data_vars)
        outcomes, parts = [outcome for _, outcome in results], len(results)
    statuses = sorted({o.status for o in outcomes})
    context.notes["allocation"] = {
        "status": statuses[0] if len(statuses) == 1 else "; ".join(statuses),
        "objective": float(sum(o.objective for o in outcomes)),
        "build_seconds": round(sum(o.build_seconds for o in outcomes), 3),
        "solve_seconds": round(sum(o.solve_seconds for o in outcomes), 3),
        "chunks": int(sum(o.chunks for o in outcomes)), "partitions": parts,
        "optimality_gap": float(max(o.optimality_gap for o in outcomes)),
        "moves": int(ds.sizes["move"]), "units": float(ds["move_quantity"].values.sum()),
        "purchases": int(ds.sizes.get("purchase", 0)),
        "purchase_units": float(ds["purchase_quantity"].values.sum()),
        "closed_locations": closed_locations(ds),
    }
    if context.notes["allocation"]["closed_locations"]:
        context.log.info("capacity 0, nothing moved in: "
                         + ", ".join(context.notes["allocation"]["closed_locations"]))
    fallback = [sku for o in outcomes for sku in o.fallback_skus]
    if fallback:
        context.fallbacks["allocation_skus"] = fallback
    return ds


def _simulate_stage(ds: xr.Dataset, context: RunContext) -> xr.Dataset:
    parts = [take_partition(ds, p) for p in _partitions(ds, context)]
    config = dataclasses.replace(context.config.simulation(),
                                 execution=context.executor.simulation_execution)
    with context.log.progress("simulate", len(parts), "partitions") as advance:
        results = context.executor.map(simulate_partition, parts, config, on_done=advance)
    added = combine_additions(results)
    return ds.assign(added.data_vars)


STAGES = (
    Stage("forecast", _forecast_stage),
    Stage("targets", _targets_stage),
    Stage("plan", _plan_stage),
    Stage("simulate", _simulate_stage),
)
"""The stages after loading, in order."""

WRITERS: dict[OutputTable, Callable[[xr.Dataset], pd.DataFrame]] = {
    FORECAST: forecast_table,
    TARGETS: targets_table,
    PLAN: plan_table,
    ALLOCATION: allocation_table,
    KPIS: kpi_table,
}
"""The function making each data file of the run directory (`engine.outputs.RUN_TABLES`)."""


@dataclass(frozen=True)
class RunOutcome:
    """The finished run: its directory, status, per-stage seconds and the final dataset."""

    directory: Path
    status: str
    seconds: dict[str, float]
    dataset: xr.Dataset
    fallbacks: dict[str, list]


def fingerprint(source: InputSource, config: RunConfig, extra: dict | None = None) -> str:
    """Hash of the inputs, the configuration and any extra settings (a scenario): runs with the
    same one are the same run."""
    payload = json.dumps({"input": source.describe(), "config": config.as_dict(),
                          "extra": extra or {}, "version": _version("omnistock")},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def run(source: InputSource, config: RunConfig, output: str | os.PathLike, *,
        resume: bool = False, overwrite: bool = False, log: RunLog | None = None,
        stages: tuple[Stage, ...] = STAGES, extra: dict | None = None,
        executor=None) -> RunOutcome:
    """Run the nightly job and write its run directory atomically.

    Parameters
    ----------
    source : InputSource
    config : RunConfig
    output : path-like
        The run directory to create.
    resume : bool
        Reuse the finished stages of an interrupted run of the same inputs and configuration.
    overwrite : bool
        Replace an existing run directory.
    log : RunLog, optional
    stages : tuple of Stage
        The stages after loading (scenarios and tests pass their own).
    extra : dict, optional
        More settings that define the run (a scenario): part of the fingerprint, kept in the
        manifest.
    executor : optional
        Where partition work runs: `engine.pipeline.partitions.LocalExecutor` (default, this
        process) or `engine.pipeline.distributed.DaskExecutor` (its ``map``, ``workers`` and
        ``simulation_execution``, which the simulate tasks get in their settings). The outputs
        do not depend on it.

    Returns
    -------
    RunOutcome

    Raises
    ------
    FileExistsError
        If ``output`` exists and ``overwrite`` is false (checked before any work).
    engine.InputError
        If the input breaks the contract.
    """
    log = log or RunLog()
    target = Path(output)
    if target.exists() and not overwrite and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} already exists; choose another run directory or "
                              "allow overwriting (--force)")
    started = time.time()
    key = fingerprint(source, config, extra)
    staging = target.parent / f".{target.name}.partial-{key[:16]}"
    checkpoints = staging / "checkpoints"
    stale = [p for p in leftovers(target.parent, target.name) if p != staging]
    for path in stale:                      # checkpoints of other inputs or settings
        remove_path(path)
    if resume and stale and not staging.exists():
        log.info(f"the inputs or configuration changed since the interrupted run of {target}: "
                 f"starting from scratch (removed {len(stale)} stale checkpoint(s))")
    if staging.exists() and not resume:
        shutil.rmtree(staging)
    checkpoints.mkdir(parents=True, exist_ok=True)
    context = RunContext(config, log, executor or LocalExecutor(), source)
    seconds: dict[str, float] = {}
    statuses: dict[str, str] = {}

    names = ["load", *(stage.name for stage in stages)]
    done = _finished_stages(checkpoints, names) if resume else []
    ds = None
    if done:
        ds, saved = _read_checkpoint(checkpoints / f"{done[-1]}.pkl")
        context.fallbacks.update(saved["fallbacks"])
        context.notes.update(saved["notes"])
        for name in done:
            seconds[name] = saved["seconds"].get(name, 0.0)
            statuses[name] = "reused"
            log.event("reused", stage=name)
    try:
        for name in names[len(done):]:
            log.event("started", stage=name)
            tic = time.perf_counter()
            if name == "load":
                ds = source.load(config.freq, config.as_of)
            else:
                ds = next(s for s in stages if s.name == name).run(ds, context)
            seconds[name] = time.perf_counter() - tic
            statuses[name] = "done"
            _write_checkpoint(checkpoints / f"{name}.pkl", ds, context, seconds)
            log.event("finished", stage=name, seconds=round(seconds[name], 3))
    except BaseException:
        # keep what a --resume can reuse (a finished stage past loading); nothing else
        if len(list(checkpoints.glob("*.pkl"))) > 1:
            log.info(f"checkpoint kept in {staging}: run again with --resume to reuse its "
                     "finished stages, or remove it with omnistock clean")
        else:
            shutil.rmtree(staging, ignore_errors=True)
        raise

    log.event("started", stage="outputs")
    tic = time.perf_counter()
    final = staging / "run"
    if final.exists():
        shutil.rmtree(final)
    final.mkdir()
    rows = {}
    for table, variable in RUN_TABLES.items():
        if variable in ds:
            frame = WRITERS[table](ds)
            frame.to_parquet(final / table.file, index=False)
            rows[table.name] = len(frame)
    write_network(ds, final / NETWORK)
    seconds["outputs"] = time.perf_counter() - tic
    status = "fallbacks" if any(context.fallbacks.values()) else "ok"
    manifest = {
        "status": status,
        "fingerprint": key,
        "inputs": source.describe(),
        "config": config.as_dict(),
        "freq": ds.attrs.get("freq"),
        **({"scenario": extra} if extra else {}),
        "seed": config.seed,
        "versions": {**{p: _version(p) for p in PACKAGES},
                     "python": platform.python_version()},
        "stages": [{"name": n, "seconds": round(seconds[n], 3), "status": statuses.get(n, "done")}
                   for n in [*names, "outputs"]],
        "rows": rows,
        "fallbacks": {k: {"count": len(v), "items": v} for k, v in context.fallbacks.items()},
        "allocation": context.notes.get("allocation"),
        "notes": {k: v for k, v in context.notes.items() if k != "allocation"},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (final / MANIFEST).write_text(json.dumps(manifest, indent=2, default=_plain) + "\n")
    (final / REPORT).write_text(render_report(ds, manifest), encoding="utf-8")
    log.event("finished", stage="outputs", seconds=round(seconds["outputs"], 3))
    replace_directory(final, target)
    shutil.rmtree(staging, ignore_errors=True)
    log.event("done", message=str(target), status=status,
              seconds=round(time.time() - started, 3))
    return RunOutcome(target, status, seconds, ds, context.fallbacks)


def leftovers(folder: Path, name: str = "*") -> list[Path]:
    """Hidden staging (``.NAME.partial-*``) and replaced (``.NAME.old-*``) entries of the run
    directories ``name`` in ``folder``: an interrupted run's checkpoint, or what a crash during
    a replacement left."""
    if not folder.is_dir():
        return []
    return sorted([*folder.glob(f".{name}.partial-*"), *folder.glob(f".{name}.old-*")])


def write_network(ds: xr.Dataset, directory: Path) -> None:
    """The network as the run planned it: the contract tables but sales, in Parquet."""
    directory.mkdir()
    for name, table in to_tables(ds).items():
        if name in NETWORK_TABLES:
            table.to_parquet(directory / f"{name}.parquet", index=False)


def _finished_stages(checkpoints: Path, names: list[str]) -> list[str]:
    done = []
    for name in names:
        if (checkpoints / f"{name}.pkl").exists():
            done.append(name)
        else:
            break
    return done


def _write_checkpoint(path: Path, ds: xr.Dataset, context: RunContext,
                      seconds: dict[str, float]) -> None:
    temporary = path.with_suffix(".tmp")
    with open(temporary, "wb") as handle:
        pickle.dump({"dataset": ds, "fallbacks": context.fallbacks, "notes": context.notes,
                     "seconds": seconds}, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)


def _read_checkpoint(path: Path) -> tuple[xr.Dataset, dict]:
    with open(path, "rb") as handle:
        saved = pickle.load(handle)  # our own checkpoint, written by this run
    return saved["dataset"], saved


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
