"""The demo catalogue: SKUs with costs, prices, sizes, popularity, listings and life cycles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.demo.network import (
    CATEGORIES,
    CATEGORY_SHARE,
    CHANNELS,
    NEW_CHANNEL,
    REGION_SHARE,
    REGIONS,
)


@dataclass(frozen=True)
class Catalogue:
    """Per-SKU attributes of the demo (arrays over SKUs).

    Attributes
    ----------
    sku : numpy.ndarray of str
    category : numpy.ndarray of int
        Index into `engine.demo.network.CATEGORIES`.
    unit_cost, list_price, unit_volume : numpy.ndarray of float
        Currency per unit; m3 per unit.
    pack_size, moq : numpy.ndarray of int
    base_demand : numpy.ndarray of float
        Mean units per week over all channels and regions, before calendar effects.
    growth : numpy.ndarray of float
        Yearly growth rate (log scale).
    launch_day, end_day : numpy.ndarray of int
        First and last selling day, counted from the first history day (end beyond the
        history: still selling).
    listed : numpy.ndarray of bool, shape (sku, channel)
        Channels that sell the SKU.
    in_region : numpy.ndarray of bool, shape (sku, region)
        Regions where the SKU has customers.
    live_rate : numpy.ndarray of float
        Chance per week that a live stream features the SKU.
    """

    sku: np.ndarray
    category: np.ndarray
    unit_cost: np.ndarray
    list_price: np.ndarray
    unit_volume: np.ndarray
    pack_size: np.ndarray
    moq: np.ndarray
    base_demand: np.ndarray
    growth: np.ndarray
    launch_day: np.ndarray
    end_day: np.ndarray
    listed: np.ndarray
    in_region: np.ndarray
    live_rate: np.ndarray


def make_catalogue(n_skus: int, history_days: int, rng: np.random.Generator) -> Catalogue:
    """Draw ``n_skus`` SKUs: a long tail of slow movers and a head of fast ones."""
    sku = np.array([f"SKU{i:06d}" for i in range(1, n_skus + 1)])
    category = rng.choice(len(CATEGORIES), size=n_skus, p=CATEGORY_SHARE)
    unit_cost = np.round(np.exp(rng.normal(np.log(30), 0.7, n_skus)), 2).clip(1.0, 2000)
    markup = rng.uniform(2.0, 4.0, n_skus)
    list_price = np.round(unit_cost * markup, 0) - 0.1
    unit_volume = np.round(np.exp(rng.normal(np.log(0.0015), 0.6, n_skus)), 5).clip(0.0001, 0.05)
    pack_size = rng.choice([1, 6, 12, 24], size=n_skus, p=[0.3, 0.3, 0.3, 0.1])
    moq = np.where(rng.random(n_skus) < 0.2, pack_size * rng.integers(2, 6, n_skus), 0)

    base_demand = np.exp(rng.normal(np.log(4.0), 1.5, n_skus)).clip(0.2, 5000)
    growth = rng.normal(0.08, 0.25, n_skus).clip(-0.6, 0.9)
    popularity = np.log10(1 + base_demand)  # about 0.1 (tail) to 3.7 (head)

    launch_day = rng.integers(-400, 0, n_skus)
    new = rng.random(n_skus) < 0.08
    launch_day[new] = history_days - rng.integers(28, 140, new.sum())
    end_day = np.full(n_skus, history_days + 10_000)
    dropped = ~new & (rng.random(n_skus) < 0.05)
    end_day[dropped] = history_days - rng.integers(56, 210, dropped.sum())

    n_ch = len(CHANNELS)
    p_list = np.clip(0.08 + 0.25 * popularity, 0.08, 0.97)
    listed = rng.random((n_skus, n_ch)) < p_list[:, None]
    listed[:, [c.channel for c in CHANNELS].index("amazon_xb")] &= rng.random(n_skus) < 0.4
    online = [i for i, c in enumerate(CHANNELS) if c.kind == "online" and c.channel != NEW_CHANNEL]
    anchor = rng.choice(online, size=n_skus)
    listed[np.arange(n_skus), anchor] = True

    q_region = np.clip(0.1 + 0.3 * popularity, 0.1, 0.98)
    in_region = rng.random((n_skus, len(REGIONS))) < q_region[:, None]
    region_p = np.asarray(REGION_SHARE) / np.sum(REGION_SHARE)
    in_region[np.arange(n_skus), rng.choice(len(REGIONS), size=n_skus, p=region_p)] = True

    live_rate = np.clip(0.01 + 0.02 * popularity, 0, 0.08)
    return Catalogue(sku, category, unit_cost, list_price, unit_volume, pack_size, moq,
                     base_demand, growth, launch_day, end_day, listed, in_region, live_rate)

