"""Promotions and festivals: a clean baseline for the models, and uplifts to put them back.

The local baseline of a period is the mean of the unflagged values within ``k`` periods on
either side (the series mean of unflagged values when there are none); the uplifts are
estimated against it (below). The history the models learn from then divides every flagged
period by its estimated multiplier (`deflate`): a promotion never inflates the level a model
learns, and the rest of what the period tells (its season, its trend) is kept. Unknown values
take the local baseline.

The uplifts are estimated jointly per group of series (say category x channel) from the flagged
periods: with baseline ``b``, festival exposures ``e_j`` and promotion flag ``p``,

    y = b (1 + sum_j beta_j e_j + beta_p p) + error,   var(error) proportional to b,

solved by weighted least squares on the group's flagged periods, shrunk towards the estimate of
all groups together with a ridge of ``strength`` baseline units. A group with little history
gets the overall uplift; a festival the group never saw gets none (beta = 0). The multiplier of
a period is ``1 + sum_j beta_j e_j + beta_p p``, at least 0.05.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_MULTIPLIER = 0.05


@dataclass(frozen=True)
class Uplifts:
    """Estimated uplift coefficients.

    Attributes
    ----------
    names : tuple of str
        Effect names: the festivals, then ``"promo"``.
    beta : numpy.ndarray, shape (group, effect)
        Extra demand per unit of exposure (0.8: +80% over a fully exposed period).
    overall : numpy.ndarray, shape (effect,)
        The estimate pooled over all groups.
    evidence : numpy.ndarray, shape (group, effect)
        Baseline units of flagged history behind each estimate.
    """

    names: tuple[str, ...]
    beta: np.ndarray
    overall: np.ndarray
    evidence: np.ndarray

    def multiplier(self, group: np.ndarray, effects: np.ndarray) -> np.ndarray:
        """Demand multiplier for effect exposures.

        Parameters
        ----------
        group : numpy.ndarray of int, shape (n,)
        effects : numpy.ndarray, shape (effect, n, H)
            Exposure of each period to each effect (festival shares, promotion flags).
        """
        if len(self.names) == 0:
            return np.ones(effects.shape[1:])
        lift = np.einsum("ne,enh->nh", self.beta[group], effects)
        return np.maximum(1.0 + lift, MIN_MULTIPLIER)


def local_baseline(y: np.ndarray, flagged: np.ndarray, half_window: int) -> np.ndarray:
    """Replace flagged and unknown values by the mean of unflagged values nearby.

    Parameters
    ----------
    y : numpy.ndarray, shape (n, T)
        Values, NaN before a series starts or where unknown.
    flagged : numpy.ndarray of bool, shape (n, T)
        Periods to replace.
    half_window : int
        Periods on either side to average over.
    """
    started = np.cumsum(~np.isnan(y), axis=1) > 0
    usable = started & ~flagged & ~np.isnan(y)
    values = np.where(usable, y, 0.0)
    n, t = y.shape
    pad = np.zeros((n, 1))
    value_sum = np.concatenate([pad, np.cumsum(values, axis=1)], axis=1)
    count = np.concatenate([pad, np.cumsum(usable, axis=1)], axis=1)
    lo = np.clip(np.arange(t) - half_window, 0, t)
    hi = np.clip(np.arange(t) + half_window + 1, 0, t)
    window_sum = value_sum[:, hi] - value_sum[:, lo]
    window_count = count[:, hi] - count[:, lo]
    series_mean = value_sum[:, -1] / np.maximum(count[:, -1], 1)
    local = np.where(window_count > 0, window_sum / np.maximum(window_count, 1),
                     series_mean[:, None])
    replace = started & (flagged | np.isnan(y)) & (count[:, -1:] > 0)
    return np.where(replace, local, y)


def estimate_uplifts(y: np.ndarray, baseline: np.ndarray, effects: np.ndarray,
                     group: np.ndarray, n_groups: int, names: tuple[str, ...], *,
                     strength: float = 20.0) -> Uplifts:
    """Estimate uplift coefficients per group (see the module docstring).

    Parameters
    ----------
    y, baseline : numpy.ndarray, shape (n, T)
        Observed values and their local baseline (NaN where not observed).
    effects : numpy.ndarray, shape (effect, n, T)
        Exposure of each period to each effect.
    group : numpy.ndarray of int, shape (n,)
        Group of each series, 0 to ``n_groups - 1``.
    n_groups : int
    names : tuple of str
        Effect names.
    strength : float
        Ridge towards the pooled estimate, in baseline units.
    """
    n_effects = effects.shape[0]
    if n_effects == 0:
        empty = np.zeros((n_groups, 0))
        return Uplifts((), empty, np.zeros(0), empty)
    use = ~np.isnan(y) & ~np.isnan(baseline) & (effects.sum(axis=0) > 0) & (baseline > 0)
    b = np.where(use, baseline, 0.0)
    r = np.where(use, y - baseline, 0.0)
    x = np.where(use[None], effects, 0.0)
    # per-series sums, then per-group: A = sum b x x', c = sum (y - b) x
    a_series = np.einsum("nt,ent,fnt->nef", b, x, x)
    c_series = np.einsum("nt,ent->ne", r, x)
    a_group = np.zeros((n_groups, n_effects, n_effects))
    c_group = np.zeros((n_groups, n_effects))
    np.add.at(a_group, group, a_series)
    np.add.at(c_group, group, c_series)
    eye = np.eye(n_effects)
    a_all = a_group.sum(axis=0)
    seen = np.diag(a_all) > 0
    overall = np.zeros(n_effects)
    if seen.any():
        sub = np.ix_(seen, seen)
        overall[seen] = np.linalg.solve(a_all[sub] + strength * np.eye(seen.sum()),
                                        c_group.sum(axis=0)[seen])
    rhs = c_group + strength * overall[None, :]
    beta = np.linalg.solve(a_group + strength * eye[None], rhs[..., None])[..., 0]
    beta = np.clip(beta, MIN_MULTIPLIER - 1.0, 19.0)
    evidence = np.einsum("gee->ge", a_group)
    return Uplifts(names, beta, overall, evidence)


def deflate(y: np.ndarray, local: np.ndarray, flagged: np.ndarray,
            multiplier: np.ndarray) -> np.ndarray:
    """The clean baseline history: flagged periods divided by their multiplier.

    Parameters
    ----------
    y : numpy.ndarray, shape (n, T)
        Observed values (NaN before a series starts and where unknown).
    local : numpy.ndarray, shape (n, T)
        The local baseline (`local_baseline`), used for unknown values.
    flagged : numpy.ndarray of bool, shape (n, T)
        Promotion and festival periods.
    multiplier : numpy.ndarray, shape (n, T)
        Estimated multiplier of every period (`Uplifts.multiplier`).
    """
    out = np.where(flagged & ~np.isnan(y), y / multiplier, y)
    return np.where(np.isnan(y), local, out)
