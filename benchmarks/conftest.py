"""Benchmark fixtures: demo inputs cached on disk.

Sizes come from ``OMNISTOCK_BENCH_SKUS`` (default 100,000 SKUs, the issue's figure); CI runs the
suite once at a small size with ``--benchmark-disable`` so the benchmarks cannot rot.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import engine

CACHE = Path(__file__).resolve().parents[1] / ".benchmarks" / "data"


@pytest.fixture(scope="session")
def bench_skus() -> int:
    return int(os.environ.get("OMNISTOCK_BENCH_SKUS", "100000"))


@pytest.fixture(scope="session")
def demo_dir(bench_skus) -> Path:
    """The weekly demo of ``bench_skus`` SKUs as Parquet, generated once and kept in .benchmarks."""
    path = CACHE / f"demo-{bench_skus}-seed0-v{engine.__version__}"
    if not path.exists():
        engine.write_inputs(engine.demo_inputs(skus=bench_skus, seed=0), path)
    return path
