"""Run scenarios against their baseline and compare them.

Every scenario file is checked first (nothing runs when one is wrong). Scenarios that share a
base and a configuration share one baseline run. Each run is the nightly run
(`engine.pipeline.nightly`) with two more stages: the scenario's changes to the input right
after loading, and its demand multipliers right after the forecast. Runs go to
``OUTPUT/baseline`` (``baseline-2`` ... when scenarios need different baselines) and
``OUTPUT/NAME``, each written atomically; then the comparison: ``OUTPUT/comparison.html`` and
``OUTPUT/comparison/`` with the KPI deltas by channel and region and the moves that changed
(`engine.scenario.compare`). Scenario runs go to worker processes when ``workers`` > 1; every
run is seeded, so the results do not depend on it.
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from engine.inputs.yamlfile import YamlFileError, YamlProblem
from engine.outputs import MANIFEST
from engine.pipeline.config import RunConfig
from engine.pipeline.nightly import STAGES, InputSource, RunContext, RunOutcome, Stage, run
from engine.pipeline.runlog import RunLog
from engine.scenario.changes import adjust_forecast, apply_changes, check_names
from engine.scenario.compare import write_comparison
from engine.scenario.schema import Scenario, load_scenario


@dataclass(frozen=True)
class ScenarioRun:
    """Where a scenario's run and its baseline were written."""

    scenario: Scenario
    directory: Path
    baseline: Path
    status: str


def source_of(scenario: Scenario, demo_skus: int | None = None) -> InputSource:
    """The input of a scenario's base: the demo, an input directory or a previous run's input.

    ``demo_skus`` overrides the size of a demo base (tests run every example small)."""
    (kind, settings), = scenario.base.items()
    if kind == "demo":
        freq = {"W": "W-MON", "D": "D"}.get(str(settings.get("freq", "W")), "W-MON")
        return InputSource(demo_skus=int(demo_skus or settings.get("skus", 200)),
                           demo_seed=int(settings.get("seed", 0)), demo_freq=freq)
    if kind == "input":
        return InputSource(path=_relative(scenario, settings))
    manifest_file = _relative(scenario, settings) / MANIFEST
    if not manifest_file.exists():
        raise YamlFileError([YamlProblem(scenario.file, None, "base.run",
                                         f"a run directory with a manifest, found {settings!r}")])
    inputs = json.loads(manifest_file.read_text())["inputs"]
    if "demo" in inputs:
        demo = inputs["demo"]
        return InputSource(demo_skus=demo["skus"], demo_seed=demo["seed"],
                           demo_freq=demo["freq"])
    return InputSource(path=Path(inputs["directory"]))


def check_bases(scenarios: list[Scenario], demo_skus: int | None = None) -> None:
    """Load each scenario's base network (once per base) and check every name its changes
    use (`engine.scenario.changes.check_names`); raises `YamlFileError` with every problem of
    every scenario."""
    problems = []
    loaded: dict[str, object] = {}
    for scenario in scenarios:
        source = source_of(scenario, demo_skus)
        key = json.dumps(source.describe(), sort_keys=True, default=str)
        if key not in loaded:
            loaded[key] = source.load(scenario.config.freq, scenario.config.as_of)
        try:
            check_names(loaded[key], scenario)
        except YamlFileError as error:
            problems.extend(error.problems)
    if problems:
        raise YamlFileError(problems)


def _relative(scenario: Scenario, path: str) -> Path:
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return Path(scenario.file).parent / candidate


def scenario_stages(scenario: Scenario) -> tuple[Stage, ...]:
    """The nightly stages with the scenario's changes before and after the forecast."""

    def changes(ds: xr.Dataset, context: RunContext) -> xr.Dataset:
        ds, notes = apply_changes(ds, scenario)
        context.notes["scenario"] = {"name": scenario.name, "notes": notes}
        return ds

    def demand(ds: xr.Dataset, context: RunContext) -> xr.Dataset:
        return adjust_forecast(ds, scenario)

    out = []
    for stage in STAGES:
        if stage.name == "forecast":
            out += [Stage("scenario", changes), stage, Stage("scenario_demand", demand)]
        else:
            out.append(stage)
    return tuple(out)


def _describe(scenario: Scenario) -> dict:
    return {"name": scenario.name, "file": scenario.file,
            "changes": [{"kind": c.kind, **c.values} for c in scenario.changes]}


def _run_one(scenario: Scenario, directory: Path, overwrite: bool, json_lines: bool,
             demo_skus: int | None) -> RunOutcome:
    log = RunLog(open(os.devnull, "w"), json_lines=json_lines)  # noqa: SIM115
    return run(source_of(scenario, demo_skus), scenario.config, directory, overwrite=overwrite,
               log=log, stages=scenario_stages(scenario), extra=_describe(scenario))


def run_scenarios(files: list[str | os.PathLike], output: str | os.PathLike, *,
                  workers: int = 1, overwrite: bool = False, log: RunLog | None = None,
                  demo_skus: int | None = None) -> list[ScenarioRun]:
    """Check, run and compare scenario files (see the module docstring).

    Raises
    ------
    engine.inputs.yamlfile.YamlFileError
        When any file is malformed (all files are checked before anything runs).
    FileExistsError
        When a run directory exists and ``overwrite`` is false.

    ``demo_skus`` overrides the size of every demo base (tests run the examples small).
    """
    log = log or RunLog()
    problems: list[YamlProblem] = []
    scenarios = []
    for file in files:
        try:
            scenarios.append(load_scenario(file))
        except YamlFileError as error:
            problems.extend(error.problems)
    names = [s.name for s in scenarios]
    reserved = re.compile(r"^(baseline(-\d+)?|comparison)$")
    for name in sorted({n for n in names if names.count(n) > 1 or reserved.match(n)}):
        file = next(s.file for s in scenarios if s.name == name)
        problems.append(YamlProblem(file, None, "name", "a name no other scenario uses, other "
                                    f"than baseline, baseline-N and comparison, found {name!r}"))
    if problems:
        raise YamlFileError(problems)
    root = Path(output)
    root.mkdir(parents=True, exist_ok=True)
    for scenario in scenarios:
        target = root / scenario.name
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} already exists; choose another output or allow "
                                  "overwriting (--force)")

    check_bases(scenarios, demo_skus)            # every name, before any run
    baselines: dict[str, Path] = {}
    baseline_of: dict[str, Path] = {}
    for scenario in scenarios:
        source = source_of(scenario, demo_skus)
        key = json.dumps({"base": source.describe(),
                          "config": scenario.config.as_dict()}, sort_keys=True, default=str)
        if key not in baselines:
            name = "baseline" if not baselines else f"baseline-{len(baselines) + 1}"
            directory = root / name
            log.event("started", stage=name)
            run(source, scenario.config, directory, overwrite=True,
                log=RunLog(open(os.devnull, "w")))  # noqa: SIM115
            log.event("finished", stage=name)
            baselines[key] = directory
        baseline_of[scenario.name] = baselines[key]

    outcomes: dict[str, str] = {}
    if workers > 1 and len(scenarios) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(scenarios))) as pool:
            futures = {s.name: pool.submit(_run_one, s, root / s.name, True, log.json_lines,
                                           demo_skus) for s in scenarios}
            for name, future in futures.items():
                outcomes[name] = future.result().status
                log.event("finished", stage=f"scenario {name}")
    else:
        for scenario in scenarios:
            log.event("started", stage=f"scenario {scenario.name}")
            outcomes[scenario.name] = _run_one(scenario, root / scenario.name, True,
                                               log.json_lines, demo_skus).status
            log.event("finished", stage=f"scenario {scenario.name}")

    results = [ScenarioRun(s, root / s.name, baseline_of[s.name], outcomes[s.name])
               for s in scenarios]
    write_comparison(results, root)
    log.event("done", message=str(root / "comparison.html"))
    return results


def run_scenario(file: str | os.PathLike, output: str | os.PathLike, **options) -> ScenarioRun:
    """Run one scenario file against its baseline and compare (see `run_scenarios`)."""
    return run_scenarios([file], output, **options)[0]


__all__ = ["RunConfig", "ScenarioRun", "run_scenario", "run_scenarios", "scenario_stages",
           "source_of", "check_bases"]
