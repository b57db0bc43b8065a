"""Probabilistic demand forecasting for many series on statsforecast (a pure library).

Entry points
------------
forecast
    Fit and predict in one call: quantiles, model and demand class for every series.
DemandForecaster
    The same with state: ``fit(history)`` then ``predict(horizon)``.
sample_paths
    Draw demand paths from a forecast table, for the simulation.
classify
    Syntetos-Boylan demand classes plus new and inactive.
"""

from models.forecast.candidates import PROFILES
from models.forecast.classes import DemandClass, classify
from models.forecast.core import DemandForecaster, forecast, quantile_column
from models.forecast.events import CHINA_RETAIL_FESTIVALS, Festival
from models.forecast.paths import sample_paths

__all__ = [
    "CHINA_RETAIL_FESTIVALS",
    "PROFILES",
    "DemandClass",
    "DemandForecaster",
    "Festival",
    "classify",
    "forecast",
    "quantile_column",
    "sample_paths",
]
