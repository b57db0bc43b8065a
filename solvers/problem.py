"""The data of one night's deployment and transfer problem, validated once.

`DeploymentProblem` holds plain numpy arrays: the network (locations, lanes), the stock (on hand,
inbound), the demand streams with the locations each may draw from and the value of stock to
each stream, and the soft targets (safety stock, presentation stock, fair share). The model it
feeds is written out in `solvers.deployment`.

Index conventions: SKUs are ``0 .. n_skus - 1``, locations ``0 .. n_locations - 1``, lanes are
the positions in ``lane_origin``, streams the positions in ``stream_sku``, eligibility pairs the
positions in ``pair_stream`` and segments the columns of ``segment_width``. Every SKU x location
array has shape ``(n_skus, n_locations)`` (or is a scalar, broadcast); there is no other
broadcasting, so a per-SKU vector can never be mistaken for a per-location one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike

from models.checks import index_array, numbers_array, whole

CapacityRule = Literal["no_growth", "strict"]
"""How a location's volume capacity C_l binds (see `solvers.deployment`, *Location capacity*).

``"no_growth"``: vol . p[:, l] <= max(C_l, vol . (on_hand + inbound)[:, l]); a location already
over capacity may not grow tonight but is not forced to shed, so capacity never makes the plan
infeasible. ``"strict"``: vol . p[:, l] <= C_l; an overfull location must shed tonight, and the
problem is INFEASIBLE when it cannot.
"""

CAPACITY_RULES: tuple[str, ...] = get_args(CapacityRule)

#: Relative tolerance of the concavity check on ``segment_value`` (rounding noise only).
CONCAVITY_TOLERANCE = 1e-12


@dataclass(frozen=True, eq=False, kw_only=True)
class DeploymentProblem:
    """One night's deployment and transfer LP data; validated when built, then read-only.

    Every argument is keyword-only. Units: stock and moves in units of the SKU, volume in the
    unit of ``unit_volume`` and ``location_capacity`` (e.g. m^3), money in any one currency.
    The *coverage horizon* is the window the plan serves (e.g. the next review period plus the
    lead time); holding costs, inbound stock and stream values all refer to it.

    Parameters
    ----------
    n_skus : int
        Number of SKUs K >= 0.
    n_locations : int
        Number of locations L >= 1 (DC, regional warehouses, channel pools).
    lane_origin, lane_destination : array_like of int, shape (n_lanes,)
        Lane e moves stock from location ``lane_origin[e]`` to ``lane_destination[e]`` (different
        locations; several lanes may join the same two locations, e.g. two carriers).
    lane_cost : array_like, shape (n_lanes,)
        Cost c_e >= 0 per unit moved along lane e.
    on_hand : array_like, shape (n_skus, n_locations)
        Stock on hand now, units >= 0; only this stock may move tonight.
    stream_sku : array_like of int, shape (n_streams,)
        The SKU of each demand stream s (a stream is one sku x channel x region).
    pair_stream, pair_location : array_like of int, shape (n_pairs,)
        Eligibility pairs: stream ``pair_stream[i]`` may draw on stock at location
        ``pair_location[i]`` (the channel's fulfilment rules). Pairs are unique.
    segment_width : array_like, shape (n_streams, n_segments)
        Width w_sb >= 0 of segment b of stream s's value curve, units (``inf`` allowed, for a
        last open-ended segment). Zero-width segments pad curves of fewer segments.
    segment_value : array_like, shape (n_streams, n_segments)
        Value r_sb per unit allocated to stream s within segment b; non-increasing along the
        segments (a concave curve), any sign. The engine uses the newsvendor marginal value
        margin x P(demand over the horizon > units already allocated).
    lane_capacity : array_like, shape (n_lanes,), default inf
        Capacity U_e >= 0 of lane e, units per night over all SKUs (``inf``: none).
    unit_volume : array_like, shape (n_skus,), default 1
        Volume vol_k >= 0 of one unit of SKU k.
    location_capacity : array_like, shape (n_locations,), default inf
        Volume capacity C_l >= 0 of location l (``inf``: none); see ``capacity_rule``.
    holding_cost : array_like, shape (n_skus, n_locations), default 0
        Cost h_kl >= 0 per unit of post-move stock held over the coverage horizon.
    inbound : array_like, shape (n_skus, n_locations), default 0
        Units >= 0 arriving within the coverage horizon: available to the streams, but they
        cannot move tonight.
    safety_stock : array_like, shape (n_skus, n_locations), default 0
        Safety stock SS_kl >= 0, units.
    shortfall_penalty : array_like, shape (n_skus, n_locations), default 0
        Penalty pi_kl >= 0 per unit that post-move stock falls short of ``safety_stock`` (the
        engine weights it by channel priority).
    min_presentation : array_like, shape (n_skus, n_locations), default 0
        Minimum presentation stock MP_kl >= 0 of a store, units (soft).
    presentation_penalty : array_like, shape (n_skus, n_locations), default 0
        Penalty rho_kl >= 0 per unit that post-move stock falls short of ``min_presentation``.
    fair_share_floor : array_like, shape (n_streams,), default 0
        Fair share F_s >= 0 of stream s, units: a soft lower bound on what it is allocated (the
        engine sets it proportional to demand when stock is short).
    fair_share_penalty : array_like, shape (n_streams,), default 0
        Penalty phi_s >= 0 per unit that stream s's allocation falls short of its fair share.
    fulfilment_cost : array_like, shape (n_pairs,), default 0
        Cost f_i >= 0 per unit of stream ``pair_stream[i]``'s demand served from location
        ``pair_location[i]`` (a parcel sent from a DC costs more than one from the regional
        warehouse): a stream eligible at two locations is not indifferent between them.
    capacity_rule : {"no_growth", "strict"}, default "no_growth"
        How location capacity binds when stock already exceeds it (`CapacityRule`).
    periods : int, default 1
        Periods C >= 1 of the coverage horizon. With 1, the one-period model of
        `solvers.deployment` (no time index; lane lead times are ignored). With C > 1, the
        time-phased model of `solvers.phased`: moves arrive after their lane's lead time,
        inbound stock on its date, streams are valued per period, and holding costs are per
        period.
    lane_lead_time : array_like of int, shape (n_lanes,), default 0
        Periods L_e >= 0 from dispatch on lane e to arrival (time-phased model only). Lanes
        with L_e >= C are not offered: their stock would arrive after the horizon.
    later_lanes : array_like of bool, shape (n_lanes,), default True
        Lanes the time-phased model may plan moves on after tonight (tonight every offered
        lane may move stock); e.g. only the replenishment lanes, to keep the LP small.
    period_width, period_value : array_like, shape (n_streams, periods, n_segments), optional
        The time-phased model's value curves, one per stream and period t: segments of the
        stream's cumulative demand over periods 0..t, with the value of a unit on each
        (non-increasing along the segments). Required when ``periods`` > 1; ``segment_width``
        and ``segment_value`` then describe the whole horizon's curve (used to order rounding).

    inbound_schedule : array_like, shape (n_skus, n_locations, periods), optional
        The units arriving at the start of each period. ``inbound`` is then
        its sum over the periods (give either, or both when they agree); without it, all of
        ``inbound`` arrives at period 0. ``holding_cost`` is per unit and *period* in the
        time-phased model.

    Every number array but ``on_hand`` and the segment arrays may also be given as a scalar,
    broadcast to its shape; no other broadcasting is done.

    Attributes
    ----------
    n_lanes, n_streams, n_pairs, n_segments : int
        Sizes taken from the arrays.
    capacity_limit : numpy.ndarray, shape (n_locations,)
        Right-hand side of each location's capacity row after ``capacity_rule``, volume.
    capacity_binds : numpy.ndarray of bool, shape (n_locations,)
        Locations whose capacity can bind: the limit is below the largest volume the location
        could hold after tonight's moves (its own stock plus all on-hand stock at the origins
        of its inbound lanes). Other capacity rows are left out of the LP: they can never bind.
    lane_binds : numpy.ndarray of bool, shape (n_lanes,)
        Lanes whose capacity is below the on-hand stock of all SKUs at their origin.
    offered_lanes : numpy.ndarray of bool, shape (n_lanes,)
        Lanes that can carry stock within the horizon: all of them in the one-period model,
        those with ``lane_lead_time`` < ``periods`` in the time-phased model.
    coupled : bool
        Whether any capacity row can bind; such a row ties SKUs together, so the problem must
        be solved as one LP rather than in SKU chunks.

    Raises
    ------
    TypeError
        If a count is not an integer, an index array not integer, or a number array not
        numeric.
    ValueError
        If a shape is wrong, a value is out of range, an index points outside its range, a
        lane joins a location to itself, an eligibility pair is repeated, ``segment_value``
        increases along the segments of a stream, or ``capacity_rule`` is unknown. The message
        names the argument and the first offending index.
    """

    n_skus: int
    n_locations: int
    lane_origin: ArrayLike
    lane_destination: ArrayLike
    lane_cost: ArrayLike
    on_hand: ArrayLike
    stream_sku: ArrayLike
    pair_stream: ArrayLike
    pair_location: ArrayLike
    segment_width: ArrayLike
    segment_value: ArrayLike
    lane_capacity: ArrayLike = np.inf
    unit_volume: ArrayLike = 1.0
    location_capacity: ArrayLike = np.inf
    holding_cost: ArrayLike = 0.0
    inbound: ArrayLike = 0.0
    safety_stock: ArrayLike = 0.0
    shortfall_penalty: ArrayLike = 0.0
    min_presentation: ArrayLike = 0.0
    presentation_penalty: ArrayLike = 0.0
    fair_share_floor: ArrayLike = 0.0
    fair_share_penalty: ArrayLike = 0.0
    fulfilment_cost: ArrayLike = 0.0
    capacity_rule: CapacityRule = "no_growth"
    periods: int = 1
    lane_lead_time: ArrayLike = 0
    later_lanes: ArrayLike = True
    period_width: ArrayLike | None = None
    period_value: ArrayLike | None = None
    inbound_schedule: ArrayLike | None = None

    offered_lanes: np.ndarray = field(init=False, repr=False)
    capacity_limit: np.ndarray = field(init=False, repr=False)
    capacity_binds: np.ndarray = field(init=False, repr=False)
    lane_binds: np.ndarray = field(init=False, repr=False)
    # streams and pairs packed by SKU once (statsforecast's GroupedArray): the streams of SKUs
    # k0..k1-1 are stream_order[stream_indptr[k0]:stream_indptr[k1]], likewise for pairs
    _stream_order: np.ndarray = field(init=False, repr=False)
    _stream_indptr: np.ndarray = field(init=False, repr=False)
    _stream_rank: np.ndarray = field(init=False, repr=False)
    _pair_order: np.ndarray = field(init=False, repr=False)
    _pair_indptr: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name, value in _deployment_problem_iv(self).items():
            object.__setattr__(self, name, value)

    @property
    def n_lanes(self) -> int:
        return int(self.lane_origin.size)

    @property
    def n_streams(self) -> int:
        return int(self.stream_sku.size)

    @property
    def n_pairs(self) -> int:
        return int(self.pair_stream.size)

    @property
    def n_segments(self) -> int:
        return int(self.segment_width.shape[1])

    @property
    def phased(self) -> bool:
        """Whether this is the time-phased model (``periods`` > 1)."""
        return self.periods > 1

    @property
    def coupled(self) -> bool:
        return bool(self.capacity_binds.any() or self.lane_binds.any())

    def streams_of(self, first_sku: int, stop_sku: int) -> np.ndarray:
        """Indices of the streams of SKUs ``first_sku .. stop_sku - 1``, ordered by SKU."""
        indptr = self._stream_indptr
        return self._stream_order[indptr[first_sku]:indptr[stop_sku]]

    def pairs_of(self, first_sku: int, stop_sku: int) -> np.ndarray:
        """Indices of the pairs of SKUs ``first_sku .. stop_sku - 1``, by SKU, stream, location."""
        indptr = self._pair_indptr
        return self._pair_order[indptr[first_sku]:indptr[stop_sku]]

    def stream_position(self, stream: np.ndarray, first_sku: int = 0) -> np.ndarray:
        """Position of each stream in ``streams_of(first_sku, ...)`` (streams of later SKUs)."""
        return self._stream_rank[stream] - self._stream_indptr[first_sku]


def _deployment_problem_iv(problem: DeploymentProblem) -> dict[str, object]:
    """Validate every field of ``problem``; return the normalised and derived fields."""
    skus = whole(problem.n_skus, "n_skus", minimum=0)
    locations = whole(problem.n_locations, "n_locations", minimum=1)
    out: dict[str, object] = {"n_skus": skus, "n_locations": locations}

    origin = index_array(problem.lane_origin, "lane_origin", None, upper=locations,
                         what="location", upper_text="n_locations")
    lanes = origin.size
    destination = index_array(problem.lane_destination, "lane_destination", lanes,
                              upper=locations, what="location", upper_text="n_locations")
    loops = origin == destination
    if loops.any():
        lane = int(np.flatnonzero(loops)[0])
        raise ValueError(f"lane_destination must differ from lane_origin (a lane joins two "
                         f"locations); found lane {lane} from location {int(origin[lane])} to "
                         f"itself")
    out |= {"lane_origin": origin, "lane_destination": destination}

    by_kind = {
        "sku_location": ((skus, locations), "(n_skus, n_locations)"),
        "lane": ((lanes,), "(n_lanes,)"),
        "sku": ((skus,), "(n_skus,)"),
        "location": ((locations,), "(n_locations,)"),
    }
    number_fields = [("lane_cost", "lane", False), ("lane_capacity", "lane", True),
                     ("unit_volume", "sku", False), ("location_capacity", "location", True),
                     ("on_hand", "sku_location", False), ("inbound", "sku_location", False),
                     ("holding_cost", "sku_location", False),
                     ("safety_stock", "sku_location", False),
                     ("shortfall_penalty", "sku_location", False),
                     ("min_presentation", "sku_location", False),
                     ("presentation_penalty", "sku_location", False)]
    periods = whole(problem.periods, "periods", minimum=1)
    out["periods"] = periods
    for name, kind, allow_inf in number_fields:
        shape, text = by_kind[kind]
        out[name] = numbers_array(getattr(problem, name), name, shape, shape_text=text,
                                  allow_inf=allow_inf, scalar=name != "on_hand")

    stream_sku = index_array(problem.stream_sku, "stream_sku", None, upper=skus, what="SKU",
                             upper_text="n_skus")
    streams = stream_sku.size
    pair_stream = index_array(problem.pair_stream, "pair_stream", None, upper=streams,
                              what="stream", upper_text="n_streams")
    pair_location = index_array(problem.pair_location, "pair_location", pair_stream.size,
                                upper=locations, what="location", upper_text="n_locations")
    key = pair_stream * locations + pair_location
    unique, first, counts = np.unique(key, return_index=True, return_counts=True)
    if (counts > 1).any():
        repeated = int(np.flatnonzero(counts > 1)[0])
        again = int(np.flatnonzero(key == unique[repeated])[1])
        raise ValueError(f"pair_stream and pair_location must name each (stream, location) "
                         f"pair once; found stream {int(pair_stream[again])} at location "
                         f"{int(pair_location[again])} at indices {int(first[repeated])} "
                         f"and {again}")
    out |= {"stream_sku": stream_sku, "pair_stream": pair_stream, "pair_location": pair_location}
    out["fulfilment_cost"] = numbers_array(problem.fulfilment_cost, "fulfilment_cost",
                                           (pair_stream.size,), shape_text="(n_pairs,)")

    width = np.asarray(problem.segment_width)
    if width.ndim != 2 or width.shape[0] != streams or width.shape[1] < 1:
        raise ValueError(f"segment_width must have shape (n_streams, n_segments) with "
                         f"n_streams = {streams} and n_segments >= 1; found shape {width.shape}")
    segment_shape = (streams, width.shape[1])
    text = "(n_streams, n_segments)"
    out["segment_width"] = numbers_array(width, "segment_width", segment_shape, shape_text=text,
                                         allow_inf=True, scalar=False)
    value = numbers_array(problem.segment_value, "segment_value", segment_shape,
                          shape_text=text, low=-np.inf, scalar=False)
    rise = np.diff(value, axis=1)
    scale = np.maximum(1.0, np.abs(value[:, 1:]))
    concave = rise <= CONCAVITY_TOLERANCE * scale
    if not concave.all():
        stream, segment = (int(i) for i in np.argwhere(~concave)[0])
        raise ValueError(f"segment_value must be non-increasing along the segments of each "
                         f"stream (a concave value curve); found stream {stream} rising from "
                         f"{float(value[stream, segment])!r} in segment {segment} to "
                         f"{float(value[stream, segment + 1])!r} in segment {segment + 1}")
    out["segment_value"] = value
    out |= _time_phase(problem, out, periods, streams)
    for name in ("fair_share_floor", "fair_share_penalty"):
        out[name] = numbers_array(getattr(problem, name), name, (streams,),
                                  shape_text="(n_streams,)")

    rule = problem.capacity_rule
    if rule not in CAPACITY_RULES:
        raise ValueError(f"capacity_rule must be one of {CAPACITY_RULES}; found {rule!r}")

    out |= _capacity_rows(out, rule)
    out |= _packing(stream_sku, pair_stream, pair_location, skus)
    return out


def _concave(value: np.ndarray, name: str) -> None:
    """Raise unless ``value`` is non-increasing along its last axis (up to rounding noise)."""
    rise = np.diff(value, axis=-1)
    scale = np.maximum(1.0, np.abs(value[..., 1:]))
    concave = rise <= CONCAVITY_TOLERANCE * scale
    if not concave.all():
        where = tuple(int(i) for i in np.argwhere(~concave)[0])
        *curve, segment = where
        raise ValueError(f"{name} must be non-increasing along the segments of each curve (a "
                         f"concave value curve); found curve {tuple(curve)} rising from "
                         f"{float(value[where])!r} in segment {segment} to "
                         f"{float(value[(*curve, segment + 1)])!r} in segment {segment + 1}")


def _time_phase(problem: DeploymentProblem, fields: dict[str, object], periods: int,
                streams: int) -> dict[str, np.ndarray]:
    """The inbound schedule, lane lead times, offered lanes and per-period value curves."""
    skus, locations = fields["n_skus"], fields["n_locations"]
    lanes = fields["lane_origin"].size
    out: dict[str, object] = {}
    if problem.inbound_schedule is None:
        schedule = np.zeros((skus, locations, periods))
        schedule[:, :, 0] = fields["inbound"]
    else:
        schedule = numbers_array(problem.inbound_schedule, "inbound_schedule",
                                 (skus, locations, periods),
                                 shape_text="(n_skus, n_locations, periods)", scalar=False)
        total = schedule.sum(axis=2)
        given = fields["inbound"]
        if given.any() and not np.allclose(given, total, rtol=1e-12, atol=1e-9):
            k, at = (int(i) for i in np.argwhere(~np.isclose(given, total, rtol=1e-12,
                                                              atol=1e-9))[0])
            raise ValueError(f"inbound must be inbound_schedule summed over the periods; found "
                             f"{float(given[k, at])!r} against {float(total[k, at])!r} at SKU "
                             f"{k}, location {at}")
        out["inbound"] = total
    out["inbound_schedule"] = schedule
    lead = np.broadcast_to(np.asarray(problem.lane_lead_time), (lanes,)) \
        if np.ndim(problem.lane_lead_time) == 0 else problem.lane_lead_time
    lead = index_array(lead, "lane_lead_time", lanes, upper=np.iinfo(np.int64).max,
                       what="lead time", upper_text="2**63")
    out["lane_lead_time"] = lead
    later = np.broadcast_to(np.asarray(problem.later_lanes), (lanes,)) \
        if np.ndim(problem.later_lanes) == 0 else np.asarray(problem.later_lanes)
    if later.dtype != bool or later.shape != (lanes,):
        raise ValueError(f"later_lanes must be booleans of shape (n_lanes,) = ({lanes},) or "
                         f"one boolean; found {later.dtype} of shape {later.shape}")
    out["later_lanes"] = later.copy()
    out["offered_lanes"] = lead < periods if periods > 1 else np.ones(lanes, dtype=bool)
    if periods == 1:
        if problem.period_width is not None or problem.period_value is not None:
            raise ValueError("period_width and period_value belong to the time-phased model: "
                             "give them only with periods > 1")
    else:
        if problem.period_width is None or problem.period_value is None:
            raise ValueError(f"period_width and period_value are required with periods > 1; "
                             f"found periods = {periods} without them")
        width = np.asarray(problem.period_width)
        segments = width.shape[-1] if width.ndim == 3 else 0
        shape = (streams, periods, max(segments, 1))
        text = "(n_streams, periods, n_segments)"
        out["period_width"] = numbers_array(width, "period_width", shape, shape_text=text,
                                            allow_inf=True, scalar=False)
        value = numbers_array(problem.period_value, "period_value", shape, shape_text=text,
                              low=-np.inf, scalar=False)
        _concave(value, "period_value")
        out["period_value"] = value
    for array in out.values():
        array.flags.writeable = False
    return out


def _capacity_rows(fields: dict[str, object], rule: str) -> dict[str, np.ndarray]:
    """The effective capacity limits and which capacity rows can bind (see the class doc)."""
    on_hand, inbound = fields["on_hand"], fields["inbound"]
    volume, capacity = fields["unit_volume"], fields["location_capacity"]
    origin, destination = fields["lane_origin"], fields["lane_destination"]
    locations = capacity.size
    held = volume @ (on_hand + inbound)  # volume per location if nothing moves
    limit = capacity if rule == "strict" else np.maximum(capacity, held)
    reaches = np.zeros((locations, locations))
    reaches[origin, destination] = 1.0  # one entry per (origin, destination), however many lanes
    largest = held + volume @ (on_hand @ reaches)
    lane_supply = on_hand.sum(axis=0)[origin]  # all on-hand stock at the lane's origin
    if fields["periods"] > 1:   # later moves relay stock that arrives: all of it may pass
        lane_supply = np.full(origin.size, float((on_hand + inbound).sum()))
    rows = {"capacity_limit": limit, "capacity_binds": limit < largest,
            "lane_binds": fields["lane_capacity"] < lane_supply}
    for array in rows.values():
        array.flags.writeable = False
    return rows


def _packing(stream_sku, pair_stream, pair_location, skus: int) -> dict[str, np.ndarray]:
    """Streams and pairs sorted by SKU, with offsets per SKU (see `DeploymentProblem`)."""
    stream_order = np.argsort(stream_sku, kind="stable")
    stream_rank = np.empty_like(stream_order)
    stream_rank[stream_order] = np.arange(stream_order.size)
    pair_order = np.lexsort((pair_location, stream_rank[pair_stream],
                             stream_sku[pair_stream]))
    stream_indptr = np.concatenate([[0], np.cumsum(np.bincount(stream_sku, minlength=skus))])
    pair_indptr = np.concatenate(
        [[0], np.cumsum(np.bincount(stream_sku[pair_stream], minlength=skus))])
    packed = {"_stream_order": stream_order, "_stream_indptr": stream_indptr,
              "_stream_rank": stream_rank, "_pair_order": pair_order,
              "_pair_indptr": pair_indptr}
    for array in packed.values():
        array.flags.writeable = False
    return packed
