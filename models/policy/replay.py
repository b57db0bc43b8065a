"""Replay actual demand through a periodic-review base-stock system.

The judge of stock targets on real history (issue 14, item 7): given the order-up-to level in
force at each period (decided with the history before that period) and the demand that actually
came, what would the stock have done: how much was served from the shelf, how much waited, and
how much stock sat on hand. Pure numpy; the loop runs over periods in Python, vectorised over
series (a replay is a few dozen periods of many series).

System (DESIGN.md conventions). Review every period; an order placed at the start of period t
arrives at the start of period t + L. In every period t, in this order:

1. **receive** what arrives this period (the order of period t - L); outstanding backorders are
   cleared first from what is on hand after the receipt;
2. **order up to the level**: q_t = max(S_t - IP_t, 0), where the inventory position
   IP_t = on hand - backorders + in transit; with L = 0 the order arrives at once (it is
   received, and clears backorders, before demand is served);
3. **serve** demand from on hand; what is served at once counts toward the fill rate;
4. **backorder** the rest (backorders are served later from receipts and never count as
   filled).

The replay starts with on hand = S_0 (0 if S_0 < 0), nothing in transit and no backorders.
Quantities need not be whole units (real data can be hectolitres or dollars).

References
----------
S. Axsäter, *Inventory Control*, 3rd ed., Springer, 2015, chapter 4 (periodic-review
order-up-to policies with backorders).
L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019,
chapter 4 (base-stock policies, the type-2 service level or fill rate).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, fields

import numpy as np

__all__ = ["BaseStockReplay", "replay_base_stock"]


@dataclass(frozen=True, eq=False)
class BaseStockReplay:
    """State of every series in every period of a base-stock replay.

    Every per-period array has shape (series, T), in units of demand per period; arrays are
    read-only.

    Attributes
    ----------
    on_hand_start : numpy.ndarray of float64
        On hand at the start of the period, before the receipt.
    receipts : numpy.ndarray of float64
        Quantity received in the period (the order of period t - L; with L = 0 the order of the
        period itself).
    cleared : numpy.ndarray of float64
        Earlier backorders served from this period's stock, before new demand.
    orders : numpy.ndarray of float64
        Order placed in the period, q_t = max(S_t - IP_t, 0).
    served : numpy.ndarray of float64
        Demand of the period served at once from on hand.
    backordered : numpy.ndarray of float64
        Demand of the period not served at once (the new backorders).
    on_hand_end : numpy.ndarray of float64
        On hand at the end of the period.
    backlog_end : numpy.ndarray of float64
        Outstanding backorders at the end of the period.
    fill_rate : numpy.ndarray of float64, shape (series,)
        Fraction of demand served at once over the replay, sum(served) / sum(demand); NaN for a
        series with no demand.
    average_on_hand : numpy.ndarray of float64, shape (series,)
        Mean end-of-period on hand over the T periods, units.
    lead_time : int
        Lead time L of the replay, periods.

    Notes
    -----
    Units are conserved in every period:
    ``on_hand_start + receipts = cleared + served + on_hand_end`` and
    ``backlog_end - backlog_start = backordered - cleared`` (backlog_start is the previous
    period's backlog_end, 0 in the first period).
    """

    on_hand_start: np.ndarray
    receipts: np.ndarray
    cleared: np.ndarray
    orders: np.ndarray
    served: np.ndarray
    backordered: np.ndarray
    on_hand_end: np.ndarray
    backlog_end: np.ndarray
    fill_rate: np.ndarray
    average_on_hand: np.ndarray
    lead_time: int

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False


def replay_base_stock(levels, demand, *, lead_time=1) -> BaseStockReplay:
    """Replay actual demand through a periodic-review base-stock (order-up-to) system.

    See the module docstring for the event order. The level of period t should be decided
    with the history before t, so the replay shows what the levels would have done.

    Parameters
    ----------
    levels : array_like, shape (series, T)
        Order-up-to (base-stock) level S_t in force at each period, units; finite. A negative
        level is allowed (it plans to run backorders): nothing is ordered until the inventory
        position falls below it, and a negative S_0 starts with nothing on hand.
    demand : array_like, shape (series, T)
        Actual demand d_t of each period, units, >= 0; NaN where a series does not trade yet
        (treated as no demand and left out of the fill rate).
    lead_time : int, default 1
        Replenishment lead time L >= 0, periods (a whole number).

    Returns
    -------
    BaseStockReplay
        State per series and period, fill rate and average on hand per series.

    Raises
    ------
    TypeError
        If ``levels`` or ``demand`` is not numeric.
    ValueError
        If the shapes differ or are not (series, T) with T >= 1, a level is not finite, a
        demand is negative or infinite, or ``lead_time`` is not a whole number >= 0.

    Examples
    --------
    >>> replay = replay_base_stock([[10.0, 10.0, 12.0]], [[4.0, 9.0, 15.0]], lead_time=1)
    >>> replay.orders
    array([[ 0.,  4., 11.]])
    >>> replay.served, replay.fill_rate
    (array([[4., 6., 1.]]), array([0.39285714]))
    """
    levels, demand, lead_time = _replay_iv(levels, demand, lead_time)
    n_series, n_periods = levels.shape
    trading = ~np.isnan(demand)
    demand = np.where(trading, demand, 0.0)

    shape = (n_series, n_periods)
    on_hand_start, receipts, cleared, orders = (np.zeros(shape) for _ in range(4))
    served, backordered, on_hand_end, backlog_end = (np.zeros(shape) for _ in range(4))
    # orders due at the start of t + L, for t + L inside the replay (later ones never arrive)
    due = np.zeros((n_series, n_periods + lead_time))
    on_hand = np.maximum(levels[:, 0], 0.0)
    backlog = np.zeros(n_series)
    in_transit = np.zeros(n_series)
    for t in range(n_periods):
        on_hand_start[:, t] = on_hand
        # 1. receive, clear backorders first
        arriving = due[:, t]
        in_transit -= arriving
        on_hand = on_hand + arriving
        clear = np.minimum(backlog, on_hand)
        on_hand -= clear
        backlog -= clear
        # 2. order up to the level
        position = on_hand - backlog + in_transit
        order = np.maximum(levels[:, t] - position, 0.0)
        orders[:, t] = order
        if lead_time == 0:
            arriving = arriving + order
            on_hand += order
            more = np.minimum(backlog, on_hand)
            on_hand -= more
            backlog -= more
            clear = clear + more
        else:
            due[:, t + lead_time] += order
            in_transit += order
        receipts[:, t] = arriving
        cleared[:, t] = clear
        # 3. serve from on hand, 4. backorder the rest
        serve = np.minimum(demand[:, t], on_hand)
        short = demand[:, t] - serve
        on_hand -= serve
        backlog += short
        served[:, t] = serve
        backordered[:, t] = short
        on_hand_end[:, t] = on_hand
        backlog_end[:, t] = backlog

    total_demand = demand.sum(axis=1)
    total_served = served.sum(axis=1)
    fill_rate = np.full(n_series, np.nan)
    np.divide(total_served, total_demand, out=fill_rate, where=total_demand > 0)
    return BaseStockReplay(on_hand_start=on_hand_start, receipts=receipts, cleared=cleared,
                           orders=orders, served=served, backordered=backordered,
                           on_hand_end=on_hand_end, backlog_end=backlog_end,
                           fill_rate=fill_rate, average_on_hand=on_hand_end.mean(axis=1),
                           lead_time=lead_time)


def _replay_iv(levels, demand, lead_time) -> tuple[np.ndarray, np.ndarray, int]:
    """Check and convert the arguments of `replay_base_stock`."""
    arrays = []
    for name, value in (("levels", levels), ("demand", demand)):
        array = np.asarray(value)
        if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer)
                                       or np.issubdtype(array.dtype, np.floating)):
            raise TypeError(f"`{name}` must be an array of numbers; found dtype {array.dtype}")
        if array.ndim != 2 or array.shape[1] < 1:
            raise ValueError(f"`{name}` must be a two-dimensional array (series, T) with "
                             f"T >= 1; found shape {array.shape}")
        arrays.append(array.astype(np.float64))
    levels, demand = arrays
    if levels.shape != demand.shape:
        raise ValueError(f"`levels` and `demand` must have the same shape (series, T); found "
                         f"{levels.shape} and {demand.shape}")
    bad = ~np.isfinite(levels)
    if bad.any():
        series, period = np.argwhere(bad)[0]
        raise ValueError(f"`levels` must be finite numbers; found {levels[series, period]} at "
                         f"series {series}, period {period}")
    bad = np.isinf(demand) | (demand < 0)  # NaN compares False: allowed (not trading)
    if bad.any():
        series, period = np.argwhere(bad)[0]
        raise ValueError(f"`demand` must be finite numbers >= 0 (or NaN before a series "
                         f"trades); found {demand[series, period]} at series {series}, "
                         f"period {period}")
    if isinstance(lead_time, (bool, np.bool_)):
        raise ValueError(f"`lead_time` must be a whole number >= 0; found {lead_time!r}")
    try:
        whole = operator.index(lead_time)
    except TypeError:
        number = float(lead_time) if isinstance(lead_time, (float, np.floating)) else np.nan
        if not (np.isfinite(number) and number == round(number)):
            raise ValueError(f"`lead_time` must be a whole number >= 0; found "
                             f"{lead_time!r}") from None
        whole = int(number)
    if whole < 0:
        raise ValueError(f"`lead_time` must be a whole number >= 0; found {lead_time!r}")
    return levels, demand, int(whole)
