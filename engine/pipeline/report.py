"""report.html: one self-contained page for the planner (plots embedded as PNG).

Sections, each shown when its stage ran: the run's headline, service and stock by channel and
region, the largest expected shortages, tonight's moves by kind, forecast plots of the top SKUs
with their 10-90% bands, and the run's timings.
"""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

TOP_SKUS = 6
TOP_SHORTAGES = 15
HISTORY_SHOWN = 52

_STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0;
       color: #1f2933; background: #f5f7fa; }
header { background: #243b53; color: white; padding: 18px 32px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; color: #d9e2ec; font-size: 14px; }
main { padding: 12px 32px 40px; max-width: 1200px; }
section { background: white; border-radius: 6px; padding: 14px 20px; margin: 16px 0;
          box-shadow: 0 1px 3px rgba(0,0,0,0.08); }
h2 { font-size: 17px; margin: 4px 0 10px; color: #243b53; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; }
.tile { flex: 1 1 160px; background: #f0f4f8; border-radius: 6px; padding: 10px 14px; }
.tile .value { font-size: 22px; font-weight: 600; color: #102a43; }
.tile .label { font-size: 12px; color: #627d98; text-transform: uppercase; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th { text-align: left; background: #f0f4f8; padding: 5px 8px; font-weight: 600; }
td { padding: 4px 8px; border-bottom: 1px solid #e4e7eb; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #627d98; font-size: 12px; }
.bad { color: #c81e1e; font-weight: 600; }
img { max-width: 100%; }
"""


def render_report(ds: xr.Dataset, manifest: dict) -> str:
    """The report page as HTML text.

    Parameters
    ----------
    ds : xarray.Dataset
        The planning dataset after the run's stages.
    manifest : dict
        The run's manifest (status, inputs, configuration, stage timings, fallbacks).
    """
    parts = [_header(ds, manifest), _headline(ds, manifest)]
    for section in (_service_by_channel_region, _shortages, _moves, _forecast_plots):
        rendered = section(ds)
        if rendered:
            parts.append(rendered)
    parts.append(_timings(manifest))
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>omnistock run</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>\n")


# -- sections -------------------------------------------------------------------------------------


def _header(ds: xr.Dataset, manifest: dict) -> str:
    inputs = manifest.get("inputs", {})
    source = inputs.get("directory") or (
        f"demo network ({inputs.get('demo', {}).get('skus', '?')} SKUs)")
    last = pd.Timestamp(ds["period"].values[-1]).date()
    status = manifest.get("status", "ok")
    flag = "" if status == "ok" else f" — <span class=\"bad\">{html.escape(status)}</span>"
    return (f"<header><h1>omnistock nightly run{flag}</h1><p>{html.escape(str(source))} · "
            f"history to {last} · horizon {ds.sizes.get('step', 0)} periods "
            f"({html.escape(ds.attrs.get('freq', ''))}) · finished "
            f"{html.escape(manifest.get('finished', ''))}</p></header><main>")


def _headline(ds: xr.Dataset, manifest: dict) -> str:
    tiles = [("SKUs", f"{ds.sizes['sku']:,}"), ("series forecast", f"{ds.sizes['series']:,}")]
    if "forecast_mean" in ds:
        tiles.append(("forecast units, horizon", f"{ds['forecast_mean'].values.sum():,.0f}"))
    stock_value = (ds["on_hand"].values * ds["unit_cost"].values[:, None]).sum()
    tiles.append(("stock on hand, value", f"{stock_value:,.0f}"))
    if "kpi_fill_rate" in ds:
        fill, target = _weighted_fill_rate(ds), _weighted_target(ds)
        tiles.append(("expected fill rate (target)",
                      "n/a (no demand)" if np.isnan(fill) else f"{fill:.1%} ({target:.1%})"))
    if "move_quantity" in ds:
        tiles.append(("units to move tonight", f"{ds['move_quantity'].values.sum():,.0f}"))
    fallbacks = sum(v.get("count", 0) for v in manifest.get("fallbacks", {}).values())
    tiles.append(("fallbacks", f"{fallbacks:,}"))
    body = "".join(f"<div class=\"tile\"><div class=\"value\">{html.escape(v)}</div>"
                   f"<div class=\"label\">{html.escape(k)}</div></div>" for k, v in tiles)
    return f"<section><h2>Tonight at a glance</h2><div class=\"tiles\">{body}</div></section>"


def _weighted_fill_rate(ds: xr.Dataset) -> float:
    """Units served over units demanded (NaN without demand)."""
    demand = ds["kpi_demand"].values.sum()
    return float(ds["kpi_served"].values.sum() / demand) if demand > 0 else float("nan")


def _weighted_target(ds: xr.Dataset) -> float:
    """The channels' service levels weighted by the simulated demand (NaN without demand)."""
    demand = ds["kpi_demand"].values
    if demand.sum() <= 0:
        return float("nan")
    channel = pd.Index(ds["channel"].values).get_indexer(ds["series_channel"].values)
    return float(np.average(ds["service_level"].values[channel], weights=demand))


def _percent(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.1%}"


def _service_by_channel_region(ds: xr.Dataset) -> str:
    if "forecast_mean" not in ds:
        return ""
    frame = pd.DataFrame({
        "channel": ds["series_channel"].values,
        "region": ds["series_region"].values,
        "forecast": ds["forecast_mean"].values.sum(axis=1),
    })
    title = "Forecast units over the horizon by channel and region"
    value = "forecast"
    if "kpi_fill_rate" in ds:
        frame["demand"] = ds["kpi_demand"].values
        frame["served"] = ds["kpi_fill_rate"].values * frame["demand"]
        title = "Expected fill rate by channel and region (simulated)"
        value = "fill_rate"
    grouped = frame.groupby(["channel", "region"])
    table = grouped["forecast"].sum().unstack("region")
    if value == "fill_rate":
        table = (grouped["served"].sum() / grouped["demand"].sum()).unstack("region")
    table = table.reindex(index=[c for c in ds["channel"].values if c in table.index],
                          columns=[r for r in ds["region"].values if r in table.columns])
    image = _heatmap(table, percent=value == "fill_rate")
    if value != "fill_rate":
        return f"<section><h2>{title}</h2>{image}</section>"
    # the promise next to the delivery, per channel
    by_channel = frame.groupby("channel")[["served", "demand"]].sum()
    level = pd.Series(ds["service_level"].values, index=ds["channel"].values)
    rows = []
    for channel in [c for c in ds["channel"].values if c in by_channel.index]:
        demand = by_channel.loc[channel, "demand"]
        fill = by_channel.loc[channel, "served"] / demand if demand > 0 else float("nan")
        gap = (fill - level[channel]) * 100 if demand > 0 else float("nan")
        rows.append([channel, f"{level[channel]:.1%}", _percent(fill),
                     "n/a" if np.isnan(gap) else f"{gap:+.1f}", f"{demand:,.0f}"])
    return (f"<section><h2>{title}</h2>{image}"
            "<h2>Service target and expected fill rate by channel</h2>"
            + _table(["channel", "target", "expected fill rate", "gap (points)", "demand"],
                     rows, numeric=(1, 2, 3, 4)) + "</section>")


def _shortages(ds: xr.Dataset) -> str:
    """The streams with the largest expected lost sales (simulated), else the locations whose
    stock is furthest below the reorder point."""
    if "kpi_lost_sales" in ds:
        price = _series_price(ds)
        short = ds["kpi_lost_sales"].values + ds["kpi_backorders"].values / max(
            ds.sizes["step"], 1)
        frame = pd.DataFrame({"sku": ds["series_sku"].values, "short": short,
                              "value": short * price, "demand": ds["kpi_demand"].values,
                              "stream": [f"{c} / {r}" for c, r in zip(
                                  ds["series_channel"].values, ds["series_region"].values,
                                  strict=True)]})
        frame = frame[frame["value"] > 0]
        if frame.empty:
            return ("<section><h2>Largest expected shortages</h2><p>No stream is expected to "
                    "run short.</p></section>")
        # one row per SKU (its streams summed), with its worst stream
        worst = frame.sort_values("value", ascending=False).groupby("sku", sort=False).head(1)
        totals = frame.groupby("sku").agg(short=("short", "sum"), value=("value", "sum"),
                                          streams=("short", "size"))
        totals = totals.sort_values("value", ascending=False).head(TOP_SHORTAGES)
        worst_stream = worst.set_index("sku")["stream"]
        demand = pd.DataFrame({"sku": ds["series_sku"].values,
                               "demand": ds["kpi_demand"].values}).groupby("sku")["demand"].sum()
        rows = [[sku, f"{demand[sku]:,.0f}",
                 _percent(1 - r["short"] / demand[sku]) if demand[sku] > 0 else "n/a",
                 f"{int(r['streams']):,}", worst_stream[sku], f"{r['short']:,.0f}",
                 f"{r['value']:,.0f}"] for sku, r in totals.iterrows()]
        return ("<section><h2>Largest expected shortages</h2>"
                "<p class=\"note\">Simulated over the horizon, per SKU over its streams: units "
                "lost (or waiting, per period) and their value at the channel price; the "
                "stream short by the most value.</p>"
                + _table(["sku", "demand", "fill rate", "streams short", "worst stream",
                          "short (units)", "short (value)"], rows, numeric=(1, 2, 3, 5, 6))
                + "</section>")
    if "target_reorder_point" not in ds:
        return ""
    position = ds["on_hand"].values + _inbound(ds)
    if "position_after_plan" in ds:
        position = ds["position_after_plan"].values
    gap = ds["target_reorder_point"].values - position
    value = np.where(gap > 0, gap * ds["list_price"].values[:, None], 0.0)
    order = np.argsort(value, axis=None)[::-1][:TOP_SHORTAGES]
    sku, location = np.unravel_index(order, value.shape)
    keep = value[sku, location] > 0
    if not keep.any():
        return ("<section><h2>Largest expected shortages</h2><p>Every location holds at least "
                "its reorder point.</p></section>")
    rows = [[ds["sku"].values[k], ds["location"].values[j], f"{position[k, j]:,.0f}",
             f"{ds['target_reorder_point'].values[k, j]:,.0f}", f"{gap[k, j]:,.0f}",
             f"{value[k, j]:,.0f}"] for k, j in zip(sku[keep], location[keep], strict=True)]
    return ("<section><h2>Largest expected shortages</h2>"
            "<p class=\"note\">Stock below the reorder point, ranked by the value of the gap at "
            "list price.</p>"
            + _table(["sku", "location", "stock", "reorder point", "gap (units)",
                      "gap (value)"], rows, numeric=(2, 3, 4, 5)) + "</section>")


def _series_price(ds: xr.Dataset) -> np.ndarray:
    sku = pd.Index(ds["sku"].values).get_indexer(ds["series_sku"].values)
    channel = pd.Index(ds["channel"].values).get_indexer(ds["series_channel"].values)
    base = ds["list_price"].values[sku] * ds["price_index"].values[channel]
    override = ds["channel_price"].values[sku, channel]
    return np.where(np.isnan(override), base, override)


def _inbound(ds: xr.Dataset) -> np.ndarray:
    inbound = np.zeros((ds.sizes["sku"], ds.sizes["location"]))
    if ds.sizes.get("shipment", 0):
        sku = pd.Index(ds["sku"].values).get_indexer(ds["shipment_sku"].values)
        location = pd.Index(ds["location"].values).get_indexer(
            ds["shipment_destination"].values)
        np.add.at(inbound, (sku, location), ds["shipment_quantity"].values)
    return inbound


def _moves(ds: xr.Dataset) -> str:
    if "move_quantity" not in ds:
        return ""
    frame = pd.DataFrame({"kind": ds["move_kind"].values, "units": ds["move_quantity"].values,
                          "lane": ds["move_lane"].values})
    summary = frame.groupby("kind").agg(moves=("units", "size"), units=("units", "sum"))
    lanes = frame.groupby("lane")["units"].sum().sort_values(ascending=False).head(10)
    rows = [[kind, f"{int(r['moves']):,}", f"{r['units']:,.0f}"]
            for kind, r in summary.iterrows()]
    if "purchase_quantity" in ds:            # tonight's orders and suggestions too
        rows.append(["purchase", f"{ds.sizes['purchase']:,}",
                     f"{ds['purchase_quantity'].values.sum():,.0f}"])
    if "slow_surplus" in ds:
        rows.append(["clearance (suggested)", f"{ds.sizes['slow_mover']:,}",
                     f"{ds['slow_surplus'].values.sum():,.0f}"])
    lane_rows = [[lane, f"{units:,.0f}"] for lane, units in lanes.items()]
    return ("<section><h2>Tonight's moves by kind</h2>"
            + _table(["kind", "moves", "units"], rows, numeric=(1, 2))
            + "<h2>Busiest lanes</h2>" + _table(["lane", "units"], lane_rows, numeric=(1,))
            + "</section>")


def _forecast_plots(ds: xr.Dataset) -> str:
    if "forecast_mean" not in ds:
        return ""
    sku_of_series = pd.Index(ds["sku"].values).get_indexer(ds["series_sku"].values)
    value = np.bincount(sku_of_series, weights=ds["forecast_mean"].values.sum(axis=1),
                        minlength=ds.sizes["sku"]) * ds["list_price"].values
    top = np.argsort(value)[::-1][:TOP_SKUS]
    quantiles = ds["quantile"].values
    low, high = int(np.argmin(quantiles)), int(np.argmax(quantiles))
    fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=False)
    history = ds["period"].values[-HISTORY_SHOWN:]
    for ax, k in zip(axes.ravel(), top, strict=False):
        mine = sku_of_series == k
        past = np.nansum(ds["sales"].values[mine][:, -HISTORY_SHOWN:], axis=0)
        mean = ds["forecast_mean"].values[mine].sum(axis=0)
        # the band of the SKU total: sum of series bands is wider than the total's band; this
        # shows the sum of the series quantiles as a conservative envelope
        band_low = ds["forecast_quantile"].values[mine, :, low].sum(axis=0)
        band_high = ds["forecast_quantile"].values[mine, :, high].sum(axis=0)
        future = ds["forecast_date"].values
        ax.plot(history, past, color="#486581", lw=1.2, label="sold")
        ax.fill_between(future, band_low, band_high, color="#f0b429", alpha=0.35,
                        label=f"q{quantiles[low] * 100:g}-q{quantiles[high] * 100:g}")
        ax.plot(future, mean, color="#cb6e17", lw=1.8, label="forecast")
        ax.set_title(f"{ds['sku'].values[k]} ({ds['category'].values[k]})", fontsize=10)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(matplotlib.dates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%b %y"))
    axes.ravel()[0].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return (f"<section><h2>Forecast of the top {len(top)} SKUs by value</h2>"
            "<p class=\"note\">All channels and regions together; the band adds up the series' "
            "quantiles, a conservative envelope.</p>" + _png(fig) + "</section>")


def _timings(manifest: dict) -> str:
    stages = manifest.get("stages", [])
    rows = [[s["name"], f"{s['seconds']:.2f}", s.get("status", "")] for s in stages]
    total = sum(s["seconds"] for s in stages)
    rows.append(["total", f"{total:.2f}", ""])
    return ("<section><h2>Run timings</h2>"
            + _table(["stage", "seconds", "status"], rows, numeric=(1,)) + "</section></main>")


# -- helpers --------------------------------------------------------------------------------------


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<img alt=\"plot\" src=\"data:image/png;base64,{data}\">"


def _heatmap(table: pd.DataFrame, *, percent: bool) -> str:
    fig, ax = plt.subplots(figsize=(1.3 * max(3, table.shape[1]) + 2, 0.45 * table.shape[0] + 1.5))
    values = table.to_numpy(dtype=float)
    cmap = "RdYlGn" if percent else "Blues"
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, aspect="auto",
                      vmin=(0.7 if percent else None), vmax=(1.0 if percent else None))
    ax.set_xticks(range(table.shape[1]), table.columns, fontsize=9)
    ax.set_yticks(range(table.shape[0]), table.index, fontsize=9)
    top = np.nanmax(values) if np.isfinite(values).any() else 1.0
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            v = values[i, j]
            if np.isfinite(v):
                dark = not percent and v > 0.6 * top
                ax.text(j, i, f"{v:.1%}" if percent else f"{v:,.0f}", ha="center",
                        va="center", fontsize=8, color="white" if dark else "black")
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    return _png(fig)


def _table(header: list[str], rows: list[list], *, numeric: tuple[int, ...] = ()) -> str:
    head = "".join(f"<th class=\"{'num' if i in numeric else ''}\">{html.escape(h)}</th>"
                   for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(
        f"<td class=\"{'num' if i in numeric else ''}\">{html.escape(str(v))}</td>"
        for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
