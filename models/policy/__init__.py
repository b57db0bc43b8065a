"""Inventory policy library: policy types, exact single-item optimisers, vectorised targets.

A pure modelling library: it takes plain numbers, numpy arrays and scipy.stats distributions and
returns frozen result dataclasses; it never imports `engine`.

- Policy types: `BaseStock`, `SS`, `RQ` (`models.policy.types`).
- Exact optimisers: `newsvendor`, `optimal_sS` (Zheng and Federgruen, 1991), `optimal_rQ`
  (Federgruen and Zheng, 1992), `eoq`.
- Vectorised targets for millions of SKU x location pairs: `stock_targets`, `echelon_targets`
  (`models.policy.targets`, with the demand distributions of `models.distributions`).
- Cost-optimal echelon base-stock levels of a serial chain (Clark and Scarf, 1960; Chen and
  Zheng, 1994): `serial_base_stock`; the system level of a distribution tree under balanced
  allocation (Eppen and Schrage, 1981): `balanced_allocation` (`models.policy.echelon`).
- The lost-sales correction of a fill-rate level: `lost_sales_shift`
  (`models.policy.lost_sales`).
- The pooled fill rate of one stock serving several streams in priority order:
  `priority_fill_rates` (`models.policy.priority`).
- Targets straight from a forecast, calibrated on backtests of the protection-interval demand:
  `targets_from_forecast`, `targets_from_protection` (`models.policy.from_forecast`).

Conventions (DESIGN.md): quantities in units, time in periods; lead time L means an order
placed at the start of period t arrives at the start of period t+L; holding and shortage costs
are charged on end-of-period on-hand stock and backorders; unmet demand is backordered.
"""

from models.distributions import Family, FamilyChoice
from models.policy.echelon import (
    BalancedAllocation,
    SerialBaseStock,
    balanced_allocation,
    serial_base_stock,
)
from models.policy.eoq import EOQResult, eoq
from models.policy.from_forecast import targets_from_forecast, targets_from_protection
from models.policy.lost_sales import lost_sales_shift
from models.policy.newsvendor import NewsvendorResult, newsvendor
from models.policy.priority import priority_fill_rates
from models.policy.rq import RQResult, optimal_rQ
from models.policy.ss import SSResult, optimal_sS
from models.policy.targets import ServiceMeasure, StockTargets, echelon_targets, stock_targets
from models.policy.types import RQ, SS, BaseStock

__all__ = [
    "RQ",
    "SS",
    "BaseStock",
    "EOQResult",
    "Family",
    "FamilyChoice",
    "NewsvendorResult",
    "RQResult",
    "SSResult",
    "BalancedAllocation",
    "SerialBaseStock",
    "ServiceMeasure",
    "StockTargets",
    "echelon_targets",
    "eoq",
    "newsvendor",
    "optimal_rQ",
    "optimal_sS",
    "balanced_allocation",
    "lost_sales_shift",
    "priority_fill_rates",
    "serial_base_stock",
    "stock_targets",
    "targets_from_forecast",
    "targets_from_protection",
]
