"""Writing result tables: atomic Parquet files and directories of report tables."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd


def write_parquet_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table to Parquet so that the file appears whole or not at all."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        frame.to_parquet(temporary, index=False)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def write_report_tables(tables: dict[str, pd.DataFrame], directory: str | os.PathLike) -> Path:
    """Write each table as ``NAME.csv`` into ``directory`` (created if needed), atomically."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=target)
        os.close(handle)
        try:
            table.to_csv(temporary, index=False)
            os.replace(temporary, target / f"{name}.csv")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return target


def write_run_tables(tables: dict[str, pd.DataFrame], directory: str | os.PathLike, *,
                     overwrite: bool = False) -> Path:
    """Write ``NAME.parquet`` for every table into a new directory, atomically.

    The tables are written into a hidden staging directory next to ``directory`` and moved in
    place with one rename, so the directory appears whole or not at all.
    """
    from engine.tables import replace_directory

    target = Path(directory)
    if target.exists() and not overwrite and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} already exists; choose another directory or allow "
                              "overwriting")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, table in tables.items():
            table.to_parquet(staging / f"{name}.parquet", index=False)
        replace_directory(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
