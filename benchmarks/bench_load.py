"""Loading and validating an input directory, against plain pandas.read_parquet of its files."""

from __future__ import annotations

import pandas as pd
from benchtools import compare

import engine


def test_load_and_validate_vs_read_parquet(benchmark, demo_dir):
    files = sorted(demo_dir.glob("*.parquet"))

    def read_parquet():
        return [pd.read_parquet(f) for f in files]

    ratio = compare(benchmark, lambda: engine.load_inputs(demo_dir), read_parquet,
                    label="read_parquet")
    assert ratio != ratio or ratio < 10, f"loading is {ratio:.1f}x plain read_parquet"
