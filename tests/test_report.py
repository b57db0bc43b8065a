"""report.html: self-contained, every section present, and readable in a real browser."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import pytest

from engine.pipeline.config import RunConfig
from engine.pipeline.nightly import InputSource, run
from engine.pipeline.runlog import RunLog


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    import os

    target = tmp_path_factory.mktemp("report") / "run"
    return run(InputSource(demo_skus=80), RunConfig(horizon=8), target,
               log=RunLog(open(os.devnull, "w")))


def test_the_report_is_self_contained_with_every_section(report_run):
    page = (report_run.directory / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    for heading in ("Tonight at a glance", "by channel and region", "Largest expected shortages",
                    "Forecast of the top", "Run timings"):
        assert heading in page
    # nothing is fetched from elsewhere: every image is an embedded PNG
    assert not re.search(r"(src|href)=\"(https?:|//|file:)", page)
    images = re.findall(r"src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"", page)
    assert len(images) >= 2
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    for heading in ("Expected fill rate by channel and region", "Tonight's moves by kind"):
        assert heading in page
    for stage in ("load", "forecast", "targets", "plan", "simulate", "outputs"):
        assert f"<td class=\"\">{stage}</td>" in page


def test_targets_sit_next_to_achieved_and_each_sku_is_one_shortage_row(report_run):
    """What a planner noticed (issue 17): no targets beside the fill rates, the same SKU 15
    times among the largest shortages, clearance and purchases missing from the moves."""
    page = (report_run.directory / "report.html").read_text()
    ds = report_run.dataset
    section = page.split("Service target and expected fill rate by channel")[1].split(
        "</table>")[0]
    for channel, level in zip(ds["channel"].values, ds["service_level"].values, strict=True):
        assert re.search(rf"<td[^>]*>{channel}</td><td[^>]*>{level:.1%}</td>", section)
    shortages = page.split("Largest expected shortages")[1].split("</table>")[0]
    skus = re.findall(r"<tr><td[^>]*>(SKU\d+)</td>", shortages)
    assert skus and len(skus) == len(set(skus))
    moves = page.split("Tonight's moves by kind")[1].split("</table>")[0]
    assert ">purchase<" in moves
    assert "expected fill rate (target)" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_the_report_renders_in_headless_chromium(report_run, tmp_path):
    screenshot = tmp_path / "report.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400",
         f"--screenshot={screenshot}", (report_run.directory / "report.html").as_uri()],
        check=True, capture_output=True, timeout=120)
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
