"""Scenario files: their schema, checked with messages that name the file, the line and the key.

A scenario is a YAML mapping (every key is documented in ``scenarios/README.md``)::

    name: douyin-618-push                 # required: letters, digits, - and _
    description: ...                      # optional
    base: demo                            # demo | {demo: {skus, seed, freq}} | {input: DIR}
                                          #      | {run: RUN_DIR}
    config: {horizon: 13, ...}            # optional overrides of the run configuration
    changes:                              # a list; each item is a mapping with one key
      - demand: {multiplier: 3, channel: douyin, start: 2026-12-01, end: 2026-12-31}
      - ...

This module checks the shape and the values of each change (`parse_scenario`); names of skus,
channels, regions and locations are checked against the base network when the scenario is
applied (`engine.scenario.changes`), with the same kind of message.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field

from engine.inputs.yamlfile import Located, YamlFileError, YamlProblem, read_yaml
from engine.pipeline.config import RunConfig, config_from_mapping

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
TOP_KEYS = ("name", "description", "base", "config", "changes")

# every change: its keys, required keys, and the type of each value
_SCHEMA: dict[str, dict[str, str]] = {
    "demand": {"multiplier": "positive", "sku": "pattern", "channel": "pattern",
               "region": "pattern", "start": "date", "end": "date"},
    "promotion": {"sku": "pattern", "channel": "pattern", "region": "pattern", "start": "date",
                  "end": "date", "uplift": "positive", "price_cut": "fraction",
                  "elasticity": "number"},
    "open_channel": {"channel": "name", "like": "name", "share": "positive",
                     "regions": "names", "kind": "name", "pool": "mapping",
                     "price_index": "positive"},
    "expand_channel": {"channel": "name", "regions": "names", "like_region": "name",
                       "share": "positive", "locations": "names"},
    "close_location": {"location": "name", "from": "date"},
    "location_capacity": {"location": "name", "capacity": "nonnegative",
                          "multiplier": "nonnegative"},
    "lane": {"origin": "name", "destination": "name", "origin_region": "names",
             "destination_region": "names", "lead_time": "whole", "lead_time_add": "integer",
             "cost_multiplier": "nonnegative", "capacity": "nonnegative"},
    "service_level": {"channel": "pattern", "level": "probability"},
    "fulfilment": {"channel": "name", "region": "name", "locations": "names",
                   "exclusive_of": "names", "transfer_demand": "bool"},
    "supply": {"sku": "pattern", "location": "name", "delay_periods": "whole",
               "cut": "fraction"},
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "demand": ("multiplier",),
    "promotion": ("start", "end"),
    "open_channel": ("channel", "like", "share", "regions"),
    "expand_channel": ("channel", "regions", "like_region", "share"),
    "close_location": ("location",),
    "location_capacity": ("location",),
    "lane": (),
    "service_level": ("channel", "level"),
    "fulfilment": ("channel", "region", "locations"),
    "supply": (),
}
_POOL_KEYS = {"location": "name", "region": "name", "lead_time": "whole",
              "cost_per_unit": "nonnegative", "origin": "name"}
CHANGE_KINDS = tuple(_SCHEMA)


@dataclass(frozen=True)
class Change:
    """One change of a scenario.

    Attributes
    ----------
    kind : str
        One of `CHANGE_KINDS`.
    values : dict
        The change's settings, checked and converted (dates as ``datetime.date``).
    file : str
    line : int or None
        Line of the change in the file.
    lines : dict of str to int
        Line of each key of the change.
    """

    kind: str
    values: dict
    file: str
    line: int | None
    lines: dict[str, int] = field(default_factory=dict)

    def problem(self, key: str, message: str) -> YamlProblem:
        """A problem with this change's ``key`` (line and key named)."""
        return YamlProblem(self.file, self.lines.get(key, self.line), f"{self.kind}.{key}"
                           if key else self.kind, message)


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file."""

    name: str
    description: str
    base: dict
    config: RunConfig
    changes: tuple[Change, ...]
    file: str


def load_scenario(path: str | os.PathLike, *, defaults: RunConfig | None = None) -> Scenario:
    """Read and check a scenario file.

    Raises
    ------
    engine.inputs.yamlfile.YamlFileError
        Listing every problem with the file, the line and the key.
    """
    document = read_yaml(path)
    return parse_scenario(document, defaults=defaults)


def parse_scenario(document: Located, *, defaults: RunConfig | None = None) -> Scenario:
    file = document.file
    data = document.value
    problems: list[YamlProblem] = []
    if not isinstance(data, dict):
        raise YamlFileError([YamlProblem(file, document.line(), "", "expected a mapping with "
                                         "name, base and changes")])
    for key in data:
        if key not in TOP_KEYS:
            problems.append(YamlProblem(file, document.line(key), str(key),
                                        f"unknown key; allowed keys: {', '.join(TOP_KEYS)}"))
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        problems.append(YamlProblem(file, document.line("name"), "name",
                                    "expected a name of letters, digits, - and _, found "
                                    f"{name!r}"))
    description = data.get("description", "")
    base = _base(data.get("base", "demo"), file, document, problems)
    config = defaults or RunConfig()
    if "config" in data:
        if not isinstance(data["config"], dict):
            problems.append(YamlProblem(file, document.line("config"), "config",
                                        "expected a mapping of run settings"))
        else:
            try:
                overrides = {**config.as_dict(), **data["config"]}
                config = config_from_mapping(overrides, file=file,
                                             located=_Shifted(document, "config"))
            except YamlFileError as error:
                problems.extend(error.problems)
    changes = []
    raw = data.get("changes", [])
    if not isinstance(raw, list):
        problems.append(YamlProblem(file, document.line("changes"), "changes",
                                    "expected a list of changes"))
        raw = []
    for i, item in enumerate(raw):
        change = _change(item, i, file, document, problems)
        if change is not None:
            changes.append(change)
    if problems:
        raise YamlFileError(problems)
    return Scenario(name, str(description), base, config, tuple(changes), file)


class _Shifted:
    """Lines of the keys under one top-level key (for the run configuration's messages)."""

    def __init__(self, document: Located, key: str):
        self.document, self.key = document, key

    def line(self, *path):
        return self.document.line(self.key, *path) if path else self.document.line(self.key)


def _base(value, file, document, problems) -> dict:
    line = document.line("base")
    if value == "demo":
        return {"demo": {}}
    if isinstance(value, dict) and len(value) == 1:
        (kind, settings), = value.items()
        if kind == "demo" and (settings is None or isinstance(settings, dict)):
            settings = settings or {}
            unknown = set(settings) - {"skus", "seed", "freq"}
            if unknown:
                problems.append(YamlProblem(file, line, "base.demo", "unknown keys "
                                            f"{', '.join(sorted(unknown))}; allowed: skus, "
                                            "seed, freq"))
            return {"demo": settings}
        if kind in ("input", "run") and isinstance(settings, str):
            return {kind: settings}
    problems.append(YamlProblem(file, line, "base", "expected demo, {demo: {skus, seed, freq}},"
                                " {input: DIR} or {run: RUN_DIR}, found " f"{value!r}"))
    return {"demo": {}}


def _change(item, index, file, document, problems) -> Change | None:
    line = document.line("changes", index)
    if not isinstance(item, dict) or len(item) != 1:
        problems.append(YamlProblem(file, line, f"changes[{index}]", "expected a mapping with "
                                    f"one key, the kind of change ({', '.join(CHANGE_KINDS)})"))
        return None
    (kind, settings), = item.items()
    if kind not in _SCHEMA:
        problems.append(YamlProblem(file, line, str(kind), "unknown kind of change; allowed: "
                                    + ", ".join(CHANGE_KINDS)))
        return None
    if not isinstance(settings, dict):
        problems.append(YamlProblem(file, line, kind, "expected a mapping of settings"))
        return None
    lines = {key: document.line("changes", index, kind, key) for key in settings}
    change = Change(kind, {}, file, line, lines)
    values = {}
    for key, value in settings.items():
        expected = _SCHEMA[kind].get(key)
        if expected is None:
            problems.append(change.problem(key, "unknown key; allowed keys: "
                                           + ", ".join(_SCHEMA[kind])))
            continue
        message, converted = _convert(expected, value)
        if message:
            problems.append(change.problem(key, message))
        else:
            values[key] = converted
    for key in _REQUIRED[kind]:
        if key not in settings:
            problems.append(change.problem(key, "a required key is missing"))
    _cross_checks(kind, values, change, problems)
    return Change(kind, values, file, line, lines)


def _cross_checks(kind: str, values: dict, change: Change, problems: list) -> None:
    if "start" in values and "end" in values and values["end"] < values["start"]:
        problems.append(change.problem("end", f"expected an end on or after the start "
                                       f"{values['start']}, found {values['end']}"))
    if kind == "promotion" and ("uplift" in values) == ("price_cut" in values):
        problems.append(change.problem("uplift", "give either uplift or price_cut (with "
                                       "elasticity)"))
    if kind == "promotion" and "price_cut" in values and "elasticity" not in values:
        problems.append(change.problem("elasticity", "price_cut needs an elasticity (e.g. "
                                       "-2.5: demand x 0.8 ** -2.5 for a 20% cut)"))
    if kind == "location_capacity" and ("capacity" in values) == ("multiplier" in values):
        problems.append(change.problem("capacity", "give either capacity or multiplier"))
    if kind == "lane" and not ({"origin", "destination", "origin_region", "destination_region"}
                               & set(values)):
        problems.append(change.problem("origin", "name the lanes: origin, destination, "
                                       "origin_region or destination_region"))
    if kind == "lane" and not ({"lead_time", "lead_time_add", "cost_multiplier", "capacity"}
                               & set(values)):
        problems.append(change.problem("lead_time", "say what changes: lead_time, "
                                       "lead_time_add, cost_multiplier or capacity"))
    if kind == "supply" and not ({"delay_periods", "cut"} & set(values)):
        problems.append(change.problem("delay_periods", "say what changes: delay_periods or "
                                       "cut"))
    if kind == "open_channel" and "pool" in values:
        pool = values["pool"]
        for key, value in pool.items():
            expected = _POOL_KEYS.get(key)
            if expected is None:
                problems.append(change.problem("pool", f"unknown key {key!r}; allowed keys: "
                                               + ", ".join(_POOL_KEYS)))
                continue
            message, converted = _convert(expected, value)
            if message:
                problems.append(change.problem("pool", f"{key}: {message}"))
            else:
                pool[key] = converted
        for key in ("location", "region", "lead_time"):
            if key not in pool:
                problems.append(change.problem("pool", f"{key}: a required key is missing"))


def _convert(expected: str, value):
    """(message, converted) for one value; message None when fine."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "positive":
        return (None, float(value)) if number and value > 0 else \
            (f"expected a number > 0, found {value!r}", None)
    if expected == "nonnegative":
        return (None, float(value)) if number and value >= 0 else \
            (f"expected a number >= 0, found {value!r}", None)
    if expected == "number":
        return (None, float(value)) if number else (f"expected a number, found {value!r}", None)
    if expected == "fraction":
        return (None, float(value)) if number and 0 <= value < 1 else \
            (f"expected a fraction in [0, 1), found {value!r}", None)
    if expected == "probability":
        return (None, float(value)) if number and 0 < value < 1 else \
            (f"expected a number in (0, 1), found {value!r}", None)
    if expected == "whole":
        return (None, int(value)) if isinstance(value, int) and not isinstance(value, bool) \
            and value >= 0 else (f"expected a whole number >= 0, found {value!r}", None)
    if expected == "integer":
        return (None, int(value)) if isinstance(value, int) and not isinstance(value, bool) \
            else (f"expected a whole number, found {value!r}", None)
    if expected == "bool":
        return (None, value) if isinstance(value, bool) else \
            (f"expected true or false, found {value!r}", None)
    if expected == "date":
        if isinstance(value, dt.datetime):
            return None, value.date()
        if isinstance(value, dt.date):
            return None, value
        try:
            return None, dt.date.fromisoformat(str(value))
        except ValueError:
            return f"expected a date (YYYY-MM-DD), found {value!r}", None
    if expected in ("name", "pattern"):
        return (None, str(value)) if isinstance(value, str) and value.strip() else \
            (f"expected a name, found {value!r}", None)
    if expected == "names":
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return None, list(value)
        return f"expected a name or a list of names, found {value!r}", None
    if expected == "mapping":
        return (None, dict(value)) if isinstance(value, dict) else \
            (f"expected a mapping, found {value!r}", None)
    raise AssertionError(expected)


