"""The HiGHS backend: one `LinearProgram` into ``highspy.Highs.passModel`` as CSC arrays.

HiGHS minimises, so the maximised objective goes in negated; its row duals are then
d(minimised objective)/d(bound), and the shadow prices of the maximisation are their negatives.

The solver object is highspy's bare C++ class when it can be found: ``highspy.Highs()`` sets up
its callbacks in ``__init__``, which makes HiGHS print its log header to standard output
before ``output_flag`` can be turned off (HiGHS issue #1702), and a library must not write to
its caller's standard output.
"""

from __future__ import annotations

import highspy
import numpy as np

try:
    from highspy._core import _Highs as _NewHighs
except ImportError:  # pragma: no cover - a highspy without the bare class: header printed once
    _NewHighs = highspy.Highs

from solvers.lp import LinearProgram, SolveStatus

_STATUS = {
    highspy.HighsModelStatus.kOptimal: SolveStatus.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: SolveStatus.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: SolveStatus.UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: SolveStatus.TIME_LIMIT,
}


def solve_highs(lp: LinearProgram, time_limit: float | None):
    """Solve ``lp`` with HiGHS; return (status, x, row_marginal, message)."""
    highs = _NewHighs()
    highs.setOptionValue("output_flag", False)  # first, before anything can log
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    model = highspy.HighsLp()
    rows, cols = lp.shape
    model.num_col_, model.num_row_ = cols, rows
    model.col_cost_ = -np.asarray(lp.objective, dtype=np.float64)
    model.col_lower_, model.col_upper_ = lp.col_lower, lp.col_upper
    model.row_lower_, model.row_upper_ = lp.row_lower, lp.row_upper
    matrix = model.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kColwise
    matrix.num_col_, matrix.num_row_ = cols, rows
    matrix.start_ = lp.matrix.indptr.astype(np.int32, copy=False)
    matrix.index_ = lp.matrix.indices.astype(np.int32, copy=False)
    matrix.value_ = lp.matrix.data.astype(np.float64, copy=False)
    if highs.passModel(model) == highspy.HighsStatus.kError:
        return SolveStatus.ERROR, None, None, "HiGHS refused the model (passModel failed)"
    highs.run()
    model_status = highs.getModelStatus()
    if model_status == highspy.HighsModelStatus.kUnboundedOrInfeasible:
        # presolve proved that no optimum exists without saying why: ask the simplex
        highs.setOptionValue("presolve", "off")
        highs.run()
        model_status = highs.getModelStatus()
    message = f"HiGHS: {highs.modelStatusToString(model_status)}"
    status = _STATUS.get(model_status, SolveStatus.ERROR)
    if status is not SolveStatus.OPTIMAL:
        return status, None, None, message
    solution = highs.getSolution()
    x = np.asarray(solution.col_value, dtype=np.float64)
    marginal = -np.asarray(solution.row_dual, dtype=np.float64)
    return status, x, marginal, message
