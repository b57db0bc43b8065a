"""Scenario files: their schema and messages, each change's direction, the runs and comparison."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import cli
from engine.inputs.yamlfile import YamlFileError
from engine.network import primary_location
from engine.scenario import adjust_forecast, apply_changes, load_scenario, run_scenarios
from engine.scenario.changes import unserved_series
from engine.stages.forecasting import ForecastConfig, add_forecast
from engine.stages.targets import add_targets

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))
HEADER = "name: test\nbase: demo\n"


def scenario(tmp_path, changes: str, header: str = HEADER):
    path = tmp_path / "scenario.yaml"
    path.write_text(header + "changes:\n" + changes)
    return load_scenario(path)


# -- the schema ----------------------------------------------------------------------------------


def test_every_example_scenario_is_valid():
    assert len(EXAMPLES) >= 8
    names = [load_scenario(path).name for path in EXAMPLES]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize(("text", "message"), [
    ("name: x\nbase: demo\nchanges: []\ncolour: blue\n",
     r"scenario.yaml line 4, key colour: unknown key; allowed keys: name, description, base, "
     r"config, changes"),
    ("name: has space\nchanges: []\n", r"line 1, key name: expected a name of letters"),
    (HEADER + "changes:\n  - discount: {channel: jd}\n",
     r"line 4, key discount: unknown kind of change; allowed: demand, promotion"),
    (HEADER + "changes:\n  - demand: {multiplier: 2, chanel: jd}\n",
     r"line 4, key demand.chanel: unknown key; allowed keys: multiplier, sku, channel"),
    (HEADER + "changes:\n  - demand: {multiplier: -2}\n",
     r"key demand.multiplier: expected a number > 0, found -2"),
    (HEADER + "changes:\n  - promotion:\n      start: 2027-13-01\n      end: 2027-06-18\n"
              "      uplift: 2\n",
     r"line 5, key promotion.start: expected a date \(YYYY-MM-DD\), found '2027-13-01'"),
    (HEADER + "changes:\n  - promotion: {start: 2027-06-18, end: 2027-06-01, uplift: 2}\n",
     r"key promotion.end: expected an end on or after the start 2027-06-18, found 2027-06-01"),
    (HEADER + "changes:\n  - promotion: {start: 2027-06-01, end: 2027-06-18, price_cut: 0.2}\n",
     r"key promotion.elasticity: price_cut needs an elasticity"),
    (HEADER + "changes:\n  - close_location: {}\n",
     r"key close_location.location: a required key is missing"),
    (HEADER + "config:\n  horizon: 0\nchanges: []\n",
     r"line 4, key horizon: expected a whole number >= 1, found 0"),
    ("name: x\nbase: {warehouse: x}\nchanges: []\n", r"key base: expected demo"),
    ("name: x\nbase: demo\nchanges:\n  - [1, 2]\n", r"key changes\[0\]: expected a mapping with "
                                                   r"one key"),
])
def test_malformed_files_name_file_line_and_key(tmp_path, text, message):
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(YamlFileError, match=message):
        load_scenario(path)


def test_unknown_names_are_reported_against_the_network(tmp_path, small_demo):
    bad = scenario(tmp_path, "  - service_level: {channel: tiktok, level: 0.9}\n"
                             "  - close_location: {location: rdc_mars}\n"
                             "  - demand: {multiplier: 2, sku: 'category:toys'}\n"
                             "  - fulfilment: {channel: jd, region: east, locations: "
                             "[tmall_pool_east]}\n")
    with pytest.raises(YamlFileError) as info:
        apply_changes(small_demo, bad)
    text = str(info.value)
    assert "line 4, key service_level.channel: a channel of the network" in text
    assert "found 'tiktok'" in text
    assert "line 5, key close_location.location: a location of the network" in text
    assert "line 6, key demand.sku: a category" in text and "found 'toys'" in text
    assert "line 7, key fulfilment.locations: a shared location or a pool of jd, found " \
           "'tmall_pool_east', a pool of 'tmall'" in text


def test_check_command_exit_codes(tmp_path, capsys):
    assert cli.main(["scenario", "check", *map(str, EXAMPLES)]) == 0
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nchanges:\n  - lane: {origin: dc_main}\n")
    assert cli.main(["scenario", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "key lane.lead_time: say what changes" in err and "Traceback" not in err


def test_unknown_names_are_found_by_check_and_before_any_run(tmp_path, capsys):
    """``scenario check`` passed a scenario naming an unknown location, and ``scenario run``
    ran the whole baseline before failing with "omnistock run:" (issue 17, point 7)."""
    path = tmp_path / "mars.yaml"
    path.write_text("name: mars\nbase:\n  demo: {skus: 50}\nchanges:\n"
                    "  - close_location: {location: rdc_mars}\n")
    assert cli.main(["scenario", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omnistock scenario check: ")
    assert "line 5, key close_location.location: a location of the network" in err
    output = tmp_path / "runs"
    assert cli.main(["scenario", "run", str(path), "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omnistock scenario run: ") and "rdc_mars" in err
    assert not (output / "baseline").exists()


# -- each change moves results in the right direction, and only where it should -----------------


@pytest.fixture(scope="module")
def forecast_base(small_demo):
    ds, _ = add_forecast(small_demo, ForecastConfig(horizon=13, middle_out=False))
    return ds


def _forecast_with(small_demo, sc):
    ds, _ = apply_changes(small_demo, sc)
    ds, _ = add_forecast(ds, ForecastConfig(horizon=13, middle_out=False))
    return adjust_forecast(ds, sc)


def test_a_promotion_lifts_the_forecast_in_its_window_only(tmp_path, small_demo,
                                                           forecast_base):
    # a window clear of festivals (a planned uplift replaces the estimated festival effect)
    sc = scenario(tmp_path, "  - promotion: {channel: douyin, start: 2026-12-14, "
                            "end: 2026-12-27, uplift: 2.5}\n")
    changed = _forecast_with(small_demo, sc)
    # a SKU with its own planned Douyin live stream that week keeps the larger uplift
    own_plan = np.isin(changed["series_sku"].values, small_demo["promotion_sku"].values)
    douyin = (changed["series_channel"].values == "douyin") & ~own_plan
    ratio = changed["forecast_mean"].values / np.maximum(forecast_base["forecast_mean"].values,
                                                         1e-12)
    dates = pd.DatetimeIndex(changed["forecast_date"].values)
    window = (dates >= "2026-12-14") & (dates <= "2026-12-21")
    selling = forecast_base["forecast_mean"].values > 0
    assert np.allclose(ratio[douyin][:, window][selling[douyin][:, window]], 2.5)
    assert np.allclose(ratio[douyin][:, ~window][selling[douyin][:, ~window]], 1.0)
    others = changed["series_channel"].values != "douyin"
    assert np.allclose(ratio[others][selling[others]], 1.0)


def test_a_demand_multiplier_scales_forecast_and_spread(tmp_path, small_demo, forecast_base):
    sc = scenario(tmp_path, "  - demand: {multiplier: 3, channel: tmall, region: east, "
                            "start: 2026-11-30, end: 2026-12-13}\n")
    changed = adjust_forecast(forecast_base, sc)
    match = (changed["series_channel"].values == "tmall") & (
        changed["series_region"].values == "east")
    dates = pd.DatetimeIndex(changed["forecast_date"].values)
    window = (dates >= "2026-11-30") & (dates < "2026-12-14")
    base = forecast_base["forecast_mean"].values
    new = changed["forecast_mean"].values
    assert np.allclose(new[match][:, window], 3 * base[match][:, window])
    assert np.allclose(new[match][:, ~window], base[match][:, ~window])
    assert np.allclose(new[~match], base[~match])
    top = changed["forecast_quantile"].values[..., -1]
    assert (top[match][:, window] >= forecast_base["forecast_quantile"].values[..., -1][
        match][:, window]).all()


def test_a_closed_warehouse_moves_its_demand_or_reports_it_unserved(tmp_path, small_demo):
    sc = scenario(tmp_path, "  - close_location: {location: rdc_southwest}\n"
                            "  - fulfilment: {channel: jd, region: southwest, "
                            "locations: [rdc_central]}\n")
    ds, notes = apply_changes(small_demo, sc)
    closed = int(np.flatnonzero(ds["location"].values == "rdc_southwest")[0])
    assert not ds["eligible"].values[:, :, closed].any()
    assert "rdc_southwest" not in set(ds["lane_destination"].values)
    where = primary_location(ds)
    assert (where != closed).all()
    jd_sw = (ds["series_channel"].values == "jd") & (ds["series_region"].values == "southwest")
    assert (ds["location"].values[where[jd_sw]] == "rdc_central").all()
    unserved = unserved_series(ds)
    assert unserved and all("|southwest" in u for u in unserved)        # e.g. the franchisees
    assert any("go unserved" in note for note in notes)
    assert all(ds["location"].values[w] != "rdc_southwest" for w in where if w >= 0)


def test_a_longer_lead_time_raises_targets_on_that_lane(tmp_path, small_demo, forecast_base):
    sc = scenario(tmp_path, "  - lane: {origin: dc_main, destination: rdc_northwest, "
                            "lead_time_add: 2}\n")
    changed, _ = apply_changes(forecast_base, sc)
    before = add_targets(forecast_base)
    after = add_targets(changed)
    at = int(np.flatnonzero(forecast_base["location"].values == "rdc_northwest")[0])
    other = int(np.flatnonzero(forecast_base["location"].values == "rdc_east")[0])
    assert (after["target_lead_time"].values[:, at]
            == before["target_lead_time"].values[:, at] + 2).all()
    assert after["target_reorder_point"].values[:, at].sum() > \
        before["target_reorder_point"].values[:, at].sum()
    assert np.array_equal(after["target_reorder_point"].values[:, other],
                          before["target_reorder_point"].values[:, other])


def test_a_higher_service_target_raises_that_channels_targets(tmp_path, forecast_base):
    sc = scenario(tmp_path, "  - service_level: {channel: store_direct, level: 0.995}\n")
    changed, _ = apply_changes(forecast_base, sc)
    before, after = add_targets(forecast_base), add_targets(changed)
    stores = np.char.startswith(forecast_base["location"].values.astype(str), "stores_")
    assert after["target_reorder_point"].values[:, stores].sum() > \
        before["target_reorder_point"].values[:, stores].sum()
    pools = forecast_base["location"].values == "tmall_pool_east"
    assert np.array_equal(after["target_reorder_point"].values[:, pools],
                          before["target_reorder_point"].values[:, pools])


def test_opening_a_channel_with_its_own_pool(tmp_path, small_demo):
    sc = scenario(tmp_path, "  - open_channel:\n      channel: amazon_us\n      like: amazon_xb\n"
                            "      share: 0.5\n      regions: [east]\n      pool: {location: "
                            "fba_us, region: east, lead_time: 5, cost_per_unit: 3}\n")
    ds, _ = apply_changes(small_demo, sc)
    assert "amazon_us" in ds["channel"].values and "fba_us" in ds["location"].values
    assert "dc_main->fba_us" in ds["lane"].values
    new = ds["series_channel"].values == "amazon_us"
    like = small_demo["series_channel"].values == "amazon_xb"
    assert new.sum() == like.sum()
    assert np.nansum(ds["sales"].values[new]) == pytest.approx(
        0.5 * np.nansum(small_demo["sales"].values[like]), rel=0.05)
    channel = int(np.flatnonzero(ds["channel"].values == "amazon_us")[0])
    east = int(np.flatnonzero(ds["region"].values == "east")[0])
    eligible = set(ds["location"].values[ds["eligible"].values[channel, east]])
    assert "fba_us" in eligible
    assert ds["on_hand"].sel(location="fba_us").sum() == 0
    keys = [pd.Index(ds[d].values).get_indexer(ds[f"series_{d}"].values)
            for d in ("sku", "channel", "region")]
    assert (np.diff(np.ravel_multi_index(keys, [ds.sizes[d] for d in ("sku", "channel",
                                                                       "region")])) > 0).all()


def test_an_exclusive_region_moves_the_other_channels_demand(tmp_path, small_demo):
    sc = scenario(tmp_path, "  - fulfilment: {channel: franchise, region: southwest, "
                            "locations: [rdc_southwest], exclusive_of: [wechat_mini]}\n")
    ds, _ = apply_changes(small_demo, sc)
    region = ds["series_region"].values == "southwest"
    assert not (region & (ds["series_channel"].values == "wechat_mini")).any()
    before = np.nansum(small_demo["sales"].values[
        (small_demo["series_region"].values == "southwest")
        & np.isin(small_demo["series_channel"].values, ["wechat_mini", "franchise"])])
    after = np.nansum(ds["sales"].values[region & (ds["series_channel"].values == "franchise")])
    assert after == pytest.approx(before)


def test_supply_delay_and_cut(tmp_path, small_demo):
    sc = scenario(tmp_path, "  - supply: {delay_periods: 2, cut: 0.5}\n")
    ds, _ = apply_changes(small_demo, sc)
    assert np.allclose(ds["receipt_quantity"].values, small_demo["receipt_quantity"].values / 2)
    shift = ds["receipt_date"].values - small_demo["receipt_date"].values
    assert (shift == np.timedelta64(14, "D")).all()


# -- runs and comparison -------------------------------------------------------------------------


@pytest.mark.slow
def test_every_example_runs_on_a_small_demo(tmp_path):
    results = run_scenarios(EXAMPLES, tmp_path / "runs", workers=2, demo_skus=50)
    assert {r.scenario.name for r in results} == {load_scenario(p).name for p in EXAMPLES}
    deltas = pd.read_csv(tmp_path / "runs" / "comparison" / "kpi_deltas.csv")
    assert set(deltas["scenario"]) == {r.scenario.name for r in results}
    assert (tmp_path / "runs" / "comparison.html").read_text().count("<section>") == len(results)
    baselines = sorted(p.name for p in (tmp_path / "runs").iterdir()
                       if p.name.startswith("baseline"))
    assert len(baselines) == 4                     # weekly 13, 30 and 52 periods, and daily
    manifest = json.loads((tmp_path / "runs" / "close-southwest-warehouse" /
                           "manifest.json").read_text())
    assert manifest["scenario"]["changes"][0]["kind"] == "close_location"


def test_scenario_results_are_deterministic_and_do_not_depend_on_workers(tmp_path):
    files = [p for p in EXAMPLES if p.stem in ("own-stores-98", "franchise-central-expansion")]
    one = run_scenarios(files, tmp_path / "one", workers=1, demo_skus=50)
    two = run_scenarios(files, tmp_path / "two", workers=2, demo_skus=50)
    for a, b in zip(one, two, strict=True):
        for name in ("forecast.parquet", "plan.parquet", "kpis.parquet"):
            assert (a.directory / name).read_bytes() == (b.directory / name).read_bytes()
    deltas = pd.read_csv(tmp_path / "one" / "comparison" / "kpi_deltas.csv")
    expansion = deltas[(deltas["scenario"] == "franchise-central-expansion")
                       & (deltas["level"] == "channel") & (deltas["channel"] == "franchise")]
    assert expansion["demand_change"].iloc[0] > 0
    stores = pd.read_csv(tmp_path / "one" / "comparison" / "stock_deltas.csv")
    more = stores[(stores["scenario"] == "own-stores-98")
                  & stores["location"].str.startswith("stores_")]["avg_on_hand_change"]
    assert more.sum() > 0


def test_scenario_run_command(tmp_path, capsys):
    files = [str(p) for p in EXAMPLES if p.stem == "own-stores-98"]
    out = tmp_path / "runs"
    assert cli.main(["scenario", "run", *files, "--output", str(out), "--workers", "1"]) in (0, 3)
    assert "scenarios against their baseline" in capsys.readouterr().out
    assert cli.main(["scenario", "run", *files, "--output", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
