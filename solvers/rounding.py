"""Round an LP deployment plan to whole packs and whole units, keeping it feasible.

The LP relaxation moves and allocates fractions of a unit. `round_plan` turns an optimal
`DeploymentResult` into whole packs moved and whole units allocated, vectorised over all moves
and pairs (sorts and grouped cumulative sums, no Python loop):

1. **Moves down.** Every move is floored to whole packs of its SKU. The floored moves are then
   granted in order of size (largest first) while the origin's stock on hand and the lane's
   capacity last, which only bites on solver noise: it makes the guarantee exact.
2. **Moves up, by largest remainder.** For each SKU and origin, the LP's fractional packs add up
   to some number of packs; that many extra packs, rounded to the nearest whole, go to the
   moves with the largest fractional parts (Hamilton's largest-remainder method: at an LP
   vertex the moves in use all have zero reduced cost, so the remainders, not the costs, say
   which moves the LP wanted most). An extra pack is granted only while the origin's remaining
   stock on hand, the lane's remaining capacity and the destination's remaining volume capacity
   (under the problem's capacity rule) last.
3. **Allocation.** Post-move stock follows from the rounded moves, and each SKU x location offers
   its whole units, floor(p). Allocations are floored to whole units and granted in order of the
   stream's marginal value (the value of the segment holding its last allocated unit, highest
   first) while those units last; then, by largest remainder, the pairs with the largest
   fractional parts get one more unit each, as many as the group's remainders add up to
   (rounded), while units last and no stream gets more than its LP total rounded (nor more
   than its value curve is wide).

Guarantees: moves are whole packs along the lanes of the LP plan; no location ships more than it
holds on hand; no lane carries more than its capacity; every allocation is a whole number of
units at an eligible location, and each SKU x location allocates at most its post-move stock.
Rounding a move down leaves its units at the origin, so a location the LP emptied to make room
(for arrivals, or to shed stock under ``capacity_rule="strict"``) can end up to one pack per
lane out above its capacity limit; extra packs never push a destination over. Soft targets
(safety and presentation stock, fair shares) are not re-optimised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from models.checks import numbers_array
from solvers.deployment import DeploymentResult, _position
from solvers.lp import SolveStatus
from solvers.problem import DeploymentProblem

#: Solver noise tolerated when flooring: 2.9999999 units count as 3.
FLOOR_TOLERANCE = 1e-6


@dataclass(frozen=True, eq=False)
class RoundedPlan:
    """A deployment plan in whole packs and whole units; the arrays are read-only.

    Attributes
    ----------
    move_sku, move_lane : numpy.ndarray of int64, shape (n_moves,)
        SKU and lane of each move, ordered by SKU then lane; only positive moves.
    move_quantity : numpy.ndarray of float64, shape (n_moves,)
        Units moved: a positive whole number of packs of the SKU.
    allocation : numpy.ndarray of float64, shape (n_pairs,)
        Whole units ring-fenced per eligibility pair, in the order of the problem's pairs.
    position : numpy.ndarray of float64, shape (n_skus, n_locations)
        Post-move stock after the rounded moves, units.
    """

    move_sku: np.ndarray
    move_lane: np.ndarray
    move_quantity: np.ndarray
    allocation: np.ndarray
    position: np.ndarray

    def __post_init__(self) -> None:
        for array in (self.move_sku, self.move_lane, self.move_quantity, self.allocation,
                      self.position):
            array.flags.writeable = False


def round_plan(problem: DeploymentProblem, result: DeploymentResult, *,
               pack_size: ArrayLike = 1) -> RoundedPlan:
    """Round an optimal LP plan to whole packs moved and whole units allocated.

    Parameters
    ----------
    problem : DeploymentProblem
        The problem ``result`` solves.
    result : DeploymentResult
        An OPTIMAL result of `solve_deployment` for ``problem``.
    pack_size : array_like, shape (n_skus,) or scalar, default 1
        Units per pack of each SKU, a whole number >= 1: moves are whole packs.

    Returns
    -------
    RoundedPlan
        Whole-pack moves, whole-unit allocations and the post-move stock (method and
        guarantees in `solvers.rounding`).

    Raises
    ------
    TypeError
        If ``problem`` or ``result`` has the wrong type, or ``pack_size`` is not numeric.
    ValueError
        If ``result`` is not OPTIMAL or does not fit ``problem``, or ``pack_size`` is not a
        whole number >= 1 per SKU.
    """
    pack = _round_plan_iv(problem, result, pack_size)
    sku, lane, quantity = _round_moves(problem, result, pack)
    position = _position(problem, sku, lane, quantity)
    allocation = _round_allocation(problem, result, position)
    return RoundedPlan(move_sku=sku, move_lane=lane, move_quantity=quantity,
                       allocation=allocation, position=position)


def _round_plan_iv(problem, result, pack_size) -> np.ndarray:
    if not isinstance(problem, DeploymentProblem):
        raise TypeError(f"problem must be a DeploymentProblem; found {type(problem).__name__}")
    if not isinstance(result, DeploymentResult):
        raise TypeError(f"result must be a DeploymentResult; found {type(result).__name__}")
    if result.status is not SolveStatus.OPTIMAL:
        raise ValueError(f"result must be an OPTIMAL plan to round; found status "
                         f"{result.status.name}")
    if (result.allocation.size != problem.n_pairs
            or result.position.shape != (problem.n_skus, problem.n_locations)
            or (result.move_lane.size and result.move_lane.max() >= problem.n_lanes)):
        raise ValueError("result must be the solution of problem; found a result of another "
                         f"shape (allocation {result.allocation.shape}, position "
                         f"{result.position.shape})")
    pack = numbers_array(pack_size, "pack_size", (problem.n_skus,), shape_text="(n_skus,)",
                         low=1.0)
    fractional = pack != np.floor(pack)
    if fractional.any():
        first = int(np.flatnonzero(fractional)[0])
        raise ValueError(f"pack_size must hold whole numbers >= 1; found {float(pack[first])!r} at "
                         f"index {first}")
    return pack


def _order(group: np.ndarray, *priorities: np.ndarray) -> np.ndarray:
    """The permutation sorting items by group, then by each priority, highest first."""
    return np.lexsort(tuple(-priority for priority in reversed(priorities)) + (group,))


def _group_start(ordered_group: np.ndarray) -> np.ndarray:
    """For items sorted by group: the position of the first item of each item's group."""
    starts = np.flatnonzero(np.r_[True, ordered_group[1:] != ordered_group[:-1]])
    return np.repeat(starts, np.diff(np.r_[starts, ordered_group.size]))


def _rank(group: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Rank of each item within its group in ``order`` (0 for the first)."""
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = np.arange(group.size) - _group_start(group[order])
    return rank


def _greedy(group: np.ndarray, request: np.ndarray, capacity: np.ndarray, order: np.ndarray,
            *, weight: np.ndarray | None = None, step: np.ndarray | None = None) -> np.ndarray:
    """Grant requests in ``order`` (see `_order`) while each group's capacity lasts.

    Item i gets min(request_i, room_i), room_i = (capacity[group_i] - the weighted requests of
    the items of its group before it) / weight_i, floored to whole multiples of ``step_i`` and
    at least 0 (weight 0: no limit). Once an item is cut short the later items of its group
    get nothing, so no group's grants exceed its capacity.
    """
    weight = np.ones(request.size) if weight is None else weight
    ordered_request, ordered_weight = request[order], weight[order]
    weighted = ordered_request * ordered_weight
    before = np.cumsum(weighted) - weighted
    ordered_group = group[order]
    before -= before[_group_start(ordered_group)]
    left = capacity[ordered_group] - before
    room = np.full(request.size, np.inf)
    limited = ordered_weight > 0
    room[limited] = left[limited] / ordered_weight[limited]
    if step is not None:
        finite = np.isfinite(room)
        ordered_step = step[order][finite]
        room[finite] = np.floor(room[finite] / ordered_step) * ordered_step
    granted = np.empty(request.size)
    granted[order] = np.clip(room, 0.0, ordered_request)
    return granted


def _round_moves(problem: DeploymentProblem, result: DeploymentResult, pack: np.ndarray):
    """Whole-pack moves: floor, then extra packs by largest remainder (module docstring)."""
    locations = problem.n_locations
    sku, lane = result.move_sku, result.move_lane
    destination = problem.lane_destination[lane]
    pack_of = pack[sku]
    packs = result.move_quantity / pack_of
    whole = np.floor(packs + FLOOR_TOLERANCE)
    remainder = np.maximum(packs - whole, 0.0)
    source = sku * locations + problem.lane_origin[lane]  # group: SKU at its origin
    stock = problem.on_hand.ravel()

    base = whole * pack_of
    base = _greedy(source, base, stock, _order(source, base), step=pack_of)
    base = _greedy(lane, base, problem.lane_capacity, _order(lane, base), step=pack_of)

    # extra packs: round(sum of remainders) per SKU and origin, largest remainders first
    wanted = np.floor(np.bincount(source, weights=remainder, minlength=stock.size) + 0.5)
    by_remainder = _order(source, remainder)
    extra = np.where((remainder > FLOOR_TOLERANCE) & (_rank(source, by_remainder)
                                                      < wanted[source]), pack_of, 0.0)
    shipped = np.bincount(source, weights=base, minlength=stock.size)
    extra = _greedy(source, extra, stock - shipped, by_remainder, step=pack_of)
    carried = np.bincount(lane, weights=base, minlength=problem.n_lanes)
    extra = _greedy(lane, extra, problem.lane_capacity - carried, _order(lane, remainder),
                    step=pack_of)
    held = problem.unit_volume @ _position(problem, sku, lane, base)  # volume after `base`
    extra = _greedy(destination, extra, problem.capacity_limit - held,
                    _order(destination, remainder), weight=problem.unit_volume[sku],
                    step=pack_of)

    quantity = base + extra
    moved = quantity > 0
    return sku[moved], lane[moved], quantity[moved]


def _round_allocation(problem: DeploymentProblem, result: DeploymentResult,
                      position: np.ndarray) -> np.ndarray:
    """Whole-unit allocations within floor(post-move stock) (module docstring, step 3)."""
    target = result.allocation
    stream = problem.pair_stream
    place = problem.stream_sku[stream] * problem.n_locations + problem.pair_location
    units = np.floor(position.ravel())  # whole units per SKU x location

    # the value of the segment holding each stream's last allocated unit
    total = np.bincount(stream, weights=target, minlength=problem.n_streams)
    filled = np.cumsum(problem.segment_width, axis=1) < total[:, None] - FLOOR_TOLERANCE
    segment = np.minimum(filled.sum(axis=1), problem.n_segments - 1)
    marginal = problem.segment_value[np.arange(problem.n_streams), segment][stream]

    whole = np.floor(target + FLOOR_TOLERANCE)
    base = _greedy(place, whole, units, _order(place, marginal))
    remainder = np.maximum(target - whole, 0.0)
    wanted = np.floor(np.bincount(place, weights=remainder, minlength=units.size) + 0.5)
    by_remainder = _order(place, remainder, marginal)  # ties: the more valuable stream
    extra = np.where((remainder > FLOOR_TOLERANCE)
                     & (_rank(place, by_remainder) < wanted[place]), 1.0, 0.0)
    left = units - np.bincount(place, weights=base, minlength=units.size)
    extra = _greedy(place, extra, left, by_remainder)
    # nor more per stream than the LP's total rounded (and its value curve's width)
    cap = np.minimum(np.floor(total + 0.5),
                     np.floor(problem.segment_width.sum(axis=1) + FLOOR_TOLERANCE))
    room = cap - np.bincount(stream, weights=base, minlength=problem.n_streams)
    return base + _greedy(stream, extra, room, _order(stream, remainder, marginal))
