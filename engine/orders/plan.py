"""`Plan`: a nightly run loaded for order systems: queries, ATP and order sourcing."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine.orders.routing import Routes, rank_locations
from engine.orders.rundir import (
    RunData,
    RunDirectoryError,
    UnknownNameError,
    read_run,
    readonly,
)
from engine.orders.sourcing import (
    TOLERANCE,
    Decisions,
    Lines,
    StockOverride,
    greedy,
    lines_iv,
    stock_iv,
)
from engine.outputs import TARGETS

SOURCE_COLUMNS = ("line", "sku", "channel", "region", "location", "quantity", "from_allocation",
                  "lead_time", "cost_per_unit", "cost", "status", "reason")
"""Columns of the DataFrame `Plan.source` returns."""


@dataclass(frozen=True)
class Availability:
    """What can still be promised to one demand stream (`Plan.atp`).

    Attributes
    ----------
    sku, channel, region : str
        The stream.
    total : float
        Units that an order of this stream could get now, over all eligible locations.
    by_location : pandas.DataFrame
        One row per eligible location in sourcing order: ``rank`` (1 = tried first),
        ``location``, ``units`` (promisable there), ``stock`` (units there now),
        ``arriving`` (units arriving there within the coverage horizon: tonight's inbound
        moves, shipments in transit, scheduled receipts), ``fenced_for_others`` (units there
        ring-fenced for other streams, after tonight's moves), ``lead_time``
        (periods) and ``cost_per_unit`` of delivery to the region.
    """

    sku: str
    channel: str
    region: str
    total: float
    by_location: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class Replan:
    """One `engine.reoptimize` that made a plan.

    Attributes
    ----------
    skus : tuple of str
        The SKUs re-planned.
    status : str
        ``optimal``, or ``fallback (...)`` when the LP could not be solved and the SKUs got
        the policy-based plan of `engine.stages.plan.policy_plan`.
    objective : float
        Objective of the re-planned SKUs' LP (money; NaN after a fallback).
    seconds : float
        Wall time of the call.
    """

    skus: tuple[str, ...]
    status: str
    objective: float
    seconds: float


@dataclass(frozen=True)
class PlanParts:
    """What a `Plan` is made of (built by `Plan.load` and `engine.reoptimize`).

    ``on_hand`` is the stock before tonight's moves the plan was made with (units, sku x
    location); ``moves`` the planned moves sorted by SKU; the ring-fences are one entry per
    (stream key, location, units); ``stock`` the working stock when it is not simply on hand
    less the planned outbound moves less ``committed``.
    """

    data: RunData
    routes: Routes
    moves: dict[str, np.ndarray]
    on_hand: np.ndarray
    fence_stream: np.ndarray
    fence_location: np.ndarray
    fence_units: np.ndarray
    committed: np.ndarray | None = None
    stock: np.ndarray | None = None
    replans: tuple[Replan, ...] = ()
    network: Lazy | None = None


@dataclass(frozen=True, eq=False)
class PlanState:
    """What re-planning needs of a `Plan`, taken at one moment (`Plan.state`).

    The arrays of the plan's static data are the plan's own, read-only; the working state
    (``stock``, ``committed``, ``fences``) are copies taken together under the plan's lock,
    so orders committed after the call do not change them.

    Attributes
    ----------
    data : engine.orders.rundir.RunData
        The run directory as read (network, forecast, targets, configuration).
    routes : engine.orders.routing.Routes
        Eligible locations of every (channel, region) in sourcing order.
    moves : dict of str to numpy.ndarray
        Tonight's planned moves sorted by SKU: sku, origin, destination (positions), quantity,
        kind, reason.
    on_hand : numpy.ndarray, shape (sku, location)
        Stock before tonight's moves the plan was made with, units.
    outbound : numpy.ndarray, shape (sku, location)
        Units tonight's moves take out of each location.
    stock : numpy.ndarray, shape (sku, location)
        Working stock now: on hand less outbound moves less committed orders (a copy).
    committed : numpy.ndarray, shape (sku, location)
        Units committed orders took since the plan was made (a copy).
    fence_keys : numpy.ndarray, shape (streams with a ring-fence,)
        Stream keys (`RunData.stream_key`) of the rows of ``fences``, sorted.
    fences : numpy.ndarray, shape (streams with a ring-fence, routes.width)
        Units ring-fenced now for each stream at its eligible locations, by sourcing rank (a
        copy).
    replans : tuple of Replan
        The `engine.reoptimize` calls that led to the plan.
    network : Lazy
        The network's planning dataset, built once on first use and shared by the plans made
        from this one.
    """

    data: RunData
    routes: Routes
    moves: dict[str, np.ndarray]
    on_hand: np.ndarray
    outbound: np.ndarray
    stock: np.ndarray
    committed: np.ndarray
    fence_keys: np.ndarray
    fences: np.ndarray
    replans: tuple[Replan, ...]
    network: Lazy


class Lazy:
    """A value built once, on first use, under a lock; plans made from a plan by
    `engine.reoptimize` share it (the network's planning dataset)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = None

    def get(self, build: Callable[[], object]) -> object:
        with self._lock:
            if self._value is None:
                self._value = build()
            return self._value


class Plan:
    """A nightly run's plan, loaded once, for order systems (`engine.orders`).

    Build one with `Plan.load` (or `engine.reoptimize`); do not call the constructor. Static
    data (network, forecast, targets, moves, routes) are read-only numpy arrays shared by all
    threads; the working stock and ring-fences change only in ``source(..., commit=True)``,
    under one lock, so concurrent calls behave as if made one after the other.

    Units: stock and quantities in units of the SKU; lead times in periods of the run
    (`Plan.freq`, weeks in the demo); costs in the currency of the network's lane costs.
    """

    def __init__(self, parts: PlanParts):
        data, routes = parts.data, parts.routes
        self._data = data
        self._routes = routes
        self._moves = parts.moves
        self._move_start = readonly(np.searchsorted(parts.moves["sku"],
                                                    np.arange(len(data.skus) + 1)))
        self._on_hand = readonly(parts.on_hand)
        moves = parts.moves
        outbound = np.zeros(parts.on_hand.shape)
        np.add.at(outbound, (moves["sku"], moves["origin"]), moves["quantity"])
        self._outbound = readonly(outbound)
        arriving = np.array(data.inbound, dtype=float)
        np.add.at(arriving, (moves["sku"], moves["destination"]), moves["quantity"])
        self._arriving = readonly(arriving)
        self._replans = parts.replans
        self._network = parts.network if parts.network is not None else Lazy()
        self._labels = {names.dim: tuple(str(label) for label in names.labels)
                        for names in (data.skus, data.channels, data.regions, data.locations)}

        sku, channel, region = data.stream_parts(parts.fence_stream)
        rank = routes.rank[channel * len(data.regions) + region, parts.fence_location]
        if (rank < 0).any():
            i = int(np.flatnonzero(rank < 0)[0])
            raise RunDirectoryError(
                f"allocation.parquet ring-fences stock for ({data.skus.labels[sku[i]]}, "
                f"{data.channels.labels[channel[i]]}, {data.regions.labels[region[i]]}) at "
                f"{data.locations.labels[parts.fence_location[i]]}, which its fulfilment rules "
                "do not allow")
        keys, row = np.unique(parts.fence_stream, return_inverse=True)
        self._fence_keys = readonly(keys.astype(np.int64))
        fences = np.zeros((len(keys), routes.width))
        np.add.at(fences, (row, rank), parts.fence_units)
        fenced = np.zeros(parts.on_hand.shape)
        np.add.at(fenced, (sku, parts.fence_location), parts.fence_units)
        committed = np.zeros(parts.on_hand.shape) if parts.committed is None \
            else np.array(parts.committed, dtype=float)
        stock = parts.on_hand - outbound - committed if parts.stock is None \
            else np.array(parts.stock, dtype=float)
        # working state: only ever read or written while holding self._lock
        self._lock = threading.Lock()
        self._stock = np.ascontiguousarray(np.maximum(stock, 0.0))
        self._fenced = fenced
        self._fences = fences
        self._committed = committed

    # -------------------------------------------------------------------------------- loading

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> Plan:
        """Read a run directory (``omnistock run --output DIR``) once.

        Reads ``forecast``, ``targets``, ``plan`` and ``allocation`` Parquet files, the
        manifest and ``network/`` with pandas and pyarrow; no numba, no solver. The plan's
        stock is the network's on hand less tonight's planned outbound moves.

        Parameters
        ----------
        run_dir : path-like
            The run directory.

        Returns
        -------
        Plan

        Raises
        ------
        FileNotFoundError
            If ``run_dir`` does not exist.
        engine.orders.RunDirectoryError
            (a `ValueError`) If a file or column is missing or the files disagree; the
            message names the file.
        """
        data = read_run(run_dir)
        allocation = data.allocation
        return cls(PlanParts(data=data, routes=rank_locations(data), moves=data.moves,
                             on_hand=data.on_hand, fence_stream=allocation["stream"],
                             fence_location=allocation["location"],
                             fence_units=allocation["units"]))

    # ----------------------------------------------------------------------------- attributes

    @property
    def directory(self) -> Path:
        """The run directory the plan was loaded from."""
        return self._data.directory

    @property
    def config(self) -> dict:
        """The run's configuration (``manifest.json``), a copy."""
        return dict(self._data.config)

    @property
    def freq(self) -> str | None:
        """The run's period frequency (``W-MON`` for the weekly demo; None if unknown)."""
        return self._data.freq

    @property
    def skus(self) -> tuple[str, ...]:
        """SKUs of the network, in the order of its ``skus`` table."""
        return self._labels["sku"]

    @property
    def channels(self) -> tuple[str, ...]:
        return self._labels["channel"]

    @property
    def regions(self) -> tuple[str, ...]:
        """Regions, in order of first appearance in the ``locations`` table."""
        return self._labels["region"]

    @property
    def locations(self) -> tuple[str, ...]:
        return self._labels["location"]

    @property
    def replans(self) -> tuple[Replan, ...]:
        """The `engine.reoptimize` calls that led to this plan, oldest first."""
        return self._replans

    def __repr__(self) -> str:
        return (f"Plan({str(self._data.directory)!r}, skus={len(self._data.skus)}, "
                f"locations={len(self._data.locations)}, moves={len(self._moves['sku'])}, "
                f"replans={len(self._replans)})")

    # -------------------------------------------------------------------------------- queries

    def forecast(self, sku: str, channel: str, region: str) -> pd.DataFrame:
        """The forecast of one demand stream, one row per period (``forecast.parquet``).

        Columns: sku, channel, region, date, mean, the quantile columns (q10, q50, q90 by
        default), model, demand_class, variance, distribution; units per period. A stream the
        run did not forecast (never sold there) gives an empty frame.

        Raises
        ------
        engine.orders.UnknownNameError
            (a `KeyError` and a `ValueError`) for an unknown sku, channel or region.
        """
        data = self._data
        k, c, r = data.skus.code(sku), data.channels.code(channel), data.regions.code(region)
        rows = data.forecast.rows(int(data.stream_key(k, c, r)))
        columns = data.forecast.columns
        n = rows.stop - rows.start
        frame = {"sku": np.full(n, data.skus.labels[k], dtype=object),
                 "channel": np.full(n, data.channels.labels[c], dtype=object),
                 "region": np.full(n, data.regions.labels[r], dtype=object),
                 "date": columns["date"][rows], "mean": columns["mean"][rows]}
        frame |= {q: columns[q][rows] for q in data.quantile_columns}
        for name in ("model", "demand_class"):
            frame[name] = data.forecast_text[name][columns[name][rows]]
        frame["variance"] = columns["variance"][rows]
        frame["distribution"] = data.forecast_text["distribution"][columns["distribution"][rows]]
        return pd.DataFrame(frame)

    def targets(self, sku: str, location: str | None = None) -> pd.DataFrame:
        """Stock targets of a SKU (``targets.parquet``), at one location or all.

        Columns: sku, location, safety_stock, reorder_point, order_up_to (units),
        service_level, policy. Locations without a target have no row.

        Raises
        ------
        engine.orders.UnknownNameError
            For an unknown sku or location.
        """
        data = self._data
        k = data.skus.code(sku)
        rows = data.targets.rows(k)
        columns = data.targets.columns
        keep = np.arange(rows.start, rows.stop)
        if location is not None:
            keep = keep[columns["location"][keep] == data.locations.code(location)]
        frame = {"sku": np.full(len(keep), data.skus.labels[k], dtype=object),
                 "location": data.locations.labels[columns["location"][keep]]}
        frame |= {name: columns[name][keep] for name in TARGETS.names()[2:]}
        return pd.DataFrame(frame)

    def moves(self, sku: str | None = None, location: str | None = None) -> pd.DataFrame:
        """Tonight's planned moves, of one SKU and/or touching one location (as origin or
        destination); all moves when neither is given.

        Columns: sku, origin, destination, quantity (units), kind (deploy, transfer,
        cross_channel), reason. Clearance suggestions of ``plan.parquet`` are not moves and
        are not included.

        Raises
        ------
        engine.orders.UnknownNameError
            For an unknown sku or location.
        """
        data, moves = self._data, self._moves
        if sku is None:
            keep = np.arange(len(moves["sku"]))
        else:
            k = data.skus.code(sku)
            keep = np.arange(self._move_start[k], self._move_start[k + 1])
        if location is not None:
            place = data.locations.code(location)
            keep = keep[(moves["origin"][keep] == place) | (moves["destination"][keep] == place)]
        names = data.locations.labels
        return pd.DataFrame({"sku": data.skus.labels[moves["sku"][keep]],
                             "origin": names[moves["origin"][keep]],
                             "destination": names[moves["destination"][keep]],
                             "quantity": moves["quantity"][keep],
                             "kind": moves["kind"][keep], "reason": moves["reason"][keep]})

    def allocation(self, sku: str | None = None, location: str | None = None) -> pd.DataFrame:
        """Stock ring-fenced for each demand stream now: the plan's ``allocation.parquet``
        less what committed orders of the stream took from it.

        Columns: sku, channel, region, location, units (> 0).

        Raises
        ------
        engine.orders.UnknownNameError
            For an unknown sku or location.
        """
        data, routes = self._data, self._routes
        n_cr = len(data.channels) * len(data.regions)
        if sku is None:
            first, stop = 0, len(self._fence_keys)
        else:
            k = data.skus.code(sku)
            first, stop = np.searchsorted(self._fence_keys, [k * n_cr, (k + 1) * n_cr])
        place = None if location is None else data.locations.code(location)
        with self._lock:
            fences = self._fences[first:stop].copy()
        row, rank = np.nonzero(fences > 0)
        k, c, r = data.stream_parts(self._fence_keys[first:stop][row])
        where = routes.location[c * len(data.regions) + r, rank]
        keep = slice(None) if place is None else where == place
        return pd.DataFrame({"sku": data.skus.labels[k[keep]],
                             "channel": data.channels.labels[c[keep]],
                             "region": data.regions.labels[r[keep]],
                             "location": data.locations.labels[where[keep]],
                             "units": fences[row, rank][keep]})

    def stock(self, sku: str) -> pd.DataFrame:
        """Where a SKU's stock is now, one row per location.

        Columns (units): on_hand (before tonight's moves, as planned), planned_outbound
        (tonight's moves out), committed (sourced with ``commit=True`` since the plan was
        made), available (what is there for orders now: on hand less outbound less
        committed), arriving (within the coverage horizon: tonight's inbound moves, shipments
        in transit, scheduled receipts), ring_fenced (held for demand streams, out of the
        stock after tonight's moves, available + arriving) and unallocated (the rest of it).

        Raises
        ------
        engine.orders.UnknownNameError
            For an unknown sku.
        """
        k = self._data.skus.code(sku)
        with self._lock:
            available = self._stock[k].copy()
            fenced = self._fenced[k].copy()
            committed = self._committed[k].copy()
        return pd.DataFrame({"location": self._data.locations.labels,
                             "on_hand": self._on_hand[k], "planned_outbound": self._outbound[k],
                             "committed": committed, "available": available,
                             "arriving": self._arriving[k], "ring_fenced": fenced,
                             "unallocated": np.maximum(available + self._arriving[k] - fenced,
                                                       0.0)})

    def atp(self, sku: str, channel: str, region: str, *,
            stock: pd.DataFrame | Mapping | None = None) -> Availability:
        """Available to promise: what an order of one stream could get now.

        Per eligible location, ``free = max(0, min(stock, stock + arriving - fenced for other
        streams))``: units there now, as long as the ring-fences of other streams (which are
        for the stock after tonight's moves) stay covered by what is left plus what arrives.
        The total is what `source` gives a line of this stream with a quantity at least as
        large.

        Parameters
        ----------
        sku, channel, region : str
            The demand stream.
        stock : DataFrame or mapping, optional
            Stock to use instead of the plan's, as in `source`.

        Returns
        -------
        Availability

        Raises
        ------
        engine.orders.UnknownNameError
            For an unknown sku, channel or region.
        """
        data, routes = self._data, self._routes
        k, c, r = data.skus.code(sku), data.channels.code(channel), data.regions.code(region)
        override = stock_iv(stock, data)
        cr = c * len(data.regions) + r
        count = int(routes.count[cr])
        places = routes.location[cr, :count]
        row = self._fence_row(np.array([data.stream_key(k, c, r)]))[0]
        with self._lock:
            units = self._stock[k, places].copy()
            fenced = self._fenced[k, places].copy()
            own = self._fences[row, :count].copy() if row >= 0 else np.zeros(count)
        if override is not None and k in override.sku:
            units = override.units[np.searchsorted(override.sku, k), places]
        others = np.maximum(fenced - own, 0.0)
        arriving = self._arriving[k, places]
        free = np.maximum(np.minimum(units, units + arriving - others), 0.0)
        free = np.where(free > TOLERANCE, free, 0.0)
        by_location = pd.DataFrame({
            "rank": np.arange(1, count + 1), "location": data.locations.labels[places],
            "units": free, "stock": units, "arriving": arriving, "fenced_for_others": others,
            "lead_time": routes.lead_time[cr, :count],
            "cost_per_unit": routes.cost_per_unit[cr, :count]})
        return Availability(str(sku), str(channel), str(region), float(free.sum()), by_location)

    # ------------------------------------------------------------------------------- sourcing

    def source(self, lines: pd.DataFrame | Sequence[Mapping],
               stock: pd.DataFrame | Mapping | None = None, *,
               commit: bool = False) -> pd.DataFrame:
        """Decide where each order line ships from.

        Lines are sourced in their order; each tries the locations its channel may use in
        its region (fulfilment rules), best ranked first (`engine.orders.routing`: in the
        region, then delivery lead time, then delivery cost, then `engine.network`'s
        preference), and takes at each what is free for its stream (`atp`): its own
        ring-fence and unallocated stock, never stock ring-fenced for other streams (the
        ring-fences are of the stock after tonight's moves: units there now may go as long as
        the other streams' ring-fences stay covered by what is left plus what arrives). A
        line that one location cannot fill is split over the next ones; what no eligible
        location can give is an ``unfilled`` row with the reason. Lines of one call see the
        stock earlier lines took.

        Parameters
        ----------
        lines : DataFrame or list of mappings
            Fields ``sku``, ``channel``, ``region`` and ``quantity`` (units > 0); other
            fields are ignored.
        stock : DataFrame or mapping, optional
            Stock on hand now, to use instead of the plan's: a DataFrame with columns
            ``sku``, ``location``, ``units`` or a mapping ``{(sku, location): units}``. Each
            SKU it names gets exactly these units (0 at locations not listed); other SKUs
            keep the plan's stock. Ring-fences stay the plan's.
        commit : bool, default False
            Consume the sourced units from the plan's working stock (and from the stream's
            ring-fence first) so later calls see them gone; with ``stock``, the SKUs it names
            take its units as their working stock first. Without it, a pure query.

        Returns
        -------
        pandas.DataFrame
            One row per (line, location) decision and one ``unfilled`` row per line not filled
            in full, ordered by line: ``line`` (0-based position in ``lines``), ``sku``,
            ``channel``, ``region``, ``location`` (None when unfilled), ``quantity`` (units),
            ``from_allocation`` (units of it from the stream's ring-fence), ``lead_time``
            (periods) and ``cost_per_unit`` of delivery to the region, ``cost``
            (= quantity x cost_per_unit), ``status`` (``sourced`` or ``unfilled``),
            ``reason``.

        Raises
        ------
        TypeError, ValueError
            For bad ``lines`` or ``stock``, naming every bad line (0-based) and field.
        """
        if not isinstance(commit, (bool, np.bool_)):
            raise TypeError(f"commit must be True or False; found {commit!r}")
        parsed = lines_iv(lines, self._data)
        override = stock_iv(stock, self._data)
        if not len(parsed):
            return pd.DataFrame({name: [] for name in SOURCE_COLUMNS})
        data, routes = self._data, self._routes
        n_locations = len(data.locations)
        cr = parsed.channel * len(data.regions) + parsed.region
        places = routes.location[cr]
        cell = parsed.sku[:, None] * n_locations + np.maximum(places, 0)
        unique_cell, inverse = np.unique(cell, return_inverse=True)
        inverse = inverse.reshape(cell.shape)
        row = self._fence_row(data.stream_key(parsed.sku, parsed.channel, parsed.region))
        used_row, local_row = np.unique(row, return_inverse=True)
        local_row = local_row.reshape(-1) - (1 if len(used_row) and used_row[0] < 0 else 0)
        used_row = used_row[used_row >= 0]
        quantity, cells, rows = parsed.quantity.tolist(), inverse.tolist(), local_row.tolist()
        count = routes.count[cr].tolist()
        with self._lock:
            flat_stock = self._stock.reshape(-1)
            if override is not None and commit:
                self._stock[override.sku] = override.units
            stock_cells = flat_stock[unique_cell]
            if override is not None and not commit:
                _apply_override(stock_cells, unique_cell, override, n_locations)
            stock_list = stock_cells.tolist()
            arriving_list = self._arriving.reshape(-1)[unique_cell].tolist()
            fenced_list = self._fenced.reshape(-1)[unique_cell].tolist()
            fence_list = self._fences[used_row].tolist()
            decisions = greedy(quantity, cells, rows, count, stock_list, arriving_list,
                               fenced_list, fence_list)
            if commit:
                flat_stock[unique_cell] = stock_list
                self._fenced.reshape(-1)[unique_cell] = fenced_list
                if len(used_row):
                    self._fences[used_row] = fence_list
                taken = unique_cell[inverse[decisions.line, decisions.rank]] \
                    if decisions.line else np.zeros(0, dtype=np.int64)
                np.add.at(self._committed.reshape(-1), taken, decisions.units)
        return self._decision_frame(parsed, cr, decisions)

    def _fence_row(self, key: np.ndarray) -> np.ndarray:
        """Row of each stream key in the ring-fences, -1 for streams without one."""
        keys = self._fence_keys
        position = np.searchsorted(keys, key)
        position = np.minimum(position, max(len(keys) - 1, 0))
        found = (keys[position] == key) if len(keys) else np.zeros(len(key), dtype=bool)
        return np.where(found, position, -1)

    def _decision_frame(self, lines: Lines, cr: np.ndarray, decisions: Decisions
                        ) -> pd.DataFrame:
        data, routes = self._data, self._routes
        line = np.asarray(decisions.line, dtype=np.int64)
        rank = np.asarray(decisions.rank, dtype=np.int64)
        units = np.asarray(decisions.units, dtype=float)
        own = np.asarray(decisions.own, dtype=float)
        row_cr = cr[line]
        cost_per_unit = routes.cost_per_unit[row_cr, rank]
        templates = routes.reason[row_cr, rank]
        reasons = [f"{t}; {o:g} of these units from this stream's allocation" if o > 0
                   else f"{t}; unallocated stock" for t, o in zip(templates, own, strict=True)]

        short_line = np.asarray(decisions.unfilled_line, dtype=np.int64)
        short = np.asarray(decisions.unfilled_units, dtype=float)
        places: dict[int, str] = {}
        short_reasons = [self._unfilled_reason(int(cr[i]), q, left, places) for i, q, left in
                         zip(short_line, short, decisions.left_at_eligible, strict=True)]
        n_short = len(short_line)
        all_line = np.concatenate([line, short_line])
        order = np.argsort(all_line, kind="stable")
        all_line = all_line[order]
        location = np.concatenate([data.locations.labels[routes.location[row_cr, rank]],
                                   np.full(n_short, None, dtype=object)])
        quantity = np.concatenate([units, short])
        return pd.DataFrame({
            "line": all_line,
            "sku": data.skus.labels[lines.sku[all_line]],
            "channel": data.channels.labels[lines.channel[all_line]],
            "region": data.regions.labels[lines.region[all_line]],
            "location": location[order],
            "quantity": quantity[order],
            "from_allocation": np.concatenate([own, np.zeros(n_short)])[order],
            "lead_time": np.concatenate([routes.lead_time[row_cr, rank],
                                         np.full(n_short, np.nan)])[order],
            "cost_per_unit": np.concatenate([cost_per_unit, np.full(n_short, np.nan)])[order],
            "cost": np.concatenate([units * cost_per_unit, np.full(n_short, np.nan)])[order],
            "status": np.concatenate([np.full(len(line), "sourced", dtype=object),
                                      np.full(n_short, "unfilled", dtype=object)])[order],
            "reason": np.asarray(reasons + short_reasons, dtype=object)[order],
        })

    def _unfilled_reason(self, cr: int, units: float, left: float,
                         names: dict[int, str]) -> str:
        """Why a line of (channel, region) row ``cr`` is short (``names`` caches the eligible
        locations' names per row)."""
        data, routes = self._data, self._routes
        count = int(routes.count[cr])
        short = f"{units:g} unit{'' if units == 1 else 's'} unfilled"
        if count == 0:
            channel = data.channels.labels[cr // len(data.regions)]
            region = data.regions.labels[cr % len(data.regions)]
            return (f"{short}: {channel} may not serve {region} (no fulfilment rule names a "
                    "location)")
        places = names.get(cr)
        if places is None:
            places = names[cr] = ", ".join(data.locations.labels[routes.location[cr, :count]])
        if left > TOLERANCE:
            return (f"{short}: the {left:g} units left at the eligible locations ({places}) "
                    "are ring-fenced for other streams")
        return f"{short}: no stock left at the eligible locations ({places})"

    # --------------------------------------------------------------------------- re-planning

    def state(self) -> PlanState:
        """Everything `engine.reoptimize` needs of the plan, with the working stock, committed
        units and ring-fences copied together under the lock (`PlanState`)."""
        with self._lock:
            stock, committed = self._stock.copy(), self._committed.copy()
            fences = self._fences.copy()
        return PlanState(data=self._data, routes=self._routes, moves=self._moves,
                         on_hand=self._on_hand, outbound=self._outbound, stock=stock,
                         committed=committed, fence_keys=self._fence_keys, fences=fences,
                         replans=self._replans, network=self._network)


def _apply_override(values: np.ndarray, cell: np.ndarray, override: StockOverride,
                    n_locations: int) -> None:
    """Replace the stock of cells of overridden SKUs by the override's units (in place)."""
    sku, location = np.divmod(cell, n_locations)
    position = np.searchsorted(override.sku, sku)
    inside = position < len(override.sku)
    hit = np.zeros(len(cell), dtype=bool)
    hit[inside] = override.sku[position[inside]] == sku[inside]
    values[hit] = override.units[position[hit], location[hit]]


__all__ = ["Availability", "Plan", "PlanParts", "PlanState", "Replan", "RunDirectoryError",
           "UnknownNameError"]
