"""Candidate statsforecast models per demand class, in two profiles.

``fast`` (the default) uses models that cost at most about a millisecond per series on two
years of weekly history (the Croston family about 0.02 ms, Theta about 0.7 ms), so a nightly run
over millions of series stays within hours on a few cores; ``accurate`` adds optimised Theta,
AutoETS with trend and seasonality (for seasons up to 24 periods) and optimised Croston, at
about 2-50 ms per series. Each class also gets an ensemble, the mean of its three best
candidates in the backtest (`models.forecast.selection`), often the most accurate choice
(Makridakis et al., M4, 2020).

Every candidate declares the shortest history it can fit; a series shorter than that gets the
fallback model's forecast in that candidate's place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from statsforecast import models as sf

from models.forecast.classes import DemandClass

Profile = Literal["fast", "accurate"]
PROFILES: tuple[Profile, ...] = ("fast", "accurate")
ENSEMBLE = "ensemble"


@dataclass(frozen=True)
class Candidate:
    """A named statsforecast model with the shortest history it accepts.

    Parameters
    ----------
    name : str
    make : callable
        ``make(season_length)`` returns a statsforecast model instance.
    min_length : callable
        ``min_length(season_length)``: fewest periods of history it needs.
    run : callable, optional
        For a global model (one fit over many series), the function that fits and forecasts
        them all (`models.forecast.global_model.run_global_model`).
    """

    name: str
    make: Callable[[int], object]
    min_length: Callable[[int], int]
    run: Callable[..., object] | None = None
    """A global model fitted once over all the series it is given:
    ``run(values, start, cutoff, horizon, season, fallback_window) -> ModelRun`` (``make`` is
    then unused)."""


def _window(m: int) -> int:
    return max(3, m // 4) if m > 1 else 4


SES = Candidate("SESOpt", lambda m: sf.SimpleExponentialSmoothingOptimized(), lambda m: 2)
ETS_LEVEL = Candidate("ETS_ZNN", lambda m: sf.AutoETS(season_length=1, model="ZNN"),
                      lambda m: 4)
SEASONAL_ES = Candidate("SeasESOpt",
                        lambda m: sf.SeasonalExponentialSmoothingOptimized(season_length=m),
                        lambda m: 2 * m)
WINDOW_AVERAGE = Candidate("WindowAverage", lambda m: sf.WindowAverage(window_size=_window(m)),
                           lambda m: 1)
SEASONAL_WINDOW = Candidate("SeasWA",
                            lambda m: sf.SeasonalWindowAverage(season_length=m, window_size=2),
                            lambda m: 2 * m)
CROSTON_SBA = Candidate("CrostonSBA", lambda m: sf.CrostonSBA(), lambda m: 2)
CROSTON_OPTIMIZED = Candidate("CrostonOptimized", lambda m: sf.CrostonOptimized(), lambda m: 2)
TSB = Candidate("TSB", lambda m: sf.TSB(alpha_d=0.1, alpha_p=0.1), lambda m: 2)
ADIDA = Candidate("ADIDA", lambda m: sf.ADIDA(), lambda m: 2)
IMAPA = Candidate("IMAPA", lambda m: sf.IMAPA(), lambda m: 2)
THETA = Candidate("Theta", lambda m: sf.Theta(season_length=m), lambda m: 4)
OPTIMIZED_THETA = Candidate("OptimizedTheta", lambda m: sf.OptimizedTheta(season_length=m),
                            lambda m: 4)
AUTO_ETS = Candidate("AutoETS", lambda m: sf.AutoETS(season_length=m if m <= 24 else 1),
                     lambda m: 2 * m if m <= 24 else 8)
AUTO_THETA = Candidate("AutoTheta", lambda m: sf.AutoTheta(season_length=m),
                       lambda m: 2 * m if m > 1 else 8)



def _global_lgbm(values, start, cutoff, horizon, season, fallback_window):
    # imported when first used: mlforecast and LightGBM take seconds to import
    from models.forecast.global_model import run_global_model

    return run_global_model(values, start, cutoff, horizon, season, fallback_window)


GLOBAL_LGBM = Candidate("GlobalLGBM", lambda m: None, lambda m: 4, run=_global_lgbm)
"""One LightGBM model over all series of a class family (`models.forecast.global_model`)."""
GLOBAL_MIN_SERIES = 250
"""A global model is a candidate of a class family with at least this many series: it learns
what the series share, which needs a panel (the smooth families of the real data sets of issue
14 hold 287 series and more); below it the local models run alone, without the seconds of
importing mlforecast and LightGBM."""


def for_panel(options: tuple[Candidate, ...], n_series: int) -> tuple[Candidate, ...]:
    """The candidates that apply to a class family of ``n_series`` series: the global ones
    only from `GLOBAL_MIN_SERIES` series."""
    if n_series >= GLOBAL_MIN_SERIES:
        return options
    return tuple(c for c in options if c.run is None)

# benchmarks of the backtest report, and the fallback when a model fails
NAIVE = Candidate("Naive", lambda m: sf.Naive(), lambda m: 1)
SEASONAL_NAIVE = Candidate("SeasonalNaive", lambda m: sf.SeasonalNaive(season_length=m),
                           lambda m: m)
FALLBACK = WINDOW_AVERAGE
INACTIVE_MODEL = TSB

_SMOOTH = {
    "fast": (SES, ETS_LEVEL, SEASONAL_ES, WINDOW_AVERAGE, THETA, GLOBAL_LGBM),
    "accurate": (SES, ETS_LEVEL, SEASONAL_ES, WINDOW_AVERAGE, THETA, OPTIMIZED_THETA, AUTO_ETS,
                 GLOBAL_LGBM),
}
_INTERMITTENT = {
    "fast": (CROSTON_SBA, TSB, ADIDA, IMAPA, WINDOW_AVERAGE, SEASONAL_ES, GLOBAL_LGBM),
    "accurate": (CROSTON_SBA, CROSTON_OPTIMIZED, TSB, ADIDA, IMAPA, WINDOW_AVERAGE, SEASONAL_ES,
                 GLOBAL_LGBM),
}


def candidates(demand_class: DemandClass, profile: Profile) -> tuple[Candidate, ...]:
    """The candidate models of a demand class (new and inactive series have none)."""
    if demand_class in (DemandClass.SMOOTH, DemandClass.ERRATIC):
        return _SMOOTH[profile]
    if demand_class in (DemandClass.INTERMITTENT, DemandClass.LUMPY):
        return _INTERMITTENT[profile]
    return ()
