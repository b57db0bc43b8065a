"""The input contract: every table, column, type, default and allowed range, defined once.

The reader, the validator, the writer and the docs page ``docs/input-contract.md`` all follow
these definitions; nothing else in the package spells a column name of an input table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["str", "float", "int", "bool", "date"]

CHANNEL_KINDS = ("online", "offline", "distributor", "crossborder")
"""Allowed ``channels.kind`` values."""

LOCATION_KINDS = ("dc", "rdc", "pool")
"""Allowed ``locations.kind`` values: central DC, regional warehouse, channel-dedicated pool."""

LOCATION_TIERS = {"dc": 0, "rdc": 1, "pool": 2}
"""Tier of each location kind: stock flows down the tiers (a DC feeds RDCs and pools)."""

FREQUENCIES = ("D", "W-MON", "W-TUE", "W-WED", "W-THU", "W-FRI", "W-SAT", "W-SUN", "MS")
"""Period frequencies the planning dataset supports (pandas aliases)."""

WILDCARD = "*"
CATEGORY_PREFIX = "category:"


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    Parameters
    ----------
    name : str
        Column name as it appears in the file.
    type : {"str", "float", "int", "bool", "date"}
        Logical type; ``int`` accepts floats with whole values.
    required : bool
        Whether the column must be present and filled in every row.
    default : object
        Value used when an optional column is absent or a cell is empty.
    minimum, maximum : float, optional
        Allowed range of numeric values.
    min_inclusive, max_inclusive : bool
        Whether the bounds themselves are allowed.
    allow_inf : bool
        Whether ``inf`` is a valid value (unlimited capacity).
    allowed : tuple of str, optional
        The allowed values of a string column.
    doc : str
        One line for the contract page: meaning and units.
    """

    name: str
    type: ColumnType
    required: bool = False
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    allow_inf: bool = False
    allowed: tuple[str, ...] | None = None
    doc: str = ""

    def expected(self) -> str:
        """Describe the allowed values, for error messages ("a number > 0")."""
        if self.allowed is not None:
            return "one of " + ", ".join(self.allowed)
        noun = {
            "str": "a non-empty text",
            "float": "a number",
            "int": "a whole number",
            "bool": "true or false",
            "date": "a date (YYYY-MM-DD)",
        }[self.type]
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            left = "[" if self.min_inclusive else "("
            right = "]" if self.max_inclusive else ")"
            return f"{noun} in {left}{lo:g}, {hi:g}{right}"
        if lo is not None:
            return f"{noun} {'>=' if self.min_inclusive else '>'} {lo:g}"
        if hi is not None:
            return f"{noun} {'<=' if self.max_inclusive else '<'} {hi:g}"
        return noun


@dataclass(frozen=True)
class Table:
    """One input table: its columns, unique key and whether the directory must hold it."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = True
    doc: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}; expected one of "
                       f"{', '.join(self.column_names)}")


INF = math.inf
NAN = math.nan
MAX_UNITS = 1e12
"""Largest quantity of units in one row (sales of a period, stock, a shipment): beyond it a
number is a data error, and sums of squares of the history would leave float range."""

_TABLES = (
    Table(
        "skus",
        (
            Column("sku", "str", required=True, doc="SKU code, unique"),
            Column("category", "str", required=True, doc="product category"),
            Column("unit_cost", "float", required=True, minimum=0, min_inclusive=False,
                   doc="cost of one unit (currency)"),
            Column("list_price", "float", required=True, minimum=0, min_inclusive=False,
                   doc="list price of one unit (currency)"),
            Column("unit_volume", "float", default=1.0, minimum=0, min_inclusive=False,
                   doc="volume of one unit, in the units of `locations.capacity`"),
            Column("pack_size", "int", default=1, minimum=1,
                   doc="units per case; moves and orders are rounded to it"),
            Column("moq", "int", default=0, minimum=0,
                   doc="minimum order quantity in units (0: none)"),
        ),
        key=("sku",),
        doc="The catalogue.",
    ),
    Table(
        "channels",
        (
            Column("channel", "str", required=True, doc="channel code, unique"),
            Column("kind", "str", required=True, allowed=CHANNEL_KINDS, doc="kind of channel"),
            Column("price_index", "float", default=1.0, minimum=0, min_inclusive=False,
                   doc="channel price = list_price x price_index (unless `prices` overrides)"),
            Column("priority", "float", default=1.0, minimum=0,
                   doc="weight when stock is short; higher is served first"),
            Column("service_level", "float", default=0.95, minimum=0, maximum=1,
                   min_inclusive=False, max_inclusive=False,
                   doc="target cycle service level of the channel"),
            Column("backorders", "bool", default=False,
                   doc="unmet demand waits (true) or is lost (false)"),
            Column("review_period", "int", default=1, minimum=1,
                   doc="periods between replenishment reviews"),
        ),
        key=("channel",),
        doc="Sales channels.",
    ),
    Table(
        "locations",
        (
            Column("location", "str", required=True, doc="location code, unique"),
            Column("kind", "str", required=True, allowed=LOCATION_KINDS,
                   doc="dc (central DC), rdc (regional warehouse) or pool (channel-dedicated)"),
            Column("region", "str", required=True, doc="region the location sits in"),
            Column("channel", "str", default="",
                   doc="owner of a dedicated pool (required for kind pool, empty otherwise)"),
            Column("capacity", "float", default=INF, minimum=0, allow_inf=True,
                   doc="storage capacity in volume units (inf: unlimited)"),
            Column("holding_rate", "float", default=0.25, minimum=0,
                   doc="holding cost per year as a fraction of unit cost"),
        ),
        key=("location",),
        doc="Stock-holding locations. The regions of the network are the regions named here.",
    ),
    Table(
        "lanes",
        (
            Column("origin", "str", required=True, doc="shipping location"),
            Column("destination", "str", required=True, doc="receiving location"),
            Column("lead_time", "int", required=True, minimum=0, doc="lead time in periods"),
            Column("lead_time_sd", "float", default=0.0, minimum=0,
                   doc="standard deviation of the lead time, periods"),
            Column("cost_per_unit", "float", default=0.0, minimum=0,
                   doc="transport cost of one unit (currency)"),
            Column("capacity", "float", default=INF, minimum=0, allow_inf=True,
                   doc="units per period the lane can carry (inf: unlimited)"),
        ),
        key=("origin", "destination"),
        required=False,
        doc="Transport lanes between locations (none: a network of one stocking location).",
    ),
    Table(
        "fulfilment",
        (
            Column("channel", "str", required=True, doc="channel whose demand is served"),
            Column("region", "str", required=True, doc="region of that demand"),
            Column("location", "str", required=True, doc="a location allowed to serve it"),
        ),
        key=("channel", "region", "location"),
        doc="Which locations may serve a channel's demand in a region (channel conflict rules).",
    ),
    Table(
        "sales",
        (
            Column("date", "date", required=True, doc="first day of the period"),
            Column("sku", "str", required=True, doc="SKU sold"),
            Column("channel", "str", required=True, doc="channel that sold it"),
            Column("region", "str", required=True, doc="region of the customer"),
            Column("units", "float", required=True, minimum=0, maximum=MAX_UNITS,
                   doc="units sold in the period"),
            Column("price", "float", default=NAN, minimum=0, min_inclusive=False,
                   doc="average selling price (empty: not recorded)"),
            Column("promo", "bool", default=False, doc="a promotion ran in the period"),
        ),
        key=("sku", "channel", "region", "date"),
        doc="Sales history. A series starts at its first row; a period without a row after "
            "that sold zero.",
    ),
    Table(
        "inventory",
        (
            Column("sku", "str", required=True, doc="SKU"),
            Column("location", "str", required=True, doc="location holding it"),
            Column("on_hand", "float", required=True, minimum=0, maximum=MAX_UNITS,
                   doc="units on hand now"),
        ),
        key=("sku", "location"),
        doc="Stock on hand now. A missing (sku, location) holds zero.",
    ),
    Table(
        "in_transit",
        (
            Column("sku", "str", required=True, doc="SKU"),
            Column("origin", "str", required=True, doc="shipping location"),
            Column("destination", "str", required=True, doc="receiving location"),
            Column("quantity", "float", required=True, minimum=0, min_inclusive=False,
                   maximum=MAX_UNITS,
                   doc="units on the way"),
            Column("arrival_date", "date", required=True, doc="expected arrival"),
        ),
        required=False,
        doc="Shipments on the way between locations.",
    ),
    Table(
        "supply",
        (
            Column("sku", "str", required=True, doc="SKU"),
            Column("location", "str", required=True, doc="receiving location (usually a DC)"),
            Column("date", "date", required=True, doc="expected receipt date"),
            Column("quantity", "float", required=True, minimum=0, min_inclusive=False,
                   maximum=MAX_UNITS,
                   doc="units to receive"),
        ),
        required=False,
        doc="Scheduled receipts from suppliers or production.",
    ),
    Table(
        "suppliers",
        (
            Column("sku", "str", required=True,
                   doc="a SKU, `category:NAME` or `*` for all; the most specific row applies"),
            Column("location", "str", required=True,
                   doc="the buying location: a DC or a location without a replenishment lane"),
            Column("supplier", "str", default="supplier",
                   doc="supplier name, the origin of purchase rows in plan.parquet"),
            Column("lead_time", "int", required=True, minimum=0,
                   doc="periods from ordering to receipt"),
            Column("lead_time_sd", "float", default=0.0, minimum=0,
                   doc="standard deviation of the lead time, periods"),
            Column("moq", "int", default=0, minimum=0,
                   doc="minimum order quantity in units (0: none)"),
            Column("pack_size", "int", default=1, minimum=1,
                   doc="units per case; purchases are whole cases"),
            Column("unit_cost", "float", default=NAN, minimum=0, min_inclusive=False,
                   doc="purchase cost of one unit (empty: skus.unit_cost)"),
            Column("max_units_per_period", "float", default=INF, minimum=0,
                   min_inclusive=False, allow_inf=True,
                   doc="largest purchase per period and SKU (inf: unlimited)"),
        ),
        key=("sku", "location"),
        required=False,
        doc="Supply terms of the locations that buy. Without the table, every location "
            "without a replenishment lane buys at the configured supplier lead time and the "
            "SKU's pack size and MOQ.",
    ),
    Table(
        "promotions",
        (
            Column("sku", "str", default=WILDCARD,
                   doc="a SKU, `category:NAME` or `*` for all"),
            Column("channel", "str", default=WILDCARD, doc="a channel or `*`"),
            Column("region", "str", default=WILDCARD, doc="a region or `*`"),
            Column("start", "date", required=True, doc="first day of the event"),
            Column("end", "date", required=True, doc="last day of the event"),
            Column("uplift", "float", required=True, minimum=0, min_inclusive=False,
                   doc="demand multiplier during the event (1.5: +50%)"),
        ),
        required=False,
        doc="Planned promotions and events.",
    ),
    Table(
        "prices",
        (
            Column("sku", "str", required=True, doc="SKU"),
            Column("channel", "str", required=True, doc="channel"),
            Column("price", "float", required=True, minimum=0, min_inclusive=False,
                   doc="selling price of one unit in the channel"),
        ),
        key=("sku", "channel"),
        required=False,
        doc="Per-channel price overrides.",
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in _TABLES}
"""Every input table by name, in the order they are read and documented."""

FILE_FORMATS = ("csv", "parquet")
"""Accepted file formats; a table is ``NAME.csv`` or ``NAME.parquet``."""
