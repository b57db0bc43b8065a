"""The global LightGBM model (`models.forecast.global_model`): shapes, what it must learn,
fallbacks, determinism and no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mlforecast")
pytest.importorskip("lightgbm")

from models.forecast.global_model import GlobalSettings, run_global_model
from models.forecast.runner import ModelRun, window_average

SEASON = 12
HORIZON = 6


def _panel(n: int = 40, t: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal series of different sizes, some starting late (NaN before the start)."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(5, 500, n)
    month = np.arange(t) % SEASON
    values = level[:, None] * (1 + 0.4 * np.sin(2 * np.pi * month / SEASON))[None, :]
    values = values * rng.gamma(20, 1 / 20, (n, t))
    start = np.zeros(n, dtype=np.int64)
    start[: n // 4] = rng.integers(10, 40, n // 4)
    values[np.arange(t)[None, :] < start[:, None]] = np.nan
    return values, start


def test_shapes_and_result_type():
    values, start = _panel()
    run = run_global_model(values, start, 54, HORIZON, SEASON, 3)
    assert isinstance(run, ModelRun)
    assert run.mean.shape == (len(values), HORIZON)
    assert run.fallback.shape == run.failed.shape == (len(values),)
    assert run.fallback.dtype == run.failed.dtype == bool
    assert np.isfinite(run.mean).all()
    assert not run.fallback.any()


def test_learns_a_promotion_driven_series():
    """Demand is 1 unit of level off promotion and 4 on promotion; future promotions are
    known. The global model must beat the window average by far."""
    rng = np.random.default_rng(1)
    n, t = 40, 60
    level = rng.uniform(10, 1000, n)
    promo = (rng.random((n, t + HORIZON)) < 0.3).astype(float)
    values = level[:, None] * (1 + 3 * promo[:, :t]) * rng.gamma(50, 1 / 50, (n, t))
    actual = level[:, None] * (1 + 3 * promo[:, t:])
    run = run_global_model(values, np.zeros(n, dtype=np.int64), t, HORIZON, 1, 4, promo=promo)
    average = window_average(values, np.zeros(n, dtype=np.int64), t, 4)[:, None]
    scaled = lambda forecast: np.sqrt(np.mean(((forecast - actual) / level[:, None]) ** 2))  # noqa: E731
    assert scaled(run.mean) < 0.35 * scaled(average), (scaled(run.mean), scaled(average))


def test_learns_the_season_from_the_calendar():
    values, start = _panel(seed=2)
    cutoff = 48
    actual = values[:, cutoff:cutoff + HORIZON]
    run = run_global_model(values, start, cutoff, HORIZON, SEASON, 3)
    average = window_average(values, start, cutoff, 3)[:, None]
    level = np.nanmean(values, axis=1)[:, None]
    error = np.sqrt(np.mean(((run.mean - actual) / level) ** 2))
    baseline = np.sqrt(np.mean(((average - actual) / level) ** 2))
    assert error < 0.7 * baseline, (error, baseline)


def test_short_and_silent_series_fall_back_to_the_window_average():
    values, start = _panel()
    cutoff = 54
    start[0] = cutoff - 2                       # two periods of history: too short
    values[0, : start[0]] = np.nan
    values[1, start[1]:cutoff] = 0.0            # never sold: no level to scale by
    run = run_global_model(values, start, cutoff, HORIZON, SEASON, 3,
                           settings=GlobalSettings(min_length=4))
    fallback = window_average(values, start, cutoff, 3)
    assert run.fallback[:2].all() and not run.fallback[2:].any()
    assert not run.failed.any()
    np.testing.assert_array_equal(run.mean[:2], np.repeat(fallback[:2, None], HORIZON, axis=1))


def test_too_few_training_rows_fall_back_everywhere():
    values, start = _panel(n=3, t=20)
    run = run_global_model(values, start, 20, HORIZON, SEASON, 3)
    assert run.fallback.all() and not run.failed.any()
    np.testing.assert_allclose(run.mean, window_average(values, start, 20, 3)[:, None]
                               * np.ones(HORIZON))


def test_same_inputs_give_the_same_forecast():
    values, start = _panel()
    promo = (np.random.default_rng(3).random((len(values), 60 + HORIZON)) < 0.2).astype(float)
    first = run_global_model(values, start, 54, HORIZON, SEASON, 3, promo=promo)
    second = run_global_model(values.copy(), start.copy(), 54, HORIZON, SEASON, 3,
                              promo=promo.copy())
    np.testing.assert_array_equal(first.mean, second.mean)


def test_no_look_ahead():
    """Values at and after the cutoff, and promotions after the horizon, change nothing."""
    values, start = _panel()
    t = values.shape[1]
    cutoff = 42
    promo = (np.random.default_rng(4).random((len(values), t + HORIZON)) < 0.2).astype(float)
    run = run_global_model(values, start, cutoff, HORIZON, SEASON, 3, promo=promo)
    changed = values.copy()
    changed[:, cutoff:] = np.random.default_rng(5).uniform(0, 1e4, (len(values), t - cutoff))
    later = promo.copy()
    later[:, cutoff + HORIZON:] = 1 - later[:, cutoff + HORIZON:]
    again = run_global_model(changed, start, cutoff, HORIZON, SEASON, 3, promo=later)
    np.testing.assert_array_equal(run.mean, again.mean)
    truncated = run_global_model(values[:, :cutoff], start, cutoff, HORIZON, SEASON, 3,
                                 promo=promo[:, :cutoff + HORIZON])
    np.testing.assert_array_equal(run.mean, truncated.mean)


def test_price_and_dates_are_used_without_look_ahead():
    values, start = _panel()
    n, t = values.shape
    dates = np.datetime64("2015-01", "M") + np.arange(t + HORIZON)[None, :].repeat(n, axis=0)
    price = np.random.default_rng(6).uniform(1, 2, (n, t + HORIZON))
    run = run_global_model(values, start, 48, HORIZON, SEASON, 3, price=price,
                           dates=dates.astype("datetime64[D]"))
    assert np.isfinite(run.mean).all() and not run.fallback.any()
    price[:, 48 + HORIZON:] = 100.0
    again = run_global_model(values, start, 48, HORIZON, SEASON, 3, price=price,
                             dates=dates.astype("datetime64[D]"))
    np.testing.assert_array_equal(run.mean, again.mean)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"values": np.zeros(5)}, ValueError, "values must be a two-dimensional array"),
    ({"start": np.zeros(3, dtype=np.int64)}, ValueError, "start must be 40 whole numbers"),
    ({"cutoff": 0}, ValueError, "cutoff must be a whole number >= 1"),
    ({"cutoff": 61}, ValueError, "cutoff must be at most the number of columns of values"),
    ({"horizon": 2.5}, ValueError, "horizon must be a whole number >= 1"),
    ({"promo": np.zeros((40, 50))}, ValueError, r"promo must have shape \(40, at least"),
    ({"settings": {"n_estimators": 5}}, TypeError, "settings must be a GlobalSettings"),
    ({"settings": GlobalSettings(objective="poisson")}, ValueError,
     "settings.objective must be one of"),
    ({"settings": GlobalSettings(max_rows=0)}, ValueError,
     "settings.max_rows must be a whole number >= 1"),
    ({"settings": GlobalSettings(train_window=0)}, ValueError,
     "settings.train_window must be None or"),
])
def test_bad_arguments_are_named(kwargs, error, message):
    values, start = _panel()
    arguments = {"values": values, "start": start, "cutoff": 54, "horizon": HORIZON,
                 "season": SEASON, "fallback_window": 3, **kwargs}
    positional = [arguments.pop(name) for name in ("values", "start", "cutoff", "horizon",
                                                   "season", "fallback_window")]
    with pytest.raises(error, match=message):
        run_global_model(*positional, **arguments)


def test_negative_values_use_squared_error_and_still_forecast():
    values, start = _panel()
    values[:, ::7] -= 600.0                    # returns: some periods net negative
    run = run_global_model(values, start, 54, HORIZON, SEASON, 3)
    assert np.isfinite(run.mean).all() and not run.fallback.any()
    assert (run.mean < 0).any()


def test_a_fit_that_raises_marks_every_usable_series_failed(monkeypatch):
    import models.forecast.global_model as global_model

    def broken(*args, **kwargs):
        raise RuntimeError("LightGBM is broken")

    monkeypatch.setattr(global_model, "_fit_predict", broken)
    values, start = _panel()
    start[0] = 52
    run = run_global_model(values, start, 54, HORIZON, SEASON, 3)
    assert run.fallback.all()
    assert run.failed[1:].all() and not run.failed[0]
    np.testing.assert_allclose(run.mean, window_average(values, start, 54, 3)[:, None]
                               * np.ones(HORIZON))
