"""Integer-valued demand as a probability table, for exact sums over the support.

The exact optimisers (newsvendor with discrete demand, (s,S), (r,Q)) need the single-period
expected cost

    G(y) = h E[(y - D)+] + p E[(D - y)+]

at many integer levels y. `IntegerDemand` holds P(D = k) on a finite range of integers that
carries all but `TAIL` of the probability (the rest, beyond machine precision of the costs, is
dropped and the table renormalised), and evaluates G with cumulative sums:

    E[(y - D)+] = sum_{k < y} F(k),      E[(D - y)+] = E[(y - D)+] - y + E[D].

References
----------
S. Axsäter, *Inventory Control*, 3rd ed., Springer, 2015, chapter 5 (loss functions).
L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019,
chapter 4 (loss functions of discrete distributions).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

TAIL = 1e-16
"""Probability left out at each end of an unbounded support."""

MAX_TABLE = 20_000_000
"""Largest number of support points tabulated (about 160 MB of float64)."""


@dataclass(frozen=True, eq=False)
class IntegerDemand:
    """Demand D on the integers offset, offset+1, ..., offset+len(pmf)-1.

    Attributes
    ----------
    offset : int
        Smallest tabulated value of D, units.
    pmf : numpy.ndarray, shape (value,)
        P(D = offset + i); sums to 1.
    """

    offset: int
    pmf: np.ndarray

    @classmethod
    def from_frozen(cls, distribution, name: str = "demand") -> IntegerDemand:
        """Tabulate a frozen scipy.stats discrete distribution on integers.

        Raises
        ------
        ValueError
            If the support is too wide to tabulate, or the distribution puts mass off the
            integers (``name`` is used in the message).
        """
        low, high = (float(b) for b in distribution.support())
        if not np.isfinite(low):
            low = float(distribution.ppf(TAIL))
        if not np.isfinite(high):
            high = float(distribution.isf(TAIL))
        low, high = np.floor(low), np.ceil(high)
        if high - low + 1 > MAX_TABLE:
            raise ValueError(f"{name} has too wide a support to sum over exactly: "
                             f"{high - low + 1:,.0f} values from {low:.0f} to {high:.0f} "
                             f"(at most {MAX_TABLE:,})")
        values = np.arange(low, high + 1)
        pmf = np.asarray(distribution.pmf(values), dtype=np.float64)
        mass = float(pmf.sum())
        if abs(mass - 1.0) > 1e-9:
            raise ValueError(f"{name} must take integer values; found only {mass:.6g} of its "
                             f"probability on the integers {low:.0f}..{high:.0f}")
        return cls(int(low), pmf / mass)

    @cached_property
    def mean(self) -> float:
        """E[D], units."""
        return float(self.offset + np.dot(np.arange(self.pmf.size), self.pmf))

    @cached_property
    def _cdf(self) -> np.ndarray:
        return np.cumsum(self.pmf)

    @cached_property
    def _sum_of_cdf(self) -> np.ndarray:
        """``[0, F(offset), F(offset) + F(offset+1), ...]``."""
        return np.concatenate(([0.0], np.cumsum(self._cdf)))

    def total(self, periods: int) -> IntegerDemand:
        """Demand summed over ``periods`` independent periods (the ``periods``-fold convolution).

        Tails below `TAIL` are trimmed after each convolution so tables stay short.
        """
        result = IntegerDemand(0, np.ones(1))
        for _ in range(periods):
            pmf = np.convolve(result.pmf, self.pmf)
            result = IntegerDemand(result.offset + self.offset, pmf)._trimmed()
        return result

    def _trimmed(self) -> IntegerDemand:
        cdf = np.cumsum(self.pmf)
        first = int(np.searchsorted(cdf, TAIL, side="right"))
        last = int(np.searchsorted(cdf, 1.0 - TAIL, side="left"))
        last = min(max(last, first), self.pmf.size - 1)
        pmf = self.pmf[first:last + 1]
        return IntegerDemand(self.offset + first, pmf / pmf.sum())

    def cdf(self, levels: np.ndarray) -> np.ndarray:
        """F(y) = P(D <= y) at integer ``levels``."""
        index = np.asarray(levels, dtype=np.int64) - self.offset
        cdf = self._cdf
        return np.where(index < 0, 0.0, cdf[np.clip(index, 0, cdf.size - 1)])

    def quantile(self, ratio: float) -> int:
        """Smallest integer y with F(y) >= ratio (to within 1e-12), for 0 < ratio < 1."""
        return self.offset + int(np.searchsorted(self._cdf, ratio - 1e-12, side="left"))

    def expected_leftover(self, levels: np.ndarray) -> np.ndarray:
        """E[(y - D)+] at integer ``levels`` y, units: sum of F(k) over k < y."""
        levels = np.asarray(levels, dtype=np.int64)
        cumulative = self._sum_of_cdf
        count = levels - self.offset  # number of tabulated k below y
        inside = cumulative[np.clip(count, 0, cumulative.size - 1)]
        beyond = np.maximum(count - (cumulative.size - 1), 0)  # F(k) = 1 past the table
        return np.where(count <= 0, 0.0, inside + beyond)

    def expected_shortage(self, levels: np.ndarray) -> np.ndarray:
        """E[(D - y)+] at integer ``levels`` y, units (the first-order loss function)."""
        levels = np.asarray(levels, dtype=np.int64)
        return np.maximum(self.expected_leftover(levels) - levels + self.mean, 0.0)

    def cost(self, levels: np.ndarray, holding_cost: float, shortage_cost: float) -> np.ndarray:
        """G(y) = h E[(y - D)+] + p E[(D - y)+] at integer ``levels``, cost units per period."""
        return (holding_cost * self.expected_leftover(levels)
                + shortage_cost * self.expected_shortage(levels))
