"""Golden runs: the data files of two small demo runs are the ones recorded in ``tests/golden/``.

A refactoring must not change what the night writes. Each case runs `engine.run` on a 60-SKU
demo (weekly and daily, default configuration) and compares a checksum of every Parquet file of
the run directory (``network/`` included) with ``tests/golden/demo_runs.json``: the file's
columns with their dtypes in file order, its row count, and a SHA-256 of its content in a
canonical form (columns sorted by name, ``pandas.util.hash_pandas_object`` of the rows, in row
order). ``manifest.json`` and ``report.html`` hold timings and are not compared.

When outputs change on purpose (a better forecast, a new column), regenerate the record with
one command from the repository root and commit it with the change::

    python tests/test_golden_run.py

(the same runs, about ten seconds; it prints which files changed).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import engine

RECORD = Path(__file__).parent / "golden" / "demo_runs.json"
CASES = {
    "weekly-60": {"demo_skus": 60, "demo_freq": "W-MON"},
    "daily-60": {"demo_skus": 60, "demo_freq": "D"},
}
"""Golden runs: name -> `engine.InputSource` settings (default `engine.RunConfig`)."""


def checksum(path: Path) -> dict:
    """Columns (``name:dtype`` in file order), rows and content hash of one Parquet file."""
    frame = pd.read_parquet(path)
    canonical = frame[sorted(frame.columns)]
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(canonical, index=False).to_numpy().tobytes())
    return {"columns": ", ".join(f"{name}:{dtype}" for name, dtype in frame.dtypes.items()),
            "rows": len(frame), "sha256": digest.hexdigest()}


def run_checksums(case: str, directory: Path) -> dict[str, dict]:
    """Run golden case ``case`` into ``directory`` and checksum its Parquet files."""
    output = directory / case
    engine.run(engine.InputSource(**CASES[case]), engine.RunConfig(), output)
    return {path.relative_to(output).as_posix(): checksum(path)
            for path in sorted(output.rglob("*.parquet"))}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_demo_run_writes_the_golden_data_files(case, tmp_path):
    recorded = json.loads(RECORD.read_text())[case]
    found = run_checksums(case, tmp_path)
    assert sorted(found) == sorted(recorded), "the run writes other files than recorded"
    changed = [name for name in recorded if found[name] != recorded[name]]
    assert not changed, (f"{case}: data files differ from {RECORD.name}: {', '.join(changed)} "
                         f"(on purpose? regenerate: python tests/test_golden_run.py)")


def main() -> None:
    """Rerun every case and rewrite the record, printing the files that changed."""
    old = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    with tempfile.TemporaryDirectory() as scratch:
        new = {case: run_checksums(case, Path(scratch)) for case in sorted(CASES)}
    for case, files in new.items():
        changed = [name for name, value in files.items()
                   if old.get(case, {}).get(name) != value]
        print(f"{case}: {', '.join(changed) if changed else 'unchanged'}", file=sys.stderr)
    RECORD.parent.mkdir(exist_ok=True)
    RECORD.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
