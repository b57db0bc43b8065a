"""Check every rule of the input contract and collect all problems before raising.

One entry point, `check_tables`, takes the raw tables of a directory and returns the typed
tables, or raises one `InputError` listing every problem as table, row, column, expected, found.
The rules, in the order they run:

1. every cell has the column's type and lies in its range (`engine.inputs.contract`);
2. keys are unique (one row per sku, per lane, per (date, sku, channel, region), ...);
3. every sku, channel, region, location and lane named in one table exists where it is defined
   (regions are the regions of `locations`);
4. the network makes sense: at least one DC, dedicated pools name their channel and serve only it,
   lanes join two different locations, every location is reachable from a DC along lanes, every
   traded (channel, region) has an eligible location in `fulfilment`;
5. sales dates fall on the period frequency (declared, or inferred from the dates), none after
   the as-of date (default: today) nor more than `MAX_HISTORY_YEARS` before the latest sales
   date; promotion windows end on or after they start.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.errors import InputError, Problem
from engine.inputs.calendar import describe_dates, infer_freq, normalize_freq, off_frequency
from engine.inputs.coerce import Coerced, coerce
from engine.inputs.contract import CATEGORY_PREFIX, TABLES, WILDCARD, Column
from engine.inputs.contract import LOCATION_TIERS as TIER
from engine.inputs.tables import RawTable

MAX_VALUES_PER_RULE = 5


@dataclass(frozen=True)
class CheckedTables:
    """Typed input tables that passed every check.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        Every contract table present, with all contract columns: text as Categorical, numbers as
        float64 (int64 for whole-number columns), flags as bool, dates as datetime64[ns];
        optional columns filled with their defaults.
    freq : str
        Period frequency of the history (``D``, ``W-MON`` ... or ``MS``).
    """

    tables: dict[str, pd.DataFrame]
    freq: str


MAX_HISTORY_YEARS = 20
"""A sales date more than this many years before the latest one is a typing mistake (a 1900
date would make a history of thousands of periods)."""


def as_of_date(value=None) -> pd.Timestamp:
    """The as-of day: ``value`` (a date or ``YYYY-MM-DD``), or today; raises ValueError for
    text that is not a date."""
    if value is None:
        return pd.Timestamp.today().normalize()
    try:
        if isinstance(value, str):
            value = datetime.date.fromisoformat(value.strip())
        return pd.Timestamp(value).normalize()
    except (TypeError, ValueError):
        raise ValueError(f"expected a date (YYYY-MM-DD), found {value!r}") from None


def check_tables(raw: dict[str, RawTable], *, freq: str | None = None,
                 source: str = "input", problems: Sequence[Problem] = (),
                 as_of=None) -> CheckedTables:
    """Type every column and check every rule; raise one `InputError` listing all problems.

    Parameters
    ----------
    raw : dict of str to RawTable
        Tables as read by `engine.inputs.tables.read_directory`.
    freq : str, optional
        Declared period frequency; inferred from the sales dates when omitted.
    source : str
        Name of the input in messages (its directory).
    problems : sequence of Problem
        Problems already found while reading; they are reported together with the rest.
    as_of : date-like, optional
        The day the plan is made (default: today): a sales row dated after it, or more than
        `MAX_HISTORY_YEARS` before the latest sales date not after it, is a problem.

    Raises
    ------
    InputError
        If any rule is broken.
    ValueError
        If ``freq`` is not a supported frequency.
    """
    declared = normalize_freq(freq) if freq is not None else None
    checker = _Checker({n: t for n, t in raw.items() if t.complete}, list(problems))
    checker.type_columns()
    checker.unique_keys()
    # a table missing required columns (reported when read) still has its keys checked, so
    # that its duplicate rows come in the same pass; nothing else refers to it
    partial = {n: dataclasses.replace(t, frame=t.frame[list(TABLES[n].key)])
               for n, t in raw.items()
               if not t.complete and TABLES[n].key
               and all(c in t.frame.columns for c in TABLES[n].key)}
    if partial:
        keys = _Checker(partial, checker.problems)
        keys.type_columns()
        keys.unique_keys()
    checker.references()
    checker.network()
    found_freq = checker.dates(declared, as_of_date(as_of))
    if checker.problems:
        raise InputError(checker.problems, source=source)
    return CheckedTables(checker.finished_tables(), found_freq or declared or "W-MON")


class _Checker:
    """Holds the raw and typed tables while the rules run, and the problems they find."""

    def __init__(self, raw: dict[str, RawTable], problems: list[Problem]):
        self.raw = raw
        self.problems = problems
        self.typed: dict[str, dict[str, Coerced]] = {}
        self.frames: dict[str, pd.DataFrame] = {}

    # -- reporting ---------------------------------------------------------------------------

    def report(self, table: str, column: str, mask: np.ndarray, expected: str,
               found: Callable[[np.ndarray], Sequence[str]]) -> None:
        """Add problems for the rows in ``mask``, one per distinct found value (at most five)."""
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return
        raw = self.raw[table]
        labels = np.asarray(found(rows), dtype=object)
        codes, uniques = pd.factorize(labels)
        for k, value in enumerate(uniques[:MAX_VALUES_PER_RULE]):
            these = rows[codes == k]
            self.problems.append(Problem(table, raw.file, column, expected, str(value),
                                         tuple(int(r) + 1 for r in these[:5]), len(these),
                                         raw.line_offset))
        if len(uniques) > MAX_VALUES_PER_RULE:
            rest = rows[codes >= MAX_VALUES_PER_RULE]
            self.problems.append(Problem(table, raw.file, column, expected,
                                         f"{len(uniques) - MAX_VALUES_PER_RULE} other values",
                                         tuple(int(r) + 1 for r in rest[:5]), len(rest),
                                         raw.line_offset))

    def report_table(self, table: str, column: str, expected: str, found: str) -> None:
        file = self.raw[table].file if table in self.raw else table
        self.problems.append(Problem(table, file, column, expected, found))

    def raw_text(self, table: str, column: str) -> Callable[[np.ndarray], list[str]]:
        series = self.raw[table].frame[column]
        return lambda rows: [repr(_plain(v)) for v in series.iloc[rows].tolist()]

    def label(self, table: str, column: str) -> Callable[[np.ndarray], list[str]]:
        values = self.frames[table][column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            return lambda rows: [repr(v) for v in values.iloc[rows].astype(object).tolist()]
        return lambda rows: [f"{v:g}" if isinstance(v, float) else str(v)
                             for v in values.iloc[rows].tolist()]

    # -- rule 1: types and ranges -------------------------------------------------------------

    def type_columns(self) -> None:
        for name, raw in self.raw.items():
            spec = TABLES[name]
            typed: dict[str, Coerced] = {}
            columns: dict[str, object] = {}
            n = len(raw.frame)
            for column in spec.columns:
                if column.name in raw.frame.columns:
                    result = coerce(raw.frame[column.name], column)
                    typed[column.name] = result
                    self._report_cells(name, column, result)
                    columns[column.name] = _fill_default(result, column)
                else:
                    columns[column.name] = _default_column(column, n)
            self.typed[name] = typed
            self.frames[name] = pd.DataFrame(columns)
            if n == 0 and spec.required and name != "inventory":
                self.report_table(name, "", "at least one row", "an empty table")
        if "lanes" not in self.frames:   # a network of one stocking location needs no lanes
            spec = TABLES["lanes"]
            self.typed["lanes"] = {}
            self.frames["lanes"] = pd.DataFrame({
                c.name: pd.Categorical([]) if c.type == "str" else _default_column(c, 0)
                for c in spec.columns})

    def _report_cells(self, table: str, column: Column, result: Coerced) -> None:
        if column.required:
            self.report(table, column.name, result.missing, "a value",
                        lambda rows: ["an empty cell"] * len(rows))
        self.report(table, column.name, result.unparsable, column.expected(),
                    self.raw_text(table, column.name))
        if column.type == "str":
            self.report(table, column.name, result.out_of_range, column.expected(),
                        self.raw_text(table, column.name))
        else:
            values = result.values
            self.report(table, column.name, result.out_of_range, column.expected(),
                        lambda rows: [f"{v:g}" for v in values[rows]])

    def valid(self, table: str, *columns: str) -> np.ndarray:
        """Rows whose given columns hold a value of the right type and range."""
        n = len(self.frames[table])
        ok = np.ones(n, dtype=bool)
        for name in columns:
            result = self.typed[table].get(name)
            if result is not None:
                ok &= ~(result.missing | result.unparsable | result.out_of_range)
        return ok

    # -- rule 2: unique keys -----------------------------------------------------------------

    def unique_keys(self) -> None:
        for name, frame in self.frames.items():
            key = TABLES[name].key
            if not key or frame.empty:
                continue
            ok = self.valid(name, *key)
            combined = _combined_codes(frame, key)
            duplicate = np.zeros(len(frame), dtype=bool)
            duplicate[ok] = _duplicated(combined[ok])
            if not duplicate.any():
                continue
            codes, _ = pd.factorize(np.where(ok, combined, -1))
            _, first = np.unique(codes, return_index=True)
            first_of = first[codes]

            def found(picked, first_of=first_of, frame=frame, key=key):
                out = []
                for r in picked:
                    values = ", ".join(_plain(frame[c].iloc[r]) for c in key)
                    out.append(f"({values}) again, first at row {first_of[r] + 1}")
                return out

            self.report(name, ", ".join(key), duplicate,
                        f"one row per ({', '.join(key)})", found)

    # -- rule 3: references -----------------------------------------------------------------

    def references(self) -> None:
        skus = self._defined("skus", "sku")
        channels = self._defined("channels", "channel")
        locations = self._defined("locations", "location")
        regions = self._defined("locations", "region")
        checks = [
            ("locations", "channel", channels, "a channel listed in channels (or empty)"),
            ("lanes", "origin", locations, "a location listed in locations"),
            ("lanes", "destination", locations, "a location listed in locations"),
            ("fulfilment", "channel", channels, "a channel listed in channels"),
            ("fulfilment", "region", regions, "a region of a location in locations"),
            ("fulfilment", "location", locations, "a location listed in locations"),
            ("sales", "sku", skus, "a sku listed in skus"),
            ("sales", "channel", channels, "a channel listed in channels"),
            ("sales", "region", regions, "a region of a location in locations"),
            ("inventory", "sku", skus, "a sku listed in skus"),
            ("inventory", "location", locations, "a location listed in locations"),
            ("in_transit", "sku", skus, "a sku listed in skus"),
            ("in_transit", "origin", locations, "a location listed in locations"),
            ("in_transit", "destination", locations, "a location listed in locations"),
            ("supply", "sku", skus, "a sku listed in skus"),
            ("supply", "location", locations, "a location listed in locations"),
            ("suppliers", "location", locations, "a location listed in locations"),
            ("prices", "sku", skus, "a sku listed in skus"),
            ("prices", "channel", channels, "a channel listed in channels"),
        ]
        for table, column, allowed, expected in checks:
            if table not in self.frames or allowed is None:
                continue
            values = self.frames[table][column]
            extra = {""} if (table, column) == ("locations", "channel") else set()
            unknown = self.valid(table, column) & ~_isin(values, allowed, extra)
            self.report(table, column, unknown, expected, self.label(table, column))
        for table in ("promotions", "suppliers"):
            if table in self.frames:
                self._sku_selectors(table, skus)
        if "promotions" in self.frames:
            self._promotion_references(channels, regions)
        if "in_transit" in self.frames:
            self._shipment_lanes()

    def _defined(self, table: str, column: str) -> pd.Index | None:
        """What ``table`` defines in ``column``; None (nothing to check against) when the
        table is missing or empty, a problem already reported once rather than for every row
        that names it."""
        if table not in self.frames or len(self.frames[table]) == 0:
            return None
        values = self.frames[table][column][self.valid(table, column)]
        return pd.Index(pd.unique(values.astype(object)))

    def _sku_selectors(self, table: str, skus) -> None:
        """A ``sku`` column that may name a SKU, ``category:NAME`` or ``*``."""
        categories = self._defined("skus", "category")
        if skus is None or categories is None:
            return
        sku_values = self.frames[table]["sku"].astype(object).to_numpy()
        is_category = np.array([v.startswith(CATEGORY_PREFIX) for v in sku_values], dtype=bool)
        names = np.array([v[len(CATEGORY_PREFIX):] for v in sku_values], dtype=object)
        bad_sku = (~is_category & (sku_values != WILDCARD)
                   & ~np.isin(sku_values, skus.to_numpy()))
        bad_category = is_category & ~np.isin(names, categories.to_numpy())
        self.report(table, "sku", self.valid(table, "sku") & (bad_sku | bad_category),
                    "a sku from skus, category:NAME with a category from skus, or *",
                    self.label(table, "sku"))

    def _promotion_references(self, channels, regions) -> None:
        frame = self.frames["promotions"]
        for column, allowed, what in (("channel", channels, "a channel listed in channels"),
                                      ("region", regions, "a region of a location")):
            if allowed is None:
                continue
            unknown = self.valid("promotions", column) & ~_isin(frame[column], allowed,
                                                                 {WILDCARD})
            self.report("promotions", column, unknown, f"{what}, or *",
                        self.label("promotions", column))

    def _shipment_lanes(self) -> None:
        lanes = self.frames["lanes"]
        known = set(zip(lanes["origin"].astype(object), lanes["destination"].astype(object),
                        strict=True))
        shipments = self.frames["in_transit"]
        pairs = zip(shipments["origin"].astype(object), shipments["destination"].astype(object),
                    strict=True)
        no_lane = np.array([p not in known for p in pairs], dtype=bool)
        ok = self.valid("in_transit", "origin", "destination")
        self.report("in_transit", "origin, destination", ok & no_lane,
                    "an origin and destination joined by a lane in lanes",
                    lambda rows: [f"({_plain(shipments['origin'].iloc[r])} -> "
                                  f"{_plain(shipments['destination'].iloc[r])}) with no lane"
                                  for r in rows])

    # -- rule 4: the network -----------------------------------------------------------------

    def network(self) -> None:
        if "locations" not in self.frames:
            return
        locations = self.frames["locations"]
        kind = locations["kind"].astype(object).to_numpy()
        owner = locations["channel"].astype(object).to_numpy()
        kind_ok = self.valid("locations", "kind")
        if not (kind == "dc")[kind_ok].any() and len(locations):
            self.report_table("locations", "kind", "at least one location of kind dc",
                              "none")
        self.report("locations", "channel", kind_ok & (kind == "pool") & (owner == ""),
                    "the owning channel of a pool", lambda rows: ["an empty cell"] * len(rows))
        self.report("locations", "channel", kind_ok & (kind != "pool") & (owner != ""),
                    "an empty channel (only pools are dedicated to a channel)",
                    lambda rows: [f"{owner[r]!r} on a location of kind {kind[r]}"
                                  for r in rows])
        self._lanes(locations, kind)
        if "suppliers" in self.frames:
            self._buyers(locations, kind)
        if "fulfilment" in self.frames:
            self._fulfilment(locations, owner)

    def _lanes(self, locations: pd.DataFrame, kind: np.ndarray) -> None:
        lanes = self.frames["lanes"]
        origin = lanes["origin"].astype(object).to_numpy()
        destination = lanes["destination"].astype(object).to_numpy()
        ok = self.valid("lanes", "origin", "destination")
        self.report("lanes", "destination", ok & (origin == destination),
                    "a destination other than the origin",
                    lambda rows: [f"{destination[r]!r} for origin {origin[r]!r}" for r in rows])
        names = locations["location"].astype(object).to_numpy()
        valid_location = self.valid("locations", "location", "kind")
        roots = set(names[valid_location & (kind == "dc")])
        if not roots:
            return
        reachable = _reachable(roots, origin[ok], destination[ok])
        unreachable = valid_location & ~np.isin(names, list(reachable))
        self.report("locations", "location", unreachable,
                    "a location reachable from a dc along lanes",
                    lambda rows: [f"{names[r]!r} with no lane path from "
                                  f"{', '.join(sorted(roots))}" for r in rows])

    def _buyers(self, locations: pd.DataFrame, kind: np.ndarray) -> None:
        """Supply terms only at locations that buy: DCs and locations no higher tier feeds."""
        tier = dict(zip(locations["location"].astype(object),
                        [TIER.get(k, -1) for k in kind], strict=True))
        lanes = self.frames["lanes"]
        fed = {d for o, d in zip(lanes["origin"].astype(object),
                                 lanes["destination"].astype(object), strict=True)
               if tier.get(o, 99) < tier.get(d, -1) and tier.get(d) != TIER["dc"]}
        buyer = self.frames["suppliers"]["location"].astype(object).to_numpy()
        ok = self.valid("suppliers", "location") & np.isin(buyer, list(tier))
        self.report("suppliers", "location", ok & np.isin(buyer, list(fed)),
                    "a location that buys: a DC or a location no lane feeds from a higher tier",
                    lambda rows: [f"{buyer[r]!r}, replenished along a lane" for r in rows])

    def _fulfilment(self, locations: pd.DataFrame, owner: np.ndarray) -> None:
        rules = self.frames["fulfilment"]
        owner_of = dict(zip(locations["location"].astype(object), owner, strict=True))
        channel = rules["channel"].astype(object).to_numpy()
        location = rules["location"].astype(object).to_numpy()
        pool_owner = np.array([owner_of.get(loc, "") or "" for loc in location], dtype=object)
        ok = self.valid("fulfilment", "channel", "location")
        foreign = ok & (pool_owner != "") & (pool_owner != channel)
        self.report("fulfilment", "location", foreign,
                    "a shared location or a pool of the same channel",
                    lambda rows: [f"{location[r]!r}, a pool of {pool_owner[r]!r}, serving "
                                  f"{channel[r]!r}" for r in rows])
        if "sales" not in self.frames:
            return
        served = set(zip(channel[ok], rules["region"].astype(object).to_numpy()[ok],
                         strict=True))
        sales = self.frames["sales"]
        traded_ok = self.valid("sales", "channel", "region")
        pair_codes = (sales["channel"].cat.codes.to_numpy().astype(np.int64)
                      * (len(sales["region"].cat.categories) + 1)
                      + sales["region"].cat.codes.to_numpy())
        pair_codes = np.where(traded_ok, pair_codes, -1)
        n_regions = len(sales["region"].cat.categories) + 1
        unserved = np.zeros(len(sales), dtype=bool)
        traded = np.flatnonzero(np.bincount(pair_codes[pair_codes >= 0]))
        for code in traded:
            pair = (sales["channel"].cat.categories[code // n_regions],
                    sales["region"].cat.categories[code % n_regions])
            if pair not in served:
                unserved |= pair_codes == code
        ch = sales["channel"]
        rg = sales["region"]
        self.report("sales", "channel, region", unserved,
                    "a (channel, region) with an eligible location in fulfilment",
                    lambda rows: [f"({_plain(ch.iloc[r])}, {_plain(rg.iloc[r])}) with none"
                                  for r in rows])

    # -- rule 5: dates -----------------------------------------------------------------------

    def dates(self, declared: str | None, as_of: pd.Timestamp) -> str | None:
        if "promotions" in self.frames:
            promotions = self.frames["promotions"]
            ok = self.valid("promotions", "start", "end")
            start = promotions["start"].to_numpy()
            end = promotions["end"].to_numpy()
            self.report("promotions", "end", ok & (end < start), "an end on or after the start",
                        lambda rows: [f"{_plain(end[r])} before {_plain(start[r])}"
                                      for r in rows])
        if "sales" not in self.frames:
            return None
        sales = self.frames["sales"]
        ok = self.valid("sales", "date")
        dates = sales["date"].to_numpy()
        ok = ok & self._dates_in_range(dates, ok, as_of)
        date_codes, uniques = pd.factorize(dates)
        distinct = np.unique(uniques[np.bincount(date_codes[ok], minlength=len(uniques)) > 0])
        if len(distinct) == 0:
            return None
        freq = declared
        if freq is None:
            freq = infer_freq(distinct)
            if freq is None:
                self.report_table("sales", "date", "dates one period apart: daily, weekly on "
                                  "one weekday, or month starts (or declare the frequency)",
                                  _describe_spacing(distinct))
                return None
        off_distinct = off_frequency(uniques, freq)
        off = ok & off_distinct[np.maximum(date_codes, 0)]
        if off.any():
            found = f"{_plain(dates[np.argmax(off)])} ({describe_dates(uniques[off_distinct])})"
            self.report("sales", "date", off, f"the first day of a {freq} period",
                        lambda rows: [found] * len(rows))
        return freq

    def _dates_in_range(self, dates: np.ndarray, ok: np.ndarray, as_of: pd.Timestamp
                        ) -> np.ndarray:
        """Report sales dates after ``as_of`` and before the plausible start; True where a
        date is in range (or not a valid date)."""
        late = ok & (dates > as_of.to_datetime64())
        self.report("sales", "date", late,
                    f"a date on or before the as-of date {as_of:%Y-%m-%d} (--as-of)",
                    lambda rows: [_plain(dates[r]) for r in rows])
        kept = ok & ~late
        if not kept.any():
            return ~late
        start = pd.Timestamp(dates[kept].max()) - pd.DateOffset(years=MAX_HISTORY_YEARS)
        early = kept & (dates < start.to_datetime64())
        self.report("sales", "date", early,
                    f"a date on or after {start:%Y-%m-%d} (at most {MAX_HISTORY_YEARS} years "
                    "before the latest sales date)",
                    lambda rows: [_plain(dates[r]) for r in rows])
        return ~(late | early)

    # -- result ------------------------------------------------------------------------------

    def finished_tables(self) -> dict[str, pd.DataFrame]:
        out = {}
        for name, frame in self.frames.items():
            for column in TABLES[name].columns:
                if column.type == "int":
                    frame[column.name] = frame[column.name].to_numpy().astype(np.int64)
            out[name] = frame
        return out


# ---------------------------------------------------------------------------------------------
# helpers


def _plain(value: object) -> str:
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        return "NaT" if pd.isna(stamp) else stamp.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fill_default(result: Coerced, column: Column):
    values = result.values
    if column.type == "str":
        if column.default is None:
            return values
        missing = np.asarray(values.codes < 0)
        if not missing.any():
            return values
        if column.default not in values.categories:
            values = values.add_categories([column.default])
        values = values.copy()
        values[missing] = column.default
        return values
    if column.default is None:
        return values
    bad = result.missing
    if not bad.any():
        return values
    values = values.copy()
    values[bad] = column.default
    return values


def _default_column(column: Column, n: int):
    """An absent column: its default, or all missing for a required one (whose absence is
    reported; only a table's keys are checked then)."""
    if column.type == "str":
        if column.default is None:
            return pd.Categorical.from_codes(np.full(n, -1, np.int32), pd.Index([], dtype=object))
        return pd.Categorical.from_codes(np.zeros(n, np.int32),
                                         pd.Index([column.default], dtype=object))
    if column.type == "bool":
        return np.full(n, bool(column.default))
    return np.full(n, np.nan if column.default is None else column.default, dtype=np.float64)


_DIRECT_LIMIT = 2**28


def _combined_codes(frame: pd.DataFrame, key: Sequence[str]) -> np.ndarray:
    """One non-negative int64 per row that is equal exactly when the key columns are equal.

    Codes are combined column by column; when their range would pass 2**28 they are first
    renumbered densely, so the result stays small enough for `_duplicated`'s direct table.
    """
    combined = np.zeros(len(frame), dtype=np.int64)
    size = 1
    for column in key:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy().astype(np.int64)
            n_values = len(values.cat.categories)
        else:
            codes, uniques = pd.factorize(values)
            codes = codes.astype(np.int64)
            n_values = len(uniques)
        if size * (n_values + 1) > _DIRECT_LIMIT:
            combined, uniques = pd.factorize(combined)
            size = len(uniques)
        combined = combined * (n_values + 1) + (codes + 1)
        size *= n_values + 1
    return combined


def _duplicated(combined: np.ndarray) -> np.ndarray:
    """Rows whose code appeared in an earlier row."""
    if len(combined) == 0:
        return np.zeros(0, dtype=bool)
    size = int(combined.max()) + 1
    if size <= _DIRECT_LIMIT:
        seen = np.zeros(size, dtype=bool)
        seen[combined] = True
        if np.count_nonzero(seen) == len(combined):
            return np.zeros(len(combined), dtype=bool)
    return pd.Series(combined).duplicated(keep="first").to_numpy()


def _isin(values: pd.Series, allowed: pd.Index, extra: set[str]) -> np.ndarray:
    """Whether each (categorical) value is in ``allowed`` or ``extra``; missing counts as in."""
    categories = values.cat.categories
    known = np.asarray(categories.isin(allowed) | categories.isin(list(extra)))
    codes = values.cat.codes.to_numpy()
    return np.where(codes >= 0, known[np.maximum(codes, 0)] if len(known) else True, True)


def _reachable(roots: set[str], origin: np.ndarray, destination: np.ndarray) -> set[str]:
    outgoing: dict[str, list[str]] = {}
    for a, b in zip(origin, destination, strict=True):
        outgoing.setdefault(a, []).append(b)
    seen = set(roots)
    queue = deque(roots)
    while queue:
        for nxt in outgoing.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _describe_spacing(dates: np.ndarray) -> str:
    if len(dates) < 2:
        return "a single sales date, from which no frequency can be inferred"
    gaps = np.unique(np.diff(np.sort(dates)).astype("timedelta64[D]").astype(np.int64))
    shown = ", ".join(str(g) for g in gaps[:5])
    return f"gaps of {shown} days between dates"
