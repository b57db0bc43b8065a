"""Plain-Python reference network simulator with exactly the semantics of `network_kernels`.

No numba and no numpy in the loop: one `_Sku` object per SKU and sample holding the state, and
one method per event of the period (arrivals, shipping and review, demand, charges), written to
be read against the event order in the `network_kernels` docstring. It derives its own
leaves-to-roots order from ``source`` (any such order gives the same result: locations in
different subtrees do not interact within a period), rations with a sort where the kernel
searches, and draws the random lead times with its own SplitMix64 on Python integers.

`simulate_skus_reference` has the signature of the kernels (`network_kernels.simulate_skus`), so
`simulate_network_reference` runs the whole of `simulate_network` (validation, seeding, demand
draws, summaries) with it in place of the kernel. Tests require identical trajectories and
statistics from the two; it is far too slow for anything else (tens of microseconds per
SKU-sample-period).
"""

from __future__ import annotations

import numpy as np

from engine.simulation import network_kernels as kernels
from engine.simulation.network import (
    NetworkArrays,
    NetworkSimulation,
    _simulate,
    _simulate_network_iv,
)

_MASK = 2**64 - 1


def lead_time_uniform(key: int, sample: int, period: int, location: int) -> float:
    """`network_kernels.lead_time_uniform` on Python integers: SplitMix64 at a counter."""
    counter = (sample << 32) | (period << 16) | location
    z = (key + (counter + 1) * 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return (z >> 11) * 2.0**-53


class _Sku:
    """State of one SKU in one sample: stock, pipeline and backorders at every location."""

    def __init__(self, net: dict, k: int, sample: int, periods: int):
        self.net = net
        self.k = k
        self.sample = sample
        L = len(net["source"])
        self.on_hand = list(net["on_hand"][k])
        inbound = net["inbound"][k]
        self.in_transit = [{a: units for a, units in enumerate(row) if units > 0 and a < periods}
                           for row in inbound]
        self.on_order = [0.0] * L
        for v, row in enumerate(inbound):
            for units in row:
                self.on_order[v] += units
        self.owed = [0.0] * L
        self.streams = net["streams"][k]  # global stream indices in serving order
        self.backlog = dict.fromkeys(self.streams, 0.0)
        self.requests = [0.0] * L
        self.location_sums = [dict.fromkeys(kernels.LOCATION_STATISTICS, 0.0)
                              for _ in range(L)]
        self.stream_sums = {s: dict.fromkeys(kernels.STREAM_STATISTICS, 0.0)
                            for s in self.streams}
        # per-period records, (period, location) -> field -> value, and (period, stream) -> ...
        self.location_record: dict = {}
        self.stream_record: dict = {}
        self.served_from: dict = {}

    # -- helpers --------------------------------------------------------------------------------

    def _note(self, t: int, v: int, name: str, units: float, *, add: bool = True) -> None:
        record = self.location_record.setdefault((t, v), {})
        record[name] = record.get(name, 0.0) + units if add else units

    def put_away(self, t: int, v: int, units: float) -> None:
        """Add units to v's stock and fill v's backorders, streams in serving order."""
        self.on_hand[v] += units
        if self.owed[v] <= 0.0:
            return
        for s in self.streams:
            if self.on_hand[v] <= 0.0:
                break
            owed_here = self.net["backorders"][s] and self.net["locations_of"][s][0] == v
            if owed_here and self.backlog[s] > 0.0:
                filled = min(self.on_hand[v], self.backlog[s])
                self.on_hand[v] -= filled
                self.backlog[s] -= filled
                self.owed[v] -= filled
                self.stream_sums[s]["backorders_filled"] += filled
                self.location_sums[v]["backorders_filled"] += filled
                stream_record = self.stream_record.setdefault((t, s), {})
                stream_record["backorders_filled"] = (stream_record.get("backorders_filled", 0.0)
                                                      + filled)
                self._note(t, v, "backorders_filled", filled)

    def lead_time(self, t: int, c: int) -> int:
        """The lead time of a shipment to c in period t, drawn from c's inbound lane."""
        pmf = self.net["lead_time_pmf"][c]
        if sum(p > 0 for p in pmf) == 1:
            return next(lead for lead, p in enumerate(pmf) if p > 0)
        u = lead_time_uniform(self.net["lead_key"][self.k], self.sample, t, c)
        cdf = self.net["lead_time_cdf"][c]
        return next(lead for lead, level in enumerate(cdf) if u < level)

    def dispatch(self, t: int, c: int, units: float) -> None:
        """Send units to c: they arrive now (lead time 0) or at the start of t + lead time."""
        lead = self.lead_time(t, c)
        sums = self.location_sums[c]
        sums["shipments"] += 1.0
        sums["replenished_units"] += units
        sums["ordering_cost"] += self.net["order_cost"][self.k][c]
        self._note(t, c, "replenished", units, add=False)
        self._note(t, c, "lead_time", float(lead), add=False)
        if lead == 0:
            self._note(t, c, "arrived", units)
            self.put_away(t, c, units)
        else:
            self.in_transit[c][t + lead] = self.in_transit[c].get(t + lead, 0.0) + units
            self.on_order[c] += units

    # -- the events of a period -----------------------------------------------------------------

    def arrive(self, t: int) -> None:
        """(1) What is due at the start of t arrives everywhere, backorders first."""
        for v in range(len(self.on_hand)):
            self.requests[v] = 0.0
            arriving = self.in_transit[v].pop(t, 0.0)
            self._note(t, v, "arrived", arriving, add=False)
            self._note(t, v, "lead_time", -1.0, add=False)
            if arriving > 0.0:
                self.on_order[v] -= arriving
                self.put_away(t, v, arriving)

    def ship(self, t: int, v: int) -> None:
        """(3) v ships to the locations that requested, rationing when short."""
        self._note(t, v, "available", self.on_hand[v], add=False)
        requesters = self.net["children_of"][v]  # by decreasing priority, ties by index
        if not requesters:
            return
        requests = {c: self.requests[c] for c in requesters}
        total = 0.0
        for c in requesters:
            total += requests[c]
        available = self.on_hand[v]
        if total <= available:
            shipments = requests
        elif self.net["rationing"] == kernels.PRIORITY:
            shipments, left = {}, available
            for c in requesters:
                given = min(requests[c], left) if requests[c] > 0.0 else 0.0
                shipments[c] = given
                left -= given
        else:
            shipments = self.fair_share(available, total, requesters, requests)
        for c in requesters:
            units = shipments[c]
            if units > 0.0:
                self.on_hand[v] -= units
                self.location_sums[v]["shipped_units"] += units
                self._note(t, v, "shipped", units)
                self.dispatch(t, c, units)

    @staticmethod
    def fair_share(available: float, total: float, requesters: list[int],
                   requests: dict[int, float]) -> dict[int, float]:
        """floor(W r / R) each, then one more unit to the largest remainders (ties by index)."""
        whole = float(np.floor(available))
        shipments = {c: float(np.floor(whole * requests[c] / total)) if requests[c] > 0.0
                     else 0.0 for c in requesters}
        handed = 0.0
        for c in requesters:
            if requests[c] > 0.0:
                handed += shipments[c]
        remainders = {c: whole * requests[c] - shipments[c] * total for c in requesters
                      if requests[c] > 0.0}
        ranked = sorted((c for c in remainders if remainders[c] > 0.0),
                        key=lambda c: (-remainders[c], c))
        for c in ranked[:max(int(whole - handed), 0)]:
            shipments[c] = min(shipments[c] + 1.0, requests[c])
        return shipments

    def review(self, t: int, v: int) -> None:
        """(2) At a review, v requests S - position when its position is at or below s."""
        if t % self.net["review_period"][v]:
            return
        position = self.on_hand[v] + self.on_order[v] - self.owed[v]
        if position > self.net["reorder_point"][self.k][v]:
            return
        units = self.net["order_up_to"][self.k][v] - position
        if units <= 0.0:
            return
        self.requests[v] = units
        self.location_sums[v]["orders"] += 1.0
        self.location_sums[v]["ordered_units"] += units
        self._note(t, v, "requested", units, add=False)
        if self.net["source"][v] < 0:           # the supplier ships up to its limit
            shipped = min(units, self.net["supply_limit"][self.k][v])
            if shipped > 0.0:
                self.dispatch(t, v, shipped)

    def meet_demand(self, t: int, demand: dict[int, float]) -> None:
        """(4) Streams in serving order, spilling over; (5) their shortage charges."""
        for s in self.streams:
            demanded = demand[s]
            served = 0.0
            for v in self.net["locations_of"][s]:
                if served >= demanded:
                    break
                taken = min(self.on_hand[v], demanded - served)
                if taken > 0.0:
                    self.on_hand[v] -= taken
                    served += taken
                    self.location_sums[v]["served_units"] += taken
                    self.served_from[(t, s, v)] = taken
                    self._note(t, v, "served", taken)
            unmet = demanded - served
            sums = self.stream_sums[s]
            sums["demand"] += demanded
            sums["served"] += served
            lost = 0.0
            backorders = self.net["backorders"][s]
            if unmet > 0.0:
                sums["stockout_periods"] += 1.0
                if backorders:
                    self.backlog[s] += unmet
                    self.owed[self.net["locations_of"][s][0]] += unmet
                else:
                    lost = unmet
                    sums["lost"] += unmet
            short = self.backlog[s] if backorders else lost
            sums["shortage_cost"] += self.net["shortage_cost"][s] * short
            if backorders:
                sums["backorders"] += self.backlog[s]
            record = self.stream_record.setdefault((t, s), {})
            record.update(demand=demanded, served=served, unmet=unmet, lost=lost,
                          end_backorders=self.backlog[s])

    def charge(self, t: int) -> None:
        """(5) Holding cost on the end-of-period stock."""
        for v, units in enumerate(self.on_hand):
            sums = self.location_sums[v]
            sums["on_hand"] += units
            sums["holding_cost"] += self.net["holding_cost"][self.k][v] * units
            self._note(t, v, "end_on_hand", units, add=False)
            self._note(t, v, "end_backorders", self.owed[v], add=False)
            self._note(t, v, "end_in_transit", self.on_order[v], add=False)

    def close(self) -> None:
        """End-of-horizon state."""
        for v, sums in enumerate(self.location_sums):
            sums["end_on_hand"] = self.on_hand[v]
            sums["end_in_transit"] = self.on_order[v]
            sums["end_backorders"] = self.owed[v]
        for s in self.streams:
            self.stream_sums[s]["end_backorders"] = self.backlog[s]


def _leaves_first(source: list[int]) -> list[int]:
    """Locations by decreasing depth in the forest (any leaves-to-roots order would do)."""
    def depth(v: int) -> int:
        return 0 if source[v] < 0 else 1 + depth(source[v])
    return sorted(range(len(source)), key=lambda v: -depth(v))


def simulate_skus_reference(sku_start, sku_stop, rationing, source, location_order,
                            children_ptr, children, lead_time_cdf, fixed_lead_time,
                            reorder_point, order_up_to, holding_cost, order_cost,
                            review_period, supply_limit, on_hand, inbound, lead_key,
                            sku_stream_ptr, stream_ptr, stream_locations,
                            serving_order, backorders, shortage_cost, demand, demand_offset,
                            stream_out, location_out, location_trajectory, stream_trajectory,
                            served_from):
    """`network_kernels.simulate_skus` in plain Python (same arguments, same outputs).

    ``location_order`` and ``fixed_lead_time`` are not used: the reference finds its own
    leaves-to-roots order and recognises one-point pmfs from ``lead_time_cdf``.
    """
    del location_order, fixed_lead_time
    source = source.tolist()
    cdf = lead_time_cdf.tolist()
    pmf = [[level - (row[i - 1] if i else 0.0) for i, level in enumerate(row)] for row in cdf]
    net = {
        "rationing": int(rationing), "source": source, "lead_time_pmf": pmf,
        "lead_time_cdf": cdf, "lead_key": [int(key) for key in lead_key],
        "children_of": [children[children_ptr[v]:children_ptr[v + 1]].tolist()
                        for v in range(len(source))],
        "reorder_point": reorder_point.tolist(), "order_up_to": order_up_to.tolist(),
        "holding_cost": holding_cost.tolist(), "order_cost": order_cost.tolist(),
        "review_period": review_period.tolist(), "supply_limit": supply_limit.tolist(),
        "on_hand": on_hand.tolist(), "inbound": inbound.tolist(),
        "locations_of": [stream_locations[stream_ptr[s]:stream_ptr[s + 1]].tolist()
                         for s in range(len(backorders))],
        "backorders": backorders.tolist(), "shortage_cost": shortage_cost.tolist(),
        "streams": [serving_order[sku_stream_ptr[k]:sku_stream_ptr[k + 1]].tolist()
                    for k in range(len(lead_key))],
    }
    order = _leaves_first(source)
    _, samples, periods = demand.shape
    record = location_trajectory.shape[0] > 0
    location_fields = {name: i for i, name in enumerate(kernels.LOCATION_FIELDS)}
    stream_fields = {name: i for i, name in enumerate(kernels.STREAM_FIELDS)}
    for k in range(sku_start, sku_stop):
        for sample in range(samples):
            sku = _Sku(net, k, sample, periods)
            for t in range(periods):
                sku.arrive(t)
                for v in order:
                    sku.ship(t, v)
                    sku.review(t, v)
                sku.meet_demand(t, {s: float(demand[s - demand_offset, sample, t])
                                    for s in sku.streams})
                sku.charge(t)
            sku.close()
            for v, sums in enumerate(sku.location_sums):
                location_out[k, v, sample] = [sums[name] for name in kernels.LOCATION_STATISTICS]
            for s in sku.streams:
                stream_out[s, sample] = [sku.stream_sums[s][name]
                                         for name in kernels.STREAM_STATISTICS]
            if record:
                for (t, v), values in sku.location_record.items():
                    for name, value in values.items():
                        location_trajectory[k, sample, t, v, location_fields[name]] = value
                for (t, s), values in sku.stream_record.items():
                    for name, value in values.items():
                        stream_trajectory[s, sample, t, stream_fields[name]] = value
                for (t, s, v), value in sku.served_from.items():
                    served_from[s, sample, t, v] = value


def simulate_network_reference(arrays: NetworkArrays, **arguments) -> NetworkSimulation:
    """`engine.simulation.simulate_network` with the plain-Python reference in place of the
    kernel (same arguments, same seeding and demand draws; ``execution`` is ignored: one
    thread)."""
    run = _simulate_network_iv(arrays, **{"demand": None, "demand_mean": None,
                                          "demand_variance": None, "demand_family": None,
                                          "demand_level_variance": None,
                                          "rationing": "priority", "execution": "serial",
                                          "chunk_skus": None, "record_trajectory": False,
                                          **arguments})
    run.pop("execution")
    return _simulate(arrays, simulate_skus_reference, **run)
