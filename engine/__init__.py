"""omnistock engine: the front door and the numeric core.

Public API
----------
load_inputs, write_inputs
    Read, check and assemble an input directory into the planning dataset; write one back.
demo_inputs, demo_tables
    The bundled demo network, any size from 50 to 100,000 SKUs.
run, InputSource, RunConfig, load_config
    The nightly run into an atomic run directory (`engine.pipeline.nightly`,
    `engine.pipeline.config`).
simulate_policy, PolicySimulation
    Monte Carlo evaluation of a single-location inventory policy (`engine.simulation`).
Plan, reoptimize
    The order-system API: a run directory loaded once, order sourcing, ATP and a quick
    re-plan of a few SKUs (`engine.orders`, ``docs/order-api.md``).
backtest, BacktestSettings, write_backtest
    The decision backtest: replay the nightly plan over the last periods of the history
    against the actual sales, next to baseline policies (`engine.backtesting`).
run_scenario, run_scenarios
    Run planner scenario files against their baseline and compare them (`engine.scenario`).
InputError, Problem
    Bad input: every problem with its table, row, column, expected and found.
"""

import importlib

_HOMES = {
    "BacktestSettings": "engine.backtesting",
    "backtest": "engine.backtesting",
    "write_backtest": "engine.backtesting",
    "demo_inputs": "engine.demo",
    "demo_tables": "engine.demo",
    "InputError": "engine.errors",
    "Problem": "engine.errors",
    "load_inputs": "engine.inputs.load",
    "write_inputs": "engine.inputs.load",
    "Plan": "engine.orders",
    "reoptimize": "engine.orders",
    "RunConfig": "engine.pipeline.config",
    "load_config": "engine.pipeline.config",
    "InputSource": "engine.pipeline.nightly",
    "run": "engine.pipeline.nightly",
    "run_scenario": "engine.scenario",
    "run_scenarios": "engine.scenario",
    "PolicySimulation": "engine.simulation",
    "simulate_policy": "engine.simulation",
}
"""Where each public name lives: imported on first use (PEP 562), so that ``import engine``
and ``omnistock --version`` do not load statsforecast, numba and the solvers."""


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "BacktestSettings",
    "InputError",
    "InputSource",
    "Plan",
    "PolicySimulation",
    "Problem",
    "RunConfig",
    "backtest",
    "demo_inputs",
    "demo_tables",
    "load_config",
    "load_inputs",
    "reoptimize",
    "run",
    "run_scenario",
    "run_scenarios",
    "simulate_policy",
    "write_backtest",
    "write_inputs",
]

__version__ = "0.1.0"
