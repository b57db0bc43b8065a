"""The deployment LP as sparse matrices, built with whole-array numpy operations.

`build_deployment_lp` turns a `DeploymentProblem` (or a contiguous range of its SKUs) into a
`LinearProgram` in HiGHS form (maximise c x + offset s.t. row_lower <= A x <= row_upper,
col_lower <= x <= col_upper; A sparse CSC): the one-period model (a problem with
``periods`` > 1 gets the time-phased model of `solvers.phased`). The model is written out in
`solvers.deployment`; this module fixes where each variable and constraint lives. There is no
Python loop over SKUs, locations, lanes or streams: every block is a handful of array
operations, and the loop below runs over the eight row blocks.

Notation as in `solvers.deployment`: p0 = on_hand + inbound is the stock if nothing moves, and
"in - out" is sum_{e into l} x[k,e] - sum_{e out of l} x[k,e], so p = p0 + in - out.

**Column blocks**, in this order; within a block, columns are ordered as stated. Each block's
``keys`` give, per column, the indices it stands for (SKU and stream indices are global):

- ``move`` x[k,e] [sku, lane], one per SKU k and lane e whose origin holds k on hand, by SKU
  then lane (the other moves are 0 anyway);
- ``allocation`` y[s,l] [pair, sku, stream, location], one per eligibility pair, by SKU,
  stream, location;
- ``fill`` z[s,b] [stream, segment], one per stream and segment of positive width, by SKU,
  stream, segment;
- ``safety`` u[k,l] [sku, location], one per SKU x location with pi[k,l] > 0 whose stock can
  end below safety stock (SS[k,l] > the least possible p[k,l]), by SKU, location;
- ``presentation`` v[k,l] [sku, location], likewise with rho[k,l] and MP[k,l];
- ``fair_share`` g[s] [stream], one per stream with F_s > 0 and phi_s > 0, by SKU, stream.

The least possible post-move stock is inbound[k,l], plus on_hand[k,l] where no lane leaves l.
Bounds: 0 <= x[k,e] <= on_hand[k, origin(e)]; 0 <= z[s,b] <= w[s,b]; the others >= 0. (Lane
capacity stays a row, not a column bound, so that its dual is the lane's shadow price.)

**Row blocks**, in this order; rows within a block are ordered by SKU, then location (or by
stream, location or lane); the keys of each row are in brackets:

- ``outflow`` [sku, location], one per SKU x location with stock on hand and a lane out:
  sum_{e out of l} x[k,e] <= on_hand[k,l]
- ``stock`` [sku, location], one per SKU x location in an eligibility pair:
  sum_{s of k} y[s,l] - (in - out) <= p0[k,l]
- ``stream`` [stream], one per stream: sum_l y[s,l] - sum_b z[s,b] = 0
- ``location_capacity`` [location], one per location whose capacity can bind:
  sum_k vol_k (in - out) <= limit_l - sum_k vol_k p0[k,l]
- ``lane_capacity`` [lane], one per lane whose capacity can bind: sum_k x[k,e] <= U_e
- ``safety`` [sku, location], one per safety column: u[k,l] + (in - out) >= SS[k,l] - p0[k,l]
- ``presentation`` [sku, location], one per presentation column:
  v[k,l] + (in - out) >= MP[k,l] - p0[k,l]
- ``fair_share`` [stream], one per fair_share column: g[s] + sum_l y[s,l] >= F_s

Stock rows for SKU x locations without a pair are left out: they read 0 <= p, which always
holds (p >= inbound >= 0). Capacity rows that can never bind are left out
(`DeploymentProblem.capacity_binds`, `DeploymentProblem.lane_binds`); ``limit_l`` follows the
problem's `CapacityRule`.

**Objective** (maximised): r[s,b] on z[s,b]; -(c_e + h[k, destination(e)] - h[k, origin(e)]) on
x[k,e] (holding on p, expanded); -pi[k,l] on u, -rho[k,l] on v, -phi_s on g; offset
-sum_kl h[k,l] p0[k,l].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from solvers.lp import LinearProgram
from solvers.problem import DeploymentProblem

COLUMN_BLOCKS = ("move", "allocation", "fill", "safety", "presentation", "fair_share")
ROW_BLOCKS = ("outflow", "stock", "stream", "location_capacity", "lane_capacity", "safety",
              "presentation", "fair_share")


@dataclass(frozen=True, eq=False)
class LPBlock:
    """A contiguous block of columns or rows of the deployment LP.

    Attributes
    ----------
    start, stop : int
        The block is columns (rows) ``start .. stop - 1``.
    keys : dict of str to numpy.ndarray
        Per column (row) of the block, the indices it stands for: ``sku``, ``location``,
        ``lane``, ``stream``, ``segment`` or ``pair`` (see `solvers.formulation`).
    """

    start: int
    stop: int
    keys: dict[str, np.ndarray]

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True, eq=False)
class DeploymentLP:
    """The deployment LP of SKUs ``first_sku .. stop_sku - 1``.

    Attributes
    ----------
    program : LinearProgram
        The LP (maximised).
    first_sku, stop_sku : int
        The SKU range it covers.
    columns, rows : dict of str to LPBlock
        The column blocks (`COLUMN_BLOCKS`) and row blocks (`ROW_BLOCKS`), each with its
        offsets and keys; every block is present, possibly empty.
    """

    program: LinearProgram
    first_sku: int
    stop_sku: int
    columns: dict[str, LPBlock]
    rows: dict[str, LPBlock]


def build_deployment_lp(problem: DeploymentProblem, *, skus: slice | None = None
                        ) -> DeploymentLP:
    """Build the deployment LP of ``problem``, or of a contiguous range of its SKUs.

    Parameters
    ----------
    problem : DeploymentProblem
        The validated problem.
    skus : slice, optional
        A contiguous SKU range ``slice(first, stop)`` (step 1); all SKUs by default. A part of
        the SKUs is only allowed when no capacity row couples them (``problem.coupled`` is
        false): the LP of a range is then exactly that range's part of the whole LP.

    Returns
    -------
    DeploymentLP
        The program with its column and row blocks (see the module docstring).

    Raises
    ------
    TypeError
        If ``problem`` is not a `DeploymentProblem` or ``skus`` not a slice.
    ValueError
        If ``skus`` has a step other than 1 or selects part of a coupled problem.
    """
    first, stop = _build_deployment_lp_iv(problem, skus)
    return _build(problem, first, stop)


def _build_deployment_lp_iv(problem, skus) -> tuple[int, int]:
    if not isinstance(problem, DeploymentProblem):
        raise TypeError(f"problem must be a DeploymentProblem; found {type(problem).__name__}")
    if skus is None:
        return 0, problem.n_skus
    if not isinstance(skus, slice):
        raise TypeError(f"skus must be a slice of SKU indices; found {type(skus).__name__}")
    first, stop, step = skus.indices(problem.n_skus)
    if step != 1:
        raise ValueError(f"skus must be a contiguous range (step 1); found step {step}")
    stop = max(first, stop)
    if problem.coupled and (first, stop) != (0, problem.n_skus):
        raise ValueError("skus must select all SKUs when capacity rows couple them "
                         "(problem.coupled); found a part "
                         f"slice({first}, {stop}) of {problem.n_skus} SKUs")
    return first, stop


class _Blocks:
    """Collects blocks of columns or rows, their offsets and keys."""

    def __init__(self) -> None:
        self.size = 0
        self.blocks: dict[str, LPBlock] = {}

    def add(self, name: str, count: int, **keys: np.ndarray) -> int:
        start = self.size
        self.size += count
        self.blocks[name] = LPBlock(start, self.size, keys)
        return start


def _position_terms(row_of: np.ndarray, move_into: np.ndarray, move_out_of: np.ndarray,
                    move_column: np.ndarray, weight: np.ndarray | float = 1.0):
    """Entries of weight x (in - out) in the rows ``row_of`` (flat SKU x location, -1: none).

    ``move_into`` and ``move_out_of`` are the flat SKU x location indices of each move's
    destination and origin.
    """
    weight = np.broadcast_to(weight, move_column.shape)
    into = row_of[move_into]
    out_of = row_of[move_out_of]
    keep_in, keep_out = into >= 0, out_of >= 0
    return (np.concatenate([into[keep_in], out_of[keep_out]]),
            np.concatenate([move_column[keep_in], move_column[keep_out]]),
            np.concatenate([weight[keep_in], -weight[keep_out]]))


def _lookup(shape: tuple[int, ...], index: tuple[np.ndarray, ...]) -> np.ndarray:
    """An int array of ``shape`` holding the row number at ``index`` and -1 elsewhere."""
    table = np.full(shape, -1, dtype=np.int64)
    table[index] = np.arange(index[0].size)
    return table


def _build(problem: DeploymentProblem, first: int, stop: int) -> DeploymentLP:
    if problem.phased:  # the time-phased model (imported here: it builds on this module)
        from solvers.phased import build_phased_lp
        return build_phased_lp(problem, first, stop)
    skus, locations = stop - first, problem.n_locations
    on_hand = problem.on_hand[first:stop]
    inbound = problem.inbound[first:stop]
    held = on_hand + inbound  # p0
    holding = problem.holding_cost[first:stop]
    origin, destination = problem.lane_origin, problem.lane_destination
    has_lane_out = np.bincount(origin, minlength=locations) > 0
    least = inbound + on_hand * ~has_lane_out  # the least possible post-move stock

    # -- columns ----------------------------------------------------------------------------
    move_sku, move_lane = np.nonzero(on_hand[:, origin] > 0)  # local SKU, lane
    move_origin, move_destination = origin[move_lane], destination[move_lane]
    pairs = problem.pairs_of(first, stop)
    pair_stream = problem.pair_stream[pairs]
    pair_location = problem.pair_location[pairs]
    pair_sku = problem.stream_sku[pair_stream] - first
    pair_position = problem.stream_position(pair_stream, first)  # local stream index
    streams = problem.streams_of(first, stop)
    width = problem.segment_width[streams]
    fill_position, fill_segment = np.nonzero(width > 0)
    safety = np.nonzero((problem.safety_stock[first:stop] > least)
                        & (problem.shortfall_penalty[first:stop] > 0))
    presentation = np.nonzero((problem.min_presentation[first:stop] > least)
                              & (problem.presentation_penalty[first:stop] > 0))
    (fair_position,) = np.nonzero((problem.fair_share_floor[streams] > 0)
                                  & (problem.fair_share_penalty[streams] > 0))

    columns = _Blocks()
    move = columns.add("move", move_sku.size, sku=move_sku + first, lane=move_lane)
    allocation = columns.add("allocation", pairs.size, pair=pairs, sku=pair_sku + first,
                             stream=pair_stream, location=pair_location)
    fill = columns.add("fill", fill_position.size, stream=streams[fill_position],
                       segment=fill_segment)
    safety_start = columns.add("safety", safety[0].size, sku=safety[0] + first,
                               location=safety[1])
    presentation_start = columns.add("presentation", presentation[0].size,
                                     sku=presentation[0] + first, location=presentation[1])
    fair_start = columns.add("fair_share", fair_position.size, stream=streams[fair_position])
    move_column = move + np.arange(move_sku.size)
    allocation_column = allocation + np.arange(pairs.size)

    objective = np.concatenate([
        -(problem.lane_cost[move_lane] + holding[move_sku, move_destination]
          - holding[move_sku, move_origin]),
        -problem.fulfilment_cost[pairs],
        problem.segment_value[streams[fill_position], fill_segment],
        -problem.shortfall_penalty[first:stop][safety],
        -problem.presentation_penalty[first:stop][presentation],
        -problem.fair_share_penalty[streams[fair_position]],
    ])
    col_lower = np.zeros(columns.size)
    col_upper = np.concatenate([
        on_hand[move_sku, move_origin],
        np.full(pairs.size, np.inf),
        width[fill_position, fill_segment],
        np.full(columns.size - fill - fill_position.size, np.inf),
    ])

    # -- rows: each block gives (local rows, columns, values, lower, upper, keys) -------------
    outflow = np.nonzero((on_hand > 0) & has_lane_out[None, :])
    outflow_row = _lookup((skus, locations), outflow)[move_sku, move_origin]
    stock_key, stock_row = np.unique(pair_sku * locations + pair_location, return_inverse=True)
    stock = (stock_key // locations, stock_key % locations)
    (binding_locations,) = np.nonzero(problem.capacity_binds)
    (binding_lanes,) = np.nonzero(problem.lane_binds)
    volume = problem.unit_volume[first:stop]
    lane_row = _lookup((problem.n_lanes,), (binding_lanes,))[move_lane]
    fair_row = _lookup((streams.size,), (fair_position,))[pair_position]
    fills = np.arange(fill_position.size)

    move_into = move_sku * locations + move_destination  # flat SKU x location
    move_out_of = move_sku * locations + move_origin

    def position_rows(index):
        table = _lookup((skus, locations), index).ravel()
        return _position_terms(table, move_into, move_out_of, move_column)

    def location_rows():
        table = _lookup((locations,), (binding_locations,))
        return _position_terms(table, move_destination, move_origin, move_column,
                               volume[move_sku])

    blocks = {
        "outflow": (
            [(outflow_row, move_column, np.ones(move_sku.size))],
            -np.inf, on_hand[outflow], {"sku": outflow[0] + first, "location": outflow[1]}),
        "stock": (
            [(stock_row, allocation_column, np.ones(pairs.size)),
             _negated(position_rows(stock))],
            -np.inf, held[stock], {"sku": stock[0] + first, "location": stock[1]}),
        "stream": (
            [(pair_position, allocation_column, np.ones(pairs.size)),
             (fill_position, fill + fills, -np.ones(fills.size))],
            np.zeros(streams.size), np.zeros(streams.size), {"stream": streams}),
        "location_capacity": (
            [location_rows()],
            -np.inf, (problem.capacity_limit - volume @ held)[binding_locations],
            {"location": binding_locations}),
        "lane_capacity": (
            [(lane_row[lane_row >= 0], move_column[lane_row >= 0],
              np.ones(int((lane_row >= 0).sum())))],
            -np.inf, problem.lane_capacity[binding_lanes], {"lane": binding_lanes}),
        "safety": (
            [(np.arange(safety[0].size), safety_start + np.arange(safety[0].size),
              np.ones(safety[0].size)), position_rows(safety)],
            (problem.safety_stock[first:stop] - held)[safety], np.inf,
            {"sku": safety[0] + first, "location": safety[1]}),
        "presentation": (
            [(np.arange(presentation[0].size),
              presentation_start + np.arange(presentation[0].size),
              np.ones(presentation[0].size)), position_rows(presentation)],
            (problem.min_presentation[first:stop] - held)[presentation], np.inf,
            {"sku": presentation[0] + first, "location": presentation[1]}),
        "fair_share": (
            [(np.arange(fair_position.size), fair_start + np.arange(fair_position.size),
              np.ones(fair_position.size)),
             (fair_row[fair_row >= 0], allocation_column[fair_row >= 0],
              np.ones(int((fair_row >= 0).sum())))],
            problem.fair_share_floor[streams[fair_position]], np.inf,
            {"stream": streams[fair_position]}),
    }
    return _assemble(blocks, columns, objective, col_lower, col_upper,
                    offset=-float(np.sum(holding * held)), first=first, stop=stop)


def _assemble(blocks: dict, columns: _Blocks, objective: np.ndarray, col_lower: np.ndarray,
             col_upper: np.ndarray, *, offset: float, first: int, stop: int) -> DeploymentLP:
    """The `DeploymentLP` of row ``blocks`` (name -> (entries, lower, upper, keys), entries a
    list of (local rows, columns, values)) over ``columns``, rows in the blocks' order."""
    rows = _Blocks()
    entry_rows, entry_columns, entry_values, row_lower, row_upper = [], [], [], [], []
    for name, (entries, lower, upper, keys) in blocks.items():
        count = next(iter(keys.values())).size
        start = rows.add(name, count, **keys)
        for block_rows, block_columns, values in entries:
            entry_rows.append(start + block_rows)
            entry_columns.append(block_columns)
            entry_values.append(values)
        row_lower.append(np.broadcast_to(lower, (count,)))
        row_upper.append(np.broadcast_to(upper, (count,)))
    matrix = scipy.sparse.csc_array(
        (np.concatenate(entry_values),
         (np.concatenate(entry_rows), np.concatenate(entry_columns))),
        shape=(rows.size, columns.size))
    program = LinearProgram(matrix=matrix, objective=objective, col_lower=col_lower,
                            col_upper=col_upper, row_lower=np.concatenate(row_lower),
                            row_upper=np.concatenate(row_upper), offset=offset)
    return DeploymentLP(program, first, stop, columns.blocks, rows.blocks)


def _negated(terms):
    """The entries of -(in - out): out - in."""
    block_rows, block_columns, values = terms
    return block_rows, block_columns, -values
