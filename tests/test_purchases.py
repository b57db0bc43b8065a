"""Suppliers, purchase orders and networks of one stocking location (issue 15, first part)."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import engine
from engine import InputError, load_inputs
from engine.network import root_location, supply_terms
from engine.outputs import PLAN
from engine.pipeline.config import RunConfig
from engine.pipeline.nightly import InputSource, run
from engine.pipeline.runlog import RunLog
from engine.stages.forecasting import add_forecast
from engine.stages.purchases import add_purchases, echelon_positions, purchase_quantities
from engine.stages.targets import add_targets

# -- sizing, by hand ------------------------------------------------------------------------------


@pytest.mark.parametrize(("position", "reorder", "up_to", "pack", "moq", "cap", "expected"), [
    (10, 12, 40, 1, 0, np.inf, 30),      # due: up to 40
    (13, 12, 40, 1, 0, np.inf, 0),       # above the reorder point: nothing
    (12, 12, 40, 1, 0, np.inf, 28),      # at the reorder point: due
    (10, 12, 40, 6, 0, np.inf, 30),      # 30 units = 5 packs of 6
    (10, 12, 41, 6, 0, np.inf, 36),      # 31 units -> 6 packs (rounded up)
    (10, 12, 20, 6, 24, np.inf, 24),     # 10 units, MOQ 24 = 4 packs
    (10, 12, 20, 5, 24, np.inf, 25),     # MOQ 24 rounded up to 5 packs of 5
    (-8, 12, 40, 6, 0, 30, 30),          # 48 wanted (backorders), 30 per period at most
    (-8, 12, 40, 7, 0, 30, 28),          # the cap in whole packs: 4 x 7
    (10, 12, 40, 50, 0, 30, 0),          # a cap below one pack orders nothing
    (0, 0, 0, 1, 0, np.inf, 0),          # no demand: no order
])
def test_purchase_quantities_by_hand(position, reorder, up_to, pack, moq, cap, expected):
    found = purchase_quantities(np.array([position]), np.array([reorder]), np.array([up_to]),
                                pack_size=pack, moq=moq, max_units=cap)
    assert found.tolist() == [expected]


def test_purchases_are_whole_packs_and_respect_moq_and_cap():
    rng = np.random.default_rng(3)
    n = 2_000
    position = rng.integers(-50, 200, n).astype(float)
    reorder = rng.integers(0, 150, n).astype(float)
    up_to = reorder + rng.integers(0, 100, n)
    pack = rng.integers(1, 13, n).astype(float)
    moq = rng.integers(0, 60, n).astype(float)
    cap = np.where(rng.random(n) < 0.3, rng.integers(1, 120, n), np.inf)
    q = purchase_quantities(position, reorder, up_to, pack_size=pack, moq=moq, max_units=cap)
    ordered = q > 0
    assert np.all(q % pack == 0)
    assert np.all(q <= cap)
    assert np.all(position[ordered] <= reorder[ordered])
    uncapped = ordered & ~np.isfinite(cap)
    assert np.all(q[uncapped] >= np.maximum(up_to - position, moq)[uncapped])
    assert np.all(q[uncapped] < np.maximum(up_to - position, moq)[uncapped] + pack[uncapped])


# -- supply terms and echelon positions -----------------------------------------------------------


def test_the_most_specific_supplier_row_wins(write_input, tiny_tables):
    tiny_tables["suppliers"] = pd.DataFrame({
        "sku": ["*", "category:makeup", "A"], "location": ["dc", "dc", "dc"],
        "supplier": ["any", "makeup_co", "a_maker"], "lead_time": [4, 2, 6],
        "moq": [10, 0, 12], "pack_size": [1, 3, 6], "unit_cost": [None, 11.0, None]})
    ds = load_inputs(write_input(tiny_tables))
    terms = supply_terms(ds, supplier_lead_time_days=28.0, supplier_lead_time_sd_days=7.0)
    dc = list(ds["location"].values).index("dc")
    a, b = list(ds["sku"].values).index("A"), list(ds["sku"].values).index("B")
    assert terms.buys[:, dc].all() and not terms.buys[:, dc + 1:].any()
    assert terms.supplier[a, dc] == "a_maker" and terms.supplier[b, dc] == "makeup_co"
    assert terms.lead_time[a, dc] == 6 and terms.lead_time[b, dc] == 2
    assert terms.pack_size[a, dc] == 6 and terms.moq[b, dc] == 0
    assert terms.unit_cost[a, dc] == 30.0      # empty: the SKU's unit cost
    assert terms.unit_cost[b, dc] == 11.0
    # without the table: the configured lead time (28 days = 4 weeks) and the SKU's terms
    del tiny_tables["suppliers"]
    plain = supply_terms(load_inputs(write_input(tiny_tables)), supplier_lead_time_days=28.0,
                         supplier_lead_time_sd_days=7.0)
    assert plain.lead_time[a, dc] == 4.0 and plain.lead_time_sd[a, dc] == 1.0
    assert plain.pack_size[a, dc] == 6 and plain.supplier[a, dc] == "supplier"


def test_echelon_position_sums_the_network_below_the_buyer(write_input, tiny_tables):
    tiny_tables["in_transit"] = pd.DataFrame({
        "sku": ["A"], "origin": ["dc"], "destination": ["rdc_east"], "quantity": [7],
        "arrival_date": ["2026-02-23"]})
    tiny_tables["supply"] = pd.DataFrame({"sku": ["A"], "location": ["dc"],
                                          "date": ["2026-03-02"], "quantity": [50]})
    ds = load_inputs(write_input(tiny_tables))
    dc = list(ds["location"].values).index("dc")
    assert (root_location(ds) == dc).all()
    position = echelon_positions(ds)
    # A: 120 at the DC + 15 in the Tmall pool + 7 in transit + 50 due from the supplier
    assert position[0, dc] == 120 + 15 + 7 + 50
    assert position[1, dc] == 8
    assert (position[:, np.arange(ds.sizes["location"]) != dc] == 0).all()
    owed = np.zeros_like(position)
    owed[0, 1] = 5
    assert echelon_positions(ds, owed)[0, dc] == 192 - 5


def test_purchases_bring_the_echelon_position_to_its_level(small_demo):
    ds = small_demo
    config = RunConfig()
    planned, _ = add_forecast(ds, config.forecast())
    planned = add_targets(planned, config.targets())
    planned = add_purchases(planned, supplier_lead_time_days=28.0)
    position = echelon_positions(planned)
    reorder = planned["target_echelon_reorder_point"].values
    up_to = planned["target_echelon_order_up_to"].values
    sku = pd.Index(planned["sku"].values).get_indexer(planned["purchase_sku"].values)
    where = pd.Index(planned["location"].values).get_indexer(
        planned["purchase_location"].values)
    assert len(sku) > 0
    assert (position[sku, where] <= reorder[sku, where]).all()
    pack = planned["pack_size"].values[sku]
    quantity = planned["purchase_quantity"].values
    assert np.all(quantity % pack == 0)
    assert np.all(quantity >= up_to[sku, where] - position[sku, where])
    assert np.all(quantity >= planned["moq"].values[sku])
    # every due pair got its order, and nothing else
    due = (position <= reorder) & (up_to > position)
    assert due.sum() == len(sku)


# -- a network of one stocking location -----------------------------------------------------------


def _quiet() -> RunLog:
    return RunLog(io.StringIO())


def _one_warehouse(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tiny network reduced to its DC, which buys and sells in both regions' name."""
    out = dict(tables)
    out["locations"] = pd.DataFrame({"location": ["depot"], "kind": ["dc"], "region": ["east"],
                                     "channel": [""], "capacity": ["inf"],
                                     "holding_rate": [0.2]})
    del out["lanes"]
    sales = tables["sales"].assign(region="east")
    out["sales"] = sales.groupby(["date", "sku", "channel", "region"], as_index=False).agg(
        units=("units", "sum"), price=("price", "mean"), promo=("promo", "max"))
    out["fulfilment"] = pd.DataFrame({"channel": ["tmall", "stores"], "region": ["east"] * 2,
                                      "location": ["depot"] * 2})
    out["inventory"] = pd.DataFrame({"sku": ["A", "B"], "location": ["depot"] * 2,
                                     "on_hand": [0, 500]})
    out["suppliers"] = pd.DataFrame({"sku": ["*"], "location": ["depot"],
                                     "supplier": ["acme"], "lead_time": [2], "moq": [20],
                                     "pack_size": [4]})
    return out


def test_one_warehouse_without_lanes_plans_purchases(write_input, tiny_tables, tmp_path):
    directory = write_input(_one_warehouse(tiny_tables))
    ds = load_inputs(directory)
    assert ds.sizes["lane"] == 0 and ds.sizes["location"] == 1
    run(InputSource(path=directory), RunConfig(horizon=4), tmp_path / "run", log=_quiet())
    plan = pd.read_parquet(tmp_path / "run" / PLAN.file)
    purchases = plan[plan["kind"] == "purchase"]
    assert set(purchases["sku"]) == {"A"}            # A has nothing: it is due
    row = purchases.iloc[0]
    assert (row["origin"], row["destination"]) == ("acme", "depot")
    assert row["quantity"] >= 20 and row["quantity"] % 4 == 0
    assert "lead time 2" in row["reason"]
    assert not plan["kind"].isin(["deploy", "transfer", "cross_channel"]).any()


def test_a_header_only_lanes_table_is_a_network_without_lanes(write_input, tiny_tables):
    tables = _one_warehouse(tiny_tables)
    tables["lanes"] = tiny_tables["lanes"].iloc[:0]
    assert load_inputs(write_input(tables)).sizes["lane"] == 0


def test_without_lanes_every_other_location_is_unreachable(write_input, tiny_tables):
    del tiny_tables["lanes"]
    with pytest.raises(InputError) as info:
        load_inputs(write_input(tiny_tables))
    text = str(info.value)
    assert "locations.csv" in text and "a location reachable from a dc along lanes" in text
    assert "'rdc_east' with no lane path from dc" in text


def test_supplier_rows_are_validated(write_input, tiny_tables):
    tiny_tables["suppliers"] = pd.DataFrame({
        "sku": ["A", "category:toys", "Z", "*", "*"],
        "location": ["dc", "dc", "dc", "rdc_east", "nowhere"],
        "lead_time": [2, 2, 2, 2, -1]})
    with pytest.raises(InputError) as info:
        load_inputs(write_input(tiny_tables))
    text = str(info.value)
    assert re.search(r"suppliers\.csv row 2 \(line 3\), column sku: expected a sku from skus, "
                     r"category:NAME .* found 'category:toys'", text)
    assert re.search(r"suppliers\.csv row 3 \(line 4\), column sku: .* found 'Z'", text)
    assert re.search(r"suppliers\.csv row 4 \(line 5\), column location: expected a location "
                     r"that buys: a DC or a location no lane feeds from a higher tier, "
                     r"found 'rdc_east', replenished along a lane", text)
    assert re.search(r"suppliers\.csv row 5 \(line 6\), column location: expected a location "
                     r"listed in locations, found 'nowhere'", text)
    assert re.search(r"suppliers\.csv row 5 \(line 6\), column lead_time: expected a whole "
                     r"number >= 0", text)


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_supplier_terms_survive_the_round_trip(write_input, tiny_tables, tmp_path, file_format):
    tiny_tables["suppliers"] = pd.DataFrame({
        "sku": ["*", "A"], "location": ["dc", "dc"], "lead_time": [3, 5],
        "max_units_per_period": [None, 40]})
    ds = load_inputs(write_input(tiny_tables))
    assert ds.sizes["term"] == 2
    assert ds["term_max_units_per_period"].values.tolist() == [np.inf, 40.0]
    again = load_inputs(engine.write_inputs(ds, tmp_path / "again", file_format=file_format))
    xr.testing.assert_identical(again, ds)


def test_a_network_without_lanes_survives_the_round_trip(write_input, tiny_tables, tmp_path):
    ds = load_inputs(write_input(_one_warehouse(tiny_tables)))
    again = load_inputs(engine.write_inputs(ds, tmp_path / "again"))
    xr.testing.assert_identical(again, ds)
