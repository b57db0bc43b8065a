"""Optimisation library: the nightly deployment and transfer LP, its backends, result types.

A pure library: it takes plain numpy arrays and returns frozen results; it never imports
`engine`, and of `models` only `models.checks`, the argument-check kit every validation
function is built from.

- `DeploymentProblem`: one night's data (network, stock, demand streams with their eligible
  locations and value curves, soft targets), validated once.
- `solve_deployment`: the LP (model and assumptions in `solvers.deployment`), solved by HiGHS
  or PuLP, in SKU chunks when nothing couples SKUs; returns a `DeploymentResult` whose
  `SolveStatus` says whether there is a plan.
- `round_plan`: a plan in whole packs and whole units that keeps it feasible
  (`solvers.rounding`).
- `build_deployment_lp`, `DeploymentLP`: the LP as sparse matrices with documented column and
  row blocks (`solvers.formulation`); `LinearProgram` and `solve_lp`, the backend layer
  (`solvers.lp`).
"""

from solvers.deployment import DeploymentResult, solve_deployment
from solvers.formulation import DeploymentLP, LPBlock, build_deployment_lp
from solvers.lp import Backend, LinearProgram, LPSolution, SolveStatus, solve_lp
from solvers.problem import CapacityRule, DeploymentProblem
from solvers.rounding import RoundedPlan, round_plan

__all__ = [
    "Backend",
    "CapacityRule",
    "DeploymentLP",
    "DeploymentProblem",
    "DeploymentResult",
    "LPBlock",
    "LPSolution",
    "LinearProgram",
    "RoundedPlan",
    "SolveStatus",
    "build_deployment_lp",
    "round_plan",
    "solve_deployment",
    "solve_lp",
]
