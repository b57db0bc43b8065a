"""Property: any perturbation of valid tables either loads or raises InputError, nothing else."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tinynet import tiny_network, write_csv_tables

import engine
from engine.inputs.dataset import to_tables

CELL_VALUES = st.one_of(
    st.text(max_size=8),
    st.integers(-5, 10_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "inf", "-inf", "nan", "NaN", "true", "no", "2026-01-05",
                     "2026-01-12", "2026-02-30", "2026-01-06", "category:skincare", "*", "dc",
                     "dc_main", "tmall", "east", "A", "SKU000001", "pool", "rdc", "1e308",
                     "0", "-0", "1.5", "\"", "a,b", "x\ny"]),
)


@st.composite
def perturbations(draw, tables: dict[str, pd.DataFrame]):
    """One to three edits: set a cell, drop / duplicate a row, drop / add / rename a column."""
    tables = {name: frame.astype(object).copy() for name, frame in tables.items()}
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(tables)))
        frame = tables[name]
        edit = draw(st.sampled_from(["cell", "cell", "cell", "drop_row", "duplicate_row",
                                     "drop_column", "add_column", "rename_column",
                                     "drop_table"]))
        if edit == "drop_table":
            del tables[name]
            continue
        columns = list(frame.columns)
        if edit in ("cell", "drop_row", "duplicate_row") and len(frame) == 0:
            continue
        if edit == "cell" and columns:
            row = draw(st.integers(0, len(frame) - 1))
            frame.iloc[row, columns.index(draw(st.sampled_from(columns)))] = draw(CELL_VALUES)
        elif edit == "drop_row":
            tables[name] = frame.drop(index=frame.index[draw(st.integers(0, len(frame) - 1))])
        elif edit == "duplicate_row":
            row = draw(st.integers(0, len(frame) - 1))
            tables[name] = pd.concat([frame, frame.iloc[[row]]], ignore_index=True)
        elif edit == "drop_column" and columns:
            tables[name] = frame.drop(columns=draw(st.sampled_from(columns)))
        elif edit == "add_column":
            frame[draw(st.sampled_from(["extra", "units", "sku", "Unit_Cost"]))] = draw(
                CELL_VALUES)
        elif edit == "rename_column" and columns:
            old = draw(st.sampled_from(columns))
            tables[name] = frame.rename(columns={old: draw(st.sampled_from(
                ["date", "sku", "qty", "region", "location", old.upper()]))})
    return tables


def _loads_or_input_error(tables: dict[str, pd.DataFrame]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv_tables(Path(tmp) / "input", tables)
        try:
            ds = engine.load_inputs(path)
        except engine.InputError as error:
            assert error.problems
            assert all(p.expected and p.found for p in error.problems)
            return
        assert ds.sizes["series"] > 0


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perturbations(tiny_network()))
def test_perturbed_tiny_network_loads_or_raises_input_error(tables):
    _loads_or_input_error(tables)


_DEMO_TABLES = to_tables(engine.demo_inputs(skus=50, seed=5))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perturbations(_DEMO_TABLES))
def test_perturbed_demo_loads_or_raises_input_error(tables):
    _loads_or_input_error(tables)
