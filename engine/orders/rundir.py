"""Reading a run directory once into read-only numpy arrays and label indexes.

Only pandas and pyarrow are used here: no numba, no solver, no xarray. Text columns are
dictionary-encoded by pyarrow and turned into integer codes on the network's dimensions, so a
large forecast never becomes millions of Python strings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.inputs.calendar import infer_freq, normalize_freq
from engine.outputs import (
    ALLOCATION,
    FORECAST,
    INPUT_TABLES,
    MANIFEST,
    MOVE_KINDS,
    NETWORK,
    NETWORK_TABLES,
    PLAN,
    TARGETS,
    is_quantile_column,
)

REQUIRED_NETWORK = tuple(name for name in NETWORK_TABLES if INPUT_TABLES[name].required)
"""Network tables every run writes."""
OPTIONAL_NETWORK = tuple(name for name in NETWORK_TABLES if not INPUT_TABLES[name].required)
"""Network tables a run writes only when they have rows."""

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    **{table.file: table.required for table in (FORECAST, TARGETS, PLAN, ALLOCATION)},
    **{f"{NETWORK}/{name}.parquet": INPUT_TABLES[name].column_names
       for name in REQUIRED_NETWORK},
}
"""Files `Plan.load` needs, with the columns it reads (`engine.outputs`; the forecast's
quantile columns too)."""


class UnknownNameError(KeyError, ValueError):
    """A sku, channel, region or location the plan does not know.

    Both a `KeyError` (a lookup by name failed) and a `ValueError` (an argument was wrong), so
    either ``except`` clause catches it. The message names what was asked for and what exists.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class RunDirectoryError(ValueError):
    """A run directory that is incomplete or inconsistent (message names file and column)."""


def readonly(array: np.ndarray) -> np.ndarray:
    """A C-contiguous copy-or-view of ``array`` that cannot be written to."""
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class Names:
    """Labels of one dimension (``sku``, ``channel``, ``region`` or ``location``) and their
    positions."""

    dim: str
    labels: np.ndarray
    index: pd.Index
    position: Mapping[str, int]

    @classmethod
    def of(cls, dim: str, labels: Iterable[str]) -> Names:
        values = np.asarray(list(labels), dtype=object)
        index = pd.Index(values, dtype=object)
        if not index.is_unique:
            raise RunDirectoryError(f"{dim} labels must be unique; found "
                                    f"{', '.join(map(str, index[index.duplicated()][:5]))} again")
        position = MappingProxyType({label: i for i, label in enumerate(values)})
        return cls(dim, readonly(values), index, position)

    def __len__(self) -> int:
        return len(self.labels)

    def describe(self, limit: int = 12) -> str:
        """The labels, for error messages (the first ``limit`` and a count when there are more)."""
        shown = ", ".join(map(str, self.labels[:limit]))
        if len(self.labels) > limit:
            return f"{len(self.labels):,} {self.dim}s: {shown}, ..."
        return f"{self.dim}s: {shown}" if len(self.labels) else f"no {self.dim}s"

    def code(self, label: object) -> int:
        """Position of one label; `UnknownNameError` naming it and the known labels."""
        try:
            return self.position[label]
        except (KeyError, TypeError):
            raise UnknownNameError(f"unknown {self.dim} {label!r}; the plan has "
                                   f"{self.describe()}") from None

    def codes(self, labels: np.ndarray) -> np.ndarray:
        """Positions of many labels, -1 where unknown."""
        return self.index.get_indexer(np.asarray(labels, dtype=object))


@dataclass(frozen=True)
class Grouped:
    """Rows of a table sorted by an integer key, with the row range of every key.

    ``columns[name][start[i]:stop[i]]`` are the rows of key ``keys[i]`` (``keys`` sorted).
    """

    keys: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    columns: dict[str, np.ndarray]

    @classmethod
    def of(cls, key: np.ndarray, columns: dict[str, np.ndarray]) -> Grouped:
        order = np.argsort(key, kind="stable")
        key = key[order]
        keys, start = np.unique(key, return_index=True)
        stop = np.append(start[1:], len(key)).astype(np.int64)
        return cls(readonly(keys), readonly(start), readonly(stop),
                   {name: readonly(values[order]) for name, values in columns.items()})

    def rows(self, key: int) -> slice:
        """Row range of ``key`` (empty when the key has no rows)."""
        i = int(np.searchsorted(self.keys, key))
        if i < len(self.keys) and self.keys[i] == key:
            return slice(int(self.start[i]), int(self.stop[i]))
        return slice(0, 0)


@dataclass(frozen=True)
class RunData:
    """Everything `engine.orders.Plan` reads from a run directory, read-only.

    Stream keys are ``(sku * n_channels + channel) * n_regions + region`` on the positions of
    the dimensions (the order of the network's tables; regions in order of first appearance
    in ``locations``, as in the planning dataset).
    """

    directory: Path
    config: dict
    freq: str | None
    skus: Names
    channels: Names
    regions: Names
    locations: Names
    location_kind: np.ndarray            # (location,) "dc", "rdc" or "pool"
    location_region: np.ndarray          # (location,) region position
    location_owner: np.ndarray           # (location,) channel position of a pool's owner, or -1
    eligible: np.ndarray                 # (channel, region, location) bool: fulfilment rules
    lane_origin: np.ndarray              # (lane,) location positions
    lane_destination: np.ndarray
    lane_lead_time: np.ndarray           # (lane,) periods
    lane_cost: np.ndarray                # (lane,) money per unit
    on_hand: np.ndarray                  # (sku, location) units before tonight's moves
    inbound: np.ndarray                  # (sku, location) units in transit or scheduled to
    #                                      arrive within the coverage horizon
    forecast: Grouped                    # by stream key
    quantile_columns: tuple[str, ...]
    forecast_text: dict[str, np.ndarray]  # labels of the coded text columns of the forecast
    targets: Grouped                     # by sku position
    moves: dict[str, np.ndarray]         # sku, origin, destination, quantity, kind, reason
    allocation: dict[str, np.ndarray]    # stream, location, units
    network: dict[str, pd.DataFrame]     # the contract tables of network/, for re-planning

    def stream_key(self, sku, channel, region):
        return (np.asarray(sku, dtype=np.int64) * len(self.channels)
                + channel) * len(self.regions) + region

    def stream_parts(self, key) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = np.asarray(key, dtype=np.int64)
        region = key % len(self.regions)
        channel = (key // len(self.regions)) % len(self.channels)
        return key // (len(self.regions) * len(self.channels)), channel, region


def read_run(directory: str | os.PathLike) -> RunData:
    """Read and check a run directory (see `REQUIRED_COLUMNS`).

    Raises
    ------
    FileNotFoundError
        If ``directory`` does not exist or is not a directory.
    RunDirectoryError
        If a file or a column is missing, or the files disagree (a name one table uses that
        the network does not have); the message names the file and what is missing.
    """
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"run directory {str(root)!r} does not exist (write one with "
                                "`omnistock run --output DIR` or engine.run)")
    missing = [name for name in (MANIFEST, *REQUIRED_COLUMNS) if not (root / name).is_file()]
    if missing:
        raise RunDirectoryError(f"run directory {str(root)!r} is incomplete: missing "
                                f"{', '.join(missing)}")
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise RunDirectoryError(f"{root / MANIFEST}: not a readable JSON manifest "
                                f"({error})") from None
    config = dict(manifest.get("config") or {})
    tables = {name: _read(root, name) for name in REQUIRED_COLUMNS}
    network = {name: tables[f"{NETWORK}/{name}.parquet"].to_pandas()
               for name in REQUIRED_NETWORK}
    for name in OPTIONAL_NETWORK:
        path = root / NETWORK / f"{name}.parquet"
        if path.is_file():
            network[name] = pd.read_parquet(path)

    locations = network["locations"]
    skus = Names.of("sku", _text(network["skus"]["sku"]))
    channels = Names.of("channel", _text(network["channels"]["channel"]))
    regions = Names.of("region", pd.unique(_text(locations["region"])))
    places = Names.of("location", _text(locations["location"]))
    owner = _text(locations["channel"])
    location_owner = np.where(owner == "", -1, channels.codes(owner))
    unknown_owner = (owner != "") & (location_owner < 0)
    if unknown_owner.any():
        raise RunDirectoryError(f"network/locations.parquet: pool owner "
                                f"{owner[unknown_owner][0]!r} is not a channel; "
                                f"{channels.describe()}")

    rules = tables[f"{NETWORK}/fulfilment.parquet"]
    file = f"{NETWORK}/fulfilment.parquet"
    rule_channel = _coded(rules, "channel", channels, file)
    rule_region = _coded(rules, "region", regions, file)
    rule_location = _coded(rules, "location", places, file)
    eligible = np.zeros((len(channels), len(regions), len(places)), dtype=bool)
    eligible[rule_channel, rule_region, rule_location] = True

    file = f"{NETWORK}/lanes.parquet"
    # a network of one stocking location may have no lanes (an optional table)
    lanes = pa.Table.from_pandas(network["lanes"], preserve_index=False) \
        if "lanes" in network else pa.table(
            {c: pa.array([], pa.string() if c in ("origin", "destination") else pa.float64())
             for c in ("origin", "destination", "lead_time", "cost_per_unit")})
    lane_origin = _coded(lanes, "origin", places, file)
    lane_destination = _coded(lanes, "destination", places, file)

    stock = tables[f"{NETWORK}/inventory.parquet"]
    file = f"{NETWORK}/inventory.parquet"
    on_hand = np.zeros((len(skus), len(places)))
    np.add.at(on_hand, (_coded(stock, "sku", skus, file), _coded(stock, "location", places, file)),
              _numbers(stock, "on_hand"))

    sizes = (len(skus), len(channels), len(regions))
    forecast = _forecast(tables[FORECAST.file], skus, channels, regions, sizes)
    freq = run_freq(config, forecast["forecast"].columns["date"])
    data = {
        "directory": root, "config": config, "freq": freq,
        "skus": skus, "channels": channels, "regions": regions, "locations": places,
        "location_kind": readonly(_text(locations["kind"])),
        "location_region": readonly(regions.codes(_text(locations["region"]))),
        "location_owner": readonly(location_owner),
        "eligible": readonly(eligible),
        "lane_origin": readonly(lane_origin), "lane_destination": readonly(lane_destination),
        "lane_lead_time": readonly(_numbers(lanes, "lead_time")),
        "lane_cost": readonly(_numbers(lanes, "cost_per_unit")),
        "on_hand": readonly(on_hand),
        "inbound": readonly(_inbound(network, skus, places, freq,
                                     forecast["forecast"].columns["date"],
                                     int(config.get("coverage_periods", 4)))),
        "network": network,
        **forecast,
    }
    data |= _targets(tables[TARGETS.file], skus, places)
    data["moves"] = _moves(tables[PLAN.file], skus, places)
    data["allocation"] = _allocation(tables[ALLOCATION.file], skus, channels, regions,
                                     places, sizes)
    return RunData(**data)


def run_freq(config: dict, dates: np.ndarray) -> str | None:
    """The run's period frequency: its configuration, else inferred from the forecast dates
    (None when neither tells: a one-period forecast without ``freq`` in the manifest)."""
    if config.get("freq"):
        return normalize_freq(str(config["freq"]))
    return infer_freq(np.unique(dates)) if len(dates) else None


def _inbound(network: dict[str, pd.DataFrame], skus: Names, places: Names, freq: str | None,
             dates: np.ndarray, periods: int) -> np.ndarray:
    """Units arriving at each (sku, location) within the coverage horizon: shipments in transit
    and scheduled receipts, as `engine.stages.plan.inbound_within` counts them (dates before the
    start of period ``periods + 1`` after the last history period). Without a known frequency
    nothing is counted."""
    inbound = np.zeros((len(skus), len(places)))
    if freq is None or not len(dates):
        return inbound
    last = pd.date_range(end=pd.Timestamp(dates.min()), periods=2, freq=freq)[0]
    end = np.datetime64(pd.date_range(last, periods=periods + 2, freq=freq)[-1], "ns")
    for table, where, when in (("in_transit", "destination", "arrival_date"),
                               ("supply", "location", "date")):
        frame = network.get(table)
        if frame is None or not len(frame):
            continue
        soon = frame[when].to_numpy().astype("datetime64[ns]") < end
        sku = skus.codes(_text(frame["sku"])[soon])
        location = places.codes(_text(frame[where])[soon])
        if (sku < 0).any() or (location < 0).any():
            raise RunDirectoryError(f"network/{table}.parquet names a sku or location that "
                                    "network/ does not have")
        np.add.at(inbound, (sku, location), frame["quantity"].to_numpy(dtype=float)[soon])
    return inbound


def _read(root: Path, name: str) -> pa.Table:
    path = root / name
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as error:
        raise RunDirectoryError(f"{name}: not a readable Parquet file ({error})") from None
    required = REQUIRED_COLUMNS[name]
    missing = [c for c in required if c not in schema.names]
    if missing:
        raise RunDirectoryError(f"{name} in {str(root)!r} lacks columns {', '.join(missing)}; "
                                f"found {', '.join(schema.names)}")
    extra = [c for c in schema.names if name == FORECAST.file and is_quantile_column(c)]
    columns = [*required, *extra] if not name.startswith(NETWORK) else None
    table = pq.read_table(path, columns=columns)
    for column in required:
        if table.column(column).null_count:
            raise RunDirectoryError(f"{name}: column {column} has empty values")
    return table


def _text(values) -> np.ndarray:
    """Text values as an object array of str."""
    return np.asarray(pd.Series(values).astype(str).to_numpy(), dtype=object)


def _encode(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and labels of a text column (dictionary-encoded, no Python strings per
    row)."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    column = column.unify_dictionaries()
    if column.num_chunks == 0 or len(column) == 0:
        return np.zeros(0, dtype=np.int64), np.array([], dtype=object)
    labels = np.asarray(column.chunk(0).dictionary.to_pylist(), dtype=object)
    codes = np.concatenate([chunk.indices.to_numpy(zero_copy_only=False)
                            for chunk in column.chunks]).astype(np.int64)
    return codes, labels


def _coded(table: pa.Table, column: str, names: Names, file: str) -> np.ndarray:
    """Positions on ``names`` of a text column; `RunDirectoryError` for an unknown label."""
    codes, labels = _encode(table.column(column))
    positions = names.codes(labels)
    if (positions < 0).any():
        bad = labels[positions < 0][0]
        raise RunDirectoryError(f"{file}: column {column} names {names.dim} {bad!r}, which "
                                f"network/ does not have; {names.describe()}")
    return positions[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def _numbers(table: pa.Table, column: str) -> np.ndarray:
    return np.asarray(table.column(column).to_numpy(), dtype=float)


def _forecast(table: pa.Table, skus: Names, channels: Names, regions: Names, sizes) -> dict:
    file = FORECAST.file
    sku = _coded(table, "sku", skus, file)
    channel = _coded(table, "channel", channels, file)
    region = _coded(table, "region", regions, file)
    key = (sku * sizes[1] + channel) * sizes[2] + region
    quantiles = tuple(c for c in table.column_names if is_quantile_column(c))
    columns: dict[str, np.ndarray] = {
        "date": table.column("date").to_numpy().astype("datetime64[ns]"),
        "mean": _numbers(table, "mean"),
        **{q: _numbers(table, q) for q in quantiles},
        "variance": _numbers(table, "variance"),
    }
    text = {}
    for name in ("model", "demand_class", "distribution"):
        columns[name], text[name] = _encode(table.column(name))
        text[name] = readonly(text[name])
    grouped = Grouped.of(key, columns)
    return {"forecast": grouped, "quantile_columns": quantiles, "forecast_text": text}


def _targets(table: pa.Table, skus: Names, places: Names) -> dict:
    file = TARGETS.file
    columns = {"location": _coded(table, "location", places, file),
               **{c: _numbers(table, c) for c in ("safety_stock", "reorder_point",
                                                   "order_up_to", "service_level")},
               "policy": np.asarray(table.column("policy").to_pylist(), dtype=object)}
    return {"targets": Grouped.of(_coded(table, "sku", skus, file), columns)}


def _moves(table: pa.Table, skus: Names, places: Names) -> dict[str, np.ndarray]:
    """Tonight's moves (plan rows of the kinds in `MOVE_KINDS`), sorted by SKU."""
    kind = np.asarray(table.column("kind").to_pylist(), dtype=object)
    keep = np.isin(kind, MOVE_KINDS)
    table = table.filter(pa.array(keep))
    file = PLAN.file
    moves = {"sku": _coded(table, "sku", skus, file),
             "origin": _coded(table, "origin", places, file),
             "destination": _coded(table, "destination", places, file),
             "quantity": _numbers(table, "quantity"),
             "kind": np.asarray(table.column("kind").to_pylist(), dtype=object),
             "reason": np.asarray(table.column("reason").to_pylist(), dtype=object)}
    return sort_moves(moves)


def sort_moves(moves: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Moves sorted by SKU (stable), read-only."""
    order = np.argsort(moves["sku"], kind="stable")
    return {name: readonly(values[order]) for name, values in moves.items()}


def _allocation(table: pa.Table, skus: Names, channels: Names, regions: Names, places: Names,
                sizes) -> dict[str, np.ndarray]:
    file = ALLOCATION.file
    sku = _coded(table, "sku", skus, file)
    key = (sku * sizes[1] + _coded(table, "channel", channels, file)) * sizes[2] \
        + _coded(table, "region", regions, file)
    units = _numbers(table, "units")
    if (units < 0).any() or not np.isfinite(units).all():
        raise RunDirectoryError(f"{file}: column units must hold finite numbers >= 0")
    return {"stream": readonly(key), "location": readonly(_coded(table, "location", places,
                                                                    file)),
            "units": readonly(units)}
