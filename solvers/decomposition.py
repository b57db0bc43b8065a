"""Capacity-coupled deployment LPs solved in SKU chunks: relaxation, capacity shares, exchange.

Capacity rows (a location's volume, a lane's units per night) are the only rows of the
deployment LP (`solvers.deployment`, `solvers.phased`) that tie SKUs together. One LP over a
whole catalogue grows faster than linearly in cost (about 4 minutes for 20,000 SKUs of the demo
network), so `solvers.solve_deployment` solves a coupled problem in SKU chunks with this
resource-directive decomposition.

Method
------
Write the problem as max sum_c f_c(x_c) s.t. sum_c a_c(x_c) <= U, x_c in X_c, with c the SKU
chunks, f_c a chunk's objective, X_c its own rows, and a_c(x_c) its use of the coupling rows r
(volume moved into a location net of volume moved out of it; units on a lane per night) with
the room U_r (capacity minus the volume already held, `DeploymentProblem.capacity_limit`; the
lane capacity).

1. **Prices from a sample.** Solve one coupled LP over a sample of the chunks (evenly spread
   over the catalogue, about ``sample_skus`` SKUs) with the room scaled to the sample's share
   of the SKUs. Its capacity duals estimate the prices lambda_r of the coupling rows (they
   are exact when the sample is the whole catalogue).
2. **Priced chunks.** Solve every chunk without its coupling rows, each use of row r charged
   lambda_r: max f_c(x_c) - lambda a_c(x_c). By Lagrangian duality UB = sum_c of these optima
   + lambda U is an upper bound on the coupled optimum, whatever lambda >= 0 is. When the
   chunks' joint use fits every row the plan is feasible, and optimal up to the gap below.
3. **Shares.** Otherwise each chunk c gets a share s_cr >= 0 of every coupling row, in
   proportion to its use (equally where no chunk uses the row), sum_c s_cr = U_r. A chunk
   whose priced plan fits its shares keeps it. The room the kept plans leave,
   U_r - sum_kept a_cr >= 0, is shared again the same way among the other chunks, and each
   of them is solved again, without prices and with its shares as the bounds of its coupling
   rows. Each such LP is feasible (doing nothing fits shares >= 0), and the kept uses plus
   the shares add up to at most U_r, so the joint plan is feasible.
4. **Price update.** While rounds are left and the gap exceeds ``tolerance``, the prices move
   by a subgradient step toward the rows the priced plans overfilled or left empty,
   lambda_r <- max(0, lambda_r (1 + step (sum_c a_cr - U_r) / max(U_r, 1))) (a row priced 0
   and overfilled starts from the largest price), and steps 2-3 run again; the best plan and
   the least UB are kept. ``rounds`` bounds the work: at most (1 + rounds) passes over the
   chunks, two LPs per chunk per pass at most, plus the sample LP.

The result reports the certified gap (UB - objective) / max(|UB|, 1): the plan is at most that
far (relative) below the coupled optimum. A problem whose room is negative somewhere (a
``"strict"`` capacity below the stock already held) cannot be split this way and is solved as
one LP by the caller.

References
----------
L. S. Lasdon, *Optimization Theory for Large Systems*, Macmillan, 1970, chapters 8-9
(price- and resource-directive decomposition); M. L. Fisher, "The Lagrangian relaxation method
for solving integer programming problems", *Management Science* 27(1), 1981 (the bound and the
subgradient step).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from solvers.formulation import DeploymentLP, _build
from solvers.lp import LinearProgram, LPSolution, SolveStatus, _solve
from solvers.problem import DeploymentProblem

#: Row blocks that tie SKUs together.
COUPLING_BLOCKS = ("location_capacity", "lane_capacity")

#: About this many SKUs go into the sample LP that prices the coupling rows.
DEFAULT_SAMPLE_SKUS = 400

#: Price updates after the first priced pass (each one more pass over the chunks).
DEFAULT_ROUNDS = 1

#: Relative size of a price update.
DEFAULT_STEP = 0.5

#: No price update once the certified gap is below this.
DEFAULT_TOLERANCE = 1e-3

#: Shares and uses are compared with this absolute slack (volume or units).
SLACK = 1e-7


@dataclass(frozen=True)
class ChunkSolve:
    """One chunk's final LP and solution, and its use of the coupling rows."""

    lp: DeploymentLP
    solution: LPSolution
    use: np.ndarray


@dataclass(frozen=True)
class CoupledOutcome:
    """What `solve_coupled` found.

    Attributes
    ----------
    chunks : list of ChunkSolve or None
        The final solution of every chunk, in order (None: the chunk failed; see ``failed``).
    failed : list of (first, stop, why)
        Chunks that could not be solved and were skipped.
    status : SolveStatus
        OPTIMAL when every chunk not skipped has a solution.
    message, diagnosis : str
        The backend's last message; why the solve stopped when not OPTIMAL.
    objective, upper_bound, gap : float
        The plan's objective (original costs), the least Lagrangian bound UB on the coupled
        optimum, and (UB - objective) / max(|UB|, 1).
    solves : int
        LPs solved, the sample LP included.
    prices : numpy.ndarray
        The prices lambda of the coupling rows behind the best plan (estimates of the coupled
        LP's duals), in the order of `coupling_rows`.
    """

    chunks: list
    failed: list
    status: SolveStatus
    message: str
    diagnosis: str
    objective: float
    upper_bound: float
    gap: float
    solves: int
    prices: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))


class _Solver:
    """Solves LPs against one deadline and counts them."""

    def __init__(self, backend: str, deadline: float | None, pulp_solver) -> None:
        self.backend, self.deadline, self.pulp_solver = backend, deadline, pulp_solver
        self.solves, self.message = 0, ""

    def __call__(self, program: LinearProgram) -> LPSolution:
        left = None if self.deadline is None else self.deadline - time.perf_counter()
        if left is not None and left <= 0:
            return LPSolution(SolveStatus.TIME_LIMIT, None, None, float("nan"),
                              "time limit reached", 0.0)
        self.solves += 1
        solution = _solve(program, self.backend, left, self.pulp_solver)
        self.message = solution.message
        return solution


def coupling_rows(lp: DeploymentLP) -> np.ndarray:
    """Positions of a chunk LP's coupling rows (the same rows, by their keys and in the same
    order, in every chunk of one problem)."""
    return np.concatenate([np.arange(lp.rows[b].start, lp.rows[b].stop, dtype=np.int64)
                           for b in COUPLING_BLOCKS])


def coupling_room(problem: DeploymentProblem, lp: DeploymentLP) -> np.ndarray:
    """U: the room of each coupling row of a chunk's ``lp``, over all SKUs."""
    held = problem.on_hand + problem.inbound
    location = lp.rows["location_capacity"].keys["location"]
    room = (problem.capacity_limit - problem.unit_volume @ held)[location]
    return np.concatenate([room, lp.program.row_upper[lp.rows["lane_capacity"].slice]])


def solve_coupled(problem: DeploymentProblem, ranges: list[tuple[int, int]], *,
                  backend: str, deadline: float | None, pulp_solver,
                  skip_failed_chunks: bool, sample_skus: int = DEFAULT_SAMPLE_SKUS,
                  rounds: int = DEFAULT_ROUNDS, step: float = DEFAULT_STEP,
                  tolerance: float = DEFAULT_TOLERANCE) -> CoupledOutcome | None:
    """Solve a capacity-coupled problem in the SKU ``ranges`` (method: the module docstring).

    Returns None when the problem cannot be split (negative room somewhere); the caller then
    solves it as one LP.
    """
    lps = [_build(problem, first, stop) for first, stop in ranges]
    room = coupling_room(problem, lps[0])
    if np.any(room < 0):
        return None
    solve = _Solver(backend, deadline, pulp_solver)
    prices, status = _sample_prices(problem, lps, room, sample_skus, solve)
    if status is not SolveStatus.OPTIMAL:
        return _stopped(solve, status, "the sample LP that prices the capacities")
    failed: list[tuple[int, int, str]] = []
    best: CoupledOutcome | None = None
    upper_bound = np.inf
    for _ in range(rounds + 1):
        priced, bound, stopped = _priced_pass(lps, prices, solve, skip_failed_chunks, failed)
        if stopped is None:
            upper_bound = min(upper_bound, bound + float(prices @ room))
            plan, stopped = _share_pass(room, priced, solve)
        if stopped is not None:      # a later round that stops keeps the best plan so far
            if best is None:
                return _stopped(solve, *stopped)
            break
        objective = float(sum(c.solution.objective for c in plan if c is not None))
        if best is None or objective > best.objective:
            best = CoupledOutcome(plan, list(failed), SolveStatus.OPTIMAL, solve.message, "",
                                  objective, np.nan, np.nan, 0, prices)
        if _gap(upper_bound, best.objective) <= tolerance:
            break
        use = sum(c.use for c in priced if c is not None)
        prices = _updated(prices, use, room, step)
    return dataclasses.replace(best, upper_bound=upper_bound, message=solve.message,
                               gap=_gap(upper_bound, best.objective), solves=solve.solves)


def _gap(upper_bound: float, objective: float) -> float:
    return max(upper_bound - objective, 0.0) / max(abs(upper_bound), 1.0)


def _stopped(solve: _Solver, status: SolveStatus, where: str) -> CoupledOutcome:
    return CoupledOutcome([], [], status, solve.message,
                          f"{status.name.lower()} on {where}", np.nan, np.nan, np.nan,
                          solve.solves)


def _with_rows(program: LinearProgram, rows: np.ndarray, upper: np.ndarray,
               objective: np.ndarray | None = None) -> LinearProgram:
    bounds = program.row_upper.copy()
    bounds[rows] = upper
    return dataclasses.replace(program, row_upper=bounds,
                               objective=program.objective if objective is None else objective)


def _use(program: LinearProgram, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    return program.matrix[rows] @ x if rows.size else np.zeros(0)


def _sample_prices(problem, lps, room, sample_skus, solve):
    """Duals of the coupling rows in one LP over evenly spread chunks (step 1)."""
    if room.size == 0:
        return np.zeros(0), SolveStatus.OPTIMAL
    sizes = np.array([lp.stop_sku - lp.first_sku for lp in lps])
    wanted = max(1, min(len(lps), int(np.ceil(sample_skus / max(sizes.mean(), 1)))))
    chosen = np.unique(np.linspace(0, len(lps) - 1, wanted).round().astype(int))
    programs = [lps[i].program for i in chosen]
    fraction = sizes[chosen].sum() / problem.n_skus
    matrix = scipy.sparse.block_diag([p.matrix for p in programs], format="csr")
    # each chunk's own rows stay apart; the coupling rows of all chunks add up
    rows = [coupling_rows(lps[i]) for i in chosen]
    own = [np.setdiff1d(np.arange(p.shape[0]), r) for p, r in zip(programs, rows, strict=True)]
    starts = np.cumsum([0] + [p.shape[0] for p in programs[:-1]])
    own_rows = np.concatenate([start + mine for start, mine in zip(starts, own, strict=True)])
    shared = np.concatenate([start + r for start, r in zip(starts, rows, strict=True)])
    target = np.empty(matrix.shape[0], dtype=np.int64)
    target[own_rows] = np.arange(own_rows.size)
    target[shared] = own_rows.size + np.tile(np.arange(room.size), len(programs))
    combine = scipy.sparse.csr_array((np.ones(target.size), (target, np.arange(target.size))),
                                     shape=(own_rows.size + room.size, target.size))
    sample = LinearProgram(
        matrix=(combine @ matrix).tocsc(),
        objective=np.concatenate([p.objective for p in programs]),
        col_lower=np.concatenate([p.col_lower for p in programs]),
        col_upper=np.concatenate([p.col_upper for p in programs]),
        row_lower=np.concatenate([np.concatenate([p.row_lower[m] for p, m in
                                                  zip(programs, own, strict=True)]),
                                  np.full(room.size, -np.inf)]),
        row_upper=np.concatenate([np.concatenate([p.row_upper[m] for p, m in
                                                  zip(programs, own, strict=True)]),
                                  room * fraction]))
    solution = solve(sample)
    if solution.status is not SolveStatus.OPTIMAL:
        return None, solution.status
    return np.maximum(solution.row_marginal[own_rows.size:], 0.0), SolveStatus.OPTIMAL


def _priced_pass(lps, prices, solve, skip_failed_chunks, failed):
    """Every chunk without coupling rows, their use charged ``prices`` (step 2).

    Returns (chunk solves or None, sum of the priced optima, None or (status, where)).
    """
    priced, bound = [], 0.0
    for lp in lps:
        if any(first == lp.first_sku for first, _, _ in failed):
            priced.append(None)
            continue
        program, rows = lp.program, coupling_rows(lp)
        charge = (program.matrix[rows].T @ prices) if rows.size else 0.0
        solution = solve(_with_rows(program, rows, np.inf, program.objective - charge))
        where = f"the chunk of SKUs {lp.first_sku} to {lp.stop_sku - 1}"
        if solution.status is not SolveStatus.OPTIMAL:
            if (solution.status is SolveStatus.TIME_LIMIT or not skip_failed_chunks
                    or len(failed) + 1 == len(lps)):
                return None, np.nan, (solution.status, where)
            failed.append((lp.first_sku, lp.stop_sku,
                           f"{solution.status.name.lower()} on {where}"))
            priced.append(None)
            continue
        bound += solution.objective
        x = solution.x
        # the plan's own objective, without the charge
        original = LPSolution(solution.status, x, solution.row_marginal,
                              float(program.objective @ x) + program.offset,
                              solution.message, solution.seconds)
        priced.append(ChunkSolve(lp, original, _use(program, rows, x)))
    return priced, bound, None


def _share_pass(room, priced, solve):
    """Shares of the room; chunks whose priced plan does not fit are solved again (step 3)."""
    live = [c for c in priced if c is not None]
    if not live or room.size == 0:
        return priced, None
    use = np.array([c.use for c in live])
    if np.all(use.sum(axis=0) <= room + SLACK):
        return priced, None
    kept = np.all(use <= _shares(use, room) + SLACK, axis=1)
    # the kept plans are fixed: the others share what they leave (>= 0, as the kept plans
    # fit shares that add up to the room)
    left = np.maximum(room - use[kept].sum(axis=0), 0.0)
    shares = np.zeros_like(use)
    shares[~kept] = _shares(use[~kept], left)
    plan, index = [], 0
    for chunk in priced:
        if chunk is None:
            plan.append(None)
            continue
        index += 1
        if kept[index - 1]:
            plan.append(chunk)
            continue
        rows = coupling_rows(chunk.lp)
        program = _with_rows(chunk.lp.program, rows, shares[index - 1])
        solution = solve(program)
        if solution.status is not SolveStatus.OPTIMAL:
            return None, (solution.status, f"the share-limited chunk of SKUs "
                                           f"{chunk.lp.first_sku} to {chunk.lp.stop_sku - 1}")
        lp = dataclasses.replace(chunk.lp, program=program)
        plan.append(ChunkSolve(lp, solution, _use(program, rows, solution.x)))
    return plan, None


def _shares(use: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Shares >= 0 (chunks x rows) adding up to ``room``: in proportion to the chunks' use
    of each row, equal where no chunk uses it (step 3)."""
    using = np.maximum(use, 0.0)
    total = using.sum(axis=0)
    equal = np.full(use.shape, 1.0 / max(use.shape[0], 1))
    weight = np.where(total > 0, using / np.where(total > 0, total, 1.0), equal)
    return weight * room


def _updated(prices: np.ndarray, use: np.ndarray, room: np.ndarray,
             step: float) -> np.ndarray:
    """The subgradient step of step 4."""
    excess = (use - room) / np.maximum(room, 1.0)
    start = np.where((prices <= 0) & (excess > 0), prices.max(initial=0.0), prices)
    return np.maximum(start * (1.0 + step * excess), 0.0)
