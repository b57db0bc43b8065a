"""The ``omnistock`` command line.

Commands
--------
``omnistock demo OUTDIR``       write the demo network as an input directory
``omnistock validate DIR``      check an input directory against the contract
``omnistock run``               the nightly job into a run directory (see `engine.pipeline.nightly`)
``omnistock forecast``          forecast every series (``--output forecast.parquet``), or
                                backtest the forecast (``--backtest``)
``omnistock backtest``          replay the nightly plan against the actual sales, with baselines
``omnistock scenario run F...``  run what-if scenario files against a baseline and compare
``omnistock scenario check F...``  check scenario files
``omnistock clean [FOLDER...]``  remove interrupted runs' checkpoints (default folder: runs)

Exit codes: 0 ok, 2 bad input, configuration or arguments (a message, no traceback), 3 finished
with fallbacks (listed in the manifest), 1 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from enum import IntEnum
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from engine import __version__
from engine.backtesting import POLICIES, BacktestSettings, backtest, tradeoff, write_backtest
from engine.backtesting.run import STARTS, work_units
from engine.demo import DEFAULT_SKUS, MAX_SKUS, MIN_SKUS, demo_inputs
from engine.errors import InputError
from engine.inputs.calendar import normalize_freq
from engine.inputs.load import load_inputs, write_inputs
from engine.inputs.tables import remove_path
from engine.inputs.validate import as_of_date
from engine.inputs.yamlfile import YamlFileError
from engine.outputs import MANIFEST, REPORT
from engine.pipeline.config import SOLVERS, RunConfig, load_config
from engine.pipeline.nightly import InputSource, leftovers
from engine.pipeline.nightly import run as run_pipeline
from engine.pipeline.runlog import RunLog
from engine.pipeline.summary import (
    NetworkSummary,
    forecast_summary,
    middle_out_summary,
    summarize,
    targets_summary,
)
from engine.pipeline.write import write_parquet_atomic, write_report_tables
from engine.scenario import load_scenario, run_scenarios
from engine.scenario.runner import check_bases
from engine.stages.forecasting import ForecastConfig, add_forecast, backtest_report, forecast_table
from models.forecast import PROFILES


class ExitCode(IntEnum):
    """Process exit codes of every command."""

    OK = 0
    INTERNAL_ERROR = 1
    BAD_INPUT = 2
    FALLBACKS = 3


class UsageError(Exception):
    """Arguments that make no sense together; reported like bad input (exit 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (also used as the console script)."""
    parser = _parser()
    args = parser.parse_args(argv)
    out = _console(sys.stdout)
    err = _console(sys.stderr)
    try:
        return int(args.command(args, out, err))
    except (InputError, UsageError, FileExistsError, YamlFileError) as exc:
        err.print(f"omnistock {args.name}: {exc}", markup=False)
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        err.print("omnistock: interrupted", markup=False)
        return 130
    except Exception:  # a bug: say so, with the traceback for the report
        err.print(f"omnistock {args.name}: internal error", markup=False)
        err.print(traceback.format_exc(), markup=False)
        return ExitCode.INTERNAL_ERROR


def _console(stream) -> Console:
    """A console that writes plain lines, 120 columns wide, when not on a terminal."""
    terminal = stream.isatty()
    return Console(file=stream, highlight=False, soft_wrap=True,
                   width=None if terminal else 120)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omnistock",
        description="Multi-channel inventory planning: forecast, stock targets, deployment "
                    "and transfers, simulation.")
    parser.add_argument("--version", action="version", version=f"omnistock {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    demo = _command(commands, "demo", _demo, "write the demo network as an input directory")
    demo.add_argument("outdir", type=Path, help="directory to create")
    _demo_options(demo)
    demo.add_argument("--freq", choices=("W", "D"), default="W",
                      help="weekly (W, default) or daily (D) periods")
    demo.add_argument("--format", choices=("parquet", "csv"), default="parquet",
                      help="file format of the tables (default: parquet)")
    demo.add_argument("--force", action="store_true",
                      help="replace OUTDIR if it exists")

    validate = _command(commands, "validate", _validate,
                        "check an input directory against the input contract")
    validate.add_argument("input", type=Path, help="input directory")
    validate.add_argument("--freq", type=_freq, help="period frequency (D, W, W-XXX, MS); "
                          "default: inferred from the sales dates")
    _as_of_option(validate)

    run = _command(commands, "run", _run, "run the nightly job: load and check, forecast, "
                   "stock targets, tonight's moves and purchases (the deployment LP), "
                   "simulation; writes a run directory atomically (report.html inside)")
    _source_options(run, seed_flag="--demo-seed")
    run.add_argument("--output", type=Path,
                     help="run directory to create (default: runs/run-YYYYmmdd-HHMMSS)")
    run.add_argument("--config", type=Path, help="run configuration file (YAML); flags win")
    run.add_argument("--horizon", type=int, help="periods to forecast and plan for")
    run.add_argument("--models", choices=PROFILES, help="forecast candidate profile")
    run.add_argument("--solver", choices=SOLVERS, help="deployment LP backend")
    run.add_argument("--seed", dest="run_seed", type=int, help="random seed of the simulation")
    cluster = run.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=int,
                         help="run partition work on a local Dask cluster of N worker processes")
    cluster.add_argument("--scheduler", help="run partition work on an existing Dask cluster "
                                             "(scheduler address, e.g. tcp://10.0.0.5:8786)")
    run.add_argument("--resume", action="store_true",
                     help="reuse the finished stages of an interrupted run with the same inputs "
                          "and configuration (same --output)")
    run.add_argument("--force", action="store_true", help="replace the run directory")
    run.add_argument("--log-json", action="store_true",
                     help="progress as JSON lines on standard error (for schedulers)")

    forecast = _command(commands, "forecast", _forecast,
                        "forecast every series, or backtest the forecast (--backtest)")
    _source_options(forecast)
    _forecast_options(forecast)
    forecast.add_argument("--output", type=Path,
                          help="forecast.parquet to write (with --backtest: a directory for "
                               "the report tables)")
    forecast.add_argument("--backtest", action="store_true",
                          help="hold out the last windows and report RMSSE, MASE, WAPE, bias "
                               "and coverage per demand class and channel next to Naive, "
                               "SeasonalNaive and WindowAverage")
    forecast.add_argument("--windows", type=int, default=2,
                          help="holdout windows of --backtest (default: 2)")
    backtest = _command(commands, "backtest", _backtest,
                        "replay the nightly plan over the last periods of the history against "
                        "the actual sales, next to baseline policies; writes a directory "
                        "atomically")
    _source_options(backtest, seed_flag="--demo-seed")
    backtest.add_argument("--periods", type=int, default=26,
                          help="origins: the last N periods of the history (default: 26)")
    backtest.add_argument("--output", type=Path, required=True, help="directory to create")
    backtest.add_argument("--refit-every", type=int, default=4,
                          help="refit omnistock's forecast every K origins (default: 4)")
    backtest.add_argument("--service-levels", type=_levels, default=(0.90, 0.95, 0.98),
                          help="service levels asked of every channel, comma separated "
                               "(default: 0.9,0.95,0.98)")
    backtest.add_argument("--policies", type=_policies, default=POLICIES,
                          help=f"policies to replay, comma separated (default: "
                               f"{','.join(POLICIES)})")
    backtest.add_argument("--start", choices=STARTS, default="input",
                          help="starting stock: the input's on hand (default) or each "
                               "policy's first-origin order-up-to level")
    spread = backtest.add_mutually_exclusive_group()
    spread.add_argument("--workers", type=int, default=1,
                        help="local processes for the refits and the replays (default: 1)")
    spread.add_argument("--scheduler", help="run the refits and the replays on an existing "
                                            "Dask cluster (scheduler address)")
    backtest.add_argument("--config", type=Path, help="run configuration file (YAML)")
    backtest.add_argument("--horizon", type=int, help="periods to forecast and plan for")
    backtest.add_argument("--force", action="store_true", help="replace the output directory")

    scenario = commands.add_parser("scenario", help="planner what-if scenarios",
                                   description="check or run scenario files (scenarios/README.md)")
    scenario_commands = scenario.add_subparsers(title="scenario commands", required=True,
                                                metavar="SCENARIO_COMMAND")
    scenario_run = _command(scenario_commands, "run", _scenario_run,
                            "run a baseline and each scenario, then compare them")
    scenario_run.set_defaults(name="scenario run")
    scenario_run.add_argument("files", nargs="+", type=Path, help="scenario files (YAML)")
    scenario_run.add_argument("--output", type=Path, default=Path("scenario-runs"),
                              help="directory for the runs and the comparison "
                                   "(default: scenario-runs)")
    scenario_run.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                              help="scenarios run in parallel processes (default: 2)")
    scenario_run.add_argument("--force", action="store_true",
                              help="replace existing scenario runs")
    scenario_run.add_argument("--log-json", action="store_true",
                              help="progress as JSON lines on standard error")
    scenario_check = _command(scenario_commands, "check", _scenario_check,
                              "check scenario files without running them")
    scenario_check.set_defaults(name="scenario check")
    scenario_check.add_argument("files", nargs="+", type=Path, help="scenario files (YAML)")

    clean = _command(commands, "clean", _clean, "remove the checkpoints of interrupted runs "
                     "and what a crash left while replacing a directory")
    clean.add_argument("folders", nargs="*", type=Path, default=[Path("runs")],
                       help="folders holding run directories (default: runs)")
    return parser


def _source_options(parser: argparse.ArgumentParser, *, seed_flag: str = "--seed") -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="input directory")
    source.add_argument("--demo", action="store_true", help="use the bundled demo network")
    parser.add_argument("--freq", type=_freq, help="period frequency: of the input (D, W, "
                        "W-XXX, MS; default: inferred from the sales dates) or of the demo (W "
                        "or D; default: W)")
    _as_of_option(parser)
    _demo_options(parser, seed_flag=seed_flag)


def _as_of_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", dest="as_of", type=_date, metavar="YYYY-MM-DD",
                        help="the day the plan is made: sales dated after it are input "
                             "problems (default: today)")


def _forecast_options(parser: argparse.ArgumentParser) -> None:
    defaults = ForecastConfig()
    parser.add_argument("--horizon", type=int, default=defaults.horizon,
                        help=f"periods to forecast (default: {defaults.horizon})")
    parser.add_argument("--models", choices=PROFILES, default=defaults.models,
                        help=f"candidate models (default: {defaults.models})")
    parser.add_argument("--selection", choices=("class", "series"), default=defaults.selection,
                        help="choose a model per demand class or per series "
                             f"(default: {defaults.selection})")
    parser.add_argument("--no-middle-out", dest="middle_out", action="store_false",
                        help="forecast every series on its own (no sku x channel middle-out)")


def _command(commands, name: str, handler: Callable, help_text: str) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(command=handler, name=name)
    return parser


def _demo_options(parser: argparse.ArgumentParser, *, seed_flag: str = "--seed") -> None:
    parser.add_argument("--skus", type=_skus, default=DEFAULT_SKUS,
                        help=f"demo catalogue size, {MIN_SKUS:,} to {MAX_SKUS:,} "
                             f"(default: {DEFAULT_SKUS})")
    parser.add_argument(seed_flag, dest="seed", type=int, default=0,
                        help="demo random seed (default: 0)")


def _skus(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if not MIN_SKUS <= value <= MAX_SKUS:
        raise argparse.ArgumentTypeError(f"expected {MIN_SKUS:,} to {MAX_SKUS:,}, found {value:,}")
    return value


def _freq(text: str) -> str:
    try:
        return normalize_freq(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _date(text: str) -> str:
    try:
        return f"{as_of_date(text):%Y-%m-%d}"
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _timed(err: Console, label: str, work: Callable):
    start = time.perf_counter()
    err.print(f"{label} ...", markup=False)
    result = work()
    err.print(f"{label}: done in {time.perf_counter() - start:.1f} s", markup=False)
    return result


def _demo(args, out: Console, err: Console) -> int:
    ds = _timed(err, f"generating the demo network ({args.skus:,} SKUs)",
                lambda: demo_inputs(skus=args.skus, seed=args.seed, freq=args.freq))
    path = _timed(err, f"writing {args.outdir}",
                  lambda: write_inputs(ds, args.outdir, file_format=args.format,
                                       overwrite=args.force))
    out.print(f"wrote the demo network to {path}", markup=False)
    return ExitCode.OK


def _validate(args, out: Console, err: Console) -> int:
    ds = _timed(err, f"checking {args.input}",
                lambda: load_inputs(args.input, freq=args.freq, as_of=args.as_of))
    out.print(f"{args.input}: valid ({ds.sizes['sku']:,} SKUs, {ds.sizes['series']:,} series, "
              f"{ds.sizes['period']} periods of {ds.attrs['freq']})", markup=False)
    return ExitCode.OK


def _load(args, err: Console):
    """The planning dataset from --input or --demo."""
    if args.demo:
        freq = args.freq or "W-MON"
        if freq not in ("W-MON", "D"):
            raise UsageError(f"the demo has weekly (W) or daily (D) periods; found {freq}")
        return _timed(err, f"generating the demo network ({args.skus:,} SKUs)",
                      lambda: demo_inputs(skus=args.skus, seed=args.seed, freq=freq))
    return _timed(err, f"loading {args.input}",
                  lambda: load_inputs(args.input, freq=args.freq, as_of=args.as_of))


def _forecast_config(args) -> ForecastConfig:
    if args.horizon < 1:
        raise UsageError(f"--horizon must be at least 1; found {args.horizon}")
    return ForecastConfig(horizon=args.horizon, models=args.models, selection=args.selection,
                          middle_out=args.middle_out)


def _check_paths(input_path, output) -> None:
    """Path mistakes as usage errors (exit 2, one line) before any work: ``input_path`` must
    be a directory; the nearest existing folder above ``output`` must be a directory we may
    write in."""
    if input_path is not None:
        path = Path(input_path)
        if not path.is_dir():
            found = "no such directory" if not path.exists() else "a file"
            raise UsageError(f"--input {path}: expected a directory of input tables, found "
                             f"{found}")
    if output is not None:
        target = Path(output)
        for folder in (target.parent, *target.parent.parents):
            if not folder.exists():
                continue
            if not folder.is_dir():
                raise UsageError(f"--output {target}: {folder} is a file, not a folder")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise UsageError(f"--output {target}: no permission to write in {folder}")
            break


def _run(args, out: Console, err: Console) -> int:
    _check_paths(None if args.demo else args.input,
                 args.output or Path("runs") / "run")
    config = load_config(args.config) if args.config is not None else RunConfig()
    changes = {key: value for key, value in (
        ("horizon", args.horizon), ("models", args.models), ("solver", args.solver),
        ("seed", args.run_seed), ("freq", args.freq if not args.demo else None),
        ("as_of", args.as_of if not args.demo else None),
        ("workers", args.workers))
        if value is not None}
    if changes:
        config = config.replace(**changes)
    if args.demo:
        freq = args.freq or "W-MON"
        if freq not in ("W-MON", "D"):
            raise UsageError(f"the demo has weekly (W) or daily (D) periods; found {freq}")
        source = InputSource(demo_skus=args.skus, demo_seed=args.seed, demo_freq=freq)
    else:
        source = InputSource(path=args.input)
    output = args.output or Path("runs") / time.strftime("run-%Y%m%d-%H%M%S")
    log = RunLog(sys.stderr, json_lines=args.log_json)
    executor = None
    if args.scheduler or config.workers > 1:
        from engine.pipeline.distributed import DaskExecutor

        executor = DaskExecutor(scheduler=args.scheduler) if args.scheduler \
            else DaskExecutor(workers=config.workers)
    try:
        outcome = run_pipeline(source, config, output, resume=args.resume,
                               overwrite=args.force, log=log, executor=executor)
    finally:
        if executor is not None:
            executor.close()
    ds = outcome.dataset
    print_summary(summarize(ds), out)
    print_table(forecast_summary(ds), out, "forecast by demand class")
    print_table(targets_summary(ds), out, "stock targets by location")
    timings = ", ".join(f"{name} {sec:.1f} s" for name, sec in outcome.seconds.items())
    out.print(f"run {outcome.status}: {outcome.directory} ({timings})", markup=False)
    out.print(_headline(ds), markup=False)
    out.print(f"report: {outcome.directory / REPORT}", markup=False)
    if outcome.status == "fallbacks":
        counts = ", ".join(f"{k}: {len(v)}" for k, v in outcome.fallbacks.items() if v)
        out.print(f"fallbacks: {counts} (listed in {outcome.directory / MANIFEST})",
                  markup=False)
        return ExitCode.FALLBACKS
    return ExitCode.OK


def _headline(ds) -> str:
    """The night in one line: simulated fill rate against the demand-weighted target, units
    moved and bought."""
    parts = []
    if "kpi_demand" in ds and ds["kpi_demand"].values.sum() > 0:
        demand = ds["kpi_demand"].values
        channel = pd.Index(ds["channel"].values).get_indexer(ds["series_channel"].values)
        target = float(np.average(ds["service_level"].values[channel], weights=demand))
        fill = ds["kpi_served"].values.sum() / demand.sum()
        parts.append(f"simulated fill rate {fill:.1%} (target {target:.1%})")
    else:
        parts.append("simulated fill rate n/a (no demand)")
    if "move_quantity" in ds:
        parts.append(f"{ds['move_quantity'].values.sum():,.0f} units moved in "
                     f"{ds.sizes['move']:,} moves")
    if "purchase_quantity" in ds:
        parts.append(f"{ds['purchase_quantity'].values.sum():,.0f} units bought in "
                     f"{ds.sizes['purchase']:,} purchase orders")
    return "tonight: " + "; ".join(parts)


def _print_forecast(ds, forecaster, out: Console) -> None:
    print_table(forecast_summary(ds), out, "forecast by demand class")
    line = middle_out_summary(forecaster)
    if line:
        out.print(line, markup=False)


def _forecast(args, out: Console, err: Console) -> int:
    config = _forecast_config(args)
    ds = _load(args, err)
    if args.backtest:
        if args.windows < 1:
            raise UsageError(f"--windows must be at least 1; found {args.windows}")
        report = _timed(err, f"backtesting {args.windows} windows of {config.horizon} periods",
                        lambda: backtest_report(ds, config, windows=args.windows))
        for name, table in report.items():
            print_table(table.set_index(table.columns[0]), out, f"backtest {name}")
        if args.output is not None:
            write_report_tables(report, args.output)
            out.print(f"wrote the backtest report to {args.output}", markup=False)
        return ExitCode.OK
    ds, forecaster = _timed(err, f"forecasting {ds.sizes['series']:,} series",
                            lambda: add_forecast(ds, config))
    _print_forecast(ds, forecaster, out)
    if args.output is not None:
        write_parquet_atomic(forecast_table(ds), args.output)
        out.print(f"wrote {args.output}", markup=False)
    return ExitCode.OK


def _levels(text: str) -> tuple[float, ...]:
    try:
        levels = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers in (0, 1) separated by commas, found {text!r}") from None
    if not all(0 < v < 1 for v in levels):
        raise argparse.ArgumentTypeError(f"expected numbers in (0, 1), found {text!r}")
    return levels


def _policies(text: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [n for n in names if n not in POLICIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected policies among {', '.join(POLICIES)}, "
                                         f"found {text!r}")
    return names


def _backtest(args, out: Console, err: Console) -> int:
    config = load_config(args.config) if args.config is not None else RunConfig()
    if args.horizon is not None:
        if args.horizon < 1:
            raise UsageError(f"--horizon must be at least 1; found {args.horizon}")
        config = config.replace(horizon=args.horizon)
    _check_paths(None if args.demo else args.input, args.output)
    if args.output.exists() and not args.force:
        raise UsageError(f"{args.output} exists; pass --force to replace it")
    try:
        settings = BacktestSettings(periods=args.periods, service_levels=args.service_levels,
                                    policies=args.policies, refit_every=args.refit_every,
                                    start=args.start, config=config)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    ds = _load(args, err)
    if args.periods >= ds.sizes["period"] - 1:
        raise UsageError(f"--periods must leave history before the first origin: at most "
                         f"{ds.sizes['period'] - 2}; found {args.periods}")
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1; found {args.workers}")
    log = RunLog(sys.stderr)
    with log.progress("backtest", work_units(settings), "refits and origins") as advance:
        if args.scheduler:
            from engine.pipeline.distributed import DaskExecutor

            with DaskExecutor(scheduler=args.scheduler) as executor:
                result = backtest(ds, settings, executor=executor, progress=advance)
        else:
            result = backtest(ds, settings, workers=args.workers, progress=advance)
    source = "demo" if args.demo else str(args.input)
    write_backtest(result, args.output, source=source, settings=settings, overwrite=args.force)
    table = tradeoff(result.summary)
    print_table(table.set_index(["policy", "service_level"]), out, "backtest: fill rate and "
                "stock value")
    out.print(f"wrote {args.output} ({result.seconds:,.0f} s)", markup=False)
    return ExitCode.OK


def _clean(args, out: Console, err: Console) -> int:
    removed, size = 0, 0
    for folder in args.folders:
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"{folder}: expected a folder of run directories, found a file")
        for path in leftovers(folder):
            files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
            bytes_ = sum(f.stat().st_size for f in files)
            remove_path(path)
            out.print(f"removed {path} ({bytes_ / 1e6:,.1f} MB)", markup=False)
            removed, size = removed + 1, size + bytes_
    out.print(f"{removed} leftover(s) removed, {size / 1e6:,.1f} MB freed" if removed
              else "nothing to clean", markup=False)
    return ExitCode.OK


def _scenario_check(args, out: Console, err: Console) -> int:
    problems = []
    for file in args.files:
        try:
            scenario = load_scenario(file)
            check_bases([scenario])          # the names its changes use exist in its base
            out.print(f"{file}: {scenario.name}, {len(scenario.changes)} changes, ok",
                      markup=False)
        except YamlFileError as error:
            problems.extend(error.problems)
    if problems:
        raise YamlFileError(problems)
    return ExitCode.OK


def _scenario_run(args, out: Console, err: Console) -> int:
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1; found {args.workers}")
    log = RunLog(sys.stderr, json_lines=args.log_json)
    results = run_scenarios(args.files, args.output, workers=args.workers,
                            overwrite=args.force, log=log)
    deltas = pd.read_csv(args.output / "comparison" / "kpi_deltas.csv")
    total = deltas[deltas["level"] == "total"].set_index("scenario")
    print_table(total[["demand_baseline", "demand_scenario", "fill_rate_baseline",
                       "fill_rate_scenario", "lost_sales_change"]], out,
                "scenarios against their baseline (totals)")
    out.print(f"wrote {len(results)} scenario runs and {args.output / 'comparison.html'}",
              markup=False)
    fallbacks = [r for r in results if r.status != "ok"]
    return ExitCode.FALLBACKS if fallbacks else ExitCode.OK


def print_table(table, out: Console, title: str) -> None:
    """Render a DataFrame (index as the first column) with numbers formatted for planners."""
    view = Table(title=title, title_justify="left")
    view.add_column(str(table.index.name or ""))
    for column in table.columns:
        view.add_column(str(column), justify="right")
    for label, row in table.iterrows():
        view.add_row(str(label), *(_cell(v) for v in row.to_numpy()))
    out.print(view)


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        if value != value:
            return "-"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return str(value)


def print_summary(summary: NetworkSummary, out: Console) -> None:
    """Render a `NetworkSummary` as three tables."""
    head = Table(title="omnistock: the network", show_header=False, title_justify="left")
    head.add_column("item", style="bold")
    head.add_column("value")
    for label, value in summary.headline.items():
        head.add_row(label, value)
    out.print(head)

    channels = Table(title="channels", title_justify="left")
    for name in ("channel", "kind", "regions", "series", "units last year", "share",
                 "locations"):
        channels.add_column(name, justify="left" if name in ("channel", "kind") else "right")
    for channel, row in summary.channels.iterrows():
        channels.add_row(str(channel), row["kind"], f"{row['regions']}", f"{row['series']:,}",
                         f"{row['units_last_year']:,.0f}", f"{row['share']:.1%}",
                         f"{row['locations']}")
    out.print(channels)

    locations = Table(title="locations", title_justify="left")
    for name in ("location", "kind", "region", "owner", "on hand", "stock value",
                 "capacity used"):
        locations.add_column(name, justify="left" if name in ("location", "kind", "region",
                                                              "owner") else "right")
    for location, row in summary.locations.iterrows():
        used = "-" if row["capacity_used"] != row["capacity_used"] else \
            f"{row['capacity_used']:.0%}"
        locations.add_row(str(location), row["kind"], row["region"], row["owner"] or "-",
                          f"{row['on_hand']:,.0f}", f"{row['stock_value']:,.0f}", used)
    out.print(locations)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
