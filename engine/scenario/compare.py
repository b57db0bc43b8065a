"""Compare scenario runs with their baseline: KPI deltas, moves that changed, one HTML page.

Written next to the runs: ``comparison/kpi_deltas.csv`` (per scenario, by channel, by region,
by channel x region and in total: demand, fill rate, cycle service level and lost sales in the
baseline and the scenario, and the differences), ``comparison/stock_deltas.csv`` (average stock
per location), ``comparison/moves_changed.csv`` (tonight's moves whose quantity differs, by sku,
origin and destination), and ``comparison.html`` (self-contained: plots embedded as PNG).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from engine.outputs import KPI_ROLLUPS, KPIS, MANIFEST, MOVE_KINDS, PLAN
from engine.pipeline.report import _STYLE, _png, _table

KEYS = ["level", "channel", "region"]
MEASURES = ["demand", "fill_rate", "cycle_service_level", "lost_sales"]
TOP_MOVES = 20


def kpi_deltas(baseline: Path, scenario: Path) -> pd.DataFrame:
    """Roll-up KPIs of both runs side by side with their differences."""
    base = pd.read_parquet(baseline / KPIS.file)
    other = pd.read_parquet(scenario / KPIS.file)
    base = base[base["level"].isin(KPI_ROLLUPS)][KEYS + MEASURES]
    other = other[other["level"].isin(KPI_ROLLUPS)][KEYS + MEASURES]
    merged = base.merge(other, on=KEYS, how="outer", suffixes=("_baseline", "_scenario"))
    for measure in MEASURES:
        merged[f"{measure}_change"] = merged[f"{measure}_scenario"] - merged[f"{measure}_baseline"]
    return merged


def stock_deltas(baseline: Path, scenario: Path) -> pd.DataFrame:
    """Average stock on hand per location in both runs."""
    frames = []
    for label, directory in (("baseline", baseline), ("scenario", scenario)):
        kpis = pd.read_parquet(directory / KPIS.file)
        stock = kpis[kpis["level"] == "location"].groupby("location")["avg_on_hand"].sum()
        frames.append(stock.rename(f"avg_on_hand_{label}"))
    out = pd.concat(frames, axis=1).fillna(0.0)
    out["avg_on_hand_change"] = out["avg_on_hand_scenario"] - out["avg_on_hand_baseline"]
    return out.reset_index()


def moves_changed(baseline: Path, scenario: Path) -> pd.DataFrame:
    """Tonight's moves whose quantity differs between the runs."""
    keys = ["sku", "origin", "destination", "kind"]
    frames = []
    for label, directory in (("baseline", baseline), ("scenario", scenario)):
        plan = pd.read_parquet(directory / PLAN.file)
        plan = plan[plan["kind"].isin(MOVE_KINDS)]
        frames.append(plan.groupby(keys)["quantity"].sum().rename(f"quantity_{label}"))
    out = pd.concat(frames, axis=1).fillna(0.0)
    out["change"] = out["quantity_scenario"] - out["quantity_baseline"]
    out = out[out["change"] != 0].reset_index()
    return out.reindex(out["change"].abs().sort_values(ascending=False).index)


def write_comparison(results, root: Path) -> Path:
    """Write the comparison tables and page for the scenario runs ``results``."""
    folder = root / "comparison"
    folder.mkdir(parents=True, exist_ok=True)
    kpis, stock, moves, sections = [], [], [], []
    for result in results:
        deltas = kpi_deltas(result.baseline, result.directory)
        stocks = stock_deltas(result.baseline, result.directory)
        changed = moves_changed(result.baseline, result.directory)
        for frame, bucket in ((deltas, kpis), (stocks, stock), (changed, moves)):
            bucket.append(frame.assign(scenario=result.scenario.name))
        sections.append(_section(result, deltas, stocks, changed))
    for name, frames in (("kpi_deltas", kpis), ("stock_deltas", stock),
                         ("moves_changed", moves)):
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        table.to_csv(folder / f"{name}.csv", index=False)
    page = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>omnistock "
            f"scenarios</title><style>{_STYLE}</style></head><body><header><h1>Scenario "
            f"comparison</h1><p>{len(results)} scenario(s) against their baseline</p></header>"
            f"<main>{''.join(sections)}</main></body></html>\n")
    target = root / "comparison.html"
    temporary = root / ".comparison.html.tmp"
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(target)
    return target


def _section(result, deltas: pd.DataFrame, stocks: pd.DataFrame, changed: pd.DataFrame) -> str:
    scenario = result.scenario
    manifest = json.loads((result.directory / MANIFEST).read_text())
    notes = manifest.get("notes", {}).get("scenario", {}).get("notes", [])
    total = deltas[deltas["level"] == "total"].iloc[0]
    tiles = [
        ("fill rate", f"{total['fill_rate_scenario']:.1%}",
         f"{100 * total['fill_rate_change']:+.1f} pts"),
        ("lost sales", f"{total['lost_sales_scenario']:,.0f}",
         f"{total['lost_sales_change']:+,.0f}"),
        ("demand", f"{total['demand_scenario']:,.0f}", f"{total['demand_change']:+,.0f}"),
        ("stock", f"{stocks['avg_on_hand_scenario'].sum():,.0f}",
         f"{stocks['avg_on_hand_change'].sum():+,.0f}"),
        ("moves changed", f"{len(changed):,}", ""),
    ]
    tile_html = "".join(f"<div class=\"tile\"><div class=\"value\">{html.escape(v)}</div>"
                        f"<div class=\"label\">{html.escape(k)} {html.escape(d)}</div></div>"
                        for k, v, d in tiles)
    note_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    channel = deltas[deltas["level"] == "channel"].sort_values("demand_baseline",
                                                               ascending=False)
    region = deltas[deltas["level"] == "region"]
    rows = [[r["channel"], f"{r['demand_baseline']:,.0f}", f"{r['demand_scenario']:,.0f}",
             f"{r['fill_rate_baseline']:.1%}", f"{r['fill_rate_scenario']:.1%}",
             f"{100 * r['fill_rate_change']:+.1f}", f"{r['lost_sales_change']:+,.0f}"]
            for _, r in channel.iterrows()]
    region_rows = [[r["region"], f"{r['demand_baseline']:,.0f}", f"{r['demand_scenario']:,.0f}",
                    f"{r['fill_rate_baseline']:.1%}", f"{r['fill_rate_scenario']:.1%}",
                    f"{100 * r['fill_rate_change']:+.1f}", f"{r['lost_sales_change']:+,.0f}"]
                   for _, r in region.iterrows()]
    header = ["", "demand (base)", "demand (scenario)", "fill rate (base)",
              "fill rate (scenario)", "change (pts)", "lost sales change"]
    move_rows = [[r["sku"], r["origin"], r["destination"], r["kind"],
                  f"{r['quantity_baseline']:,.0f}", f"{r['quantity_scenario']:,.0f}",
                  f"{r['change']:+,.0f}"] for _, r in changed.head(TOP_MOVES).iterrows()]
    return (f"<section><h2>{html.escape(scenario.name)}</h2>"
            f"<p>{html.escape(scenario.description)}</p>"
            + (f"<ul class=\"note\">{note_html}</ul>" if note_html else "")
            + f"<div class=\"tiles\">{tile_html}</div>"
            + _channel_plot(channel)
            + "<h2>By channel</h2>" + _table(["channel", *header[1:]], rows,
                                              numeric=(1, 2, 3, 4, 5, 6))
            + "<h2>By region</h2>" + _table(["region", *header[1:]], region_rows,
                                             numeric=(1, 2, 3, 4, 5, 6))
            + f"<h2>Moves that changed (top {TOP_MOVES} of {len(changed):,})</h2>"
            + _table(["sku", "origin", "destination", "kind", "baseline", "scenario", "change"],
                     move_rows, numeric=(4, 5, 6))
            + "</section>")


def _channel_plot(channel: pd.DataFrame) -> str:
    if channel.empty:
        return ""
    fig, ax = plt.subplots(figsize=(10, 3.2))
    x = np.arange(len(channel))
    ax.bar(x - 0.2, channel["fill_rate_baseline"], 0.4, label="baseline", color="#9fb3c8")
    ax.bar(x + 0.2, channel["fill_rate_scenario"], 0.4, label="scenario", color="#cb6e17")
    ax.set_xticks(x, channel["channel"], fontsize=9)
    ax.set_ylim(max(0.0, float(np.nanmin(channel[["fill_rate_baseline",
                                                  "fill_rate_scenario"]].to_numpy())) - 0.1),
                1.0)
    ax.set_ylabel("fill rate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)
