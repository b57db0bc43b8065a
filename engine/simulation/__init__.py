"""Monte Carlo simulation of inventory policies.

- `simulate_policy`: one location under a `models.policy` base-stock, (s,S) or (r,Q) policy,
  backorders or lost sales, returning a `PolicySimulation` (cost, fill rate, cycle service
  level, average on hand, with standard errors across samples).

Layout: `engine.simulation.single` validates and summarises (the stable entry point);
`engine.simulation.kernels` holds the numba kernels (plain arrays in, preallocated outputs
written; the event order within a period is documented there); `engine.simulation.reference`
is a plain-Python simulator with the same semantics that the tests check the kernels against.
"""

from engine.simulation.single import PolicySimulation, simulate_policy

__all__ = ["PolicySimulation", "simulate_policy"]
