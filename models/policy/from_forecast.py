"""Stock targets straight from a forecast: one path for the library and the nightly run.

`targets_from_forecast` asks a fitted `models.forecast.DemandForecaster` for the distribution of
each series' demand over its protection interval (``predict_protection``: calibrated on
backtests of the summed demand, capped by the history) and turns it into levels with
`targets_from_protection`, which the engine's targets stage calls too on the same table (summed
over the series a location protects), so the two cannot drift.

**Order-up-to level (base stock).** With review every R periods and lead time L, an order placed
at a review arrives after L periods, and the next one R periods later: the level S protects the
demand D_P over P = L + R periods. For a fill rate beta (the share of demand served from stock),
the expected shortage per review cycle of a policy that orders up to S at every review is
E[(D_P - S)+] - E[(D_L - S)+] (the shortage by the end of the cycle, less the part already
short when the cycle began; exact with backorders, Axsäter 2015, section 5.6); S is the smallest
level at which it is at most (1 - beta) times the mean demand of a review period,
E[D_P] R / (L + R) (a share of the interval's mean, so that a forecast of no demand in the
review period itself cannot ask for a shortage of zero). For a cycle service level alpha, S is
the alpha-quantile of D_P. Count data get whole-unit levels; continuous data (hectolitres,
currency) keep continuous levels.

**Minimum lots.** When an order must be at least ``lot = max(moq, pack_size)`` units and that
exceeds the mean demand of a review period, orders are lumpy: an (s, S) policy with
``S = s + lot`` leaves an inventory position after ordering spread over (s, s + lot], about
uniformly (Hadley and Whitin 1963). The reorder point s is then the smallest level whose shortage
per cycle, averaged over those positions (`LOT_POINTS` midpoints), meets the target, so the fill
rate asked for is the fill rate delivered, not one lot above it. When the lot is at most one
review period's demand, a review orders every time: ``reorder_point = order_up_to`` = the base
stock level.

So: order up to ``reorder_point`` at every review when no minimum lot binds (base stock);
otherwise order up to ``order_up_to`` whenever the inventory position is at or below
``reorder_point``.

**Bounds.** Levels are capped at `TARGET_CAP_MULTIPLE` times the larger of the largest
historical demand over the protection interval and its forecast mean; capped rows are flagged.

References
----------
S. Axsäter, *Inventory Control*, 3rd ed., Springer, 2015, chapter 5.
G. Hadley and T. M. Whitin, *Analysis of Inventory Systems*, Prentice-Hall, 1963.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.distributions import (
    COUNT_FAMILIES,
    WHOLE_UNIT_SLACK,
    expected_shortage,
    family_codes,
    loss_levels,
    quantile_levels,
    smallest_continuous_level,
    smallest_level,
    survival,
)
from models.policy.targets import SERVICE_MEASURES, ServiceMeasure

TARGET_CAP_MULTIPLE = 3.0
"""A level is at most this times max(largest historical interval demand, its forecast mean)."""
LOT_POINTS = 8
"""Inventory positions over (s, s + lot] averaged when a minimum lot binds."""

PROTECTION_COLUMNS = ("unique_id", "mean", "variance", "family", "lead_mean", "lead_variance",
                      "lead_family")
"""Columns of the protection table `targets_from_protection` reads."""


def targets_from_forecast(forecaster, *, lead_time, review_period=1, service_level,
                          service: ServiceMeasure = "fill_rate", pack_size=1, moq=0,
                          start: int = 0, future: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reorder point and order-up-to level of every series of a fitted forecaster.

    Parameters
    ----------
    forecaster : models.forecast.DemandForecaster
        Fitted.
    lead_time, review_period : float or pandas.Series
        L >= 0 and R > 0, periods (a Series indexed by ``unique_id`` for one per series).
    service_level : float or pandas.Series
        beta (fill rate) or alpha (cycle service), 0 < value < 1.
    service : {"fill_rate", "cycle"}
    pack_size, moq : float or pandas.Series
        Units per pack (>= 1) and minimum order quantity (>= 0).
    start : int
        Periods from the end of the history to the review the targets are for (0: the next).
    future : pandas.DataFrame, optional
        Planned promotions (`DemandForecaster.predict`).

    Returns
    -------
    pandas.DataFrame
        See `targets_from_protection`.
    """
    protection = forecaster.predict_protection(lead_time, review_period, start=start,
                                               future=future)
    return targets_from_protection(protection, service_level=service_level, service=service,
                                   pack_size=pack_size, moq=moq)


def targets_from_protection(protection: pd.DataFrame, *, service_level,
                            service: ServiceMeasure = "fill_rate", pack_size=1, moq=0
                            ) -> pd.DataFrame:
    """Levels from protection-interval distributions (module docstring).

    Parameters
    ----------
    protection : pandas.DataFrame
        One row per ``unique_id`` with `PROTECTION_COLUMNS` (the output of
        ``DemandForecaster.predict_protection``, or sums of it over the series a location
        protects); optional ``largest_sum`` (the largest historical interval demand, for the
        cap).
    service_level : float or pandas.Series
        Target per row (a Series indexed by ``unique_id``), 0 < value < 1.
    service : {"fill_rate", "cycle"}
    pack_size, moq : float or pandas.Series
        Units per pack and minimum order quantity per row.

    Returns
    -------
    pandas.DataFrame
        One row per ``unique_id`` (in the order given): ``unique_id``, ``reorder_point``,
        ``order_up_to``, ``safety_stock`` (reorder point less the mean interval demand),
        ``protection_mean``, ``protection_variance``, ``distribution``, ``capped``.
    """
    ids, beta, pack, lot_min, measure = _targets_iv(protection, service_level, service,
                                                    pack_size, moq)
    mean = protection["mean"].to_numpy(dtype=float)
    variance = protection["variance"].to_numpy(dtype=float)
    codes = family_codes(protection["family"].to_numpy())
    lead = (family_codes(protection["lead_family"].to_numpy()),
            protection["lead_mean"].to_numpy(dtype=float),
            protection["lead_variance"].to_numpy(dtype=float))
    whole = np.isin(codes, COUNT_FAMILIES)
    # the demand a review period serves: its share R / (L + R) of the interval's mean (not the
    # forecast of the review period alone, which may be 0 while the lead time's demand is not:
    # no fill rate can then be met); the lead-time demand netted never spreads more than the
    # interval's
    review_mean = mean * protection_review_share(protection)
    lead = (lead[0], lead[1], np.minimum(lead[2], variance))
    lot = np.ceil(np.maximum(lot_min, pack) / pack - WHOLE_UNIT_SLACK) * pack
    lumpy = (lot > review_mean) & (lot > 1) & (mean > 0)

    level = np.zeros(len(ids))
    for units in (True, False):
        rows = np.flatnonzero((whole == units) & ~lumpy)
        if measure == "cycle":
            level[rows] = quantile_levels(codes[rows], mean[rows], variance[rows], beta[rows],
                                          whole_units=units)
        else:
            level[rows] = loss_levels(codes[rows], mean[rows], variance[rows],
                                      (1.0 - beta[rows]) * review_mean[rows],
                                      netted=tuple(a[rows] for a in lead), whole_units=units)
    rows = np.flatnonzero(lumpy)
    level[rows] = _lumpy_levels(codes[rows], mean[rows], variance[rows],
                                tuple(a[rows] for a in lead), beta[rows], review_mean[rows],
                                lot[rows], whole[rows], measure)

    largest = (protection["largest_sum"].to_numpy(dtype=float)
               if "largest_sum" in protection.columns else np.zeros(len(ids)))
    cap = TARGET_CAP_MULTIPLE * np.maximum(largest, mean)
    capped = level > cap
    level = np.where(capped, np.where(whole, np.floor(cap), cap), level)
    order_up_to = np.where(lumpy, level + lot, level)
    return pd.DataFrame({
        "unique_id": ids, "reorder_point": level, "order_up_to": order_up_to,
        "safety_stock": level - mean, "protection_mean": mean,
        "protection_variance": variance, "distribution": protection["family"].to_numpy(),
        "capped": capped,
    })


def protection_review_share(protection: pd.DataFrame) -> np.ndarray:
    """R / (L + R) of every row (1 where the table has no ``lead_time`` / ``review_period``
    columns, or its mean lead-time demand says the lead time is empty)."""
    if {"lead_time", "review_period"} <= set(protection.columns):
        lead = protection["lead_time"].to_numpy(dtype=float)
        review = protection["review_period"].to_numpy(dtype=float)
        return review / (lead + review)
    mean = protection["mean"].to_numpy(dtype=float)
    lead_mean = protection["lead_mean"].to_numpy(dtype=float)
    return np.where(mean > 0, 1.0 - lead_mean / np.where(mean > 0, mean, 1.0), 1.0)


def _lumpy_levels(codes, mean, variance, lead, beta, review_mean, lot, whole, measure):
    """Reorder points s of (s, s + lot) policies, the shortage (or the stockout probability)
    averaged over the inventory positions s + lot (j - 1/2) / m, j = 1..m."""
    offsets = (np.arange(LOT_POINTS) + 0.5) / LOT_POINTS

    def averaged(level, ids):
        total = np.zeros(len(ids))
        for u in offsets:
            position = level + u * lot[ids]
            if measure == "cycle":
                total += survival(codes[ids], mean[ids], variance[ids], position)
            else:
                total += (expected_shortage(codes[ids], mean[ids], variance[ids], position)
                          - expected_shortage(lead[0][ids], lead[1][ids], lead[2][ids],
                                              position))
        return total / LOT_POINTS

    target = 1.0 - beta if measure == "cycle" else (1.0 - beta) * review_mean
    out = np.zeros(len(mean))
    for units in (True, False):
        rows = np.flatnonzero(whole == units)
        if not rows.size:
            continue

        def satisfied(level, ids, rows=rows):
            return averaged(level, rows[ids]) <= target[rows[ids]]

        guess = np.maximum(mean[rows] - 0.5 * lot[rows], 0.0)
        out[rows] = (smallest_level(satisfied, guess) if units
                     else smallest_continuous_level(satisfied, guess))
    return out


def _targets_iv(protection, service_level, service, pack_size, moq):
    """Validate the arguments of `targets_from_protection`; per-row arrays."""
    if service not in SERVICE_MEASURES:
        raise ValueError(f"service must be one of {', '.join(SERVICE_MEASURES)}; "
                         f"found {service!r}")
    if not isinstance(protection, pd.DataFrame):
        raise TypeError(f"protection must be a pandas DataFrame; found "
                        f"{type(protection).__name__}")
    missing = [c for c in PROTECTION_COLUMNS if c not in protection.columns]
    if missing:
        raise ValueError(f"protection lacks the columns {', '.join(missing)}")
    ids = protection["unique_id"].to_numpy()
    if len(pd.Index(ids).unique()) != len(ids):
        raise ValueError("protection must have one row per unique_id; found duplicates")
    for column in ("mean", "variance", "lead_mean", "lead_variance"):
        values = protection[column].to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            first = int(np.argmax(bad))
            raise ValueError(f"protection.{column} must hold finite numbers >= 0; found "
                             f"{values[first]!r} for {ids[first]!r}")
    beta = _per_row(service_level, "service_level", ids)
    if ((beta <= 0) | (beta >= 1) | ~np.isfinite(beta)).any():
        first = int(np.argmax((beta <= 0) | (beta >= 1) | ~np.isfinite(beta)))
        raise ValueError(f"service_level must be in (0, 1); found {beta[first]!r} for "
                         f"{ids[first]!r}")
    pack = _per_row(pack_size, "pack_size", ids)
    lot = _per_row(moq, "moq", ids)
    if ((pack < 1) | ~np.isfinite(pack) | (pack != np.floor(pack))).any():
        raise ValueError("pack_size must hold whole numbers >= 1")
    if ((lot < 0) | ~np.isfinite(lot)).any():
        raise ValueError("moq must hold finite numbers >= 0")
    return ids, beta, pack, lot, service


def _per_row(value, name: str, ids: np.ndarray) -> np.ndarray:
    if isinstance(value, pd.Series):
        missing = pd.Index(ids).difference(value.index)
        if len(missing):
            raise ValueError(f"{name} has no value for {missing[0]!r}")
        return value.reindex(ids).to_numpy(dtype=float)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                          np.floating)):
        raise TypeError(f"{name} must be a number or a pandas Series indexed by unique_id; "
                        f"found {type(value).__name__}")
    return np.full(len(ids), float(value))
