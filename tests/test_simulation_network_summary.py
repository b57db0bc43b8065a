"""The vectorised nan-aware quantiles of the simulation summary agree with numpy's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from engine.simulation.network import _nanquantile_last


@pytest.mark.parametrize("seed", range(5))
def test_matches_numpy_nanquantile(seed):
    rng = np.random.default_rng(seed)
    values = rng.gamma(2.0, 3.0, (40, 6, 25))
    values[rng.random(values.shape) < 0.3] = np.nan
    values[0, 0] = np.nan
    values[1, 1, 1:] = np.nan                                   # a single number
    quantiles = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.moveaxis(np.nanquantile(values, quantiles, axis=-1), 0, -1)
    found = _nanquantile_last(values, quantiles)
    assert np.array_equal(np.isnan(found), np.isnan(expected))
    assert np.allclose(found[~np.isnan(found)], expected[~np.isnan(expected)])
