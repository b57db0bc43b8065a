"""The order-system API: a nightly run's plan as a library (``docs/order-api.md``).

- `Plan.load` reads a run directory once (pandas and pyarrow; no numba, no solver) into
  read-only numpy arrays and label indexes (`engine.orders.rundir`).
- Queries: `Plan.forecast`, `Plan.targets`, `Plan.moves`, `Plan.allocation`, `Plan.stock`.
- `Plan.atp` and `Plan.source`: what a demand stream can still be promised, and where each
  order line ships from: eligible locations only (fulfilment rules), ranked by region, delivery
  lead time and cost, and `engine.network`'s preference (`engine.orders.routing`); the
  stream's own ring-fence and unallocated stock, never another stream's ring-fence; split over
  locations, unfilled units reported with a reason (`engine.orders.sourcing`). With
  ``commit=True`` the units are consumed, under a lock: concurrent calls from many threads
  behave as some sequential order of the same calls.
- `reoptimize`: the deployment LP (`engine.stages.plan`) again for a few SKUs, the rest of the plan
  held fixed (`engine.orders.replan`), from what `Plan.state` gives (a `PlanState`: the run's
  data and the working stock, committed units and ring-fences taken together under the lock).
"""

from engine.orders.plan import SOURCE_COLUMNS, Availability, Plan, PlanState, Replan
from engine.orders.replan import reoptimize
from engine.orders.rundir import RunDirectoryError, UnknownNameError
from engine.orders.sourcing import LINE_FIELDS

__all__ = ["LINE_FIELDS", "SOURCE_COLUMNS", "Availability", "Plan", "PlanState", "Replan",
           "RunDirectoryError", "UnknownNameError", "reoptimize"]
