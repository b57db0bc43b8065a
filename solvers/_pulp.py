"""The PuLP backend: the same `LinearProgram`, one PuLP variable per column, one row at a time.

PuLP models are Python objects, so building one costs a few microseconds per nonzero: fine for
small instances, cross-checks and licensed solvers (Gurobi, CPLEX) that PuLP can drive; the
``highs`` backend is the one for the nightly run. CBC is the default solver: a CBC found on the
system (``pulp.COIN_CMD``) if there is one, else the CBC bundled with PuLP 3
(``pulp.PULP_CBC_CMD``, deprecated by PuLP and removed in PuLP 4).
"""

from __future__ import annotations

import warnings

import numpy as np
import pulp

from solvers.lp import LinearProgram, SolveStatus

_STATUS = {
    pulp.LpStatusOptimal: SolveStatus.OPTIMAL,
    pulp.LpStatusInfeasible: SolveStatus.INFEASIBLE,
    pulp.LpStatusUnbounded: SolveStatus.UNBOUNDED,
}


def default_solver(time_limit: float | None) -> pulp.LpSolver:
    """CBC without output: the system's CBC if available, else the one bundled with PuLP."""
    solver = pulp.COIN_CMD(msg=False, timeLimit=time_limit)
    if solver.available():
        return solver
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PULP_CBC_CMD is deprecated",
                                category=DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)


def to_pulp(lp: LinearProgram) -> tuple[pulp.LpProblem, list, list]:
    """Build ``lp`` as a PuLP problem (minimising the negated objective).

    Returns
    -------
    problem : pulp.LpProblem
    variables : list of pulp.LpVariable
        One per column, named ``x<column>``.
    constraints : list of (row, pulp.LpConstraint)
        The constraints made from each non-empty, non-free row, named ``r<row>`` (``<=``),
        ``r<row>`` (``>=``), ``r<row>`` (``==``), or ``r<row>_lo`` and ``r<row>_up`` for a
        row with two finite, different bounds.
    """
    problem = pulp.LpProblem("lp", pulp.LpMinimize)
    lower = [None if np.isinf(bound) else float(bound) for bound in lp.col_lower]
    upper = [None if np.isinf(bound) else float(bound) for bound in lp.col_upper]
    variables = [problem.add_variable(f"x{j}", lower[j], upper[j]) for j in range(lp.shape[1])]
    costs = np.flatnonzero(lp.objective)
    problem.setObjective(pulp.LpAffineExpression(
        [(variables[j], -float(lp.objective[j])) for j in costs]))
    rows = lp.matrix.tocsr()
    constraints = []
    for i in range(lp.shape[0]):
        entries = slice(rows.indptr[i], rows.indptr[i + 1])
        if entries.start == entries.stop:
            continue  # an empty row: `_solve` checks that it admits 0
        terms = [(variables[j], float(a)) for j, a in zip(rows.indices[entries],
                                                           rows.data[entries], strict=True)]
        low, up = float(lp.row_lower[i]), float(lp.row_upper[i])
        if low == up:
            senses = [(pulp.LpConstraintEQ, low, f"r{i}")]
        elif np.isinf(low) or np.isinf(up):
            senses = [] if np.isinf(low) and np.isinf(up) else [
                (pulp.LpConstraintLE, up, f"r{i}") if np.isinf(low) else
                (pulp.LpConstraintGE, low, f"r{i}")]
        else:
            senses = [(pulp.LpConstraintGE, low, f"r{i}_lo"),
                      (pulp.LpConstraintLE, up, f"r{i}_up")]
        for sense, rhs, name in senses:
            constraint = pulp.LpConstraint(pulp.LpAffineExpression(terms), sense, name, rhs)
            problem.addConstraint(constraint)
            constraints.append((i, constraint))
    return problem, variables, constraints


def solve_pulp(lp: LinearProgram, time_limit: float | None, solver):
    """Solve ``lp`` with PuLP; return (status, x, row_marginal, message)."""
    rows = lp.shape[0]
    empty = np.diff(lp.matrix.tocsr().indptr) == 0
    if np.any(empty & ((lp.row_lower > 0) | (lp.row_upper < 0))):
        return SolveStatus.INFEASIBLE, None, None, "an empty row excludes 0"
    problem, variables, constraints = to_pulp(lp)
    solver = default_solver(time_limit) if solver is None else solver
    name = type(solver).__name__
    try:
        code = problem.solve(solver)
    except pulp.PulpError as error:
        return SolveStatus.ERROR, None, None, f"PuLP {name}: {error}"
    message = f"PuLP {name}: {pulp.LpStatus.get(code, code)}"
    status = _STATUS.get(code, SolveStatus.ERROR)
    if status is SolveStatus.ERROR and code == pulp.LpStatusNotSolved and time_limit is not None:
        status = SolveStatus.TIME_LIMIT
    if status is not SolveStatus.OPTIMAL:
        return status, None, None, message
    x = np.array([variable.varValue or 0.0 for variable in variables], dtype=np.float64)
    marginal = np.zeros(rows)
    for i, constraint in constraints:
        marginal[i] -= constraint.pi or 0.0  # pi is d(minimised objective)/d(rhs)
    return status, x, marginal, message
