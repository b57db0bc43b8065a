"""Builders shared by the network simulation tests (this module holds no tests).

``random_network`` draws a small random network and its SKUs from a seed: a forest of sources
with shuffled labels (so leaves-to-roots is not index order), one-point and spread lead-time
pmfs, tied and distinct priorities, (s,S) levels with s = -inf now and then, a starting
pipeline that runs past the horizon, supplier receipts, and streams with one to three eligible
locations. ``one_location`` is the single-location network of `engine.simulation.single`.
"""

from __future__ import annotations

import numpy as np

from engine.simulation import NetworkArrays


def random_network(seed: int, *, skus: int | None = None, locations: int | None = None,
                   periods: int = 12, fractional: bool = False) -> NetworkArrays:
    """A random network of 1-7 locations with 1-3 SKUs of 0-4 streams each."""
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, 8)) if locations is None else locations
    K = int(rng.integers(1, 4)) if skus is None else skus
    # a forest: location i > 0 is fed by an earlier one, or by the supplier now and then
    parent = np.array([-1] + [int(rng.integers(0, i)) if rng.random() < 0.85 else -1
                              for i in range(1, L)])
    labels = rng.permutation(L)  # location i of the draw is location labels[i]
    source = np.full(L, -1)
    source[labels] = np.where(parent >= 0, labels[np.maximum(parent, 0)], -1)

    width = int(rng.integers(1, 5))  # Lmax + 1
    pmf = np.zeros((L, width))
    for v in range(L):
        if rng.random() < 0.4:
            pmf[v, rng.integers(0, width)] = 1.0
        else:
            weights = rng.random(width) * (rng.random(width) < 0.7)
            if weights.sum() == 0:
                weights[-1] = 1.0
            pmf[v] = weights / weights.sum()

    scale = (lambda x: x + rng.random(x.shape).round(2)) if fractional else (lambda x: x)
    order_up_to = scale(rng.integers(0, 30, (K, L)).astype(float))
    reorder_point = order_up_to - rng.integers(1, 20, (K, L))
    reorder_point[rng.random((K, L)) < 0.1] = -np.inf
    streams_per_sku = rng.integers(0, 5, K)
    S = int(streams_per_sku.sum())
    eligible = [rng.choice(L, size=int(rng.integers(1, min(L, 3) + 1)), replace=False)
                for _ in range(S)]
    arrivals = scale(rng.integers(0, 12, (K, L, int(rng.integers(0, periods + 4))))
                     * (rng.random((K, L, 1)) < 0.5)).astype(float)
    receipts = np.zeros((K, L, int(rng.integers(1, periods + 2))))
    roots = np.flatnonzero(source < 0)
    receipts[:, roots] = scale(rng.integers(0, 30, (K, roots.size, receipts.shape[2]))
                               * (rng.random((K, roots.size, receipts.shape[2])) < 0.2))
    # drawn apart so the draws above stay those of earlier versions of this helper
    extra = np.random.default_rng(seed + 7_919)
    review_period = np.where(extra.random(L) < 0.6, 1, extra.integers(2, 4, L))
    supply_limit = np.where(extra.random((K, L)) < 0.6, np.inf,
                            scale(extra.integers(3, 20, (K, L)).astype(float)))
    return NetworkArrays(
        source=source, lead_time_pmf=pmf, review_period=review_period,
        supply_limit=supply_limit,
        location_priority=rng.integers(0, 3, L).astype(float),
        sku_key=rng.integers(0, 2**62, K),
        reorder_point=reorder_point, order_up_to=order_up_to,
        holding_cost=rng.random((K, L)).round(2),
        on_hand=scale(rng.integers(0, 25, (K, L)).astype(float)),
        arrivals=arrivals, receipts=receipts,
        order_cost=rng.integers(0, 5, (K, L)).astype(float),
        sku_stream_ptr=np.concatenate([[0], np.cumsum(streams_per_sku)]),
        stream_ptr=np.concatenate([[0], np.cumsum([len(e) for e in eligible])]).astype(int),
        stream_locations=np.concatenate([np.zeros(0, int), *eligible]).astype(int),
        backorders=rng.random(S) < 0.5, shortage_cost=rng.random(S).round(2) * 10,
        stream_priority=rng.integers(0, 3, S).astype(float))


def random_demand(arrays: NetworkArrays, seed: int, *, samples: int, periods: int,
                  fractional: bool = False) -> np.ndarray:
    """Demand draws (S, samples, periods): Poisson, or gamma when ``fractional``, with idle
    periods and spikes."""
    rng = np.random.default_rng(seed)
    means = rng.uniform(0.5, 8.0, (arrays.streams, 1, 1))
    shape = (arrays.streams, samples, periods)
    demand = rng.gamma(2.0, means / 2.0, shape) if fractional else rng.poisson(means, shape)
    demand = demand * (rng.random(shape) < 0.85)
    demand[rng.random(shape) < 0.05] += 25
    return demand.astype(float)


def one_location(*, reorder_point: float, order_up_to: float, lead_time: int,
                 holding_cost: float, shortage_cost: float, fixed_cost: float,
                 backorders: bool) -> NetworkArrays:
    """One DC fed by the supplier with a fixed lead time, one stream, one SKU."""
    pmf = np.zeros((1, lead_time + 1))
    pmf[0, lead_time] = 1.0
    return NetworkArrays(
        source=np.array([-1]), lead_time_pmf=pmf, location_priority=np.zeros(1),
        sku_key=np.array([0]), reorder_point=np.array([[reorder_point]]),
        order_up_to=np.array([[order_up_to]]), holding_cost=np.array([[holding_cost]]),
        on_hand=np.array([[max(order_up_to, 0.0)]]), arrivals=np.zeros((1, 1, 0)),
        order_cost=np.array([[fixed_cost]]), sku_stream_ptr=np.array([0, 1]),
        stream_ptr=np.array([0, 1]), stream_locations=np.array([0]),
        backorders=np.array([backorders]), shortage_cost=np.array([shortage_cost]),
        stream_priority=np.zeros(1))
