"""The run directory: every file a nightly run writes, and every data table's columns, once.

A run directory (`engine.run`, ``omnistock run --output DIR``) holds:

=====================  ========================================================================
file                   content
=====================  ========================================================================
forecast.parquet       `FORECAST`: the forecast of every series and period
targets.parquet        `TARGETS`: stock targets per sku x location
plan.parquet           `PLAN`: tonight's moves, then the suggestions (slow movers to clear)
allocation.parquet     `ALLOCATION`: stock ring-fenced per demand stream after tonight's moves
kpis.parquet           `KPIS`: simulated KPIs per stream, per sku x location and rolled up
report.html            `REPORT`: the planner's page
manifest.json          `MANIFEST`: inputs, configuration, versions, seconds, rows, fallbacks
network/NAME.parquet   `NETWORK`: the input contract's tables as planned (all but ``sales``)
=====================  ========================================================================

The writer (each stage's ``*_table`` function conforms its frame with `OutputTable.conform`;
the nightly run writes `RUN_TABLES`), the order API's reader (`engine.orders.rundir`) and the
scenario comparison (`engine.scenario.compare`) take file names, columns and row kinds from
here. It imports only the input contract (`engine.inputs.contract`) besides the standard library:
`engine.orders` imports it when an order system starts.

Adding a table (a backtest's ``summary.parquet``, say) is one more `OutputTable` here, listed in
`RUN_TABLES` with the dataset variable it is made from, and its writer; adding a kind of plan
row is one more name in `MOVE_KINDS`, `ORDER_KINDS` or `SUGGESTION_KINDS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from engine.inputs.contract import TABLES as INPUT_TABLES

Dtype = Literal["str", "float64", "datetime64[ns]"]
"""Column types: text (pandas ``object``, Parquet ``string``), float, timestamp."""

PANDAS_DTYPES: dict[str, str] = {"str": "object", "float64": "float64",
                                 "datetime64[ns]": "datetime64[ns]"}
"""The pandas dtype a column of each `Dtype` has in the frame that is written."""

MANIFEST = "manifest.json"
REPORT = "report.html"
NETWORK = "network"
"""Sub-directory with the network as planned, ``NAME.parquet`` per table of `NETWORK_TABLES`
(for `engine.orders.Plan.load`, re-plans and audits)."""
NETWORK_TABLES = tuple(name for name in INPUT_TABLES if name != "sales")
"""The input contract's tables in ``network/``, with the contract's columns: all but the sales
history; an optional table (`engine.inputs.contract.Table.required`) only when it has rows."""

MOVE_KINDS = ("deploy", "transfer", "cross_channel")
"""Kinds of plan rows that move stock tonight (`engine.network.lane_kinds`)."""
PURCHASE = "purchase"
ORDER_KINDS = (PURCHASE,)
"""Kinds of plan rows that order from outside the network tonight (origin: a supplier, not a
location; `engine.stages.purchases`)."""
CLEARANCE = "clearance"
SUGGESTION_KINDS = (CLEARANCE,)
"""Kinds of plan rows that suggest an action and move nothing tonight."""
PLAN_KINDS = (*MOVE_KINDS, *ORDER_KINDS, *SUGGESTION_KINDS)

KPI_ROLLUPS = ("channel", "region", "channel_region", "total")
"""Levels of the ``kpis.parquet`` rows that roll streams up: by channel, region, both, in total."""
KPI_LEVELS = ("stream", "location", *KPI_ROLLUPS)
"""Row levels of ``kpis.parquet``: per sku x channel x region, per sku x location, roll-ups."""

_QUANTILE = re.compile(r"q\d+(\.\d+)?")


def is_quantile_column(name: str) -> bool:
    """Whether ``name`` is a quantile column of the forecast (``q10``, ``q2.5``; the names of
    `models.forecast.quantile_column`)."""
    return _QUANTILE.fullmatch(name) is not None


@dataclass(frozen=True)
class Column:
    """One column of an output table.

    Attributes
    ----------
    name : str
    dtype : {"str", "float64", "datetime64[ns]"}
    doc : str
        Meaning and units.
    required : bool
        Whether readers may rely on it: false for columns added after run directories of the
        table were already in use (readers of older runs must do without them).
    """

    name: str
    dtype: Dtype
    doc: str
    required: bool = True


@dataclass(frozen=True)
class OutputTable:
    """One Parquet file of the run directory: its name, columns in file order and meaning.

    Attributes
    ----------
    name : str
        The file is ``NAME.parquet``.
    columns : tuple of Column
        In file order.
    doc : str
        What one row is.
    quantiles_after : str, optional
        Name of the column followed by one float column per forecast quantile (``q10``,
        ``q50``, ``q90`` by default; `is_quantile_column`).
    """

    name: str
    columns: tuple[Column, ...]
    doc: str
    quantiles_after: str | None = None

    @property
    def file(self) -> str:
        return f"{self.name}.parquet"

    def names(self, quantile_columns: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Column names in file order, with ``quantile_columns`` in their place."""
        names: list[str] = []
        for column in self.columns:
            names.append(column.name)
            if column.name == self.quantiles_after:
                names.extend(quantile_columns)
        return tuple(names)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the columns readers may rely on (`Column.required`), quantiles aside."""
        return tuple(column.name for column in self.columns if column.required)

    def conform(self, frame):
        """``frame`` (a pandas DataFrame) with exactly this table's columns, in file order and
        with their dtypes; the frame itself when it already is.

        Raises
        ------
        ValueError
            If a column is missing or one is not the table's (naming them).
        """
        quantiles = tuple(str(c) for c in frame.columns if is_quantile_column(str(c))) \
            if self.quantiles_after else ()
        names = self.names(quantiles)
        missing = [name for name in names if name not in frame.columns]
        extra = [str(name) for name in frame.columns if name not in names]
        if missing or extra:
            raise ValueError(f"{self.file} has the columns {', '.join(names)}; found "
                             f"{'no ' + ', '.join(missing) if missing else ''}"
                             f"{'; ' if missing and extra else ''}"
                             f"{'also ' + ', '.join(extra) if extra else ''}")
        if tuple(frame.columns) != names:
            frame = frame[list(names)]
        dtypes = {column.name: PANDAS_DTYPES[column.dtype] for column in self.columns}
        dtypes |= {name: "float64" for name in quantiles}
        wrong = {name: dtype for name, dtype in dtypes.items()
                 if str(frame[name].dtype) != dtype}
        return frame.astype(wrong) if wrong else frame


def _text(name: str, doc: str, *, required: bool = True) -> Column:
    return Column(name, "str", doc, required)


def _number(name: str, doc: str, *, required: bool = True) -> Column:
    return Column(name, "float64", doc, required)


FORECAST = OutputTable(
    "forecast",
    (_text("sku", "SKU"), _text("channel", "channel"), _text("region", "region"),
     Column("date", "datetime64[ns]", "first day of the forecast period"),
     _number("mean", "expected demand, units per period"),
     _text("model", "forecast model (``...-failed`` after a fallback)"),
     _text("demand_class", "smooth, erratic, intermittent, lumpy, new or inactive"),
     _number("variance", "variance of the period's demand, units^2"),
     _text("distribution", "demand distribution of the period: normal, poisson or "
                           "negative_binomial")),
    "one row per series (sku x channel x region that trades) and forecast period, by series "
    "and date; the quantiles of the period's demand (units) follow ``mean``",
    quantiles_after="mean")

TARGETS = OutputTable(
    "targets",
    (_text("sku", "SKU"), _text("location", "location"),
     _number("safety_stock", "units"), _number("reorder_point", "s, units"),
     _number("order_up_to", "S, units"),
     _number("service_level", "the location's cycle service level or fill rate target"),
     _text("policy", "the policy the levels are for, (s,S)")),
    "one row per sku x location with demand to protect or a target")

PLAN = OutputTable(
    "plan",
    (_text("sku", "SKU"),
     _text("origin", "location shipping (a purchase: the supplier; a clearance: the location "
                     "holding most of the stock)"),
     _text("destination", "location receiving (empty for a suggestion)"),
     _number("quantity", "units moved, or surplus units to clear"),
     _text("kind", f"one of {', '.join(PLAN_KINDS)}"),
     _text("reason", "why, in the planner's words"),
     _text("channel", "clearance: the channel to clear on (empty for moves)", required=False),
     _text("discount_band", "clearance: suggested discount, e.g. 10-20% (empty for moves)",
           required=False),
     _text("lane", "the lane a move takes (empty for suggestions)", required=False)),
    "tonight's moves (kinds `MOVE_KINDS`), purchases (`ORDER_KINDS`), then the suggestions "
    "(`SUGGESTION_KINDS`)")

ALLOCATION = OutputTable(
    "allocation",
    (_text("sku", "SKU"), _text("channel", "channel"), _text("region", "region"),
     _text("location", "location holding the units"),
     _number("units", "whole units ring-fenced for the stream there")),
    "one row per demand stream (sku x channel x region) and location with stock ring-fenced "
    "for it after tonight's moves (the deployment LP's allocation)")


def _spread(name: str, doc: str) -> tuple[Column, ...]:
    return (_number(name, f"{doc}, mean over the samples"),
            _number(f"{name}_q10", f"{doc}, 10th percentile across samples"),
            _number(f"{name}_q90", f"{doc}, 90th percentile across samples"))


KPIS = OutputTable(
    "kpis",
    (_text("level", f"one of {', '.join(KPI_LEVELS)}"),
     _text("sku", "SKU (stream and location rows)"),
     _text("channel", "channel (stream, channel and channel_region rows)"),
     _text("region", "region (stream, region and channel_region rows)"),
     _text("location", "location (location rows)"),
     _number("demand", "units over the horizon (location rows: units served from there)"),
     *_spread("fill_rate", "units served / demanded"),
     *_spread("cycle_service_level", "share of periods without unmet demand"),
     *_spread("lost_sales", "units lost over the horizon"),
     _number("backorders", "units owed at the end of the horizon"),
     _number("shortage_cost", "money"),
     *_spread("avg_on_hand", "average end-of-period stock, units"),
     _number("holding_cost", "money"),
     _number("orders", "replenishment orders a location placed", required=False),
     _number("turns", "yearly demand over average stock")),
    "simulated KPIs over the forecast horizon: per stream, per sku x location, and rolled up by "
    "channel, region, channel x region and in total (`KPI_LEVELS`); a row leaves the "
    "columns of other levels empty (text) or NaN")

RUN_TABLES: dict[OutputTable, str] = {FORECAST: "forecast_mean", TARGETS: "target_order_up_to",
                                      PLAN: "move_quantity", ALLOCATION: "allocation_units",
                                      KPIS: "kpi_fill_rate"}
"""The data files of a run, in writing order, with the planning-dataset variable each is made
from: a run whose dataset lacks it (a run of fewer stages) does not write the file."""
