"""Sample demand paths from a forecast table (for the Monte Carlo simulation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.distributions import family_codes
from models.forecast.intervals import StepDistribution


def sample_paths(forecast: pd.DataFrame, *, n_samples: int, seed: int | np.random.Generator = 0,
                 nonnegative: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw demand paths from the per-step distributions of a forecast table.

    Each step is drawn independently from its distribution (``distribution``, ``mean`` and
    ``variance`` columns): negative binomial as gamma-Poisson, Poisson, or normal floored at
    zero.

    Parameters
    ----------
    forecast : pandas.DataFrame
        Output of `models.forecast.forecast`: one row per series and step, sorted by series
        and date, every series with the same number of steps.
    n_samples : int
        Paths per series.
    seed : int or numpy.random.Generator
        Random seed or generator.
    nonnegative : bool
        Floor normal draws at zero.

    Returns
    -------
    ids : numpy.ndarray, shape (n,)
    dates : numpy.ndarray of datetime64, shape (n, h)
    paths : numpy.ndarray, shape (n, n_samples, h)
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1; found {n_samples!r}")
    ids, counts = np.unique(forecast["unique_id"].to_numpy(), return_counts=True)
    if len(np.unique(counts)) != 1:
        raise ValueError("forecast must have the same number of steps for every series")
    h = int(counts[0])
    order = np.lexsort((forecast["ds"].to_numpy(), pd.Index(ids).get_indexer(
        forecast["unique_id"])))
    table = forecast.iloc[order]
    shape = (len(ids), h)
    try:
        family = family_codes(table["distribution"].to_numpy()).reshape(shape)
    except ValueError as error:
        raise ValueError(f"forecast.{error}") from None
    distribution = StepDistribution(table["mean"].to_numpy(float).reshape(shape),
                                    table["variance"].to_numpy(float).reshape(shape),
                                    family, nonnegative)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return ids, table["ds"].to_numpy().reshape(shape), distribution.sample(n_samples, rng)
