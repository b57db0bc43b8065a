"""Cold start: forecasts for series with too little history, from analogues.

A new series (a SKU newly listed in a channel, a channel newly opened in a region, a new SKU)
borrows its level from series that have history:

1. **The same SKU elsewhere.** When the SKU sells in other channels or regions, its level there
   is carried over by the mix of its category: with ``C(x)`` the mean recent level of the
   category's series in cell ``x`` (a channel x region; all series count, so the young series of
   a newly opened channel show its level together), the new cell gets
   ``sum(levels of the SKU's mature cells) x C(new cell) / sum(C(the SKU's mature cells))``:
   the new cell's share of a higher-level (SKU) forecast.
2. **Its peers.** Otherwise the median level of mature series in the same analogue group
   (category x channel x region), backing off to coarser groups (category x channel, category,
   all) when a group has fewer than ``min_peers`` mature members.

The analogue level is then blended with the series' own recent mean by credibility,
``(n x own + n0 x analogue) / (n + n0)`` with ``n`` its observed periods and ``n0`` the prior
weight in periods: at most 4 (`models.forecast.core`) and at most `PRIOR_UNITS` units of demand
(``n0 <= 4 / analogue``, a gamma-Poisson prior), so a new series moves from its analogues to its
own sales as they come in, at once when its own sales are far from a high-volume analogue.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

MIN_PEERS = 3
PRIOR_UNITS = 4.0
"""Shape of the gamma prior of a new series' level: the analogue is worth at most this many
units of observed demand (`credibility_blend`)."""


def analogue_levels(level: np.ndarray, mature: np.ndarray, keys: pd.DataFrame | None,
                    backoff: Sequence[Sequence[str]], *, sku_column: str = "sku",
                    cell_columns: Sequence[str] = ("channel", "region"),
                    category_column: str = "category") -> tuple[np.ndarray, np.ndarray]:
    """Analogue level of every series.

    Parameters
    ----------
    level : numpy.ndarray, shape (n,)
        Recent baseline level of each series (units per period).
    mature : numpy.ndarray of bool, shape (n,)
        Series with enough history to lend their level.
    keys : pandas.DataFrame or None
        Per series (row order as ``level``) the columns named below, where available.
    backoff : sequence of sequence of str
        Peer groups from finest to coarsest, e.g. ``[("category", "channel", "region"),
        ("category", "channel"), ("category",), ()]``; columns not in ``keys`` are skipped.
    sku_column, cell_columns, category_column : str
        Columns used by the same-SKU rule (skipped when any is missing).

    Returns
    -------
    analogue : numpy.ndarray, shape (n,)
        Analogue level.
    source : numpy.ndarray of str, shape (n,)
        ``"sku"`` (rule 1), ``"peers:<columns>"`` (rule 2) or ``"none"``.
    """
    n = len(level)
    analogue = np.full(n, np.nan)
    source = np.full(n, "none", dtype=object)
    if keys is None:
        keys = pd.DataFrame(index=range(n))
    keys = keys.reset_index(drop=True)
    columns = set(keys.columns)

    if {sku_column, category_column, *cell_columns} <= columns and mature.any():
        category_cell = _codes(keys, [category_column, *cell_columns])
        # the category mix pools every series, new ones too: a newly opened channel has no
        # mature series yet, but its young series together show its share
        cells = category_cell.max() + 1
        mix = np.bincount(category_cell, weights=np.nan_to_num(level), minlength=cells) \
            / np.maximum(np.bincount(category_cell, minlength=cells), 1)
        weight = mix[category_cell]
        sku = _codes(keys, [sku_column])
        sku_level = np.bincount(sku, weights=np.where(mature, level, 0.0))[sku]
        sku_weight = np.bincount(sku, weights=np.where(mature, weight, 0.0))[sku]
        usable = ~mature & (sku_weight > 0) & (weight > 0)
        analogue[usable] = sku_level[usable] * weight[usable] / sku_weight[usable]
        source[usable] = "sku"

    for columns_of_group in backoff:
        group = [c for c in columns_of_group if c in columns]
        if len(group) != len(columns_of_group):
            continue
        todo = np.isnan(analogue)
        if not todo.any():
            break
        label = _codes(keys, group) if group else np.zeros(n, dtype=np.int64)
        peers = pd.Series(level[mature]).groupby(label[mature])
        median = peers.median()[peers.size() >= MIN_PEERS]
        found = pd.Series(label).map(median).to_numpy(dtype=float)
        fill = todo & ~np.isnan(found)
        analogue[fill] = found[fill]
        source[fill] = "peers:" + ",".join(group) if group else "peers:all"
    return analogue, source.astype(str)


def _codes(keys: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One integer per distinct combination of the columns."""
    return keys.groupby(columns, sort=False, observed=True, dropna=False).ngroup().to_numpy()


def credibility_blend(own_mean: np.ndarray, observed: np.ndarray, analogue: np.ndarray,
                      prior_periods: float, *, prior_units: float = PRIOR_UNITS) -> np.ndarray:
    """Blend a series' own mean with its analogue level by the periods observed.

    The analogue weighs ``k = min(prior_periods, prior_units / analogue)`` periods: the
    posterior mean of Poisson demand under a gamma prior of mean ``analogue`` and shape
    ``prior_units``, capped at ``prior_periods`` periods. A high-volume analogue thus yields to
    the series' own sales at once (three weeks selling 0.5 a week say more than a peer median
    of 400), while a slow one, whose own few periods are mostly noise, keeps its weight.
    """
    analogue = np.where(np.isnan(analogue), own_mean, analogue)
    with np.errstate(divide="ignore"):
        weight = np.minimum(prior_periods, prior_units / np.maximum(analogue, 0.0))
    return (observed * own_mean + weight * analogue) / np.maximum(observed + weight, 1e-300)


def own_variance(values: np.ndarray, start: np.ndarray, cutoff: int) -> np.ndarray:
    """Sample variance of each row's own periods from its start to ``cutoff - 1`` (0 with
    fewer than two periods).

    A young series' spread between its own periods (a launch spike that fades, a slow start)
    is spread its next periods can show too: the cold start uses it as the least variance of
    a new series (`models.forecast.core`).
    """
    columns = np.arange(cutoff)[None, :]
    inside = (columns >= start[:, None]) & ~np.isnan(values[:, :cutoff])
    n = inside.sum(axis=1)
    filled = np.where(inside, values[:, :cutoff], 0.0)
    mean = filled.sum(axis=1) / np.maximum(n, 1)
    squares = (np.where(inside, filled - mean[:, None], 0.0) ** 2).sum(axis=1)
    return np.where(n >= 2, squares / np.maximum(n - 1, 1), 0.0)
