"""Monte Carlo simulation of inventory policies.

- `simulate_policy`: one location under a `models.policy` base-stock, (s,S) or (r,Q) policy,
  backorders or lost sales, returning a `PolicySimulation` (cost, fill rate, cycle service
  level, average on hand, with standard errors across samples).
- `simulate_network`: the multi-location network (DCs, RDCs, pools) under (s,S) policies at
  every location, many SKUs at once, with rationing at short sources, demand streams spilling
  over their eligible locations, random lead times; takes a `NetworkArrays` and returns a
  `NetworkSimulation` of per-sample statistics (``.summary()``: mean and percentiles).

Layout: `engine.simulation.single` and `engine.simulation.network` validate and summarise (the
stable entry points); `engine.simulation.kernels` and `engine.simulation.network_kernels` hold
the numba kernels (plain arrays in, preallocated outputs written; the event order within a
period is documented there); `engine.simulation.reference` and
`engine.simulation.network_reference` are plain-Python simulators with the same semantics that
the tests check the kernels against.
"""

from engine.simulation.network import (
    NetworkArrays,
    NetworkSimulation,
    NetworkSummary,
    NetworkTrajectory,
    simulate_network,
)
from engine.simulation.single import PolicySimulation, simulate_policy

__all__ = ["NetworkArrays", "NetworkSimulation", "NetworkSummary",
           "NetworkTrajectory", "PolicySimulation", "simulate_network", "simulate_policy"]
