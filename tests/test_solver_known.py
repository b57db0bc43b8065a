"""Known answers of the deployment LP: small networks solved by hand, on every backend.

Each case documents its marginal analysis: the net gain of one more unit in each use (stream
segment value minus lane cost, penalties avoided, holding saved), taken in order of gain until
the stock, a lane or a location runs out. Holding costs equal at every location only add the
constant -h x (total units). Shadow prices are checked where the optimum is non-degenerate, so
that the dual is unique and every backend must agree. CBC reports values to about 8
significant digits (PuLP reads them from its solution file), hence the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from solvers import DeploymentProblem, SolveStatus, solve_deployment

BACKENDS = ["highs", "pulp"]
TOLERANCE = 1e-7


@dataclass
class Case:
    problem: DeploymentProblem
    objective: float
    moves: dict[tuple[int, int], float]  # (sku, lane) -> units
    position: list[list[float]]
    allocation: list[float] | None = None
    location_price: dict[int, float] = field(default_factory=dict)
    lane_price: dict[int, float] = field(default_factory=dict)


def dc_and_two_warehouses(**changes) -> DeploymentProblem:
    """DC 0 with 10 units; lanes 0->1 (cost 1) and 0->2 (cost 2); holding 0.1 everywhere.

    Stream 0 draws on warehouse 1: 4 units at 10, then 10 at 3. Stream 1 draws on warehouse 2:
    5 units at 8, then 10 at 0.5. Net gain per unit: warehouse 1 9 then 2; warehouse 2 6 then
    -1.5 (not worth moving).
    """
    data = dict(n_skus=1, n_locations=3, lane_origin=[0, 0], lane_destination=[1, 2],
                lane_cost=[1.0, 2.0], on_hand=[[10.0, 0.0, 0.0]], stream_sku=[0, 0],
                pair_stream=[0, 1], pair_location=[1, 2],
                segment_width=[[4.0, 10.0], [5.0, 10.0]],
                segment_value=[[10.0, 3.0], [8.0, 0.5]], holding_cost=0.1)
    return DeploymentProblem(**(data | changes))


def store_with_targets(**changes) -> DeploymentProblem:
    """DC 0 with 5 units, store 1 with none; lane 0->1 costs 1; no demand streams."""
    data = dict(n_skus=1, n_locations=2, lane_origin=[0], lane_destination=[1],
                lane_cost=[1.0], on_hand=[[5.0, 0.0]], stream_sku=np.zeros(0, dtype=int),
                pair_stream=np.zeros(0, dtype=int), pair_location=np.zeros(0, dtype=int),
                segment_width=np.zeros((0, 1)), segment_value=np.zeros((0, 1)))
    return DeploymentProblem(**(data | changes))


def dc_or_warehouse(lane_cost: float) -> DeploymentProblem:
    """DC 0 with 10 units, warehouse 1 with none; lane 0->1; holding 0.1 everywhere. Stream 0
    may draw on both: 3 units at 10, then 10 at 0; a unit served from the DC costs 2.5 more
    (fulfilment cost), from the warehouse nothing. Net gain of a unit for the stream: 7.5 from
    the DC, 10 - lane cost from the warehouse."""
    return DeploymentProblem(
        n_skus=1, n_locations=2, lane_origin=[0], lane_destination=[1], lane_cost=[lane_cost],
        on_hand=[[10.0, 0.0]], stream_sku=[0], pair_stream=[0, 0], pair_location=[0, 1],
        segment_width=[[3.0, 10.0]], segment_value=[[10.0, 0.0]], holding_cost=0.1,
        fulfilment_cost=[2.5, 0.0])


CASES = {
    # lane cost 1: moving 3 units to the warehouse gains 9 each against 7.5 served from the DC;
    # holding 0.1 x 10 units
    "fulfilment: send forward": Case(dc_or_warehouse(1.0), 3 * 9 - 1.0, {(0, 0): 3},
                                     [[7, 3]], allocation=[0, 3]),
    # lane cost 3: serving from the DC (7.5) beats moving (7); nothing moves
    "fulfilment: serve from the dc": Case(dc_or_warehouse(3.0), 3 * 7.5 - 1.0, {},
                                          [[10, 0]], allocation=[3, 0]),
    # 4 units at 9 (warehouse 1), 5 at 6 (warehouse 2), the last at 2 (warehouse 1):
    # 36 + 30 + 2 = 68, minus holding 0.1 x 10 units.
    "deploy": Case(dc_and_two_warehouses(), 68 - 1.0, {(0, 0): 5, (0, 1): 5},
                   [[0, 5, 5]], [5, 5]),
    # lane 0 carries 3: 3 at 9 + 5 at 6 = 57; 2 units stay at the DC (warehouse 2's second
    # segment loses 1.5). One more unit of lane 0 earns 9.
    "lane capacity": Case(dc_and_two_warehouses(lane_capacity=[3.0, np.inf]), 57 - 1.0,
                          {(0, 0): 3, (0, 1): 5}, [[2, 3, 5]], [3, 5], lane_price={0: 9.0}),
    # warehouse 2 holds 4: 4 at 9 + 4 at 6 + the last 2 at 2 in warehouse 1 = 64. One more
    # unit of room at warehouse 2 earns 6 there and gives up 2 at warehouse 1: 4.
    "location capacity": Case(dc_and_two_warehouses(location_capacity=[np.inf, np.inf, 4.0]),
                              64 - 1.0, {(0, 0): 6, (0, 1): 4}, [[0, 6, 4]], [6, 4],
                              location_price={2: 4.0}),
    # warehouse 0 with 6 units serves its stream (2 at 5) and sends 3 to warehouse 1 for its
    # stream (3 at 4 - 1); the sixth unit stays: 10 + 9.
    "rebalance": Case(DeploymentProblem(
        n_skus=1, n_locations=2, lane_origin=[0, 1], lane_destination=[1, 0],
        lane_cost=[1.0, 1.0], on_hand=[[6.0, 0.0]], stream_sku=[0, 0], pair_stream=[0, 1],
        pair_location=[0, 1], segment_width=[[2.0], [3.0]], segment_value=[[5.0], [4.0]]),
        19.0, {(0, 0): 3}, [[3, 3]], [2, 3]),
    # holding 3 at warehouse 0 and 1 at warehouse 1, a move costs 1: moving saves 1 per unit.
    "holding": Case(DeploymentProblem(
        n_skus=1, n_locations=2, lane_origin=[0, 1], lane_destination=[1, 0],
        lane_cost=[1.0, 1.0], on_hand=[[4.0, 0.0]], stream_sku=np.zeros(0, dtype=int),
        pair_stream=np.zeros(0, dtype=int), pair_location=np.zeros(0, dtype=int),
        segment_width=np.zeros((0, 2)), segment_value=np.zeros((0, 2)),
        holding_cost=[[3.0, 1.0]]), -4 * 1.0 - 4 * 1.0, {(0, 0): 4}, [[0, 4]]),
    # only stock on hand moves: the DC's units could reach warehouse 2 only through
    # warehouse 1 (no relaying tonight), and warehouse 1's 3 units are inbound. Warehouse 1's
    # stream (1 unit at 2) is served by inbound stock; nothing moves.
    "no relaying": Case(DeploymentProblem(
        n_skus=1, n_locations=3, lane_origin=[0, 1], lane_destination=[1, 2],
        lane_cost=[1.0, 1.0], on_hand=[[5.0, 0.0, 0.0]], inbound=[[0.0, 3.0, 0.0]],
        stream_sku=[0, 0], pair_stream=[0, 1], pair_location=[2, 1],
        segment_width=[[10.0], [1.0]], segment_value=[[10.0], [2.0]]),
        2.0, {}, [[5, 3, 0]], [0, 1]),
    # a stream eligible at two locations takes both locations' stock where it is; moving
    # would only cost.
    "two eligible locations": Case(DeploymentProblem(
        n_skus=1, n_locations=2, lane_origin=[0], lane_destination=[1], lane_cost=[0.5],
        on_hand=[[3.0, 2.0]], stream_sku=[0], pair_stream=[0, 0], pair_location=[0, 1],
        segment_width=[[10.0]], segment_value=[[1.0]]), 5.0, {}, [[3, 2]], [3, 2]),
    # safety stock 3 at the store, penalty 2 a unit: each unit moved saves 2 and costs 1.
    "safety stock": Case(store_with_targets(safety_stock=[[0.0, 3.0]],
                                            shortfall_penalty=[[0.0, 2.0]]),
                         -3 * 1.0, {(0, 0): 3}, [[2, 3]]),
    # penalty 0.5 < lane cost 1: better to pay the shortfall 3 x 0.5.
    "safety stock not worth a move": Case(
        store_with_targets(safety_stock=[[0.0, 3.0]], shortfall_penalty=[[0.0, 0.5]]),
        -1.5, {}, [[5, 0]]),
    # presentation 2 (penalty 4) and safety 3 (penalty 0.5): the first 2 units save 4.5 for a
    # cost of 1; the third saves 0.5 only. Left: 1 unit short of safety stock, 2 moves.
    "presentation stock": Case(
        store_with_targets(safety_stock=[[0.0, 3.0]], shortfall_penalty=[[0.0, 0.5]],
                           min_presentation=[[0.0, 2.0]], presentation_penalty=[[0.0, 4.0]]),
        -0.5 - 2.0, {(0, 0): 2}, [[3, 2]]),
    # one location with 10 units, two streams: a earns 5, b earns 1 but has a fair share of
    # 4 with penalty 6: b's first 4 units earn 7 > 5, then a takes the rest: 4 + 30.
    "fair share": Case(DeploymentProblem(
        n_skus=1, n_locations=1, lane_origin=np.zeros(0, dtype=int),
        lane_destination=np.zeros(0, dtype=int), lane_cost=np.zeros(0), on_hand=[[10.0]],
        stream_sku=[0, 0], pair_stream=[0, 1], pair_location=[0, 0],
        segment_width=[[10.0], [10.0]], segment_value=[[5.0], [1.0]],
        fair_share_floor=[0.0, 4.0], fair_share_penalty=[0.0, 6.0]), 34.0, {}, [[10]], [6, 4]),
    # two SKUs share lane 0 (5 units a night): SKU 1 nets 7 - 1 = 6 a unit, SKU 0 nets 3; the
    # lane goes to SKU 1, and one more unit of it would carry SKU 0 for 3.
    "shared lane": Case(DeploymentProblem(
        n_skus=2, n_locations=2, lane_origin=[0], lane_destination=[1], lane_cost=[1.0],
        lane_capacity=[5.0], on_hand=[[5.0, 0.0], [5.0, 0.0]], stream_sku=[0, 1],
        pair_stream=[0, 1], pair_location=[1, 1], segment_width=[[10.0], [10.0]],
        segment_value=[[4.0], [7.0]]), 30.0, {(1, 0): 5}, [[5, 0], [0, 5]], [0, 5],
        lane_price={0: 3.0}),
    # warehouse 1 holds 10 volume units; SKU 0 (volume 1) nets 3 a unit = 3 per volume, SKU 1
    # (volume 3) nets 6 a unit = 2 per volume: all 5 of SKU 0 (15), then 5/3 units of SKU 1
    # (10). A continuous plan: fractional units are the LP relaxation.
    "shared location": Case(DeploymentProblem(
        n_skus=2, n_locations=2, lane_origin=[0], lane_destination=[1], lane_cost=[1.0],
        unit_volume=[1.0, 3.0], location_capacity=[np.inf, 10.0],
        on_hand=[[5.0, 0.0], [5.0, 0.0]], stream_sku=[0, 1], pair_stream=[0, 1],
        pair_location=[1, 1], segment_width=[[10.0], [10.0]], segment_value=[[4.0], [7.0]]),
        25.0, {(0, 0): 5, (1, 0): 5 / 3}, [[0, 5], [10 / 3, 5 / 3]], [5, 5 / 3],
        location_price={1: 2.0}),
    # warehouse 0 holds 6 but its capacity is 4. "no_growth": it may stay overfull; moving
    # only costs.
    "overfull, no growth": Case(DeploymentProblem(
        n_skus=1, n_locations=2, lane_origin=[0], lane_destination=[1], lane_cost=[1.0],
        location_capacity=[4.0, np.inf], on_hand=[[6.0, 0.0]],
        stream_sku=np.zeros(0, dtype=int), pair_stream=np.zeros(0, dtype=int),
        pair_location=np.zeros(0, dtype=int), segment_width=np.zeros((0, 1)),
        segment_value=np.zeros((0, 1))), 0.0, {}, [[6, 0]]),
    # "strict": it must shed 2 at 1 each; one more unit of capacity saves a move.
    "overfull, strict": Case(DeploymentProblem(
        n_skus=1, n_locations=2, lane_origin=[0], lane_destination=[1], lane_cost=[1.0],
        location_capacity=[4.0, np.inf], on_hand=[[6.0, 0.0]],
        stream_sku=np.zeros(0, dtype=int), pair_stream=np.zeros(0, dtype=int),
        pair_location=np.zeros(0, dtype=int), segment_width=np.zeros((0, 1)),
        segment_value=np.zeros((0, 1)), capacity_rule="strict"), -2.0, {(0, 0): 2},
        [[4, 2]], location_price={0: 1.0}),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", CASES)
def test_known_answer(name, backend):
    case = CASES[name]
    result = solve_deployment(case.problem, backend=backend)
    assert result.status is SolveStatus.OPTIMAL and result.success
    assert result.diagnosis == ""
    assert result.objective == pytest.approx(case.objective, rel=TOLERANCE, abs=TOLERANCE)
    moves = {(int(k), int(e)): q for k, e, q in zip(result.move_sku, result.move_lane,
                                                   result.move_quantity, strict=True)}
    assert moves.keys() == case.moves.keys()
    for key, quantity in case.moves.items():
        assert moves[key] == pytest.approx(quantity, rel=TOLERANCE)
    np.testing.assert_allclose(result.position, case.position, atol=TOLERANCE)
    if case.allocation is not None:
        np.testing.assert_allclose(result.allocation, case.allocation, atol=TOLERANCE)
    location_price = np.zeros(case.problem.n_locations)
    location_price[list(case.location_price)] = list(case.location_price.values())
    np.testing.assert_allclose(result.location_shadow_price, location_price, atol=TOLERANCE)
    lane_price = np.zeros(case.problem.n_lanes)
    lane_price[list(case.lane_price)] = list(case.lane_price.values())
    np.testing.assert_allclose(result.lane_shadow_price, lane_price, atol=TOLERANCE)


@pytest.mark.parametrize("backend", BACKENDS)
def test_chunks_give_the_known_answers_of_the_skus_solved_alone(backend):
    """The 'deploy' network for three SKUs (10, 20 and 5 units at the DC), streams listed out
    of SKU order, solved in chunks of one SKU; both warehouses' first segments are 4 wide."""
    base = dc_and_two_warehouses()
    skus = 3
    problem = DeploymentProblem(
        n_skus=skus, n_locations=3, lane_origin=base.lane_origin,
        lane_destination=base.lane_destination, lane_cost=base.lane_cost,
        on_hand=np.repeat(base.on_hand, skus, axis=0) * [[1.0], [2.0], [0.5]],
        stream_sku=[2, 0, 1, 0, 2, 1], pair_stream=[0, 1, 2, 3, 4, 5],
        pair_location=[1, 1, 1, 2, 2, 2], segment_width=np.tile([[4.0, 10.0]], (6, 1)),
        segment_value=[[10, 3], [10, 3], [10, 3], [8, 0.5], [8, 0.5], [8, 0.5]],
        holding_cost=0.1)
    result = solve_deployment(problem, backend=backend, chunk_skus=1)
    assert result.status is SolveStatus.OPTIMAL and result.chunks == skus
    # SKU 0, 10 units: 4 at 9 (warehouse 1), 4 at 6 (warehouse 2), 2 at 2 (warehouse 1).
    # SKU 1, 20 units: 4 at 9, 4 at 6, 10 at 2 (warehouse 1's second segment is 10 wide);
    # the last 2 stay (warehouse 2's second segment loses 1.5).
    # SKU 2, 5 units: 4 at 9, 1 at 6. Holding 0.1 on every unit.
    expected = (36 + 24 + 4 - 1.0) + (36 + 24 + 20 - 2.0) + (36 + 6 - 0.5)
    assert result.objective == pytest.approx(expected, rel=TOLERANCE)
    np.testing.assert_allclose(result.position, [[0, 6, 4], [2, 14, 4], [0, 4, 1]],
                               atol=TOLERANCE)
