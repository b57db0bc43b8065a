"""Where an order line may ship from, and in which order the locations are tried.

Computed once per plan from the network (static, read-only):

- **eligible locations** of a (channel, region): the ``fulfilment`` rules of the run's network;
- **delivery route** of a location to a region: a location in the region delivers locally
  (lead time 0, cost 0); any other location reaches the region's warehouse (an RDC of the
  region; for a region without one, any of its locations) along the network's lanes, by the
  route with the shortest total lead time and, among those, the lowest total cost per unit
  (Floyd-Warshall over the lanes, lexicographic on (lead time, cost)); without such a route
  the lead time and cost are infinite;
- **rank** of the eligible locations of a (channel, region), best first: (1) in the customer's
  region before elsewhere, (2) shorter delivery lead time, (3) lower delivery cost per unit,
  (4) the preference order of `engine.network` (the channel's own pool, an RDC in the
  region, another RDC, a DC, another pool), (5) the order of the ``locations`` table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.orders.rundir import RunData, readonly

OWN_POOL, LOCAL_RDC, OTHER_RDC, DC, OTHER = range(5)
"""Preference scores of `engine.network.primary_location` (lower is preferred)."""


@dataclass(frozen=True)
class Routes:
    """Ranked eligible locations of every (channel, region), row ``channel * n_regions + region``.

    Attributes
    ----------
    location : numpy.ndarray of int, shape (n_channels * n_regions, width)
        Location positions, best first, padded with -1.
    count : numpy.ndarray of int, shape (n_channels * n_regions,)
        Number of eligible locations.
    lead_time : numpy.ndarray, shape like ``location``
        Delivery lead time to the region, periods (NaN in the padding).
    cost_per_unit : numpy.ndarray, shape like ``location``
        Delivery cost per unit to the region, money per unit (NaN in the padding).
    reason : numpy.ndarray of str, shape like ``location``
        Why the location is where it is in the order ("choice 1 of 2 for tmall in east: ...").
    rank : numpy.ndarray of int, shape (n_channels * n_regions, n_locations)
        Position of each location in its row of ``location``; -1 where not eligible.
    """

    location: np.ndarray
    count: np.ndarray
    lead_time: np.ndarray
    cost_per_unit: np.ndarray
    reason: np.ndarray
    rank: np.ndarray

    @property
    def width(self) -> int:
        return int(self.location.shape[1])


def lane_routes(data: RunData) -> tuple[np.ndarray, np.ndarray]:
    """Shortest (lead time, then cost) route between every two locations over the lanes.

    Returns
    -------
    lead_time, cost : numpy.ndarray, shape (n_locations, n_locations)
        Periods and money per unit from row to column; 0 on the diagonal, ``inf`` without a
        route.
    """
    n = len(data.locations)
    lead = np.full((n, n), np.inf)
    cost = np.full((n, n), np.inf)
    np.fill_diagonal(lead, 0.0)
    np.fill_diagonal(cost, 0.0)
    # parallel lanes: assign the worst first so the best (lead time, then cost) wins
    order = np.lexsort((-data.lane_cost, -data.lane_lead_time))
    for e in order:
        o, d = data.lane_origin[e], data.lane_destination[e]
        if o != d and (data.lane_lead_time[e], data.lane_cost[e]) < (lead[o, d], cost[o, d]):
            lead[o, d], cost[o, d] = data.lane_lead_time[e], data.lane_cost[e]
    for k in range(n):
        via_lead = lead[:, k, None] + lead[None, k, :]
        via_cost = cost[:, k, None] + cost[None, k, :]
        better = (via_lead < lead) | ((via_lead == lead) & (via_cost < cost))
        lead = np.where(better, via_lead, lead)
        cost = np.where(better, via_cost, cost)
    return lead, cost


def delivery(data: RunData) -> tuple[np.ndarray, np.ndarray]:
    """Delivery lead time and cost per unit from every location to every region.

    Returns
    -------
    lead_time, cost : numpy.ndarray, shape (n_locations, n_regions)
    """
    lead, cost = lane_routes(data)
    region = data.location_region
    rdc = data.location_kind == "rdc"
    out_lead = np.empty((len(data.locations), len(data.regions)))
    out_cost = np.empty_like(out_lead)
    for r in range(len(data.regions)):
        inside = region == r
        warehouse = np.flatnonzero(inside & rdc)
        if not len(warehouse):
            warehouse = np.flatnonzero(inside)
        to_lead = lead[:, warehouse]
        best = to_lead.min(axis=1)
        best_cost = np.where(to_lead == best[:, None], cost[:, warehouse], np.inf).min(axis=1)
        out_lead[:, r] = np.where(inside, 0.0, best)
        out_cost[:, r] = np.where(inside, 0.0, best_cost)
    return out_lead, out_cost


def preference(data: RunData) -> np.ndarray:
    """`engine.network`'s preference score of location l for (channel c, region r), (c, r, l)."""
    kind = data.location_kind
    own = (kind == "pool")[None, :] & (data.location_owner[None, :]
                                       == np.arange(len(data.channels))[:, None])
    local_rdc = (kind == "rdc")[None, :] & (data.location_region[None, :]
                                            == np.arange(len(data.regions))[:, None])
    score = np.full((len(data.channels), len(data.regions), len(kind)), OTHER, dtype=np.int64)
    score = np.where((kind == "dc")[None, None, :], DC, score)
    score = np.where((kind == "rdc")[None, None, :], OTHER_RDC, score)
    score = np.where(local_rdc[None, :, :], LOCAL_RDC, score)
    return np.where(own[:, None, :], OWN_POOL, score)


def rank_locations(data: RunData) -> Routes:
    """The ranked eligible locations of every (channel, region) (module docstring)."""
    n_r = len(data.regions)
    n_cr = len(data.channels) * n_r
    lead, cost = delivery(data)
    score = preference(data)
    channel, region, location = np.nonzero(data.eligible)
    cr = channel * n_r + region
    elsewhere = data.location_region[location] != region
    pair_lead, pair_cost = lead[location, region], cost[location, region]
    order = np.lexsort((location, score[channel, region, location], pair_cost, pair_lead,
                        elsewhere, cr))
    channel, region, location, cr = channel[order], region[order], location[order], cr[order]
    elsewhere, pair_lead, pair_cost = elsewhere[order], pair_lead[order], pair_cost[order]
    count = np.bincount(cr, minlength=n_cr)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    rank = np.arange(len(cr)) - first[cr]
    width = max(int(count.max()) if len(count) else 0, 1)

    out_location = np.full((n_cr, width), -1, dtype=np.int64)
    out_lead = np.full((n_cr, width), np.nan)
    out_cost = np.full((n_cr, width), np.nan)
    out_reason = np.full((n_cr, width), "", dtype=object)
    out_location[cr, rank] = location
    out_lead[cr, rank] = pair_lead
    out_cost[cr, rank] = pair_cost
    names = data.locations.labels
    regions = data.regions.labels
    channels = data.channels.labels
    own = score[channel, region, location] == OWN_POOL
    for i in range(len(cr)):
        where = names[location[i]]
        to = regions[region[i]]
        if not elsewhere[i]:
            why = f"{where} is in {to}" + (f", {channels[channel[i]]}'s own pool" if own[i]
                                           else "")
        elif np.isfinite(pair_lead[i]):
            periods = "period" if pair_lead[i] == 1 else "periods"
            why = (f"{where} ({regions[data.location_region[location[i]]]}) reaches {to}'s "
                   f"warehouse in {pair_lead[i]:g} {periods} at {pair_cost[i]:g} per unit")
        else:
            why = f"{where} has no lane route to {to}'s warehouse"
        out_reason[cr[i], rank[i]] = (f"choice {rank[i] + 1} of {count[cr[i]]} for "
                                      f"{channels[channel[i]]} in {to}: {why}")
    rank_of = np.full((n_cr, len(names)), -1, dtype=np.int64)
    rank_of[cr, location] = rank
    return Routes(readonly(out_location), readonly(count), readonly(out_lead),
                  readonly(out_cost), readonly(out_reason), readonly(rank_of))
