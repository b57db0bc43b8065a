"""The demo network: its size, its structure, its channel rules and the features of its history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine
from engine.demo import HISTORY_END


@pytest.fixture(scope="module")
def demo():
    return engine.demo_inputs(skus=400, seed=0)


def _weekly_units(ds, channel: str) -> pd.Series:
    units = np.nan_to_num(ds["sales"].values[ds["series_channel"].values == channel]).sum(axis=0)
    return pd.Series(units, index=pd.DatetimeIndex(ds["period"].values))


def test_sizes_and_frequencies():
    small = engine.demo_inputs(skus=50, freq="D")
    assert small.sizes["sku"] == 50
    assert small.attrs["freq"] == "D"
    assert small.sizes["period"] == 728
    assert pd.Timestamp(small["period"].values[-1]) == HISTORY_END
    for bad in (49, 100_001, 2.5):
        with pytest.raises(ValueError, match=r"skus must be a whole number from 50 to 100,000"):
            engine.demo_tables(skus=bad)
    with pytest.raises(ValueError, match=r"daily \(D\) or weekly \(W\)"):
        engine.demo_tables(freq="MS")


def test_the_network(demo):
    kinds = dict(zip(demo["channel"].values, demo["channel_kind"].values, strict=True))
    assert list(kinds) == ["tmall", "jd", "douyin", "kuaishou", "wechat_mini", "amazon_xb",
                           "store_direct", "franchise", "ka_supermarket", "distributor"]
    assert set(kinds.values()) == {"online", "offline", "distributor", "crossborder"}
    assert sorted(demo["region"].values) == sorted(["east", "south", "north", "central",
                                                    "southwest", "northwest"])
    location_kind = pd.Series(demo["location_kind"].values, index=demo["location"].values)
    assert (location_kind == "dc").sum() == 1
    rdc_regions = demo["location_region"].values[location_kind.values == "rdc"]
    assert sorted(rdc_regions) == sorted(demo["region"].values)
    owners = demo["location_channel"].values[location_kind.values == "pool"]
    assert {"tmall", "jd", "douyin", "store_direct"} <= set(owners)
    assert (demo["lead_time"].values >= 1).all()
    assert np.isfinite(demo["lane_capacity"].values).any()


def test_channel_conflict_rules(demo):
    eligible = demo["eligible"]
    locations = demo["location"].values
    kind = dict(zip(locations, demo["location_kind"].values, strict=True))

    def served_from(channel):
        rules = eligible.sel(channel=channel).values
        return {locations[i] for i in np.flatnonzero(rules.any(axis=0))}

    assert {kind[x] for x in served_from("amazon_xb")} == {"dc"}
    assert all(x.startswith("stores_") for x in served_from("store_direct"))
    regions_of = pd.DataFrame({"channel": demo["series_channel"].values,
                               "region": demo["series_region"].values}).groupby("channel")[
        "region"].unique()
    exclusive = set(regions_of["franchise"]) | set(regions_of["distributor"])
    assert exclusive and not exclusive & set(regions_of["store_direct"])
    assert not set(regions_of["franchise"]) & set(regions_of["distributor"])


def test_festivals_lift_online_sales(demo):
    tmall = _weekly_units(demo, "tmall")
    jd = _weekly_units(demo, "jd")
    baseline = tmall["2025-09-01":"2025-10-13"].mean()
    assert tmall["2025-10-20":"2025-11-03"].mean() > 2 * baseline          # Double 11
    assert jd["2025-06-02":"2025-06-09"].mean() > 2 * jd["2025-04-07":"2025-05-19"].mean()  # 618
    spring = tmall["2026-02-16"]                                             # couriers stop
    assert spring < 0.75 * tmall["2026-01-05":"2026-02-02"].mean()
    stores = _weekly_units(demo, "store_direct")
    assert stores["2025-10-20":"2025-11-03"].mean() < 1.3 * stores["2025-09-01":"2025-10-13"].mean()


def test_live_stream_channels_promote_most(demo):
    promo_share = pd.Series(demo["promo"].values.sum(axis=1)
                            / np.maximum((~np.isnan(demo["sales"].values)).sum(axis=1), 1)
                            ).groupby(demo["series_channel"].values).mean()
    assert promo_share["douyin"] > promo_share["wechat_mini"]
    assert promo_share["kuaishou"] > promo_share["store_direct"]


def test_history_has_a_long_tail_new_skus_and_a_new_channel(demo):
    sales = demo["sales"].values
    recorded = ~np.isnan(sales)
    selling = np.nan_to_num(sales) > 0
    adi = recorded.sum(axis=1) / np.maximum(selling.sum(axis=1), 1)
    assert 0.3 < (adi > 1.32).mean() < 0.9          # intermittent long tail
    first = np.argmax(recorded, axis=1)
    n = demo.sizes["period"]
    channel = demo["series_channel"].values
    assert (first[channel == "kuaishou"] >= n - 17).all()   # opened 16 weeks ago
    sku_first = pd.Series(first).groupby(demo["series_sku"].values).min()
    assert (sku_first >= n - 20).mean() > 0.03               # new SKUs
    last = n - 1 - np.argmax(selling[:, ::-1], axis=1)
    sku_last = pd.Series(last).groupby(demo["series_sku"].values).max()
    assert (sku_last < n - 8).mean() > 0.01                  # discontinued SKUs
    top = np.nan_to_num(sales).sum(axis=1).max() / n
    assert top > 50                                           # and a fast-moving head


def test_stock_transit_supply_promotions_prices(demo):
    on_hand = demo["on_hand"]
    assert on_hand.sum() > 0
    assert (on_hand.sel(location="dc_main") > 0).mean() > 0.5
    assert demo.sizes["shipment"] > 0
    lanes = set(zip(demo["lane_origin"].values, demo["lane_destination"].values, strict=True))
    assert set(zip(demo["shipment_origin"].values, demo["shipment_destination"].values,
                   strict=True)) <= lanes
    assert (demo["shipment_arrival"].values > np.datetime64(HISTORY_END)).all()
    assert set(demo["receipt_location"].values) == {"dc_main"}
    assert (demo["promotion_start"].values > np.datetime64(HISTORY_END)).all()
    assert np.isfinite(demo["channel_price"].sel(channel="amazon_xb")).any()


def test_daily_demo_has_weekday_patterns():
    ds = engine.demo_inputs(skus=80, seed=1, freq="D")
    stores = _weekly_units(ds, "store_direct")
    by_day = stores.groupby(stores.index.weekday).mean()
    assert by_day[5] > 1.2 * by_day[1]                 # Saturdays beat Tuesdays in stores
