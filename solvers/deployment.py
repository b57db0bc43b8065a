"""The nightly deployment and transfer LP: what moves where tonight, and for which stream.

For every SKU, decide which units move along which lanes (DC to regional warehouses, warehouse to
channel pools, warehouse to warehouse, pool to pool across channels) and how the resulting stock
is ring-fenced for each demand stream (sku x channel x region) among the locations the channel
rules let that stream draw from. One entry point, `solve_deployment`, takes a validated
`DeploymentProblem` and returns a frozen `DeploymentResult` with a `SolveStatus`.

Model
-----
Indices: SKU k; location l; lane e from o(e) to d(e); demand stream s of SKU k(s), eligible at
the locations E(s) (the eligibility pairs); segment b of a stream's value curve.

Data (symbols of `DeploymentProblem`): on hand H[k,l] and inbound I[k,l] (units); lane cost
c_e per unit and capacity U_e in units per night over all SKUs; unit volume vol_k and location
capacity C_l (volume); holding cost h[k,l] per unit of post-move stock over the coverage
horizon; segment widths w[s,b] (units) and values r[s,b] per unit, r non-increasing in b;
safety stock SS[k,l] with shortfall penalty pi[k,l]; presentation stock MP[k,l] with penalty
rho[k,l]; fair share F_s with penalty phi_s.

Variables, all >= 0::

    x[k,e]   units of SKU k moved along lane e tonight
    y[s,l]   units at location l ring-fenced for stream s, l in E(s)
    z[s,b]   units of stream s's allocation valued in segment b,   z[s,b] <= w[s,b]
    u[k,l]   shortfall of post-move stock below safety stock
    v[k,l]   shortfall of post-move stock below minimum presentation stock
    g[s]     shortfall of stream s's allocation below its fair share

(The fair-share slack is g because w names the segment widths.) Post-move stock::

    p[k,l] = H[k,l] + I[k,l] + sum_{e: d(e)=l} x[k,e] - sum_{e: o(e)=l} x[k,e]

Objective, maximised::

    sum_{s,b} r[s,b] z[s,b] - sum_{k,e} c_e x[k,e] - sum_{k,l} h[k,l] p[k,l]
      - sum_{s,l} f[s,l] y[s,l]
      - sum_{k,l} pi[k,l] u[k,l] - sum_{k,l} rho[k,l] v[k,l] - sum_s phi_s g[s]

with f[s,l] >= 0 the cost per unit of serving stream s from location l (``fulfilment_cost``:
a stream eligible at a DC and at its regional warehouse prefers the cheaper one when both have
the stock).

Constraints::

    (outflow)   sum_{e: o(e)=l} x[k,e] <= H[k,l]                  only stock on hand moves
    (stock)     sum_{s: k(s)=k, l in E(s)} y[s,l] <= p[k,l]       ring-fence what is there
    (stream)    sum_{l in E(s)} y[s,l] = sum_b z[s,b]             value the stream's total
    (location)  sum_k vol_k p[k,l] <= limit_l                     volume capacity, C_l < inf
    (lane)      sum_k x[k,e] <= U_e                               lane capacity, U_e < inf
    (safety)    u[k,l] >= SS[k,l] - p[k,l]
    (present.)  v[k,l] >= MP[k,l] - p[k,l]
    (fair)      g[s] >= F_s - sum_{l in E(s)} y[s,l]

**Value curve.** Because r[s, .] is non-increasing, an optimum fills the segments in order, so
sum_b r[s,b] z[s,b] is the concave piecewise-linear value V_s of the stream's total allocation
q_s = sum_l y[s,l]. With r[s,b] = margin_s P(D_s > q) on the segment holding q (the newsvendor
marginal value, D_s the stream's demand over the horizon), V_s(q) approximates
margin_s E[min(D_s, q)], the expected margin the allocated units earn.

**Location capacity.** ``limit_l`` follows the problem's `CapacityRule`: with ``"no_growth"``
(default) limit_l = max(C_l, sum_k vol_k (H + I)[k,l]): a location already over capacity (stock on
hand plus inbound counted in full, as if it were all on site at once) may not grow tonight but is
not forced to shed, so doing nothing is always feasible. With ``"strict"`` limit_l = C_l: an
overfull location must shed tonight, and when it cannot (its stock is inbound, no lane leaves
it, or the lanes out are full) the result is INFEASIBLE with a diagnosis naming the location, by
how much it overflows in the plan that overflows least, and the SKUs whose stock cannot leave.

Assumptions
-----------
- **No relaying.** Moves out of a location are bounded by its stock on hand, so neither tonight's
  arrivals nor inbound stock move on tonight; a two-hop deployment (DC to warehouse to pool)
  takes two nights, unless the network has a direct lane.
- **Inbound** stock counts in p (it serves streams, safety and presentation stock and uses
  capacity) but cannot move.
- **Bounded by construction.** Every x is at most the stock on hand, units are conserved per SKU
  (sum_l p[k,l] = sum_l (H + I)[k,l], since every lane leaves one location and enters another),
  y <= p and z is tied to y, so the LP is bounded for any valid data, with or without holding
  costs: UNBOUNDED cannot occur for a validated problem (it is still a status, should a backend
  report it). Holding costs make idle stock cost something, so stock does not move to where it
  earns nothing, and moving from expensive to cheap storage can pay for itself.
- **Feasible unless strict capacity.** Moving and allocating nothing satisfies every row except
  a ``"strict"`` location capacity below the stock already there, so INFEASIBLE only arises with
  ``capacity_rule="strict"``.
- **A ring-fence, not a sale.** y reserves stock for a stream; stock no stream is given stays at
  the location unallocated. A stream drawing on several eligible locations is valued on its
  total; the LP has no preference between them beyond holding and lane costs.
- **Continuous units.** The LP relaxation may move and allocate fractions of a unit;
  `solvers.round_plan` rounds a plan to whole units or packs.
- **Shadow prices** are the LP duals of the capacity rows: the objective gained per unit of
  extra capacity (volume unit for a location, unit per night for a lane), >= 0, and 0 for rows
  that cannot bind or have infinite capacity. At a degenerate optimum they are not unique, and
  backends may return different valid ones.

Solving
-------
The LP is built by `solvers.formulation.build_deployment_lp` (column and row offsets are
documented there) and solved by HiGHS or PuLP (`solvers.lp`). When no capacity row can bind
(``problem.coupled`` is false) nothing ties SKUs together, so the SKUs are solved in chunks of
``chunk_skus`` and the results concatenated: the same optimum as one LP, at a fraction of the
cost. A coupled problem is solved in the same chunks by a resource-directive decomposition
(`solvers.decomposition`: capacity prices from a sample LP, priced chunks, capacity shares)
that reports its certified gap to the coupled optimum; with ``chunk_skus=None`` it is one LP.

References
----------
L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019,
chapter 4: the newsvendor marginal analysis behind the value curves (the expected margin of the
q-th unit is margin x P(D >= q)).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse

from models.checks import whole
from solvers.decomposition import CoupledOutcome, coupling_rows, solve_coupled
from solvers.formulation import DeploymentLP, _build
from solvers.lp import Backend, LinearProgram, SolveStatus, _backend_iv, _solve
from solvers.problem import DeploymentProblem

#: Values of magnitude below this are reported as exactly zero (solver noise).
TINY = 1e-9

#: Default number of SKUs per LP when nothing couples SKUs.
DEFAULT_CHUNK_SKUS = 100


@dataclass(frozen=True, eq=False)
class DeploymentResult:
    """The outcome of `solve_deployment`; the arrays are read-only.

    When ``status`` is not OPTIMAL there is no plan: no moves, and ``objective``,
    ``allocation``, ``position`` and the shadow prices are NaN; ``diagnosis`` says why.

    Attributes
    ----------
    status : SolveStatus
        OPTIMAL, INFEASIBLE, UNBOUNDED, TIME_LIMIT or ERROR.
    objective : float
        The maximised objective of the model (stream value minus lane, holding and penalty
        costs; see `solvers.deployment`), over all SKUs.
    move_sku, move_lane : numpy.ndarray of int64, shape (n_moves,)
        SKU and lane of each move, ordered by SKU then lane; only positive moves are listed.
    move_quantity : numpy.ndarray of float64, shape (n_moves,)
        Units moved, > 0 (may be fractional: see `solvers.round_plan`).
    allocation : numpy.ndarray of float64, shape (n_pairs,)
        Units ring-fenced for stream ``pair_stream[i]`` at location ``pair_location[i]``, in the
        order of the problem's eligibility pairs.
    position : numpy.ndarray of float64, shape (n_skus, n_locations)
        Post-move stock p = on_hand + inbound + moves in - moves out, units.
    location_shadow_price : numpy.ndarray of float64, shape (n_locations,)
        Objective gained per volume unit of extra capacity at each location (>= 0; 0 where the
        capacity cannot bind).
    lane_shadow_price : numpy.ndarray of float64, shape (n_lanes,)
        Objective gained per unit per night of extra capacity on each lane (>= 0).
    message : str
        The backend's report (of the last LP solved).
    diagnosis : str
        Empty when OPTIMAL; otherwise what went wrong, naming the chunk of SKUs, and for an
        infeasible problem the locations whose capacity cannot be met and the SKUs whose
        stock cannot leave them.
    chunks : int
        Number of LPs solved (1 unless the SKUs were solved in chunks).
    optimality_gap : float
        Certified relative gap to the optimum: 0 when the LP was solved whole or its chunks
        are independent; for a capacity-coupled problem solved in chunks
        (`solvers.decomposition`), (UB - objective) / max(|UB|, 1) with UB the Lagrangian
        bound of the priced chunks. The shadow prices are then the decomposition's prices
        of the capacity rows (estimates of the coupled LP's duals).
    objective_bound : float
        An upper bound on the optimum: ``objective`` unless a coupled problem was solved in
        chunks (then the Lagrangian bound UB); NaN without a plan.
    solves : int
        LPs solved (a coupled problem solved in chunks solves some chunks more than once).
    failed_skus : numpy.ndarray of int64
        SKUs of chunks that could not be solved and were skipped (``skip_failed_chunks``):
        they have no moves and no allocation, and ``diagnosis`` says why; empty otherwise.
    """

    status: SolveStatus
    objective: float
    move_sku: np.ndarray
    move_lane: np.ndarray
    move_quantity: np.ndarray
    allocation: np.ndarray
    position: np.ndarray
    location_shadow_price: np.ndarray
    lane_shadow_price: np.ndarray
    message: str
    diagnosis: str
    chunks: int
    optimality_gap: float = 0.0
    objective_bound: float = float("nan")
    solves: int = 1
    failed_skus: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        for array in (self.move_sku, self.move_lane, self.move_quantity, self.allocation,
                      self.position, self.location_shadow_price, self.lane_shadow_price,
                      self.failed_skus):
            array.flags.writeable = False

    @property
    def success(self) -> bool:
        """Whether ``status`` is OPTIMAL (the plan is filled in)."""
        return self.status is SolveStatus.OPTIMAL


def solve_deployment(problem: DeploymentProblem, *, backend: Backend = "highs",
                     time_limit: float | None = None,
                     chunk_skus: int | None = DEFAULT_CHUNK_SKUS,
                     pulp_solver=None, skip_failed_chunks: bool = False) -> DeploymentResult:
    """Solve tonight's deployment and transfer LP (model: `solvers.deployment`).

    Parameters
    ----------
    problem : DeploymentProblem
        The validated data.
    backend : {"highs", "pulp"}, default "highs"
        HiGHS through highspy, or PuLP with CBC (or ``pulp_solver``). PuLP builds a Python
        object per variable: use it for small instances and cross-checks.
    time_limit : float, optional
        Wall-clock limit in seconds over all chunks; the status is TIME_LIMIT when it runs out.
    chunk_skus : int or None, default 100
        SKUs per LP; None solves one LP. A capacity-coupled problem (``problem.coupled``)
        in more than one chunk is solved by `solvers.decomposition` (its certified gap in
        ``optimality_gap``), or as one LP when a ``"strict"`` capacity is already exceeded
        (the chunks' shares would be negative). HiGHS's simplex
        effort grows faster than linearly with the LP, so small chunks are fastest: 20,000
        SKUs of the benchmark network take about 6 s in chunks of 25 to 100, 7.5 s in chunks
        of 500, 9 s in chunks of 1,000 and 36 s as one LP (one core).
    pulp_solver : pulp.LpSolver, optional
        A PuLP solver object (e.g. ``pulp.GUROBI_CMD()``, ``pulp.CPLEX_CMD()``) for
        ``backend="pulp"``; its own options apply, so ``time_limit`` must then be None.
    skip_failed_chunks : bool, default False
        When the SKUs are solved in chunks and one chunk fails (infeasible, error, ...), skip
        it and solve the others: the result is OPTIMAL for the chunks solved, lists the
        skipped SKUs in ``failed_skus`` and says why in ``diagnosis`` (the caller plans those
        SKUs another way). By default a failed chunk ends the solve without a plan. Running
        out of ``time_limit`` always ends it.

    Returns
    -------
    DeploymentResult
        Status, objective, moves, allocation per eligibility pair, post-move stock, shadow
        prices of the capacity rows, the backend's message and a diagnosis.

    Raises
    ------
    TypeError, ValueError
        If ``problem`` is not a `DeploymentProblem`, ``backend`` is unknown, ``time_limit`` is
        not a positive number, ``chunk_skus`` is not a positive integer or None, or
        ``pulp_solver`` is not an available PuLP solver or is combined with the HiGHS backend
        or with ``time_limit``. An infeasible problem is a status, not an exception.

    Examples
    --------
    A DC (location 0) with 10 units and one warehouse (1) whose stream values the first 4 units
    at 10 each and 4 more at 3 each; a move costs 1 per unit:

    >>> import numpy as np
    >>> from solvers import DeploymentProblem, solve_deployment
    >>> problem = DeploymentProblem(
    ...     n_skus=1, n_locations=2, lane_origin=[0], lane_destination=[1], lane_cost=[1.0],
    ...     on_hand=[[10.0, 0.0]], stream_sku=[0], pair_stream=[0], pair_location=[1],
    ...     segment_width=[[4.0, 4.0]], segment_value=[[10.0, 3.0]])
    >>> result = solve_deployment(problem)
    >>> result.status, result.objective, result.move_quantity
    (<SolveStatus.OPTIMAL: 'optimal'>, 44.0, array([8.]))
    """
    backend, time_limit, chunk_skus, pulp_solver = _solve_deployment_iv(
        problem, backend, time_limit, chunk_skus, pulp_solver)
    if not isinstance(skip_failed_chunks, bool):
        raise TypeError(f"skip_failed_chunks must be True or False; found "
                        f"{skip_failed_chunks!r}")
    skus = problem.n_skus
    if chunk_skus is None or chunk_skus >= skus:
        ranges = [(0, skus)]
    else:
        starts = np.arange(0, skus, chunk_skus)
        ranges = list(zip(starts.tolist(), np.minimum(starts + chunk_skus, skus).tolist(),
                          strict=True))
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    if problem.coupled and len(ranges) > 1:
        split = solve_coupled(problem, ranges, backend=backend, deadline=deadline,
                              pulp_solver=pulp_solver, skip_failed_chunks=skip_failed_chunks)
        if split is not None:
            return _coupled_result(problem, split, len(ranges))
        ranges = [(0, skus)]          # negative room somewhere: one LP

    plan = _Plan(problem)
    message = ""
    failed: list[tuple[int, int, str]] = []
    for chunk, (first, stop) in enumerate(ranges):
        where = (f"chunk {chunk + 1} of {len(ranges)} (SKUs {first} to {stop - 1})"
                 if len(ranges) > 1 else "the LP")
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            solved = f"SKUs 0 to {first - 1} were solved" if first else "no SKU was solved"
            return _failure(problem, SolveStatus.TIME_LIMIT, message, len(ranges),
                            f"time limit of {time_limit:g} s reached before {where}; {solved}")
        lp = _build(problem, first, stop)
        solution = _solve(lp.program, backend, left, pulp_solver)
        message = solution.message
        if solution.status is not SolveStatus.OPTIMAL:
            diagnosis = _diagnose(problem, lp, solution.status, where, time_limit, backend,
                                  pulp_solver)
            if (not skip_failed_chunks or len(ranges) == 1
                    or solution.status is SolveStatus.TIME_LIMIT
                    or len(failed) + 1 == len(ranges)):
                return _failure(problem, solution.status, message, len(ranges), diagnosis)
            failed.append((first, stop, f"{solution.status.name.lower()}: {diagnosis}"))
            continue
        plan.add(lp, solution.x, solution.row_marginal, solution.objective)
    return plan.result(message, len(ranges), failed)


def _coupled_result(problem: DeploymentProblem, split: CoupledOutcome,
                    chunks: int) -> DeploymentResult:
    """The `DeploymentResult` of a coupled problem solved in chunks (`solvers.decomposition`):
    the shadow prices are the decomposition's prices of the capacity rows."""
    if split.status is not SolveStatus.OPTIMAL:
        return _failure(problem, split.status, split.message, chunks, split.diagnosis)
    plan = _Plan(problem)
    lp = None
    for chunk in split.chunks:
        if chunk is not None:
            lp = chunk.lp
            plan.add(lp, chunk.solution.x, np.zeros(lp.program.shape[0]),
                     chunk.solution.objective)
    marginal = np.zeros(lp.program.shape[0])
    marginal[coupling_rows(lp)] = split.prices
    plan.add_prices(lp, marginal)
    return plan.result(split.message, chunks, split.failed, gap=split.gap,
                       bound=split.upper_bound, solves=split.solves)


def _solve_deployment_iv(problem, backend, time_limit, chunk_skus, pulp_solver):
    if not isinstance(problem, DeploymentProblem):
        raise TypeError(f"problem must be a DeploymentProblem; found {type(problem).__name__}")
    backend, time_limit, pulp_solver = _backend_iv(backend, time_limit, pulp_solver)
    if chunk_skus is not None:
        chunk_skus = whole(chunk_skus, "chunk_skus", minimum=1)
    return backend, time_limit, chunk_skus, pulp_solver


class _Plan:
    """Collects the solutions of the chunks into one plan."""

    def __init__(self, problem: DeploymentProblem) -> None:
        self.problem = problem
        self.moves: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.allocation = np.zeros(problem.n_pairs)
        self.location_price = np.zeros(problem.n_locations)
        self.lane_price = np.zeros(problem.n_lanes)
        self.objective = 0.0

    def add(self, lp: DeploymentLP, x: np.ndarray, marginal: np.ndarray,
            objective: float) -> None:
        move = lp.columns["move"]
        quantity = x[move.slice]
        positive = quantity > TINY
        self.moves.append((move.keys["sku"][positive], move.keys["lane"][positive],
                           quantity[positive]))
        allocation = lp.columns["allocation"]
        # a pair's allocation and a capacity's price add up over the periods (time-phased)
        np.add.at(self.allocation, allocation.keys["pair"], x[allocation.slice])
        self.add_prices(lp, marginal)
        self.objective += objective

    def add_prices(self, lp: DeploymentLP, marginal: np.ndarray) -> None:
        for block, key, prices in (("location_capacity", "location", self.location_price),
                                   ("lane_capacity", "lane", self.lane_price)):
            rows = lp.rows[block]
            np.add.at(prices, rows.keys[key], marginal[rows.slice])

    def result(self, message: str, chunks: int, failed: list[tuple[int, int, str]] = (),
               *, gap: float = 0.0, bound: float | None = None,
               solves: int | None = None) -> DeploymentResult:
        problem = self.problem
        sku, lane, quantity = (np.concatenate(parts) for parts in zip(*self.moves, strict=True))
        sku, lane = sku.astype(np.int64), lane.astype(np.int64)
        position = _position(problem, sku, lane, quantity)
        return DeploymentResult(
            status=SolveStatus.OPTIMAL, objective=self.objective, move_sku=sku,
            move_lane=lane, move_quantity=quantity, allocation=_clean(self.allocation),
            position=_clean(position), location_shadow_price=_clean(self.location_price),
            lane_shadow_price=_clean(self.lane_price), message=message,
            diagnosis="; ".join(f"SKUs {first} to {stop - 1} skipped ({why})"
                                for first, stop, why in failed),
            chunks=chunks, optimality_gap=float(gap),
            objective_bound=self.objective if bound is None else float(bound),
            solves=chunks if solves is None else int(solves),
            failed_skus=np.concatenate([np.arange(first, stop) for first, stop, _ in failed]
                                       ).astype(np.int64) if failed else
            np.zeros(0, dtype=np.int64))


def _position(problem: DeploymentProblem, sku: np.ndarray, lane: np.ndarray,
              quantity: np.ndarray) -> np.ndarray:
    """Post-move stock p = on_hand + inbound + moves in - moves out, shape (K, L)."""
    locations = problem.n_locations
    size = problem.n_skus * locations
    into = np.bincount(sku * locations + problem.lane_destination[lane], weights=quantity,
                       minlength=size)
    out_of = np.bincount(sku * locations + problem.lane_origin[lane], weights=quantity,
                         minlength=size)
    return problem.on_hand + problem.inbound + (into - out_of).reshape(problem.n_skus, locations)


def _clean(values: np.ndarray) -> np.ndarray:
    """Set entries of magnitude below `TINY` to exactly 0 (and -0.0 to 0.0)."""
    return np.where(np.abs(values) < TINY, 0.0, values)


def _failure(problem: DeploymentProblem, status: SolveStatus, message: str, chunks: int,
             diagnosis: str) -> DeploymentResult:
    """A result without a plan."""
    return DeploymentResult(
        status=status, objective=float("nan"), move_sku=np.zeros(0, dtype=np.int64),
        move_lane=np.zeros(0, dtype=np.int64), move_quantity=np.zeros(0),
        allocation=np.full(problem.n_pairs, np.nan),
        position=np.full((problem.n_skus, problem.n_locations), np.nan),
        location_shadow_price=np.full(problem.n_locations, np.nan),
        lane_shadow_price=np.full(problem.n_lanes, np.nan), message=message,
        diagnosis=diagnosis, chunks=chunks)


def _diagnose(problem: DeploymentProblem, lp: DeploymentLP, status: SolveStatus, where: str,
              time_limit: float | None, backend: str, pulp_solver) -> str:
    """Why ``lp`` (the part ``where`` of the problem) has no plan."""
    if status is SolveStatus.TIME_LIMIT:
        return f"time limit of {time_limit:g} s reached while solving {where}"
    if status is SolveStatus.UNBOUNDED:
        return (f"the backend reported {where} unbounded, which the model excludes for valid "
                f"data (every move is bounded by stock on hand and every allocation by "
                f"post-move stock): suspect numerical trouble in the data's magnitudes")
    if status is SolveStatus.ERROR:
        return f"the backend failed on {where}"
    return _diagnose_infeasible(problem, lp, where, backend, pulp_solver)


def _diagnose_infeasible(problem: DeploymentProblem, lp: DeploymentLP, where: str,
                         backend: str, pulp_solver) -> str:
    """Name the location capacities that cannot be met, and the stock that cannot leave.

    Only location capacity rows can make the model infeasible (moving nothing satisfies every
    other row), so the diagnosis solves the elastic program: the same rows with an overflow
    column o_l >= 0 on each location capacity row, minimising sum_l o_l. That program is always
    feasible; the locations with o_l > 0 are those whose capacity cannot be met together.
    """
    program = lp.program
    rows = lp.rows["location_capacity"]
    overflow = scipy.sparse.csc_array(
        (-np.ones(rows.size), (np.arange(rows.start, rows.stop), np.arange(rows.size))),
        shape=(program.shape[0], rows.size))
    elastic = LinearProgram(
        matrix=scipy.sparse.hstack([program.matrix, overflow], format="csc"),
        objective=np.concatenate([np.zeros(program.shape[1]), -np.ones(rows.size)]),
        col_lower=np.concatenate([program.col_lower, np.zeros(rows.size)]),
        col_upper=np.concatenate([program.col_upper, np.full(rows.size, np.inf)]),
        row_lower=program.row_lower, row_upper=program.row_upper)
    solution = _solve(elastic, backend, None, pulp_solver)
    if solution.status is not SolveStatus.OPTIMAL:
        return (f"the backend reported {where} infeasible, but no location capacity explains "
                f"it (moving nothing meets every other constraint): suspect numerical "
                f"trouble ({solution.message} on the elastic program)")
    excess = solution.x[program.shape[1]:]
    has_lane_out = np.bincount(problem.lane_origin, minlength=problem.n_locations) > 0
    stuck = problem.inbound + problem.on_hand * ~has_lane_out  # units that cannot leave
    reasons = []
    for row in np.flatnonzero(excess > 1e-7):
        location = int(rows.keys["location"][row])
        held = float(problem.unit_volume @ (problem.on_hand + problem.inbound)[:, location])
        stuck_volume = problem.unit_volume * stuck[:, location]
        worst = np.argsort(-stuck_volume, kind="stable")[:3]
        worst = worst[stuck_volume[worst] > 0]
        skus = ", ".join(f"SKU {int(k)} ({stuck[k, location]:g} units)" for k in worst)
        full_lanes = np.flatnonzero((problem.lane_origin == location) & problem.lane_binds)
        lanes = (f"; lanes out with limited capacity: {', '.join(map(str, full_lanes))}"
                 if full_lanes.size else "")
        reasons.append(
            f"location {location} overflows its capacity {problem.location_capacity[location]:g}"
            f" by {excess[row]:.6g} volume units in the least-overflowing plan (volume there "
            f"if nothing moves: {held:g}; volume that cannot leave tonight, inbound or without "
            f"a lane out: {float(stuck_volume.sum()):g}"
            + (f", mostly {skus}" if skus else "") + f"{lanes})")
    if not reasons:
        return (f"the backend reported {where} infeasible, but relaxing the location "
                f"capacities finds no overflow: suspect numerical trouble")
    return (f"capacity_rule='strict': location capacity cannot be met in {where}: "
            + "; ".join(reasons))
