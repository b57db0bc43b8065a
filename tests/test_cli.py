"""The command line: commands, exit codes, messages without tracebacks, nothing half-written."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys

import pandas as pd
import pytest

import engine
from engine import cli


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:  # argparse usage errors and --version
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0
    assert out.strip() == f"omnistock {engine.__version__}"


@pytest.mark.parametrize("command", ["demo", "validate", "run"])
def test_help_on_each_command(capsys, command):
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == 0
    assert f"usage: omnistock {command}" in out


def test_demo_then_validate_then_run(capsys, tmp_path):
    target = tmp_path / "demo"
    code, out, err = run_cli(capsys, "demo", str(target), "--skus", "50", "--format", "csv")
    assert code == 0, err
    assert (target / "sales.csv").exists()
    assert "generating the demo network (50 SKUs): done in" in err
    code, out, _ = run_cli(capsys, "validate", str(target))
    assert code == 0
    assert "valid (50 SKUs" in out
    code, out, _ = run_cli(capsys, "run", "--input", str(target), "--output",
                           str(tmp_path / "run"))
    assert code == 0
    for heading in ("omnistock: the network", "channels", "locations", "douyin", "dc_main",
                    "series traded"):
        assert heading in out
    # the last lines: the headline of the night and where the planner's page is
    assert re.search(r"tonight: simulated fill rate \d+\.\d% \(target \d+\.\d%\); "
                     r"[\d,]+ units moved in [\d,]+ moves; [\d,]+ units bought in", out)
    assert out.rstrip().endswith(f"report: {tmp_path / 'run' / 'report.html'}")


def test_run_on_the_demo(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "run", "--demo", "--skus", "50", "--freq", "D", "--horizon",
                           "14", "--output", str(tmp_path / "run"))
    assert code == 0
    assert "728 periods (D)" in out


def test_bad_input_exits_2_with_every_problem_and_no_traceback(capsys, write_input,
                                                              tiny_tables):
    tiny_tables["skus"].loc[0, "unit_cost"] = 0
    tiny_tables["sales"].loc[3, "units"] = -1
    code, out, err = run_cli(capsys, "validate", str(write_input(tiny_tables)))
    assert code == 2
    assert "2 problems in" in err
    assert "skus.csv row 1 (line 2), column unit_cost: expected a number > 0, found 0" in err
    assert ("sales.csv row 4 (line 5), column units: expected a number in [0, 1e+12], "
            "found -1") in err
    assert "Traceback" not in err and out == ""


def test_a_future_sales_date_stops_the_run_with_exit_2(capsys, write_input, tiny_tables,
                                                       tmp_path):
    tiny_tables["sales"].loc[3, "date"] = "2027-06-07"
    directory = str(write_input(tiny_tables))
    code, out, err = run_cli(capsys, "run", "--input", directory, "--as-of", "2026-03-01",
                             "--output", str(tmp_path / "run"))
    assert code == 2
    assert ("sales.csv row 4 (line 5), column date: expected a date on or before the as-of "
            "date 2026-03-01 (--as-of), found 2027-06-07") in err
    assert "Traceback" not in err and not (tmp_path / "run").exists()
    code, _, err = run_cli(capsys, "validate", directory, "--as-of", "2026-02-30")
    assert code == 2
    assert "argument --as-of: expected a date (YYYY-MM-DD), found '2026-02-30'" in err


def test_bad_arguments_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "demo", str(tmp_path / "x"), "--skus", "10")
    assert code == 2
    assert "expected 50 to 100,000, found 10" in err
    code, _, err = run_cli(capsys, "validate", str(tmp_path), "--freq", "hourly")
    assert code == 2
    assert "freq must be one of" in err
    code, _, err = run_cli(capsys, "run", "--demo", "--freq", "MS")
    assert code == 2
    assert "weekly (W) or daily (D)" in err
    assert not (tmp_path / "x").exists()


def test_demo_refuses_to_overwrite_without_force(capsys, tmp_path):
    target = tmp_path / "demo"
    assert run_cli(capsys, "demo", str(target), "--skus", "50")[0] == 0
    before = sorted(p.name for p in target.iterdir())
    code, _, err = run_cli(capsys, "demo", str(target), "--skus", "50", "--format", "csv")
    assert code == 2
    assert "already exists" in err
    assert sorted(p.name for p in target.iterdir()) == before
    assert run_cli(capsys, "demo", str(target), "--skus", "50", "--format", "csv",
                   "--force")[0] == 0
    assert all(p.suffix == ".csv" for p in target.iterdir())


def test_an_internal_error_exits_1(capsys, monkeypatch, tmp_path):
    def broken(ds):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "summarize", broken)
    code, _, err = run_cli(capsys, "run", "--demo", "--skus", "50", "--output",
                           str(tmp_path / "run"))
    assert code == 1
    assert "internal error" in err and "RuntimeError: a bug" in err


def test_the_console_script_exit_codes(tmp_path):
    missing = subprocess.run(["omnistock", "validate", str(tmp_path / "nowhere")],
                             capture_output=True, text=True)
    assert missing.returncode == 2
    assert "expected a directory of input tables, found no such directory" in missing.stderr
    module = subprocess.run([sys.executable, "-m", "engine.cli", "--version"],
                            capture_output=True, text=True)
    assert module.returncode == 0 and "omnistock" in module.stdout


def test_the_version_loads_nothing_heavy():
    """``omnistock --version`` took 3 s and 350 MB importing every stage (issue 17): the
    console script's front door answers it with the engine's package alone."""
    probe = ("import sys; from engine.launcher import main; code = main(['--version']); "
             "heavy = [m for m in ('statsforecast', 'numba', 'highspy', 'pulp', 'xarray', "
             "'engine.cli') if m in sys.modules]; print(code, heavy)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"omnistock {engine.__version__}", "0 []"]
    # import engine is light too; its public names load on first use
    probe = ("import sys, engine; light = 'xarray' not in sys.modules; engine.load_inputs; "
             "print(light, 'xarray' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.split() == ["True", "True"], result.stderr


@pytest.mark.parametrize("command", ["run", "backtest"])
def test_path_mistakes_exit_2_with_one_line(capsys, tmp_path, command):
    """A missing input folder, an input that is a file, an output under a file: exit 2, one
    line naming the path, no traceback, nothing written (issue 17)."""
    a_file = tmp_path / "sales.csv"
    a_file.write_text("date,sku\n")
    extra = ["--periods", "2"] if command == "backtest" else []
    cases = [
        (["--input", str(tmp_path / "missing"), "--output", str(tmp_path / "out")],
         "found no such directory"),
        (["--input", str(a_file), "--output", str(tmp_path / "out")], "found a file"),
        (["--demo", "--skus", "50", "--output", str(a_file / "run")],
         f"{a_file} is a file, not a folder"),
    ]
    for arguments, message in cases:
        code, _, err = run_cli(capsys, command, *arguments, *extra)
        assert code == 2, err
        assert message in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sales.csv"]


def test_outputs_follow_the_umask(tmp_path):
    """forecast.parquet, backtest CSVs and demo folders were written 0600 / 0700 (tempfile's
    modes): other users of a shared machine could not read them (issue 17)."""
    from engine.pipeline.write import write_parquet_atomic, write_report_tables

    old = os.umask(0o022)
    try:
        frame = pd.DataFrame({"a": [1.0]})
        file = write_parquet_atomic(frame, tmp_path / "forecast.parquet")
        folder = write_report_tables({"accuracy": frame}, tmp_path / "bt")
        demo = engine.write_inputs(engine.demo_inputs(skus=50), tmp_path / "demo")
        os.umask(0o077)
        private = write_parquet_atomic(frame, tmp_path / "private.parquet")
    finally:
        os.umask(old)
    assert stat.S_IMODE(file.stat().st_mode) == 0o644
    assert stat.S_IMODE((folder / "accuracy.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE(demo.stat().st_mode) == 0o755
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
