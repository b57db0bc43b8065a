"""Shared fixtures: a tiny hand-made network, writers for broken copies of it, small demos.

``tests/`` is not a package (a dependency installs a top-level ``tests`` package); pytest runs
with ``--import-mode=importlib`` and ``tests/`` on the path for the helper module ``tinynet``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings
from tinynet import tiny_network, write_csv_tables

import engine


@pytest.fixture
def tiny_tables() -> dict[str, pd.DataFrame]:
    """A fresh copy of the tiny valid network, to break one table at a time."""
    return tiny_network()


@pytest.fixture
def write_input(tmp_path):
    """Write tables as a CSV input directory and return its path."""
    counter = iter(range(10_000))

    def write(tables: dict[str, pd.DataFrame]) -> Path:
        return write_csv_tables(tmp_path / f"input{next(counter)}", tables)

    return write


@pytest.fixture(scope="session")
def small_demo():
    """The 60-SKU weekly demo dataset (session-wide; do not modify)."""
    return engine.demo_inputs(skus=60, seed=7)


@pytest.fixture(scope="session")
def small_demo_dir(tmp_path_factory, small_demo):
    """The 60-SKU demo written as a Parquet input directory (do not modify)."""
    return engine.write_inputs(small_demo, tmp_path_factory.mktemp("demo") / "input")


# CI replays a fixed set of examples (derandomized) so a red run is reproducible; local runs
# explore new examples each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
