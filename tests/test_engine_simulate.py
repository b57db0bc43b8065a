"""The simulate stage: the planning dataset packed for the network simulator, and kpis.parquet."""

from __future__ import annotations

import numpy as np
import pytest

from engine.network import primary_location
from engine.stages.forecasting import ForecastConfig, add_forecast
from engine.stages.plan import PlanConfig, add_plan
from engine.stages.simulate import (
    SimulationConfig,
    add_simulation,
    kpi_table,
    lead_time_pmf,
    network_arrays,
    preference_lists,
    sku_keys,
)
from engine.stages.targets import add_targets


@pytest.fixture(scope="module")
def planned(small_demo):
    ds, _ = add_forecast(small_demo, ForecastConfig(horizon=8, middle_out=False))
    ds = add_targets(ds)
    ds, _ = add_plan(ds, PlanConfig())
    return ds


@pytest.fixture(scope="module")
def simulated(planned):
    return add_simulation(planned, SimulationConfig(samples=60, seed=4))


def test_lead_time_pmf_is_a_rounded_normal():
    pmf = lead_time_pmf(np.array([2.0, 1.0, 4.0]), np.array([0.0, 0.5, 1.0]))
    assert np.allclose(pmf.sum(axis=1), 1)
    assert pmf[0, 2] == 1.0                                  # a fixed lead time
    means = (pmf * np.arange(pmf.shape[1])).sum(axis=1)
    assert means[1] == pytest.approx(1.0, abs=0.05) and means[2] == pytest.approx(4.0, abs=0.05)


def test_preference_lists_start_with_the_primary_location(planned):
    ds = planned
    from engine.network import series_index

    _, channel, region = series_index(ds)
    locations, ptr = preference_lists(ds, channel, region)
    first = locations[ptr[:-1]]
    assert (first == primary_location(ds)).all()
    eligible = ds["eligible"].values[channel, region]
    assert (np.diff(ptr) == eligible.sum(axis=1)).all()


def test_the_network_arrays_carry_tonights_plan(planned):
    arrays = network_arrays(planned, SimulationConfig())
    moved_out = planned["on_hand"].values.sum() - arrays.on_hand.sum()
    assert moved_out == pytest.approx(planned["move_quantity"].values.sum())
    assert arrays.arrivals.sum() >= planned["move_quantity"].values.sum()
    dc = planned["location_kind"].values == "dc"
    assert (arrays.source[dc] == -1).all() and (arrays.source[~dc] >= 0).all()
    keys = sku_keys(planned["sku"].values)
    assert len(set(keys)) == len(keys) and (keys >= 0).all()
    assert (sku_keys(planned["sku"].values[:5]) == keys[:5]).all()       # stable per SKU id


def test_kpis_are_consistent(simulated):
    ds = simulated
    fill = ds["kpi_fill_rate"].values
    ok = ~np.isnan(fill)
    assert ((fill[ok] >= 0) & (fill[ok] <= 1)).all()
    assert (ds["kpi_fill_rate_q10"].values[ok] <= ds["kpi_fill_rate_q90"].values[ok] + 1e-12).all()
    assert (ds["kpi_served"].values <= ds["kpi_demand"].values + 1e-9).all()
    table = kpi_table(ds)
    assert set(table["level"]) == {"stream", "location", "channel", "region", "channel_region",
                                   "total"}
    total = table[table["level"] == "total"].iloc[0]
    streams = table[table["level"] == "stream"]
    assert total["demand"] == pytest.approx(streams["demand"].sum())
    assert total["lost_sales"] == pytest.approx(streams["lost_sales"].sum())
    assert 0 < total["fill_rate"] <= 1 and total["turns"] > 0
    by_channel = table[table["level"] == "channel"]
    assert by_channel["demand"].sum() == pytest.approx(total["demand"])
    for column in ("fill_rate", "cycle_service_level", "lost_sales", "avg_on_hand",
                   "holding_cost", "shortage_cost", "turns", "fill_rate_q10", "fill_rate_q90",
                   "orders"):
        assert column in table.columns


def test_the_simulation_is_repeatable_and_seeded(planned, simulated):
    again = add_simulation(planned, SimulationConfig(samples=60, seed=4))
    assert np.array_equal(again["kpi_samples_served"].values,
                          simulated["kpi_samples_served"].values)
    other = add_simulation(planned, SimulationConfig(samples=60, seed=5))
    assert not np.array_equal(other["kpi_samples_served"].values,
                              simulated["kpi_samples_served"].values)


def test_starting_at_the_targets_meets_the_service_levels(planned):
    # the targets alone: no moves, and no allocation of a plan made for other stock
    ds = planned.drop_vars([v for v in planned.data_vars
                            if v.startswith(("move_", "allocation_"))])
    ds["on_hand"] = ds["target_order_up_to"].copy()
    simulated = add_simulation(ds, SimulationConfig(samples=100, seed=1))
    served = simulated["kpi_served"].values.sum()
    demand = simulated["kpi_demand"].values.sum()
    assert served / demand > 0.93


def test_more_stock_never_serves_less(planned):
    base = add_simulation(planned, SimulationConfig(samples=40, seed=2))
    rich = planned.copy()
    rich["on_hand"] = planned["on_hand"] * 3
    more = add_simulation(rich, SimulationConfig(samples=40, seed=2))
    assert more["kpi_served"].values.sum() >= base["kpi_served"].values.sum()
    assert more["kpi_avg_on_hand"].values.sum() > base["kpi_avg_on_hand"].values.sum()


def test_supply_after_the_horizon_is_not_simulated(planned):
    # a receipt dated after the last forecast period ends lands in the slot past the horizon,
    # not in the last simulated period; one dated inside the horizon lands in its period
    import pandas as pd

    from engine.stages.simulate import _period

    starts = pd.DatetimeIndex(planned["forecast_date"].values)
    horizon = len(starts)
    dates = np.array([starts[0] - pd.Timedelta(days=30), starts[2] + pd.Timedelta(days=1),
                      starts[-1], starts[-1] + pd.Timedelta(days=6),
                      starts[-1] + pd.Timedelta(days=7), starts[-1] + pd.Timedelta(days=70)],
                     dtype="datetime64[ns]")
    assert _period(planned, dates, horizon).tolist() == [0, 2, horizon - 1, horizon - 1,
                                                         horizon, horizon]


def test_reviews_supply_limits_and_purchases_follow_the_plan(planned):
    from engine.network import supply_terms
    from engine.stages.simulate import review_periods

    arrays = network_arrays(planned, SimulationConfig())
    # every location reviews on the period its targets were sized for (>= 1; DCs every period)
    expected = np.maximum(np.round(planned["target_review_period"].values), 1)
    np.testing.assert_array_equal(arrays.review_period, expected)
    np.testing.assert_array_equal(review_periods(planned.drop_vars("target_review_period")),
                                  np.ones(planned.sizes["location"]))
    kind = planned["location_kind"].values
    assert (arrays.review_period[kind == "dc"] == 1).all()
    # the supplier ships at most its units per period, to buying locations only
    terms = supply_terms(planned)
    np.testing.assert_array_equal(arrays.supply_limit,
                                  np.where(terms.buys, terms.max_units, np.inf))
    # tonight's purchase orders are receipts at the buyer after their lead time
    assert planned.sizes.get("purchase", 0) > 0
    without = network_arrays(planned.drop_dims("purchase"), SimulationConfig())
    added = arrays.receipts.sum() - without.receipts.sum()
    assert added == pytest.approx(planned["purchase_quantity"].values.sum())
    sku = 0
    while planned["sku"].values[sku] not in set(planned["purchase_sku"].values):
        sku += 1
    row = int(np.flatnonzero(planned["purchase_sku"].values == planned["sku"].values[sku])[0])
    buyer = int(np.flatnonzero(planned["location"].values
                               == planned["purchase_location"].values[row])[0])
    due = int(round(float(planned["purchase_lead_time"].values[row])))
    due = min(due, arrays.receipts.shape[2] - 1)
    assert arrays.receipts[sku, buyer, due] - without.receipts[sku, buyer, due] >= \
        planned["purchase_quantity"].values[row] - 1e-9


def test_streams_draw_first_where_the_plan_put_their_stock(planned):
    from engine.network import series_index
    from engine.stages.simulate import allocated_units

    _, channel, region = series_index(planned)
    allocated = allocated_units(planned)
    assert allocated is not None and allocated.sum() == pytest.approx(
        planned["allocation_units"].values.sum())
    locations, ptr = preference_lists(planned, channel, region, allocated)
    plain, plain_ptr = preference_lists(planned, channel, region)
    np.testing.assert_array_equal(ptr, plain_ptr)            # the same eligible locations
    moved = 0
    for s in range(len(channel)):
        mine, rule = locations[ptr[s]:ptr[s + 1]], plain[plain_ptr[s]:plain_ptr[s + 1]]
        assert sorted(mine) == sorted(rule)
        held = allocated[s, mine]
        count = int((held > 0).sum())
        # the allocated locations lead, largest first; the rest keep the rule's order
        assert (held[:count] > 0).all() and (np.diff(held[:count]) <= 0).all()
        assert list(mine[count:]) == [v for v in rule if allocated[s, v] <= 0]
        moved += int(list(mine) != list(rule))
    assert moved > 0                     # the plan does put some streams' stock elsewhere


def test_the_simulated_demand_has_the_calibrated_variance_over_the_protection_interval(planned):
    """`demand_parameters`: over each series' protection interval the simulated demand has the
    variance the targets were set on (``protection_variance``), narrower or wider than the
    forecast's independent periods (Poisson series can only be wider: counts stay at least
    Poisson)."""
    from engine.stages.simulate import demand_parameters
    from models.distributions import Family
    from models.forecast.protection import interval_weights

    mean, variance, family, level = demand_parameters(planned)
    length = planned["protection_lead_time"].values + planned["protection_review_period"].values
    assert length.max() <= mean.shape[1]
    w = interval_weights(length, mean.shape[1])
    negbin = family == Family.NEGATIVE_BINOMIAL
    poisson = family == Family.POISSON
    excess = np.where(negbin[:, None], variance - mean, np.where(poisson[:, None], 0.0, variance))
    M, V, Q = ((x * w).sum(axis=1) for x in (mean, np.where(poisson[:, None], mean, variance),
                                             excess))
    simulated = V + level * (Q + M**2)
    target = planned["protection_variance"].values
    raw = (np.where(poisson[:, None], mean, planned["forecast_variance"].values) * w).sum(axis=1)
    active = (M > 0) & (raw > 0)
    assert (level > 0).any() and (active & (target < raw)).any()     # both cases occur
    floor = negbin & (variance <= mean * (1 + 1e-5) + 1e-8).any(axis=1)  # at the Poisson floor
    check = active & ~floor & ~(poisson & (target < M))
    np.testing.assert_allclose(simulated[check], target[check], rtol=1e-6)
    assert (level[~active] == 0).all()
