"""Middle-out forecasts: forecast a parent (say sku x channel), split it to its children
(the regions) by their recent shares.

Sparse sku x channel x region series are often too thin to model well one by one, while their
sum over regions is not. The parent series is the sum of its children; the parent's baseline
forecast is split by each child's share of the parent's baseline over the last ``window``
periods (equal shares when the parent sold nothing), and each child keeps its own promotion and
festival multipliers. The children of a parent then add up to the parent's baseline forecast.

Whether a parent is forecast middle-out or child by child is chosen per parent from the
rolling-origin backtest: the option with the smaller sum of squared errors over the parent's
modelled children wins. The choice and the accuracy of each option are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.forecast.panel import Panel


def parent_codes(keys: pd.DataFrame | None, columns: Sequence[str]) -> tuple[np.ndarray,
                                                                             pd.DataFrame]:
    """Parent number of every series and one row of ``keys`` per parent.

    Raises
    ------
    ValueError
        If ``keys`` is missing or lacks one of ``columns``.
    """
    missing = [c for c in columns if keys is None or c not in keys.columns]
    if missing:
        raise ValueError(f"middle_out needs the groups columns {', '.join(columns)}; missing "
                         f"{', '.join(missing)}")
    codes = keys.groupby(list(columns), sort=True, observed=True).ngroup().to_numpy()
    first = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
    parents = keys.iloc[first].reset_index(drop=True)
    parents.insert(0, "unique_id", parents[list(columns)].astype(str).agg("|".join, axis=1))
    return codes, parents


def parent_history(panel: Panel, codes: np.ndarray, parent_ids: np.ndarray) -> pd.DataFrame:
    """Long table of the parents: the sum of their children, the promotion flag of any child.

    Raises
    ------
    ValueError
        If the children of a parent do not end on the same period.
    """
    n_parents = len(parent_ids)
    ends = pd.Series(panel.end).groupby(codes).agg(["min", "max"])
    if (ends["min"] != ends["max"]).any():
        raise ValueError("middle_out needs the series of a parent to end on the same date")
    total = np.zeros((n_parents, panel.n_periods))
    started = np.zeros((n_parents, panel.n_periods), dtype=bool)
    promo = np.zeros((n_parents, panel.n_periods), dtype=bool)
    np.add.at(total, codes, np.nan_to_num(panel.y))
    np.logical_or.at(started, codes, ~np.isnan(panel.y))
    np.logical_or.at(promo, codes, panel.promo)
    started = np.cumsum(started, axis=1) > 0
    end = ends["max"].to_numpy()
    positions = end[:, None] - (panel.n_periods - 1) + np.arange(panel.n_periods)[None, :]
    rows, cols = np.nonzero(started)
    return pd.DataFrame({
        "unique_id": parent_ids[rows],
        "ds": panel.grid.to_numpy()[positions[rows, cols]],
        "y": total[rows, cols],
        "promo": promo[rows, cols].astype(np.int8),
    })


def recent_shares(values: np.ndarray, codes: np.ndarray, n_parents: int, cutoff: int,
                  window: int, *, first_sale: np.ndarray | None = None) -> np.ndarray:
    """Each child's share of its parent over the ``window`` periods before ``cutoff``.

    A child's share is its rate (demand per period) over the periods of the window since its
    first sale, over the sum of its siblings' rates: a child launched inside the window is not
    dragged down by the periods before it sold (a launch selling 90 a week for six weeks is not
    a 21-a-week child of a 26-week window). Without ``first_sale`` every child counts the whole
    window.
    """
    lo = max(0, cutoff - window)
    begin = np.full(len(values), lo) if first_sale is None else np.clip(first_sale, lo, cutoff)
    active = cutoff - begin
    inside = np.arange(values.shape[1])[None, :] >= begin[:, None]
    total = np.nansum(np.where(inside, values, 0.0)[:, lo:cutoff], axis=1)
    child = np.where(active > 0, total / np.maximum(active, 1), 0.0)
    parent = np.bincount(codes, weights=child, minlength=n_parents)
    children = np.bincount(codes, minlength=n_parents)
    equal = 1.0 / np.maximum(children, 1)
    return np.where(parent[codes] > 0, child / np.where(parent[codes] > 0, parent[codes], 1.0),
                    equal[codes])


@dataclass(frozen=True)
class MiddleOutChoice:
    """Per parent, whether middle-out won the backtest, and the evidence.

    Attributes
    ----------
    use : numpy.ndarray of bool, shape (parent,)
    rmsse : dict of str to float
        Mean backtest RMSSE over the voting children: ``direct``, ``middle_out``, ``chosen``.
    voters : int
        Children with both backtests.
    """

    use: np.ndarray
    rmsse: dict[str, float]
    voters: int


def choose_parents(actual: np.ndarray, direct: np.ndarray, middle: np.ndarray,
                   codes: np.ndarray, n_parents: int, scale: np.ndarray) -> MiddleOutChoice:
    """Compare child-level backtest errors of both options, per parent.

    Parameters
    ----------
    actual, direct, middle : numpy.ndarray, shape (n, W, h)
        Outcomes, child-by-child forecasts and middle-out forecasts (NaN where absent).
    codes : numpy.ndarray of int, shape (n,)
    n_parents : int
    scale : numpy.ndarray, shape (n,)
        RMSSE scale of each child (mean squared one-step change of its history).
    """
    n = len(codes)
    ok = ~np.isnan(actual) & ~np.isnan(direct) & ~np.isnan(middle)
    voter = ok.reshape(n, -1).any(axis=1)
    sse_direct = np.where(ok, (actual - direct) ** 2, 0.0).reshape(n, -1).sum(axis=1)
    sse_middle = np.where(ok, (actual - middle) ** 2, 0.0).reshape(n, -1).sum(axis=1)
    parent_direct = np.bincount(codes, weights=sse_direct * voter, minlength=n_parents)
    parent_middle = np.bincount(codes, weights=sse_middle * voter, minlength=n_parents)
    use = parent_middle < parent_direct
    points = np.maximum(ok.reshape(n, -1).sum(axis=1), 1)
    scored = voter & np.isfinite(scale) & (scale > 0)

    def mean_rmsse(sse):
        return float(np.mean(np.sqrt(sse[scored] / points[scored] / scale[scored]))) \
            if scored.any() else float("nan")

    chosen = np.where(use[codes], sse_middle, sse_direct)
    return MiddleOutChoice(use, {"direct": mean_rmsse(sse_direct),
                                 "middle_out": mean_rmsse(sse_middle),
                                 "chosen": mean_rmsse(chosen)}, int(voter.sum()))
