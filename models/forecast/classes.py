"""Demand classes: Syntetos-Boylan (2005) smooth / erratic / intermittent / lumpy, new, inactive.

The Syntetos-Boylan classification uses the average inter-demand interval ADI (periods per
period with a sale) and the squared coefficient of variation CV^2 of the non-zero sizes, with the
cut-offs ADI = 1.32 and CV^2 = 0.49 (Syntetos, Boylan & Croston, JORS 56(5), 2005):

============  ============  ============
..            CV^2 < 0.49   CV^2 >= 0.49
============  ============  ============
ADI < 1.32    smooth        erratic
ADI >= 1.32   intermittent  lumpy
============  ============  ============

Before it, two classes that no statistical model can serve: ``new`` (fewer than ``min_history``
periods since the first observation) and ``inactive`` (no sale in the last ``inactive_periods``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49


class DemandClass(StrEnum):
    """The demand class of a series; ``.code`` is its position (for arrays)."""

    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    NEW = "new"
    INACTIVE = "inactive"

    @property
    def code(self) -> int:
        return list(DemandClass).index(self)


CLASS_NAMES = np.array([c.value for c in DemandClass])


@dataclass(frozen=True)
class Classification:
    """Per-series demand class and the statistics behind it.

    Attributes
    ----------
    code : numpy.ndarray of int8
        `DemandClass` position of each series (``CLASS_NAMES[code]`` gives the names).
    adi : numpy.ndarray
        Average inter-demand interval, periods (inf when the series never sold).
    cv2 : numpy.ndarray
        Squared coefficient of variation of the non-zero values (0 with fewer than two).
    """

    code: np.ndarray
    adi: np.ndarray
    cv2: np.ndarray

    def names(self) -> np.ndarray:
        return CLASS_NAMES[self.code]


def classify(y: np.ndarray, *, min_history: int, inactive_periods: int,
             window: int | None = None) -> Classification:
    """Classify each row of a right-aligned value matrix.

    Parameters
    ----------
    y : numpy.ndarray, shape (n, T)
        Values (units per period), NaN before a series starts and where unknown.
    min_history : int
        A series with fewer periods than this since its first observation is ``new``.
    inactive_periods : int
        A series with no positive value in its last ``inactive_periods`` periods, and in at
        least three times its average gap between sales (ADI over its whole history), is
        ``inactive`` (unless it is new).
    window : int, optional
        Classify on the last ``window`` periods only (default: the whole history).
    """
    recent = y if window is None else y[:, -window:]
    observed = ~np.isnan(recent)
    selling = np.nan_to_num(recent) > 0
    n_obs = observed.sum(axis=1)
    n_sales = selling.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(n_sales > 0, n_obs / np.maximum(n_sales, 1), np.inf)
        sizes = np.where(selling, recent, 0.0)
        mean = sizes.sum(axis=1) / np.maximum(n_sales, 1)
        var = (np.where(selling, (recent - mean[:, None]) ** 2, 0.0)).sum(axis=1) \
            / np.maximum(n_sales, 1)
        cv2 = np.where(n_sales >= 2, var / np.maximum(mean, 1e-12) ** 2, 0.0)

    code = np.where(adi < ADI_CUTOFF,
                    np.where(cv2 < CV2_CUTOFF, DemandClass.SMOOTH.code, DemandClass.ERRATIC.code),
                    np.where(cv2 < CV2_CUTOFF, DemandClass.INTERMITTENT.code,
                             DemandClass.LUMPY.code)).astype(np.int8)
    observed_any = ~np.isnan(y)
    history = np.where(observed_any.any(axis=1), y.shape[1] - np.argmax(observed_any, axis=1),
                       0)
    # silence counts as inactivity only when it is long for the series: at least
    # inactive_periods, three typical gaps between sales, and longer than any earlier gap
    # (a series that stops every year, like a seasonal product, is not inactive)
    selling_any = np.nan_to_num(y) > 0
    whole_adi = np.where(selling_any.any(axis=1),
                         history / np.maximum(selling_any.sum(axis=1), 1), np.inf)
    silence, longest_gap = _silences(y)
    idle = (silence >= np.maximum(inactive_periods, np.ceil(3 * whole_adi))) \
        & (silence > longest_gap)
    code[idle] = DemandClass.INACTIVE.code
    code[history < min_history] = DemandClass.NEW.code
    return Classification(code, adi, cv2)


def _silences(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Periods since the last positive value, and the longest gap between earlier sales.

    A series that never sold has a trailing silence of its whole length and no earlier gap.
    """
    n, t = y.shape
    selling = np.nan_to_num(y) > 0
    columns = np.arange(t)[None, :]
    last_sale = np.maximum.accumulate(np.where(selling, columns, -1), axis=1)
    previous_sale = np.concatenate([np.full((n, 1), -1), last_sale[:, :-1]], axis=1)
    started = np.cumsum(~np.isnan(y), axis=1) > 0
    first = np.argmax(started, axis=1)
    gap_before = np.where(selling & (previous_sale >= 0), columns - previous_sale - 1, 0)
    longest = gap_before.max(axis=1)
    trailing = np.where(selling.any(axis=1), t - 1 - last_sale[:, -1], t - first)
    return trailing, longest
