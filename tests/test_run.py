"""The nightly run: outputs, manifest, determinism, configuration errors, crashes and resume."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import cli
from engine.inputs.yamlfile import YamlFileError
from engine.pipeline.config import ALLOWED_KEYS, RunConfig, load_config
from engine.pipeline.nightly import InputSource, run
from engine.pipeline.runlog import RunLog
from models.forecast import candidates as candidate_module

DATA_FILES = ("forecast.parquet", "targets.parquet", "plan.parquet", "allocation.parquet",
              "kpis.parquet")


def _quiet() -> RunLog:
    return RunLog(open(os.devnull, "w"))


def _data(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in DATA_FILES}


def test_a_run_writes_every_output_and_a_manifest(tmp_path):
    outcome = run(InputSource(demo_skus=60), RunConfig(horizon=6), tmp_path / "run",
                  log=_quiet())
    files = sorted(p.name for p in outcome.directory.iterdir())
    assert files == ["allocation.parquet", "forecast.parquet", "kpis.parquet", "manifest.json",
                     "network", "plan.parquet", "report.html", "targets.parquet"]
    network = sorted(p.name for p in (outcome.directory / "network").iterdir())
    assert "inventory.parquet" in network and "sales.parquet" not in network
    manifest = json.loads((outcome.directory / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert [s["name"] for s in manifest["stages"]] == ["load", "forecast", "targets", "plan",
                                                       "simulate", "outputs"]
    assert manifest["allocation"]["status"] == "optimal"
    assert {"objective", "build_seconds", "solve_seconds"} <= set(manifest["allocation"])
    assert all(s["seconds"] >= 0 for s in manifest["stages"])
    assert manifest["config"]["horizon"] == 6 and manifest["seed"] == 0
    assert manifest["inputs"] == {"demo": {"skus": 60, "seed": 0, "freq": "W-MON"}}
    assert {"omnistock", "numpy", "statsforecast", "highspy"} <= set(manifest["versions"])
    assert manifest["rows"]["forecast"] == outcome.dataset.sizes["series"] * 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]    # no staging left


def test_input_directories_are_fingerprinted(tmp_path, small_demo_dir):
    outcome = run(InputSource(path=small_demo_dir), RunConfig(horizon=4), tmp_path / "run",
                  log=_quiet())
    manifest = json.loads((outcome.directory / "manifest.json").read_text())
    assert set(manifest["inputs"]["files"]) >= {"sales.parquet", "skus.parquet"}
    assert all(len(v) == 64 for v in manifest["inputs"]["files"].values())


def test_the_same_inputs_configuration_and_seed_give_identical_data(tmp_path):
    config = RunConfig(horizon=6, seed=5)
    first = run(InputSource(demo_skus=60, demo_seed=2), config, tmp_path / "a", log=_quiet())
    second = run(InputSource(demo_skus=60, demo_seed=2), config, tmp_path / "b", log=_quiet())
    assert _data(first.directory) == _data(second.directory)


def test_an_existing_run_is_never_overwritten_without_force(tmp_path):
    target = tmp_path / "run"
    run(InputSource(demo_skus=50), RunConfig(horizon=4), target, log=_quiet())
    before = _data(target)
    with pytest.raises(FileExistsError, match="already exists"):
        run(InputSource(demo_skus=50, demo_seed=9), RunConfig(horizon=4), target,
            log=_quiet())
    assert _data(target) == before


def test_a_run_that_fails_leaves_earlier_runs_and_nothing_visible(tmp_path, monkeypatch):
    earlier = tmp_path / "earlier"
    run(InputSource(demo_skus=50), RunConfig(horizon=4), earlier, log=_quiet())
    before = _data(earlier)

    def broken(ds, config=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("engine.pipeline.nightly.add_targets", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run(InputSource(demo_skus=50), RunConfig(horizon=4), tmp_path / "tonight", log=_quiet())
    visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert visible == ["earlier"]
    assert _data(earlier) == before


def test_resume_reuses_the_finished_stages(tmp_path, monkeypatch):
    target = tmp_path / "run"
    config = RunConfig(horizon=4)

    def broken(ds, config=None):
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:
        patch.setattr("engine.pipeline.nightly.add_targets", broken)
        with pytest.raises(RuntimeError):
            run(InputSource(demo_skus=50), config, target, log=_quiet())
    calls = []
    original = candidate_module.candidates
    monkeypatch.setattr("models.forecast.core.candidates",
                        lambda *a: calls.append(a) or original(*a))
    outcome = run(InputSource(demo_skus=50), config, target, resume=True, log=_quiet())
    manifest = json.loads((outcome.directory / "manifest.json").read_text())
    status = {s["name"]: s["status"] for s in manifest["stages"]}
    assert status == {"load": "reused", "forecast": "reused", "targets": "done",
                      "plan": "done", "simulate": "done", "outputs": "done"}
    assert calls == []                                   # the forecast did not run again
    fresh = run(InputSource(demo_skus=50), config, tmp_path / "fresh", log=_quiet())
    assert _data(outcome.directory) == _data(fresh.directory)


def test_failed_runs_leave_only_a_resumable_checkpoint(tmp_path, monkeypatch, capsys):
    """Failed, refused and changed-input runs left hidden ``.NAME.partial-*`` folders behind
    (issue 17, point 5): a run that fails before any stage past loading leaves nothing; one
    that fails later keeps its checkpoint for --resume; a resume whose inputs changed says so
    and removes the stale checkpoint; ``omnistock clean`` removes what a killed run left."""
    target = tmp_path / "run"

    def hidden():
        return sorted(p.name.split("-")[0] for p in tmp_path.iterdir() if p.name.startswith("."))

    def broken(*args):
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:            # fails in loading: nothing is left
        patch.setattr(InputSource, "load", broken)
        with pytest.raises(RuntimeError):
            run(InputSource(demo_skus=50), RunConfig(horizon=4), target, log=_quiet())
    assert hidden() == []
    with monkeypatch.context() as patch:            # fails after the forecast: resumable
        patch.setattr("engine.pipeline.nightly.add_targets", broken)
        with pytest.raises(RuntimeError):
            run(InputSource(demo_skus=50), RunConfig(horizon=4), target, log=_quiet())
    assert hidden() == [".run.partial"]
    # a resume with other settings cannot reuse it: it says so and starts from scratch
    stream = io.StringIO()
    run(InputSource(demo_skus=50), RunConfig(horizon=5), target, resume=True,
        log=RunLog(stream))
    assert "the inputs or configuration changed since the interrupted run" in stream.getvalue()
    assert hidden() == []
    # what a kill -9 leaves (a staging folder, a replaced directory moved aside) is cleaned
    (tmp_path / ".run.partial-0123456789abcdef" / "checkpoints").mkdir(parents=True)
    (tmp_path / ".run.partial-0123456789abcdef" / "checkpoints" / "load.pkl").write_bytes(
        b"x" * 1000)
    (tmp_path / ".other.old-4242").write_text("old")
    assert cli.main(["clean", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 leftover(s) removed" in out and ".run.partial-0123456789abcdef" in out
    assert hidden() == [] and (target / "manifest.json").exists()
    assert cli.main(["clean", str(tmp_path)]) == 0
    assert "nothing to clean" in capsys.readouterr().out


def test_force_over_a_file_leaves_nothing_aside(tmp_path):
    target = tmp_path / "tonight"
    target.write_text("not a run")
    run(InputSource(demo_skus=50), RunConfig(horizon=4), target, overwrite=True, log=_quiet())
    assert (target / "manifest.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tonight"]


def test_forecast_failures_fall_back_and_exit_3(tmp_path, monkeypatch, capsys):
    class Broken:
        def forecast(self, y, h, **kwargs):
            raise FloatingPointError("no fit")

    failing = candidate_module.Candidate("Broken", lambda m: Broken(), lambda m: 1)
    monkeypatch.setitem(candidate_module._SMOOTH, "fast", (failing,))
    monkeypatch.setitem(candidate_module._INTERMITTENT, "fast", (failing,))
    target = tmp_path / "run"
    code = cli.main(["run", "--demo", "--skus", "50", "--horizon", "4", "--output", str(target)])
    captured = capsys.readouterr()
    assert code == 3, captured.err
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["status"] == "fallbacks"
    fallbacks = manifest["fallbacks"]["forecast_series"]
    assert fallbacks["count"] > 0 and fallbacks["count"] == len(fallbacks["items"])
    assert "fallbacks: forecast_series" in captured.out


def test_log_json_lines(tmp_path, capsys):
    code = cli.main(["run", "--demo", "--skus", "50", "--horizon", "4", "--log-json",
                     "--output", str(tmp_path / "run")])
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [e["stage"] for e in events if e["event"] == "finished"] == [
        "load", "forecast", "targets", "plan", "simulate", "outputs"]
    assert events[-1]["event"] == "done" and events[-1]["status"] == "ok"


# -- configuration ------------------------------------------------------------------------------


def test_configuration_file_and_flags(tmp_path, capsys):
    path = tmp_path / "run.yaml"
    path.write_text("horizon: 5\nquantiles: [0.05, 0.95]\nservice_levels:\n  jd: 0.97\n"
                    "seed: 3\n")
    config = load_config(path)
    assert (config.horizon, config.quantiles, config.service_levels, config.seed) == (
        5, (0.05, 0.95), {"jd": 0.97}, 3)
    assert load_config(_write(tmp_path, "empty.yaml", "")) == RunConfig()
    target = tmp_path / "run"
    assert cli.main(["run", "--demo", "--skus", "50", "--config", str(path), "--horizon", "3",
                     "--output", str(target)]) == 0
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["config"]["horizon"] == 3                      # the flag wins
    assert manifest["config"]["service_levels"] == {"jd": 0.97}


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("horizon: 13\nhorizn: 4\n", r"run.yaml line 2, key horizn: unknown key; allowed keys: "
                                 + ", ".join(ALLOWED_KEYS)),
    ("horizon: 0\n", r"line 1, key horizon: expected a whole number >= 1, found 0"),
    ("horizon: twelve\n", r"key horizon: expected a whole number >= 1, found 'twelve'"),
    ("models: best\n", r"key models: expected one of fast, accurate, found 'best'"),
    ("solver: gurobi\n", r"key solver: expected one of highs, pulp, found 'gurobi'"),
    ("quantiles: [0.1, 1.5]\n", r"key quantiles: expected a list of probabilities in \(0, 1\)"),
    ("service_levels: {jd: 1.2}\n", r"key service_levels: expected a mapping of channel"),
    ("middle_out: maybe\n", r"key middle_out: expected true or false, found 'maybe'"),
    ("freq: H\n", r"key freq: freq must be one of"),
    ("as_of: 2026-02-30\n", r"key as_of: expected a date \(YYYY-MM-DD\), found '2026-02-30'"),
    ("horizon: [1\n", r"run.yaml line \d+: not valid YAML"),
    ("- 1\n- 2\n", r"expected a mapping of settings, found list"),
])
def test_configuration_errors_name_file_line_and_key(tmp_path, text, message):
    with pytest.raises(YamlFileError, match=message):
        load_config(_write(tmp_path, "run.yaml", text))


def test_configuration_errors_exit_2(tmp_path, capsys):
    path = _write(tmp_path, "run.yaml", "horizon: 4\nsamples: -1\ncolour: blue\n")
    code = cli.main(["run", "--demo", "--skus", "50", "--config", str(path), "--output",
                     str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert "2 problems in" in err and "line 2, key samples" in err and "line 3, key colour" in err
    assert "Traceback" not in err and not (tmp_path / "run").exists()


def test_unknown_channel_in_service_levels_is_bad_input(tmp_path, capsys):
    path = _write(tmp_path, "run.yaml", "service_levels: {tiktok: 0.9}\n")
    with pytest.raises(ValueError, match="service_levels names unknown channels tiktok"):
        run(InputSource(demo_skus=50), load_config(path), tmp_path / "run", log=_quiet())


# -- killed at random moments ---------------------------------------------------------------------


@pytest.mark.slow
def test_killed_at_random_moments_then_resumed(tmp_path):
    """kill -9 at random points: earlier runs stay intact, no half run is visible, and
    --resume finishes with the same data as an uninterrupted run."""
    command = [sys.executable, "-m", "engine.cli", "run", "--demo", "--skus", "150",
               "--horizon", "6"]
    reference = tmp_path / "reference"
    subprocess.run([*command, "--output", str(reference)], check=True, capture_output=True)
    expected = _data(reference)
    rng = random.Random(7)
    for attempt in range(3):
        target = tmp_path / f"night{attempt}"
        process = subprocess.Popen([*command, "--output", str(target)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 5.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert _data(reference) == expected
        visible = {p.name for p in tmp_path.iterdir() if not p.name.startswith(".")}
        assert visible <= {"reference", *(f"night{i}" for i in range(attempt + 1))}
        if target.exists():                       # it finished before the kill
            assert (target / "manifest.json").exists()
        subprocess.run([*command, "--output", str(target), "--resume", "--force"],
                       check=True, capture_output=True)
        assert _data(target) == expected


def test_a_stage_of_one_partition_shows_progress_on_a_terminal():
    """Bars appeared only for stages of several partitions: a 2,000-SKU run (one partition)
    was silent for its 27 s of forecasting (issue 17). One item gets a pulsing bar with the
    elapsed time; without a terminal, nothing but the stage lines."""
    stream = io.StringIO()
    with RunLog(stream, bars=True).progress("forecast", 1, "partitions") as advance:
        advance(1)
    assert "forecast: partitions" in stream.getvalue()
    quiet = io.StringIO()
    with RunLog(quiet).progress("forecast", 1, "partitions") as advance:
        advance(1)
    assert quiet.getvalue() == ""


def test_long_stages_report_progress(tmp_path):
    import io

    stream = io.StringIO()
    run(InputSource(demo_skus=60), RunConfig(horizon=4, partition_skus=10), tmp_path / "run",
        log=RunLog(stream, json_lines=True))
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    progress = [e for e in events if e["event"] == "progress"]
    assert {e["stage"] for e in progress} >= {"forecast", "simulate"}
    assert all(e["total"] == 6 and 0 < e["done"] < 6 for e in progress)
