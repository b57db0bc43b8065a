"""Demo sales history: negative-binomial demand per SKU x channel x region stream.

The mean of a stream in a period is

    base x channel share x region share x trend x season x festival x weekday x life cycle
         x channel opening x live-stream spike x own promotion

and units are drawn as Poisson(mean x Gamma(3, 1/3)) (negative binomial with shape 3), so slow
streams come out intermittent and fast ones smooth. Live-stream spikes hit douyin and kuaishou;
own promotions hit every channel; festival and own promotions lower the recorded price and set
the promo flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.demo.calendar_effects import CalendarEffects
from engine.demo.catalogue import Catalogue
from engine.demo.network import (
    CHANNELS,
    LIVE_STREAM_CHANNELS,
    NEW_CHANNEL,
    NEW_CHANNEL_DAYS,
    REGION_SHARE,
    REGIONS,
)

DISPERSION = 3.0
PROMO_UPLIFT = 1.5
PROMO_DISCOUNT = 0.15
LIVE_DISCOUNT = 0.25
RECENT_PERIODS = 8


@dataclass(frozen=True)
class StreamHistory:
    """Sales of a chunk of streams.

    Attributes
    ----------
    sku, channel, region : numpy.ndarray of int, shape (stream,)
        Indices into the catalogue, `CHANNELS` and `REGIONS`.
    recent_mean : numpy.ndarray, shape (stream,)
        Expected units per period over the last periods (for sizing stock).
    row_stream, row_period : numpy.ndarray of int, shape (row,)
        The (stream, period) of each sales row (only periods with units > 0).
    units, price : numpy.ndarray of float, shape (row,)
    promo : numpy.ndarray of bool, shape (row,)
    """

    sku: np.ndarray
    channel: np.ndarray
    region: np.ndarray
    recent_mean: np.ndarray
    row_stream: np.ndarray
    row_period: np.ndarray
    units: np.ndarray
    price: np.ndarray
    promo: np.ndarray


def stream_history(cat: Catalogue, skus: slice, effects: CalendarEffects,
                   base_price: np.ndarray, days_per_period: int, history_days: int,
                   rng: np.random.Generator) -> StreamHistory:
    """Draw the sales history of the streams of the SKUs in ``skus``.

    Parameters
    ----------
    cat : Catalogue
    skus : slice
        The SKUs of this chunk.
    effects : CalendarEffects
    base_price : numpy.ndarray, shape (sku, channel)
        Undiscounted selling price per SKU and channel.
    days_per_period : int
        1 (daily) or 7 (weekly).
    history_days : int
        Length of the history in days.
    rng : numpy.random.Generator
    """
    n_ch, n_rg = len(CHANNELS), len(REGIONS)
    trades = np.zeros((n_ch, n_rg), dtype=bool)
    for c, ch in enumerate(CHANNELS):
        trades[c, [REGIONS.index(r) for r in ch.regions]] = True
    listed = cat.listed[skus]
    in_region = cat.in_region[skus]
    grid = listed[:, :, None] & trades[None] & in_region[:, None, :]
    has_region = grid.any(axis=2)
    channel_weight = np.array([c.share for c in CHANNELS])[None, :] * has_region
    channel_share = channel_weight / channel_weight.sum(axis=1, keepdims=True).clip(1e-12)
    region_weight = np.asarray(REGION_SHARE)[None, None, :] * grid
    region_share = region_weight / region_weight.sum(axis=2, keepdims=True).clip(1e-12)

    local_sku, channel, region = np.nonzero(grid)
    sku = local_sku + skus.start
    share = channel_share[local_sku, channel] * region_share[local_sku, channel, region]

    n_periods = effects.years.shape[0]
    day = np.arange(n_periods) * days_per_period
    category = cat.category[sku]
    mean = (cat.base_demand[sku] * share * days_per_period / 7)[:, None] \
        * np.exp(cat.growth[sku][:, None] * effects.years[None, :]) \
        * effects.season[category] \
        * effects.event[channel, category] \
        * effects.weekday[channel]
    mean *= _life_cycle(cat.launch_day[sku], cat.end_day[sku], day)
    opened = history_days - NEW_CHANNEL_DAYS
    new_channel = channel == [c.channel for c in CHANNELS].index(NEW_CHANNEL)
    ramp = np.clip((day - opened) / 56 + 0.2, 0, 1) * (day >= opened)
    mean[new_channel] *= ramp

    discount = effects.discount[channel, category].copy()
    sku_channel = local_sku * n_ch + channel
    own_promo = _promotion_periods(rng, listed.size, n_periods, days_per_period)[sku_channel]
    mean[own_promo] *= PROMO_UPLIFT
    discount[own_promo] = np.maximum(discount[own_promo], PROMO_DISCOUNT)
    live = np.isin(channel, [[c.channel for c in CHANNELS].index(x) for x in LIVE_STREAM_CHANNELS])
    spikes = _live_spikes(rng, cat.live_rate[skus], listed.shape[0], n_ch, n_periods,
                          days_per_period)[sku_channel]
    spikes[~live] = 1.0
    mean *= spikes
    discount[spikes > 1] = np.maximum(discount[spikes > 1], LIVE_DISCOUNT)

    recent_mean = mean[:, -RECENT_PERIODS:].mean(axis=1) / np.maximum(
        effects.event[channel, category][:, -RECENT_PERIODS:].mean(axis=1), 1.0)
    demand = rng.poisson(mean * rng.gamma(DISPERSION, 1 / DISPERSION, mean.shape))

    row_stream, row_period = np.nonzero(demand > 0)
    noise = 1 + rng.normal(0, 0.015, row_stream.size)
    price = np.round(base_price[sku[row_stream], channel[row_stream]]
                     * (1 - discount[row_stream, row_period]) * noise, 2)
    promo = discount[row_stream, row_period] >= 0.05
    return StreamHistory(sku, channel, region, recent_mean, row_stream, row_period,
                         demand[row_stream, row_period].astype(np.float64), price, promo)


def _life_cycle(launch: np.ndarray, end: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Share of mature demand: 0 before launch, ramping over six weeks, 0 after the end."""
    age = day[None, :] - launch[:, None]
    ramp = np.clip(0.3 + 0.7 * age / 42, 0, 1) * (age >= 0)
    return ramp * (day[None, :] <= end[:, None])


def _promotion_periods(rng: np.random.Generator, n_pairs: int, n_periods: int,
                       days_per_period: int) -> np.ndarray:
    """Own promotions per (sku, channel): about two a year, a week long."""
    if days_per_period == 7:
        return rng.random((n_pairs, n_periods)) < 0.04
    starts = rng.random((n_pairs, n_periods)) < 0.04 / 7
    running = np.cumsum(starts, axis=1)
    running[:, 7:] -= running[:, :-7].copy()
    return running > 0


def _live_spikes(rng: np.random.Generator, rate: np.ndarray, n_skus: int, n_ch: int,
                 n_periods: int, days_per_period: int) -> np.ndarray:
    """Live-stream multipliers per (sku, channel, period): mostly 1, sometimes 2-20."""
    chance = (rate * days_per_period / 7)[:, None, None]
    hit = rng.random((n_skus, n_ch, n_periods)) < chance
    typical = 3.0 if days_per_period == 7 else 10.0
    spikes = np.ones(hit.shape)
    spikes[hit] = np.exp(rng.normal(np.log(typical), 0.45, int(hit.sum())))
    return spikes.reshape(n_skus * n_ch, n_periods)
