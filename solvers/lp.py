"""A linear program in HiGHS form, its solve status, and one call into a backend.

`LinearProgram` is the form every model of `solvers` is built into: sparse CSC constraint
matrix, column and row bounds, a maximised objective. `solve_lp` hands it to a backend:

- ``"highs"``: HiGHS through ``highspy`` directly (``Highs.passModel`` with the CSC arrays);
- ``"pulp"``: PuLP, with CBC by default or any licensed PuLP solver (Gurobi, CPLEX, ...)
  passed as ``pulp_solver``. PuLP builds one Python object per variable and per row, so it is
  for small instances and for cross-checking.

Both return an `LPSolution` with a `SolveStatus`: an infeasible or unbounded program is a status,
never an exception.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import Literal, get_args

import numpy as np
import scipy.sparse

from models.checks import optional_seconds

Backend = Literal["highs", "pulp"]
"""``"highs"``: HiGHS via highspy (default); ``"pulp"``: PuLP with CBC or ``pulp_solver``."""

BACKENDS: tuple[str, ...] = get_args(Backend)


class SolveStatus(Enum):
    """Outcome of a solve."""

    OPTIMAL = "optimal"
    """An optimal solution was found; the plan is filled in."""
    INFEASIBLE = "infeasible"
    """No plan satisfies the hard constraints."""
    UNBOUNDED = "unbounded"
    """The objective can grow without limit."""
    TIME_LIMIT = "time_limit"
    """The time limit ran out before optimality was proven."""
    ERROR = "error"
    """The backend failed (numerical trouble, solver not usable, ...); see the message."""


@dataclass(frozen=True, eq=False)
class LinearProgram:
    """maximise ``objective @ x + offset`` s.t. ``row_lower <= matrix @ x <= row_upper``,
    ``col_lower <= x <= col_upper``.

    Bounds may be infinite; a row with equal bounds is an equality.

    Attributes
    ----------
    matrix : scipy.sparse.csc_array, shape (n_rows, n_cols)
        Constraint matrix A.
    objective : numpy.ndarray, shape (n_cols,)
        Objective coefficients c (maximised).
    col_lower, col_upper : numpy.ndarray, shape (n_cols,)
        Column bounds.
    row_lower, row_upper : numpy.ndarray, shape (n_rows,)
        Row bounds.
    offset : float
        Constant added to the objective.
    """

    matrix: scipy.sparse.csc_array
    objective: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float = 0.0

    def __post_init__(self) -> None:
        for name, value in _linear_program_iv(self).items():
            object.__setattr__(self, name, value)

    @property
    def shape(self) -> tuple[int, int]:
        """(n_rows, n_cols)."""
        return self.matrix.shape


def _linear_program_iv(lp: LinearProgram) -> dict[str, object]:
    """Check the shapes and values of ``lp``; return its arrays as float64, matrix as CSC."""
    if not scipy.sparse.issparse(lp.matrix):
        raise TypeError(f"matrix must be a scipy.sparse array or matrix; "
                        f"found {type(lp.matrix).__name__}")
    matrix = scipy.sparse.csc_array(lp.matrix, dtype=np.float64)
    rows, cols = matrix.shape
    out: dict[str, object] = {"matrix": matrix, "offset": float(lp.offset)}
    for name, size in (("objective", cols), ("col_lower", cols), ("col_upper", cols),
                       ("row_lower", rows), ("row_upper", rows)):
        array = np.asarray(getattr(lp, name), dtype=np.float64)
        if array.shape != (size,):
            raise ValueError(f"{name} must have shape ({size},) to match matrix of shape "
                             f"{matrix.shape}; found shape {array.shape}")
        if np.isnan(array).any() or (name == "objective" and np.isinf(array).any()):
            raise ValueError(f"{name} must hold numbers (bounds may be infinite); found NaN "
                             f"or an infinite cost")
        out[name] = array
    if not (np.all(out["col_lower"] <= out["col_upper"])
            and np.all(out["row_lower"] <= out["row_upper"])):
        raise ValueError("every lower bound must be <= its upper bound")
    return out


@dataclass(frozen=True, eq=False)
class LPSolution:
    """The outcome of `solve_lp`.

    Attributes
    ----------
    status : SolveStatus
        Outcome of the solve.
    x : numpy.ndarray or None, shape (n_cols,)
        Column values; None unless ``status`` is OPTIMAL.
    row_marginal : numpy.ndarray or None, shape (n_rows,)
        Change of the (maximised) objective per unit increase of the row's active bound: the
        shadow price, >= 0 for a binding ``<=`` row; None unless ``status`` is OPTIMAL.
    objective : float
        ``objective @ x + offset``; NaN unless ``status`` is OPTIMAL.
    message : str
        The backend's account of the outcome.
    seconds : float
        Wall time of the backend call (model transfer and solve).
    """

    status: SolveStatus
    x: np.ndarray | None
    row_marginal: np.ndarray | None
    objective: float
    message: str
    seconds: float


def solve_lp(lp: LinearProgram, *, backend: Backend = "highs", time_limit: float | None = None,
             pulp_solver=None) -> LPSolution:
    """Solve ``lp`` with one backend.

    Parameters
    ----------
    lp : LinearProgram
        The program.
    backend : {"highs", "pulp"}, default "highs"
        HiGHS through highspy, or PuLP (CBC unless ``pulp_solver`` is given).
    time_limit : float, optional
        Wall-clock limit in seconds (status TIME_LIMIT when reached).
    pulp_solver : pulp.LpSolver, optional
        A PuLP solver object such as ``pulp.GUROBI_CMD()`` for ``backend="pulp"``; its own
        options (time limit included) apply, so ``time_limit`` must then be None.

    Returns
    -------
    LPSolution
        Status, column values, row marginals, objective and the backend's message.

    Raises
    ------
    TypeError, ValueError
        If ``lp`` is not a `LinearProgram`, ``backend`` is unknown, ``time_limit`` is not a
        positive number, or ``pulp_solver`` is not an available PuLP solver or is combined
        with ``backend="highs"`` or with ``time_limit``.
    """
    if not isinstance(lp, LinearProgram):
        raise TypeError(f"lp must be a LinearProgram; found {type(lp).__name__}")
    backend, time_limit, pulp_solver = _backend_iv(backend, time_limit, pulp_solver)
    return _solve(lp, backend, time_limit, pulp_solver)


def _backend_iv(backend, time_limit, pulp_solver):
    """Validate the backend options shared by `solve_lp` and `solvers.solve_deployment`."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}; found {backend!r}")
    time_limit = optional_seconds(time_limit, "time_limit")
    if pulp_solver is not None:
        if backend != "pulp":
            raise ValueError(f"pulp_solver is only used with backend='pulp'; "
                             f"found backend={backend!r}")
        if time_limit is not None:
            raise ValueError("time_limit cannot be combined with pulp_solver: set the limit "
                             "on the solver, e.g. pulp.GUROBI_CMD(timeLimit=60)")
        import pulp

        if not isinstance(pulp_solver, pulp.LpSolver):
            raise TypeError(f"pulp_solver must be a PuLP solver such as pulp.GUROBI_CMD(); "
                            f"found {type(pulp_solver).__name__}")
        if not pulp_solver.available():
            raise ValueError(f"pulp_solver {type(pulp_solver).__name__} is not available here "
                             f"(not installed or not licensed); available: "
                             f"{pulp.listSolvers(onlyAvailable=True)}")
    return backend, time_limit, pulp_solver


def _solve(lp: LinearProgram, backend: str, time_limit: float | None,
           pulp_solver) -> LPSolution:
    """Solve a valid ``lp``; the backends return (status, x, row_marginal, message)."""
    start = time.perf_counter()
    rows, cols = lp.shape
    if cols == 0:  # nothing to choose: feasible when every (empty) row admits 0
        feasible = bool(np.all((lp.row_lower <= 0) & (lp.row_upper >= 0)))
        status = SolveStatus.OPTIMAL if feasible else SolveStatus.INFEASIBLE
        outcome = (status, np.zeros(0), np.zeros(rows), "no columns: nothing to decide")
    elif backend == "highs":
        from solvers._highs import solve_highs

        outcome = solve_highs(lp, time_limit)
    else:
        from solvers._pulp import solve_pulp

        outcome = solve_pulp(lp, time_limit, pulp_solver)
    status, x, marginal, message = outcome
    seconds = time.perf_counter() - start
    if status is not SolveStatus.OPTIMAL:
        return LPSolution(status, None, None, float("nan"), message, seconds)
    objective = float(lp.objective @ x) + lp.offset
    return LPSolution(status, x, marginal, objective, message, seconds)
