"""Inventory policy types: base-stock, (s,S) and (r,Q), each validated when it is built.

Conventions shared by every policy (see DESIGN.md, *Conventions*):

- Quantities are units; time is in periods (a day or a week).
- The **inventory position** is on hand + on order - backorders.
- **Lead time** L: an order placed at the start of period t arrives at the start of period t+L.
  With review every period the stock is therefore exposed to demand over L+1 periods.
- Holding cost h and shortage cost p are charged on the end-of-period on-hand stock and
  backorders; unmet demand is backordered.

References
----------
L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019,
chapters 4 and 5.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from models.checks import positive, real


def _units(value: object, name: str, *, strictly_positive: bool = False) -> int | float:
    """Validate a policy parameter; integers stay ``int``, other reals become ``float``."""
    number = positive(value, name) if strictly_positive else real(value, name)
    return int(value) if isinstance(value, numbers.Integral) else number


@dataclass(frozen=True)
class BaseStock:
    """Base-stock (order-up-to) policy, periodic review every period.

    At the start of every period order enough to raise the inventory position to ``level``
    (nothing when it is already at or above it). With lead time L the order arrives at the start
    of period t+L, so ``level`` protects against demand over L+1 periods; holding and shortage
    costs are charged on end-of-period on-hand stock and backorders.

    Parameters
    ----------
    level : int or float
        Base-stock level S, units (may be fractional for a continuous demand model).

    Raises
    ------
    TypeError, ValueError
        If ``level`` is not a finite real number.

    References
    ----------
    Snyder and Shen (2019), chapter 4.
    """

    level: int | float

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", _units(self.level, "level"))


@dataclass(frozen=True)
class SS:
    """(s, S) policy, periodic review every period.

    At the start of every period, if the inventory position is **at or below** the reorder
    point ``s``, order up to ``S``; otherwise order nothing. This is the convention of Zheng and
    Federgruen (1991) and of Snyder and Shen (2019). With lead time L an order placed at the start
    of period t arrives at the start of period t+L (exposure to demand over L+1 periods); holding
    and shortage costs are charged on end-of-period on-hand stock and backorders.

    Parameters
    ----------
    s : int or float
        Reorder point s, units (inventory position at or below which an order is placed).
    S : int or float
        Order-up-to level S, units; S > s.

    Raises
    ------
    TypeError, ValueError
        If ``s`` or ``S`` is not a finite real number, or ``s >= S``.

    References
    ----------
    Y.-S. Zheng and A. Federgruen, "Finding optimal (s,S) policies is about as simple as
    evaluating a single policy", *Operations Research* 39(4), 654-665, 1991.
    Snyder and Shen (2019), chapter 4.
    """

    s: int | float
    S: int | float

    def __post_init__(self) -> None:
        s = _units(self.s, "s")
        order_up_to = _units(self.S, "S")
        if s >= order_up_to:
            raise ValueError(f"S must be greater than s (order up to S when the inventory "
                             f"position is at or below s); found s={s!r}, S={order_up_to!r}")
        object.__setattr__(self, "s", s)
        object.__setattr__(self, "S", order_up_to)


@dataclass(frozen=True)
class RQ:
    """(r, Q) policy, continuous review.

    Whenever the inventory position is **at or below** the reorder point ``r``, order ``Q``
    units, repeatedly, until it is above ``r``; the inventory position then stays in
    r+1, ..., r+Q (discrete demand). An order placed at time t arrives at time t+L, so the stock
    is exposed to the demand over the lead time L; holding and shortage costs accrue on on-hand
    stock and backorders per unit of time (per period).

    Parameters
    ----------
    r : int or float
        Reorder point r, units.
    Q : int or float
        Order quantity Q > 0, units.

    Raises
    ------
    TypeError, ValueError
        If ``r`` or ``Q`` is not a finite real number, or ``Q <= 0``.

    References
    ----------
    A. Federgruen and Y.-S. Zheng, "An efficient algorithm for computing an optimal (r,Q) policy
    in continuous review stochastic inventory systems", *Operations Research* 40(4), 808-813,
    1992. Snyder and Shen (2019), chapter 5.
    """

    r: int | float
    Q: int | float

    def __post_init__(self) -> None:
        object.__setattr__(self, "r", _units(self.r, "r"))
        object.__setattr__(self, "Q", _units(self.Q, "Q", strictly_positive=True))
