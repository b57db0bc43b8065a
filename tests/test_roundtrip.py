"""Dataset <-> directory round trips, determinism of the demo, and atomic writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import engine
from engine.inputs import tables as tables_module


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_demo_directory_dataset_directory_is_identical(tmp_path, small_demo, file_format):
    first = engine.write_inputs(small_demo, tmp_path / "first", file_format=file_format)
    loaded = engine.load_inputs(first)
    xr.testing.assert_identical(loaded, small_demo)
    second = engine.write_inputs(loaded, tmp_path / "second", file_format=file_format)
    assert _files(first) == _files(second)
    assert set(_files(first)) == {f"{name}.{file_format}" for name in (
        "skus", "channels", "locations", "lanes", "fulfilment", "sales", "inventory",
        "in_transit", "supply", "promotions", "prices")}


def test_csv_and_parquet_hold_the_same_dataset(tmp_path, small_demo):
    csv = engine.load_inputs(engine.write_inputs(small_demo, tmp_path / "csv", file_format="csv"))
    xr.testing.assert_identical(csv, small_demo)


def test_a_planners_input_survives_the_round_trip(write_input, tiny_tables, tmp_path):
    # rows in any order, optional columns missing, explicit zero sales rows
    tiny_tables["sales"] = tiny_tables["sales"].sample(frac=1.0, random_state=3)
    tiny_tables["sales"].iloc[0, tiny_tables["sales"].columns.get_loc("units")] = 0
    tiny_tables["skus"] = tiny_tables["skus"].drop(columns=["moq"])
    original = engine.load_inputs(write_input(tiny_tables))
    again = engine.load_inputs(engine.write_inputs(original, tmp_path / "out"))
    xr.testing.assert_identical(original, again)


def test_series_history_starts_at_its_first_row(write_input, tiny_tables):
    ds = engine.load_inputs(write_input(tiny_tables))
    b = ds.sales.where(ds.series_sku == "B", drop=True).values[0]
    assert np.isnan(b[:2]).all() and (b[2:] == [2, 3, 4, 5]).all()
    # a missing row after the start is a zero
    tiny_tables["sales"] = tiny_tables["sales"].drop(index=5)
    ds = engine.load_inputs(write_input(tiny_tables))
    a_stores = ds.sales.where((ds.series_sku == "A") & (ds.series_channel == "stores"),
                              drop=True).values[0]
    assert a_stores.tolist() == [3, 3, 0, 3, 3, 3]


def test_the_same_seed_gives_identical_files(tmp_path):
    a = engine.write_inputs(engine.demo_inputs(skus=50, seed=11), tmp_path / "a")
    b = engine.write_inputs(engine.demo_inputs(skus=50, seed=11), tmp_path / "b")
    c = engine.write_inputs(engine.demo_inputs(skus=50, seed=12), tmp_path / "c")
    assert _files(a) == _files(b)
    assert _files(a)["sales.parquet"] != _files(c)["sales.parquet"]


def test_the_demo_is_identical_across_processes(tmp_path):
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"demo{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "engine.cli", "demo", str(out), "--skus", "50",
                        "--format", "csv"], check=True, env=env, capture_output=True)
        outputs.append(_files(out))
    assert outputs[0] == outputs[1]


def test_writing_into_an_existing_directory_needs_overwrite(tmp_path, small_demo):
    target = engine.write_inputs(small_demo, tmp_path / "input")
    before = _files(target)
    with pytest.raises(FileExistsError, match="already exists"):
        engine.write_inputs(small_demo, target, file_format="csv")
    assert _files(target) == before
    engine.write_inputs(small_demo, target, file_format="csv", overwrite=True)
    assert all(name.endswith(".csv") for name in _files(target))


def test_a_failed_write_leaves_nothing_behind(tmp_path, small_demo, monkeypatch):
    calls = []

    def failing(frame: pd.DataFrame, file: Path) -> None:
        calls.append(file.name)
        if len(calls) == 3:
            raise OSError("disk full")
        file.write_bytes(b"partial")

    monkeypatch.setattr(tables_module, "_write_parquet", failing)
    with pytest.raises(OSError, match="disk full"):
        engine.write_inputs(small_demo, tmp_path / "input")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_overwrite_keeps_the_old_directory(tmp_path, small_demo, monkeypatch):
    target = engine.write_inputs(small_demo, tmp_path / "input")
    before = _files(target)

    def failing(frame, file):
        raise OSError("disk full")

    monkeypatch.setattr(tables_module, "_write_parquet", failing)
    with pytest.raises(OSError):
        engine.write_inputs(small_demo, target, overwrite=True)
    assert _files(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input"]
