"""Plain-Python reference simulator with exactly the semantics of `engine.simulation.kernels`.

No numba and no numpy in the loop: one `_Location` object per sample and one method per event of
the period (receive, review, demand, charge), written to be read against the event order in the
`kernels` docstring. Tests run it and the numba kernels on the same draws and require identical
trajectories and statistics; it is far too slow for anything else (about a microsecond per
sample-period).
"""

from __future__ import annotations

import math

import numpy as np

from engine.simulation import kernels


class _Location:
    """State of one location: on hand, backorders and the orders in transit."""

    def __init__(self, *, kind: int, reorder_point: float, order_up_to: float,
                 order_quantity: float, lead_time: int, backorders: bool):
        self.kind = kind
        self.reorder_point = reorder_point
        self.order_up_to = order_up_to
        self.order_quantity = order_quantity
        self.lead_time = lead_time
        self.backorders = backorders
        # starting state: on hand = order-up-to level, nothing on order
        self.on_hand = max(order_up_to, 0.0)
        self.backordered = max(-order_up_to, 0.0) if backorders else 0.0
        self.in_transit = {}  # arrival period -> units
        self.on_order = 0.0

    def receive(self, period: int) -> None:
        """(1) Receive what arrives at the start of ``period``; serve backorders from it."""
        arriving = self.in_transit.pop(period, 0.0)
        self.on_order -= arriving
        self._put_away(arriving)

    def _put_away(self, units: float) -> None:
        self.on_hand += units
        filled = min(self.on_hand, self.backordered)
        self.on_hand -= filled
        self.backordered -= filled

    def review(self, period: int) -> tuple[float, int]:
        """(2) Order per the policy, (3) receive at once if L = 0; return (units, orders)."""
        position = self.on_hand + self.on_order - self.backordered
        units, orders = 0.0, 0
        if self.kind == kernels.BASE_STOCK:
            if position < self.order_up_to:
                units, orders = self.order_up_to - position, 1
        elif self.kind == kernels.S_S:
            if position <= self.reorder_point:
                units, orders = self.order_up_to - position, 1
        elif position <= self.reorder_point:
            orders = math.floor((self.reorder_point - position) / self.order_quantity) + 1
            units = orders * self.order_quantity
        if orders:
            if self.lead_time == 0:
                self._put_away(units)
            else:
                arrival = period + self.lead_time
                self.in_transit[arrival] = self.in_transit.get(arrival, 0.0) + units
                self.on_order += units
        return units, orders

    def meet(self, demand: float) -> tuple[float, float]:
        """(4) Serve ``demand`` from on hand; backorder or lose the rest; return (served, unmet)."""
        served = min(self.on_hand, demand)
        self.on_hand -= served
        unmet = demand - served
        if self.backorders:
            self.backordered += unmet
        return served, unmet


def simulate_samples_reference(demand: np.ndarray, *, kind: int, reorder_point: float,
                               order_up_to: float, order_quantity: float, lead_time: int,
                               holding_cost: float, shortage_cost: float, fixed_cost: float,
                               backorders: bool, warmup: int) -> tuple[np.ndarray, np.ndarray]:
    """Simulate like `kernels.simulate_samples`, in plain Python.

    Parameters are those of `kernels.simulate_samples` (without the outputs).

    Returns
    -------
    statistics : numpy.ndarray, shape (sample, len(kernels.STATISTICS))
        Sums over the measured periods, columns as in `kernels`.
    trajectory : numpy.ndarray, shape (sample, period, len(kernels.TRAJECTORY_FIELDS))
        Every period's record, fields as in `kernels`.
    """
    samples, periods = demand.shape
    statistics = np.zeros((samples, len(kernels.STATISTICS)))
    trajectory = np.zeros((samples, periods, len(kernels.TRAJECTORY_FIELDS)))
    for sample in range(samples):
        location = _Location(kind=kind, reorder_point=float(reorder_point),
                             order_up_to=float(order_up_to),
                             order_quantity=float(order_quantity), lead_time=int(lead_time),
                             backorders=bool(backorders))
        sums = dict.fromkeys(kernels.STATISTICS, 0.0)
        for period in range(periods):
            if lead_time > 0:
                location.receive(period)
            ordered, orders = location.review(period)
            period_demand = float(demand[sample, period])
            served, unmet = location.meet(period_demand)
            # (5) end-of-period costs
            short = location.backordered if backorders else unmet
            holding = holding_cost * location.on_hand
            shortage = shortage_cost * short
            ordering = fixed_cost * orders
            if period >= warmup:
                sums["total_cost"] += holding + shortage + ordering
                sums["holding_cost"] += holding
                sums["shortage_cost"] += shortage
                sums["ordering_cost"] += ordering
                sums["demand"] += period_demand
                sums["served"] += served
                sums["no_stockout_periods"] += unmet <= 0.0
                sums["on_hand"] += location.on_hand
                sums["orders"] += orders
                sums["short_units"] += short
            trajectory[sample, period] = (location.on_hand, location.backordered,
                                          location.on_order, ordered, served, unmet)
        statistics[sample] = [sums[name] for name in kernels.STATISTICS]
    return statistics, trajectory
