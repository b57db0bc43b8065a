"""Writing result tables: atomic Parquet files and directories of report tables."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from engine.inputs.tables import umask_mode


def write_parquet_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table to Parquet so that the file appears whole or not at all."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    umask_mode(temporary)
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
        umask_mode(temporary)
        try:
            table.to_csv(temporary, index=False)
            os.replace(temporary, target / f"{name}.csv")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return target
