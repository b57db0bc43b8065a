"""The backtest's page: the trade-off chart, the calibration table and the biggest misses."""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from engine.pipeline.report import _STYLE, _png, _table

MISSES_SHOWN = 15


def render_backtest(result, manifest: dict) -> str:
    """The page as HTML text (`engine.backtesting.run.write_backtest`)."""
    from engine.backtesting.run import tradeoff

    summary = result.summary
    curve = tradeoff(summary)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for policy, rows in curve.groupby("policy", sort=False):
        rows = rows.sort_values("service_level")
        ax.plot(rows["stock_value"], rows["fill_rate"], marker="o", label=policy)
        for _, r in rows.iterrows():
            ax.annotate(f"{r['service_level']:g}", (r["stock_value"], r["fill_rate"]),
                        fontsize=7, xytext=(3, -8), textcoords="offset points")
    ax.set_xlabel("average stock value (unit cost)")
    ax.set_ylabel("realised fill rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    trade = _table(["policy", "asked", "realised fill rate", "stock value",
                    "best baseline's value at that fill rate", "ratio"],
                   [[r.policy, f"{r.service_level:g}", f"{r.fill_rate:.1%}",
                     f"{r.stock_value:,.0f}", f"{r.best_baseline_value:,.0f}",
                     f"{r.ratio:.2f}"] for r in curve.itertuples()], numeric=(1, 2, 3, 4, 5))
    channels = summary[summary["channel"] != "*"].groupby(
        ["policy", "service_level", "channel"], sort=False)[["demand", "served_at_once"]].sum()
    channels["fill_rate"] = channels["served_at_once"] / channels["demand"]
    calibration = _table(["policy", "asked", "channel", "realised fill rate"],
                         [[p, f"{lv:g}", c, f"{v:.1%}"] for (p, lv, c), v in
                          channels["fill_rate"].items()], numeric=(1, 3))
    streams = result.streams
    misses = (streams.assign(short=streams["lost"] + streams["backordered"])
              .groupby(["policy", "service_level", "sku", "channel", "region"], sort=False)
              [["demand", "short"]].sum().sort_values("short", ascending=False)
              .head(MISSES_SHOWN).reset_index())
    worst = _table(["policy", "asked", "sku", "channel", "region", "demand", "lost or owed"],
                   [[r.policy, f"{r.service_level:g}", r.sku, r.channel, r.region,
                     f"{r.demand:,.0f}", f"{r.short:,.0f}"] for r in misses.itertuples()],
                   numeric=(5, 6))
    settings = manifest["settings"]
    head = (f"<header><h1>omnistock backtest</h1><p>{html.escape(str(manifest['input']))}: "
            f"{settings['periods']} origins, refit every {settings['refit_every']}, start "
            f"{html.escape(settings['start'])}; {manifest['seconds']:,.0f} s</p></header>")
    body = (f"{head}<main><section><h2>Fill rate against stock</h2>{_png(fig)}{trade}"
            "<p class=\"note\">Realised fill rate: units served from stock in the period they "
            "were sold / units sold, over all streams and origins. Stock value: mean end-of-"
            "period on hand at unit cost. Best baseline: the least value textbook or empirical "
            "needs for omnistock's realised fill rate, along its curve.</p></section>"
            f"<section><h2>Asked and realised, per channel</h2>{calibration}</section>"
            f"<section><h2>Largest misses</h2>{worst}</section></main>")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>omnistock backtest</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>\n")
