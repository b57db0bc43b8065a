"""Planner scenarios: what-if files applied to the planning dataset, run, and compared.

`load_scenario` checks a file (`engine.scenario.schema`), `run_scenarios` runs a baseline and
every scenario and writes the comparison (`engine.scenario.runner`, `engine.scenario.compare`);
the changes themselves are in `engine.scenario.changes`. The file format is documented in
``scenarios/README.md``.
"""

from engine.scenario.changes import adjust_forecast, apply_changes
from engine.scenario.runner import ScenarioRun, run_scenario, run_scenarios, source_of
from engine.scenario.schema import CHANGE_KINDS, Change, Scenario, load_scenario

__all__ = ["CHANGE_KINDS", "Change", "Scenario", "ScenarioRun", "adjust_forecast",
           "apply_changes", "load_scenario", "run_scenario", "run_scenarios", "source_of"]
