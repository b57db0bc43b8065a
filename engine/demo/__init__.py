"""A deterministic, realistic demo network of any size from 50 to 100,000 SKUs.

``demo_inputs(skus=..., seed=..., freq=...)`` gives the planning dataset; ``demo_tables`` the
input tables (as a directory would hold them). The same arguments always give the same data.

What is in it: ten channels of the four kinds in six regions, one central DC, six RDCs and seven
channel pools (`engine.demo.network`); two years of weekly (or daily) history ending on
2026-11-22 with trend, yearly seasonality per category, the festivals of the Chinese retail
calendar, live-stream spikes on douyin and kuaishou, intermittent long-tail SKUs, new SKUs,
discontinued ones and a channel opened 16 weeks ago (`engine.demo.demand`); stock on hand with
realistic imbalances, shipments in transit, scheduled supply at the DC, planned promotions and
per-channel price overrides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from engine.demo.calendar_effects import calendar_effects
from engine.demo.catalogue import Catalogue, make_catalogue
from engine.demo.demand import StreamHistory, stream_history
from engine.demo.network import (
    CATEGORIES,
    CHANNELS,
    DC,
    LOCATIONS,
    REGIONS,
    fulfilment_rows,
    lane_rows,
)
from engine.inputs.calendar import normalize_freq
from engine.inputs.dataset import build_dataset
from engine.inputs.tables import RawTable
from engine.inputs.validate import check_tables

__all__ = ["HISTORY_END", "demo_inputs", "demo_tables"]

HISTORY_END = pd.Timestamp("2026-11-22")
"""Last day of the demo history (a Sunday)."""
HISTORY_DAYS = 728
MIN_SKUS, MAX_SKUS = 50, 100_000
DEFAULT_SKUS = 200
_CELLS_PER_CHUNK = 8_000_000


def demo_tables(*, skus: int = DEFAULT_SKUS, seed: int = 0, freq: str = "W") -> dict[str,
                                                                                      pd.DataFrame]:
    """Generate the demo input tables.

    Parameters
    ----------
    skus : int
        Catalogue size, from 50 to 100,000.
    seed : int
        Random seed; the same seed gives the same tables.
    freq : {"W", "D"}
        Weekly periods (starting Monday) or daily periods.

    Returns
    -------
    dict of str to pandas.DataFrame
        Every contract table, text columns as Categoricals.
    """
    if not isinstance(skus, (int, np.integer)) or not MIN_SKUS <= skus <= MAX_SKUS:
        raise ValueError(f"skus must be a whole number from {MIN_SKUS:,} to {MAX_SKUS:,}; "
                         f"found {skus!r}")
    freq = normalize_freq(freq)
    if freq not in ("D", "W-MON"):
        raise ValueError(f"the demo has daily (D) or weekly (W) periods; found {freq!r}")
    days_per_period = 1 if freq == "D" else 7
    first_day = HISTORY_END - pd.Timedelta(days=HISTORY_DAYS - 1)
    periods = pd.date_range(first_day, HISTORY_END, freq=freq)

    seeds = np.random.SeedSequence(seed)
    catalogue_seed, price_seed, stock_seed, history_seed = seeds.spawn(4)
    cat = make_catalogue(skus, HISTORY_DAYS, np.random.default_rng(catalogue_seed))
    base_price, prices = _prices(cat, np.random.default_rng(price_seed))
    effects = calendar_effects(periods, freq)

    chunk = max(1, _CELLS_PER_CHUNK // (len(periods) * 12))
    starts = range(0, skus, chunk)
    histories = [
        stream_history(cat, slice(s, min(s + chunk, skus)), effects, base_price,
                       days_per_period, HISTORY_DAYS, np.random.default_rng(child))
        for s, child in zip(starts, history_seed.spawn(len(starts)), strict=True)
    ]
    history = _concatenate(histories)

    stock_rng = np.random.default_rng(stock_seed)
    per_week = 7 / days_per_period
    on_hand, demand_at = _inventory(cat, history, per_week, stock_rng)
    tables = {
        "skus": pd.DataFrame({
            "sku": cat.sku, "category": np.asarray(CATEGORIES)[cat.category],
            "unit_cost": cat.unit_cost, "list_price": cat.list_price,
            "unit_volume": cat.unit_volume, "pack_size": cat.pack_size, "moq": cat.moq,
        }),
        "channels": pd.DataFrame({
            "channel": [c.channel for c in CHANNELS], "kind": [c.kind for c in CHANNELS],
            "price_index": [c.price_index for c in CHANNELS],
            "priority": [c.priority for c in CHANNELS],
            "service_level": [c.service_level for c in CHANNELS],
            "backorders": [c.backorders for c in CHANNELS],
            "review_period": [max(1, round(c.review_days / days_per_period)) for c in CHANNELS],
        }),
        "locations": _locations(on_hand, cat.unit_volume),
        "lanes": _lanes(demand_at, days_per_period),
        "fulfilment": pd.DataFrame(fulfilment_rows(), columns=["channel", "region", "location"]),
        "sales": _sales(cat, history, periods),
        "inventory": _inventory_table(cat, on_hand),
        "in_transit": _in_transit(cat, on_hand, demand_at, per_week, stock_rng),
        "supply": _supply(cat, demand_at, per_week, stock_rng),
        "promotions": _promotions(cat),
        "prices": prices,
    }
    return tables


def demo_inputs(*, skus: int = DEFAULT_SKUS, seed: int = 0, freq: str = "W") -> xr.Dataset:
    """The demo network as a planning dataset (see `demo_tables` for the arguments).

    The tables pass through the same checks as a loaded directory.
    """
    tables = demo_tables(skus=skus, seed=seed, freq=freq)
    raw = {name: RawTable(name, f"{name} (demo)", frame, 0) for name, frame in tables.items()}
    return build_dataset(check_tables(raw, freq=freq, source="the demo network"))


# ---------------------------------------------------------------------------------------------


def _concatenate(parts: list[StreamHistory]) -> StreamHistory:
    offsets = np.cumsum([0] + [len(p.sku) for p in parts[:-1]])
    return StreamHistory(
        *(np.concatenate([getattr(p, f) for p in parts])
          for f in ("sku", "channel", "region", "recent_mean")),
        np.concatenate([p.row_stream + o for p, o in zip(parts, offsets, strict=True)]),
        *(np.concatenate([getattr(p, f) for p in parts])
          for f in ("row_period", "units", "price", "promo")),
    )


def _prices(cat: Catalogue, rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame]:
    """Undiscounted price per (sku, channel) and the overrides of the prices table."""
    index = np.array([c.price_index for c in CHANNELS])
    base = np.round(cat.list_price[:, None] * index[None, :], 1)
    names = [c.channel for c in CHANNELS]
    rows = []
    for channel, markup, share in (("amazon_xb", 1.5, 0.3), ("store_direct", 1.1, 0.05)):
        c = names.index(channel)
        chosen = np.flatnonzero(cat.listed[:, c] & (rng.random(len(cat.sku)) < share))
        price = np.round(cat.list_price[chosen] * markup, 0) - 0.1
        base[chosen, c] = price
        rows.append(pd.DataFrame({"sku": cat.sku[chosen], "channel": channel, "price": price}))
    prices = pd.concat(rows, ignore_index=True)
    order = np.lexsort((prices["channel"].map(names.index), prices["sku"]))
    return base, prices.iloc[order].reset_index(drop=True)


def _primary_location() -> np.ndarray:
    """Index into LOCATIONS of the first eligible location of each (channel, region)."""
    names = [loc[0] for loc in LOCATIONS]
    primary = np.full((len(CHANNELS), len(REGIONS)), -1)
    channels = [c.channel for c in CHANNELS]
    for channel, region, location in fulfilment_rows():
        c, r = channels.index(channel), REGIONS.index(region)
        if primary[c, r] < 0:
            primary[c, r] = names.index(location)
    return primary


_COVER_WEEKS = {"dc": 8.0, "rdc": 3.0, "pool": 2.5}


def _inventory(cat: Catalogue, history: StreamHistory, per_week: float,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stock on hand per (sku, location) with imbalances, and demand per (sku, location).

    Stock covers a few weeks of the recent demand served from each location (the DC eight weeks
    of the whole SKU, RDCs three, pools two and a half), scaled by a log-normal error (sd 0.5)
    and set to zero for one pair in twenty; discontinued SKUs keep leftover stock in RDCs (slow
    movers).
    """
    n_loc = len(LOCATIONS)
    location = _primary_location()[history.channel, history.region]
    demand_at = np.zeros((len(cat.sku), n_loc))
    np.add.at(demand_at, (history.sku, location), history.recent_mean)
    kinds = np.array([loc[1] for loc in LOCATIONS])
    cover = np.array([_COVER_WEEKS[k] for k in kinds]) * per_week
    total = demand_at.sum(axis=1)
    stock = demand_at * cover[None, :]
    dc = kinds.tolist().index("dc")
    stock[:, dc] += total * cover[dc]
    stock *= np.exp(rng.normal(0, 0.5, stock.shape))
    stock[rng.random(stock.shape) < 0.05] = 0
    dropped = cat.end_day < HISTORY_DAYS
    rdc = np.flatnonzero(kinds == "rdc")
    leftover = rng.integers(0, 60, (int(dropped.sum()), len(rdc)))
    stock[np.ix_(np.flatnonzero(dropped), rdc)] = leftover * (rng.random(leftover.shape) < 0.5)
    return np.round(stock), demand_at


def _inventory_table(cat: Catalogue, on_hand: np.ndarray) -> pd.DataFrame:
    sku, loc = np.nonzero(on_hand > 0)
    return pd.DataFrame({"sku": cat.sku[sku],
                         "location": np.array([x[0] for x in LOCATIONS])[loc],
                         "on_hand": on_hand[sku, loc]})


def _locations(on_hand: np.ndarray, unit_volume: np.ndarray) -> pd.DataFrame:
    volume = (on_hand * unit_volume[:, None]).sum(axis=0)
    headroom = np.array([1.5 if loc[1] == "dc" else 1.3 for loc in LOCATIONS])
    capacity = np.maximum(np.ceil(volume * headroom), 5.0)
    holding = {"dc": 0.20, "rdc": 0.25, "pool": 0.30}
    return pd.DataFrame({
        "location": [x[0] for x in LOCATIONS], "kind": [x[1] for x in LOCATIONS],
        "region": [x[2] for x in LOCATIONS], "channel": [x[3] for x in LOCATIONS],
        "capacity": capacity, "holding_rate": [holding[x[1]] for x in LOCATIONS],
    })


def _lanes(demand_at: np.ndarray, days_per_period: int) -> pd.DataFrame:
    names = [x[0] for x in LOCATIONS]
    regions = [x[2] for x in LOCATIONS]
    per_location = demand_at.sum(axis=0)
    per_region = {r: per_location[[i for i, x in enumerate(regions) if x == r]].sum()
                  for r in REGIONS}
    rows = []
    for origin, destination, days, weeks, sd_days, cost, kind in lane_rows():
        d = names.index(destination)
        if kind == "trunk":
            flow = per_region[regions[d]] if destination.startswith("rdc_") else per_location[d]
            capacity = float(np.ceil(2.5 * flow / 10) * 10 + 10)
        elif kind == "transfer":
            o = names.index(origin)
            flow = min(per_region[regions[o]], per_region[regions[d]])
            capacity = float(np.ceil(0.5 * flow / 10) * 10 + 10)
        else:
            capacity = np.inf
        rows.append((origin, destination, days if days_per_period == 1 else weeks,
                     round(sd_days / days_per_period, 2), cost, capacity))
    return pd.DataFrame(rows, columns=["origin", "destination", "lead_time", "lead_time_sd",
                                       "cost_per_unit", "capacity"])


def _sales(cat: Catalogue, history: StreamHistory, periods: pd.DatetimeIndex) -> pd.DataFrame:
    s = history.row_stream
    return pd.DataFrame({
        "date": periods.to_numpy()[history.row_period],
        "sku": pd.Categorical.from_codes(history.sku[s], pd.Index(cat.sku, dtype=object)),
        "channel": pd.Categorical.from_codes(history.channel[s],
                                             pd.Index([c.channel for c in CHANNELS])),
        "region": pd.Categorical.from_codes(history.region[s], pd.Index(REGIONS)),
        "units": history.units,
        "price": history.price,
        "promo": history.promo,
    })


def _in_transit(cat: Catalogue, on_hand: np.ndarray, demand_at: np.ndarray, per_week: float,
                rng: np.random.Generator) -> pd.DataFrame:
    """DC-to-RDC shipments for one (sku, rdc) in twenty with demand, arriving within a week."""
    rdc = [i for i, x in enumerate(LOCATIONS) if x[1] == "rdc"]
    sku, j = np.nonzero((demand_at[:, rdc] > 0) & (rng.random((len(cat.sku), len(rdc))) < 0.05))
    location = np.asarray(rdc)[j]
    quantity = np.maximum(1.0, np.round(demand_at[sku, location] * per_week))
    arrival = HISTORY_END + pd.to_timedelta(rng.integers(1, 8, sku.size), unit="D")
    return pd.DataFrame({"sku": cat.sku[sku], "origin": DC,
                         "destination": np.array([x[0] for x in LOCATIONS])[location],
                         "quantity": quantity, "arrival_date": arrival.to_numpy()})


def _supply(cat: Catalogue, demand_at: np.ndarray, per_week: float,
            rng: np.random.Generator) -> pd.DataFrame:
    """Receipts at the DC for a quarter of the selling SKUs, one to six weeks out."""
    total = demand_at.sum(axis=1)
    sku = np.flatnonzero((total > 0) & (rng.random(len(cat.sku)) < 0.25))
    weeks = rng.integers(1, 7, sku.size)
    packs = np.ceil(6 * total[sku] * per_week / cat.pack_size[sku])
    return pd.DataFrame({
        "sku": cat.sku[sku], "location": DC,
        "date": (HISTORY_END + pd.to_timedelta(1 + 7 * (weeks - 1), unit="D")).to_numpy(),
        "quantity": np.maximum(packs, 1) * cat.pack_size[sku],
    })


def _promotions(cat: Catalogue) -> pd.DataFrame:
    """Planned events after the history: Double 12, a Douyin live stream, Spring Festival, 38."""
    top = cat.sku[np.argmax(cat.base_demand)]
    rows = [
        ("*", "tmall", "*", "2026-12-01", "2026-12-12", 1.4),
        ("*", "jd", "*", "2026-12-01", "2026-12-12", 1.4),
        ("*", "douyin", "*", "2026-12-01", "2026-12-12", 1.3),
        (top, "douyin", "*", "2026-12-18", "2026-12-18", 6.0),
        ("category:gift_sets", "*", "*", "2027-01-16", "2027-02-05", 2.2),
        ("category:skincare", "tmall", "*", "2027-03-01", "2027-03-08", 1.6),
        ("category:makeup", "douyin", "*", "2027-03-01", "2027-03-08", 1.7),
    ]
    frame = pd.DataFrame(rows, columns=["sku", "channel", "region", "start", "end", "uplift"])
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    return frame
