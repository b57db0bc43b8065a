"""The decision backtest of the weekly demo: 26 origins, refit every 4, three service levels.

Issue 15's figure: a 26-origin backtest of the 2,000-SKU demo with ``--refit-every 4`` within 10
minutes on this 2-core machine (``OMNISTOCK_BENCH_BACKTEST_SKUS``, default 2,000;
``OMNISTOCK_BENCH_BACKTEST_ORIGINS``, default 26; two worker processes). Printed: the seconds,
and the trade-off table (realised fill rate and average stock value per policy and service
level, the stock value the best baseline needs for omnistock's fill rate, and the ratio)::

    OMNISTOCK_BENCH_BACKTEST_SKUS=2000 python -m pytest benchmarks/bench_backtest.py -s

The same replay on real histories converted to the input contract (`realdata.network_tables`:
Walmart stores and stallion agencies as regions with a warehouse each, fed by one DC; no stock
at the start, so every policy starts at its own first-origin targets, ``start="at-target"``)::

    python -m pytest benchmarks/bench_backtest.py -s -k real

(``OMNISTOCK_BENCH_BACKTEST_ORIGINS`` also sets the origins there: 26 weeks of Walmart, 12
months of stallion by default.) CI runs it all at 100 SKUs and 3 origins so that it cannot rot.
"""

from __future__ import annotations

import os

import pytest
import realdata

import engine
from engine.backtesting import BacktestSettings, backtest, tradeoff

SKUS = int(os.environ.get("OMNISTOCK_BENCH_BACKTEST_SKUS", "2000"))
ORIGINS = int(os.environ.get("OMNISTOCK_BENCH_BACKTEST_ORIGINS", "26"))


def _replay(benchmark, ds, label: str, origins: int, start: str):
    """Back-test ``ds`` once under the benchmark and print the trade-off table."""
    settings = BacktestSettings(periods=origins, service_levels=(0.90, 0.95, 0.98),
                                refit_every=4, start=start)
    result = benchmark.pedantic(lambda: backtest(ds, settings, workers=2), rounds=1,
                                iterations=1)
    table = tradeoff(result.summary)
    print(f"\nbacktest of {label}: {ds.sizes['sku']:,} SKUs, {ds.sizes['series']:,} series, "
          f"{origins} origins, refit every 4, start {start}, 2 workers: "
          f"{result.seconds:,.0f} s")
    print(table.round(3).to_string(index=False))
    assert result.cut_units == 0
    assert table["fill_rate"].between(0, 1).all()


def test_backtest_of_the_demo(benchmark):
    _replay(benchmark, engine.demo_inputs(skus=SKUS, seed=0), "the demo", ORIGINS, "input")


@pytest.mark.parametrize(("name", "origins"), [("walmart", 26), ("stallion", 12)])
def test_backtest_of_real_histories(benchmark, tmp_path, name, origins):
    directory = realdata.write_network(name, tmp_path / name)
    if directory is None:
        pytest.skip(f"{name} is not on this machine (../shared/data)")
    _replay(benchmark, engine.load_inputs(directory), name, min(origins, ORIGINS), "at-target")
