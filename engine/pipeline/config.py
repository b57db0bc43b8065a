"""The run configuration: every setting of the nightly run, its default, and its YAML file.

A run configuration file is a YAML mapping of some of the keys below; every key left out takes
its default. An unknown key, a wrong type or an out-of-range value is an error naming the file,
the line and the key (and, for an unknown key, listing the allowed ones).

=========================  ===========  ==========================================================
key                        default      meaning
=========================  ===========  ==========================================================
horizon                    13           periods to forecast and plan for
freq                       (inferred)   period frequency of the input (D, W, W-XXX, MS)
as_of                      (today)      the day the plan is made (YYYY-MM-DD): sales dated
                                        after it are input problems
quantiles                  [0.1, 0.5,   forecast quantile levels written to forecast.parquet
                           0.9]
models                     fast         forecast candidate profile: fast or accurate
selection                  class        choose a forecast model per demand class or per series
middle_out                 true         sku x channel middle-out where the backtest favours it
festivals                  true         model the Chinese retail festivals
backtest_windows           (auto)       rolling-origin forecast windows: 4 monthly, else 3
service                    fill_rate    meaning of the service levels: fill_rate or cycle
service_levels             {}           per-channel service level overrides, e.g. {jd: 0.97}
supplier_lead_time_days    28           DC replenishment lead time from suppliers, days
solver                     highs        deployment LP backend: highs or pulp
coverage_periods           4            periods of demand the deployment plan covers (the
                                        phased plan: at least the longest replenishment
                                        lane's lead time + 1)
deployment_model           phased       deployment LP: phased (time-phased, per period) or
                                        single_period (no time index)
samples                    200          Monte Carlo sample paths per SKU
rationing                  priority     a short source splits by channel priority or fair_share
seed                       0            random seed of the simulation
workers                    1            worker processes (Dask) for the run
partition_skus             5000         SKUs per partition (forecast pooling, work units)
=========================  ===========  ==========================================================
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields

from engine.inputs.calendar import normalize_freq
from engine.inputs.validate import as_of_date
from engine.inputs.yamlfile import Located, YamlFileError, YamlProblem, read_yaml
from engine.stages.forecasting import ForecastConfig
from engine.stages.plan import PlanConfig
from engine.stages.simulate import SimulationConfig
from engine.stages.targets import TargetConfig
from models.checks import whole
from models.forecast import PROFILES

SOLVERS = ("highs", "pulp")
DEPLOYMENT_MODELS = ("phased", "single_period")
SERVICE_MEASURES = ("cycle", "fill_rate")


@dataclass(frozen=True)
class RunConfig:
    """Every setting of a run (see the module docstring for meanings and defaults).

    A stage's settings default to that stage's defaults (`ForecastConfig`, `TargetConfig`,
    `PlanConfig`, `SimulationConfig`): each default is written once, with its stage.
    """

    horizon: int = ForecastConfig.horizon
    freq: str | None = None
    as_of: str | None = None
    quantiles: tuple[float, ...] = ForecastConfig.quantiles
    models: str = ForecastConfig.models
    selection: str = ForecastConfig.selection
    middle_out: bool = ForecastConfig.middle_out
    festivals: bool = ForecastConfig.festivals
    backtest_windows: int | None = ForecastConfig.backtest_windows
    service: str = TargetConfig.service
    service_levels: dict[str, float] = field(default_factory=dict)
    supplier_lead_time_days: float = TargetConfig.supplier_lead_time_days
    solver: str = PlanConfig.solver
    coverage_periods: int = PlanConfig.coverage_periods
    deployment_model: str = "phased" if PlanConfig.phased else "single_period"
    samples: int = SimulationConfig.samples
    rationing: str = SimulationConfig.rationing
    seed: int = SimulationConfig.seed
    workers: int = 1
    partition_skus: int = 5000

    def forecast(self) -> ForecastConfig:
        return ForecastConfig(horizon=self.horizon, quantiles=self.quantiles, models=self.models,
                              selection=self.selection, middle_out=self.middle_out,
                              festivals=self.festivals, backtest_windows=self.backtest_windows,
                              supplier_lead_time_days=self.supplier_lead_time_days)

    def plan(self) -> PlanConfig:
        return PlanConfig(coverage_periods=self.coverage_periods, solver=self.solver,
                          supplier_lead_time_days=self.supplier_lead_time_days,
                          phased=self.deployment_model == "phased")

    def simulation(self) -> SimulationConfig:
        return SimulationConfig(samples=self.samples, seed=self.seed, rationing=self.rationing,
                                supplier_lead_time_days=self.supplier_lead_time_days)

    def targets(self) -> TargetConfig:
        return TargetConfig(service=self.service,
                            supplier_lead_time_days=self.supplier_lead_time_days)

    def as_dict(self) -> dict:
        """Plain values, for the manifest and for fingerprints."""
        out = dataclasses.asdict(self)
        out["quantiles"] = list(self.quantiles)
        return out

    def replace(self, **changes) -> RunConfig:
        """A copy with some settings changed (checked like a file)."""
        values = {**self.as_dict(), **changes}
        return config_from_mapping(values, file="(settings)")


ALLOWED_KEYS = tuple(f.name for f in fields(RunConfig))


def load_config(path: str | os.PathLike) -> RunConfig:
    """Read and check a run configuration file.

    Raises
    ------
    engine.inputs.yamlfile.YamlFileError
        Listing every problem with file, line and key.
    """
    document = read_yaml(path)
    return config_from_mapping(document.value, file=document.file, located=document)


def config_from_mapping(values, *, file: str, located: Located | None = None) -> RunConfig:
    """Check a mapping of settings and build the `RunConfig` (problems name file and line)."""
    problems: list[YamlProblem] = []

    def line(*path):
        return located.line(*path) if located is not None else None

    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise YamlFileError([YamlProblem(file, line(), "", "expected a mapping of settings, "
                                         f"found {type(values).__name__}")])
    defaults = RunConfig()
    checked = {}
    for key, value in values.items():
        if key not in ALLOWED_KEYS:
            problems.append(YamlProblem(file, line(key), str(key),
                                        f"unknown key; allowed keys: {', '.join(ALLOWED_KEYS)}"))
            continue
        message, converted = _check(key, value)
        if message:
            problems.append(YamlProblem(file, line(key), key, message))
        else:
            checked[key] = converted
    if problems:
        raise YamlFileError(problems)
    return dataclasses.replace(defaults, **checked)


def _whole(value, smallest: int):
    try:
        return None, whole(value, "value", minimum=smallest)
    except (TypeError, ValueError):
        return f"expected a whole number >= {smallest}, found {value!r}", None


def _check(key: str, value):
    """(message, converted value) for one setting; message is None when the value is fine."""
    if key == "backtest_windows" and value is None:     # auto: by the data's frequency
        return None, None
    if key in ("horizon", "backtest_windows", "coverage_periods", "samples", "workers",
               "partition_skus"):
        return _whole(value, 1)
    if key == "seed":
        return _whole(value, 0)
    if key in ("middle_out", "festivals"):
        if not isinstance(value, bool):
            return f"expected true or false, found {value!r}", None
        return None, value
    if key == "freq":
        if value is None:
            return None, None
        try:
            return None, normalize_freq(str(value))
        except ValueError as exc:
            return str(exc), None
    if key == "as_of":
        if value is None:
            return None, None
        try:
            return None, f"{as_of_date(value):%Y-%m-%d}"
        except ValueError as exc:
            return str(exc), None
    if key == "quantiles":
        if not isinstance(value, list) or not value or not all(
                isinstance(q, (int, float)) and not isinstance(q, bool) and 0 < q < 1
                for q in value):
            return f"expected a list of probabilities in (0, 1), found {value!r}", None
        return None, tuple(sorted(float(q) for q in value))
    if key == "models":
        return _choice(value, PROFILES)
    if key == "selection":
        return _choice(value, ("class", "series"))
    if key == "service":
        return _choice(value, SERVICE_MEASURES)
    if key == "solver":
        return _choice(value, SOLVERS)
    if key == "deployment_model":
        return _choice(value, DEPLOYMENT_MODELS)
    if key == "rationing":
        return _choice(value, ("priority", "fair_share"))
    if key == "supplier_lead_time_days":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            return f"expected a number of days >= 0, found {value!r}", None
        return None, float(value)
    if key == "service_levels":
        if not isinstance(value, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1
                for v in value.values()):
            return ("expected a mapping of channel to a service level in (0, 1), found "
                    f"{value!r}"), None
        return None, {str(k): float(v) for k, v in value.items()}
    raise AssertionError(key)  # every key of RunConfig is handled above


def _choice(value, allowed):
    if value not in allowed:
        return f"expected one of {', '.join(allowed)}, found {value!r}", None
    return None, value
