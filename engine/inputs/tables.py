"""Read and write a directory of input tables (CSV or Parquet), as the contract defines them.

Reading only checks the shape of the directory and of each table (which files, which columns);
the values are checked by `engine.inputs.validate`. Writing is atomic: the directory appears
whole or not at all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engine.errors import Problem
from engine.inputs.contract import FILE_FORMATS, TABLES

FileFormat = Literal["csv", "parquet"]


@dataclass(frozen=True)
class RawTable:
    """A table as read from its file, before its values are checked.

    Attributes
    ----------
    name : str
        Contract name of the table.
    file : str
        File name as found in the directory.
    frame : pandas.DataFrame
        Contents; text columns are categoricals, other columns as stored in the file (CSV: text).
    line_offset : int
        File line of data row 1 minus 1 (1 for CSV with its header line, 0 for Parquet).
    complete : bool
        False when required columns are missing (reported): only its keys are checked, so
        that duplicate rows are reported in the same pass.
    """

    name: str
    file: str
    frame: pd.DataFrame
    line_offset: int
    complete: bool = True


SKU_TABLES = ("skus", "sales", "inventory", "in_transit", "supply", "prices")
"""Tables whose rows belong to one SKU (a ``sku`` column naming a SKU, not a pattern)."""


def read_directory(path: str | os.PathLike, *, skus=None) -> tuple[dict[str, RawTable],
                                                                    list[Problem]]:
    """Read every contract table found in a directory.

    Parameters
    ----------
    path : path-like
        Directory holding ``NAME.csv`` or ``NAME.parquet`` for each table.
    skus : sequence of str, optional
        Read only the rows of these SKUs from the tables of `SKU_TABLES` (a worker reading its
        partition); Parquet files are filtered while reading.

    Returns
    -------
    tables : dict of str to RawTable
        The tables that could be read, by contract name.
    problems : list of Problem
        Missing required tables, unknown files, unreadable files, missing or unknown columns.
    """
    root = Path(path)
    problems: list[Problem] = []
    if not root.is_dir():
        problems.append(Problem("input", str(root), "", "a directory of input tables",
                                "no such directory" if not root.exists() else "a file"))
        return {}, problems

    found: dict[str, list[Path]] = {}
    for entry in sorted(root.iterdir()):
        suffix = entry.suffix.lstrip(".").lower()
        if not entry.is_file() or suffix not in FILE_FORMATS or entry.name.startswith("."):
            continue
        if entry.stem not in TABLES:
            problems.append(Problem("input", entry.name, "", "a table named one of "
                                    + ", ".join(TABLES), f"unknown table {entry.stem!r}"))
            continue
        found.setdefault(entry.stem, []).append(entry)

    tables: dict[str, RawTable] = {}
    suffixes = [f.suffix.lower() for files in found.values() for f in files]
    usual = ".parquet" if suffixes.count(".parquet") > suffixes.count(".csv") else ".csv"
    for name, spec in TABLES.items():
        files = found.get(name, [])
        if not files:
            if spec.required:      # named in the format the other tables use
                problems.append(Problem(name, f"{name}{usual}", "",
                                        f"the required table {name} (.csv or .parquet)",
                                        "no file"))
            continue
        if len(files) > 1:
            problems.append(Problem(name, ", ".join(f.name for f in files), "",
                                    "one file per table", f"{len(files)} files"))
            continue
        wanted = skus if skus is not None and name in SKU_TABLES else None
        table, table_problems = _read_file(name, files[0], wanted)
        problems.extend(table_problems)
        if table is not None and skus is not None and name == "promotions" \
                and "skus" in tables and tables["skus"].complete and table.complete:
            table = _promotions_of(table, skus, tables["skus"])
        if table is not None:
            tables[name] = table
    return tables, problems


def _promotions_of(table: RawTable, skus, sku_table: RawTable) -> RawTable:
    """The promotions that can touch these SKUs: theirs, their categories', and ``*``."""
    frame = table.frame
    if "sku" not in frame.columns:
        return table
    target = frame["sku"].astype(str).str.strip()
    categories = set(sku_table.frame["category"].astype(str).str.strip()) \
        if "category" in sku_table.frame.columns else set()
    keep = target.isin(list(skus)) | (target == "*") | target.str.slice(9).isin(
        list(categories)) & target.str.startswith("category:")
    return RawTable(table.name, table.file, frame[keep.to_numpy()].reset_index(drop=True),
                    table.line_offset)


def _read_file(name: str, file: Path, skus=None) -> tuple[RawTable | None, list[Problem]]:
    spec = TABLES[name]
    text_columns = {c.name for c in spec.columns if c.type == "str"}
    try:
        if file.suffix.lower() == ".csv":
            header = pd.read_csv(file, nrows=0).columns
            dtypes = {c: ("category" if c in text_columns else str) for c in header}
            frame = pd.read_csv(file, dtype=dtypes, keep_default_na=False, na_values=[""])
            if skus is not None and "sku" in frame.columns:
                frame = frame[frame["sku"].astype(str).str.strip().isin(list(skus))]
            line_offset = 1
        else:
            schema = pq.read_schema(file)
            dictionary = [f.name for f in schema
                          if f.name in text_columns and pa.types.is_string(f.type)]
            filters = [("sku", "in", list(skus))] if skus is not None and "sku" in \
                schema.names else None
            arrow = pq.read_table(file, read_dictionary=dictionary, filters=filters)
            frame = arrow.to_pandas(date_as_object=False)
            line_offset = 0
    except Exception as exc:  # a broken file is a problem of the input, not a crash
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, [Problem(name, file.name, "", "a readable table", f"an unreadable file "
                              f"({reason})")]

    problems: list[Problem] = []
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if len(columns) == 1 and columns[0] not in spec.column_names:
        separator = next((c for c in (";", "\t", "|") if c in columns[0]), None)
        if separator is not None:          # one problem, not one per missing column
            shown = {"\t": "tabs"}.get(separator, repr(separator))
            return None, [Problem(name, file.name, "", "columns separated by commas",
                                  f"one column {columns[0]!r}: the file seems separated by "
                                  f"{shown}; save it as CSV with commas")]
    unknown = [c for c in columns if c not in spec.column_names]
    for column in unknown:
        problems.append(Problem(name, file.name, column, "a column named one of "
                                + ", ".join(spec.column_names), f"unknown column {column!r}"))
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    for column in duplicated:
        problems.append(Problem(name, file.name, column, "each column once",
                                f"{columns.count(column)} columns named {column!r}"))
    if problems:
        return None, problems
    missing = [Problem(name, file.name, column.name, "a required column", "no such column")
               for column in spec.columns if column.required and column.name not in columns]
    table = RawTable(name, file.name, frame.reset_index(drop=True), line_offset,
                     complete=not missing)
    return table, missing


# ---------------------------------------------------------------------------------------------
# writing


def write_directory(tables: dict[str, pd.DataFrame], path: str | os.PathLike, *,
                    file_format: FileFormat = "parquet", overwrite: bool = False) -> Path:
    """Write tables atomically into a directory, one file per table.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Tables in contract order and column order (as `engine.inputs.dataset.to_tables` gives them).
    path : path-like
        Target directory. It appears complete or not at all.
    file_format : {"parquet", "csv"}
        File format of every table.
    overwrite : bool
        Replace an existing directory. Without it an existing non-empty directory is an error.

    Returns
    -------
    pathlib.Path
        The directory written.
    """
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {', '.join(FILE_FORMATS)}; "
                         f"found {file_format!r}")
    target = Path(path)
    if target.exists() and not overwrite and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} already exists; choose another directory or "
                              "allow overwriting")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    umask_mode(staging)
    try:
        for name, frame in tables.items():
            file = staging / f"{name}.{file_format}"
            if file_format == "csv":
                _write_csv(frame, file)
            else:
                _write_parquet(frame, file)
        replace_directory(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def umask_mode(path: str | os.PathLike) -> None:
    """Give a file or folder made by `tempfile` (0600 / 0700) the mode the user's umask gives
    any new file or folder (usually 0644 / 0755), so that others can read the outputs."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~mask)


def replace_directory(staging: Path, target: Path) -> None:
    """Move a finished staging directory to ``target``, replacing what is there.

    The rename is atomic on one file system; an old ``target`` is moved aside first and removed
    only after the new one is in place, so a crash leaves either the old or the new directory.
    """
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        remove_path(old)


def remove_path(path: Path) -> None:
    """Remove a file or a directory tree (nothing if it is gone)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    arrays = {}
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy()
            categories = pa.array(values.cat.categories.to_numpy(dtype=object), pa.string())
            array = categories.take(pa.array(codes, mask=codes < 0))
        elif values.dtype == object:
            array = pa.array(values.to_numpy(), pa.string())
        else:
            array = pa.array(values.to_numpy())
        arrays[column] = array
    return pa.table(arrays)


def _write_parquet(frame: pd.DataFrame, file: Path) -> None:
    pq.write_table(_arrow_table(frame), file, compression="zstd")


def _write_csv(frame: pd.DataFrame, file: Path) -> None:
    """Write CSV with dates as YYYY-MM-DD, whole floats without ``.0``, booleans as true/false."""
    columns = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            columns[column] = values.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(values.dtype):
            columns[column] = _format_floats(values.to_numpy())
        elif pd.api.types.is_bool_dtype(values.dtype):
            columns[column] = np.where(values.to_numpy(), "true", "false")
        else:
            columns[column] = values
    pd.DataFrame(columns).to_csv(file, index=False, lineterminator="\n")


def _format_floats(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    whole = finite & (values == np.round(values)) & (np.abs(values) < 2**53)
    text = np.empty(values.shape, dtype=object)
    text[whole] = values[whole].astype(np.int64).astype(str)
    other = finite & ~whole
    text[other] = [repr(float(v)) for v in values[other]]
    text[np.isposinf(values)] = "inf"
    text[np.isneginf(values)] = "-inf"
    text[np.isnan(values)] = ""
    return text
