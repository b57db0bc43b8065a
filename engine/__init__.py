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

from engine.backtesting import BacktestSettings, backtest, write_backtest
from engine.demo import demo_inputs, demo_tables
from engine.errors import InputError, Problem
from engine.inputs.load import load_inputs, write_inputs
from engine.orders import Plan, reoptimize
from engine.pipeline.config import RunConfig, load_config
from engine.pipeline.nightly import InputSource, run
from engine.scenario import run_scenario, run_scenarios
from engine.simulation import PolicySimulation, simulate_policy

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
