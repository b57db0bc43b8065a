"""The forecast stage: the planning dataset's series through `models.forecast`, and back.

The history of every traded (sku, channel, region) series goes to the forecasting library with
its promotion flags, its sku, category, channel and region (for uplift pooling, analogues and
middle-out by sku x channel), the festival calendar of Chinese retail, and the planned
promotions of the ``promotions`` table turned into per-period multipliers. The result is added
to the dataset on the dimensions ``series`` x ``step`` (x ``quantile``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from engine.network import (
    SUPPLIER_LEAD_TIME_DAYS,
    location_review_periods,
    pair_lead_times,
    primary_location,
    root_location,
    series_index,
    supply_terms,
)
from engine.outputs import FORECAST
from models.distributions import FAMILY_LABELS, Family, family_codes, rescaled_variance
from models.forecast import CHINA_RETAIL_FESTIVALS, DemandForecaster, quantile_column
from models.forecast.evaluation import BENCHMARKS, evaluate, summarize
from models.forecast.protection import interval_weights


@dataclass(frozen=True)
class ForecastConfig:
    """Settings of the forecast stage (documented defaults).

    Attributes
    ----------
    horizon : int
        Periods ahead (13: a quarter of weekly periods).
    quantiles : tuple of float
        Quantile levels written to the forecast.
    models : {"fast", "accurate"}
        Candidate profile.
    selection : {"class", "series"}
        One model per demand class, or per series.
    middle_out : bool
        Forecast sku x channel parents and split to regions where the backtest favours it.
    festivals : bool
        Estimate and forecast the festivals of the Chinese retail calendar.
    backtest_windows : int, optional
        Rolling-origin windows for the model choice and the calibration (default: 4 for
        monthly or coarser data, a year of target months; 3 otherwise).
    supplier_lead_time_days : float
        Replenishment lead time of locations without an inbound lane (DCs), days: with the
        lanes' lead times and the review periods, it sets the protection intervals whose
        demand distributions the forecast stage adds (`add_protection`).
    """

    horizon: int = 13
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    models: str = "fast"
    selection: str = "class"
    middle_out: bool = True
    festivals: bool = True
    backtest_windows: int | None = None
    supplier_lead_time_days: float = SUPPLIER_LEAD_TIME_DAYS
    extra: dict = field(default_factory=dict)

    def forecaster(self, freq: str) -> DemandForecaster:
        return DemandForecaster(
            freq=freq, quantiles=self.quantiles, models=self.models, selection=self.selection,
            n_windows=self.backtest_windows,
            festivals=CHINA_RETAIL_FESTIVALS if self.festivals else (),
            middle_out=("sku", "channel") if self.middle_out else None, **self.extra)


def series_history(ds: xr.Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sales history in long format and the grouping keys of every series.

    Returns
    -------
    history : pandas.DataFrame
        ``unique_id`` (the series index), ``ds``, ``y``, ``promo``; from each series' first
        row to the last period.
    groups : pandas.DataFrame
        ``unique_id``, ``sku``, ``category``, ``channel``, ``region``.
    """
    sales = ds["sales"].values
    recorded = ~np.isnan(sales)
    series, period = np.nonzero(recorded)
    history = pd.DataFrame({
        "unique_id": series,
        "ds": ds["period"].values[period],
        "y": sales[series, period],
        "promo": ds["promo"].values[series, period].astype(np.int8),
    })
    category = pd.Series(ds["category"].values, index=ds["sku"].values)
    groups = pd.DataFrame({
        "unique_id": np.arange(ds.sizes["series"]),
        "sku": ds["series_sku"].values,
        "category": category.reindex(ds["series_sku"].values).to_numpy(),
        "channel": ds["series_channel"].values,
        "region": ds["series_region"].values,
    })
    return history, groups


def future_dates(ds: xr.Dataset, horizon: int) -> pd.DatetimeIndex:
    """First day of each of the ``horizon`` periods after the history."""
    last = pd.Timestamp(ds["period"].values[-1])
    return pd.date_range(last, periods=horizon + 1, freq=ds.attrs["freq"])[1:]


def planned_uplifts(ds: xr.Dataset, horizon: int) -> pd.DataFrame:
    """Planned promotions as demand multipliers per (series, future period).

    A promotion covering part of a period lifts it in proportion to the days covered,
    ``1 + (uplift - 1) x share of days``; where promotions overlap, the largest multiplier wins.

    Returns
    -------
    pandas.DataFrame
        ``unique_id``, ``ds``, ``uplift`` for the periods some promotion touches.
    """
    dates = future_dates(ds, horizon)
    ends = pd.date_range(dates[0], periods=horizon + 1, freq=ds.attrs["freq"])[1:]
    n = ds.sizes["series"]
    uplift = np.full((n, horizon), np.nan)
    sku = ds["series_sku"].values
    category = pd.Series(ds["category"].values, index=ds["sku"].values).reindex(sku).to_numpy()
    channel = ds["series_channel"].values
    region = ds["series_region"].values
    day = np.timedelta64(1, "D")
    for k in range(ds.sizes["promotion"]):
        target = str(ds["promotion_sku"].values[k])
        if target == "*":
            match = np.ones(n, dtype=bool)
        elif target.startswith("category:"):
            match = category == target[len("category:"):]
        else:
            match = sku == target
        for name, values in (("channel", channel), ("region", region)):
            wanted = str(ds[f"promotion_{name}"].values[k])
            if wanted != "*":
                match &= values == wanted
        start = ds["promotion_start"].values[k]
        end = ds["promotion_end"].values[k] + day
        overlap = (np.minimum(ends.to_numpy(), end) - np.maximum(dates.to_numpy(), start)) / day
        share = np.clip(overlap, 0, None) / ((ends - dates).to_numpy() / day)
        if not match.any() or not (share > 0).any():
            continue
        lift = 1 + (float(ds["promotion_uplift"].values[k]) - 1) * share
        block = uplift[np.ix_(match, share > 0)]
        uplift[np.ix_(match, share > 0)] = np.fmax(block, lift[share > 0][None, :])
    series, step = np.nonzero(~np.isnan(uplift))
    return pd.DataFrame({"unique_id": series, "ds": dates.to_numpy()[step],
                         "uplift": uplift[series, step]})


def add_forecast(ds: xr.Dataset, config: ForecastConfig = ForecastConfig()
                 ) -> tuple[xr.Dataset, DemandForecaster]:
    """Forecast every series of the planning dataset and add the result to it.

    Adds on ``series`` x ``step`` (coordinate ``forecast_date``): ``forecast_mean``,
    ``forecast_variance``, ``forecast_distribution``, ``forecast_quantile`` (also on
    ``quantile``); on ``series``: ``forecast_model`` and ``demand_class``.

    Returns
    -------
    dataset : xarray.Dataset
        The planning dataset with the forecast.
    forecaster : models.forecast.DemandForecaster
        The fitted forecaster (model choice, uplifts, backtest scores).
    """
    history, groups = series_history(ds)
    forecaster = config.forecaster(ds.attrs["freq"]).fit(history, groups=groups)
    distribution, model = forecaster.predict_distribution(
        config.horizon, future=planned_uplifts(ds, config.horizon))
    order = pd.Index(forecaster.panel_.ids).get_indexer(np.arange(ds.sizes["series"]))
    quantiles = distribution.quantiles(np.asarray(config.quantiles))
    family = FAMILY_LABELS[distribution.family]
    added = xr.Dataset(
        {
            "forecast_mean": (("series", "step"), distribution.mean[order]),
            "forecast_variance": (("series", "step"), distribution.variance[order]),
            "forecast_distribution": (("series", "step"), family[order]),
            "forecast_quantile": (("series", "step", "quantile"), quantiles[order]),
            "forecast_model": ("series", model[order]),
            "demand_class": ("series", forecaster.classes_.names()[order]),
        },
        coords={"step": np.arange(1, config.horizon + 1),
                "forecast_date": ("step", future_dates(ds, config.horizon).to_numpy()),
                "quantile": np.asarray(config.quantiles)},
    )
    ds = ds.assign(added.data_vars).assign_coords(added.coords)
    ds = ds.assign(forecast_clamped=("series", distribution.clamped[order]))
    return add_protection(ds, forecaster, config), forecaster


PROTECTION_VARIABLES = ("mean", "variance", "lead_mean", "lead_variance", "largest_sum",
                        "clamped")
"""Columns of `DemandForecaster.predict_protection` kept on the dataset, per interval."""


def follow_protection(ds: xr.Dataset, new_mean: np.ndarray,
                      default_ratio: np.ndarray | None = None) -> dict:
    """The protection moments of ``ds`` moved with its per-step forecast to ``new_mean``.

    Each interval's mean is scaled by the ratio of the new to the old forecast summed over its
    periods (``default_ratio``, else 1, where the old sum is 0); its variance keeps its
    relative spread (`models.distributions.rescaled_variance`: the excess dispersion of count
    data, the coefficient of variation of other data); the largest historical interval demand,
    the cap's reference, grows with the demand. Used when a scenario scales the demand and when
    the backtest moves a forecast fitted some periods ago to tonight's steps.

    Returns
    -------
    dict
        Variables to assign (``{prefix}_mean``, ``_variance``, ``_lead_mean``,
        ``_lead_variance``, ``_largest_sum``).
    """
    old = ds["forecast_mean"].values
    counts = family_codes(ds["forecast_distribution"].values)[:, 0] != Family.NORMAL
    fallback = np.ones(len(old)) if default_ratio is None else default_ratio
    changes = {}
    for prefix in ("protection", "echelon_protection"):
        if f"{prefix}_mean" not in ds:
            continue
        lead = ds[f"{prefix}_lead_time"].values
        for name, length in (("", lead + ds[f"{prefix}_review_period"].values),
                             ("lead_", lead)):
            weights = interval_weights(length, old.shape[1])
            base = (weights * old).sum(axis=1)
            moved = (weights * new_mean).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(base > 0, moved / base, fallback)
            old_mean = ds[f"{prefix}_{name}mean"].values
            changes[f"{prefix}_{name}mean"] = ("series", old_mean * ratio)
            changes[f"{prefix}_{name}variance"] = ("series", rescaled_variance(
                old_mean, ds[f"{prefix}_{name}variance"].values, old_mean * ratio,
                counts=counts))
            if not name:
                changes[f"{prefix}_largest_sum"] = ("series", ds[f"{prefix}_largest_sum"].values
                                                    * np.maximum(ratio, 1.0))
    return changes


def add_protection(ds: xr.Dataset, forecaster: DemandForecaster,
                   config: ForecastConfig) -> xr.Dataset:
    """Add each series' demand distribution over the protection intervals the targets need.

    Two intervals per series (`DemandForecaster.predict_protection`, calibrated on backtest
    sums and bounded by the history):

    - ``protection_*``: over L + R of its primary location (`engine.network`): the location's
      replenishment lead time for the SKU and its review period;
    - ``echelon_protection_*``: over the echelon interval of the buying location that roots its
      primary location (`engine.network.root_location`): the supplier lead time + the lead
      time down to the primary location + its review period, the interval the echelon
      order-up-to level covers (`engine.stages.targets.echelon_moments`), calibrated on
      backtest sums of that length.

    Each adds ``mean``, ``variance``, ``lead_mean``, ``lead_variance`` (the demand over L
    alone), ``largest_sum`` (the largest historical interval demand) and ``clamped`` (the
    variance hit its history bound) on ``series``, and the interval's ``lead_time`` and
    ``review_period``.
    """
    location = primary_location(ds)
    terms = supply_terms(ds, supplier_lead_time_days=config.supplier_lead_time_days,
                         supplier_lead_time_sd_days=0.0)
    lead, _ = pair_lead_times(ds, terms)
    sku, _, _ = series_index(ds)
    review = location_review_periods(ds)
    served = location >= 0
    where = np.maximum(location, 0)
    ids = pd.Index(np.arange(ds.sizes["series"]))
    series_lead = pd.Series(np.where(served, lead[sku, where], 0.0), index=ids)
    series_review = pd.Series(np.where(served, review[where], 1.0), index=ids)
    dc = ds["location_kind"].values == "dc"
    fallback = np.flatnonzero(dc)[0] if dc.any() else 0
    root = np.where(served, root_location(ds)[where], fallback)
    down = np.where(served & (root != where), series_lead.to_numpy(), 0.0)
    supplier = pd.Series(terms.lead_time[sku, root] + down, index=ids)
    longest = np.max(np.concatenate([series_lead.to_numpy(), supplier.to_numpy()]),
                     initial=0.0)
    future = planned_uplifts(ds, int(np.ceil(longest)) + 2)
    added = {}
    for prefix, interval_lead, interval_review in (
            ("protection", series_lead, series_review),
            ("echelon_protection", supplier, series_review)):
        table = forecaster.predict_protection(interval_lead, interval_review, future=future)
        table = table.set_index("unique_id").reindex(ids)
        for column in (*PROTECTION_VARIABLES, "lead_time", "review_period"):
            added[f"{prefix}_{column}"] = ("series", table[column].to_numpy())
    return ds.assign(added)


def forecast_table(ds: xr.Dataset) -> pd.DataFrame:
    """The forecast as the rows of ``forecast.parquet`` (`engine.outputs.FORECAST`).

    Columns: sku, channel, region, date, mean, one column per quantile (q10, q50, q90),
    model, demand_class, variance, distribution; sorted by series and date.
    """
    n, h = ds.sizes["series"], ds.sizes["step"]
    frame = {
        "sku": np.repeat(ds["series_sku"].values, h),
        "channel": np.repeat(ds["series_channel"].values, h),
        "region": np.repeat(ds["series_region"].values, h),
        "date": np.tile(ds["forecast_date"].values, n),
        "mean": ds["forecast_mean"].values.ravel(),
    }
    for k, q in enumerate(ds["quantile"].values):
        frame[quantile_column(float(q))] = ds["forecast_quantile"].values[..., k].ravel()
    frame["model"] = np.repeat(ds["forecast_model"].values, h)
    frame["demand_class"] = np.repeat(ds["demand_class"].values, h)
    frame["variance"] = ds["forecast_variance"].values.ravel()
    frame["distribution"] = ds["forecast_distribution"].values.ravel()
    return FORECAST.conform(pd.DataFrame(frame))


def backtest_report(ds: xr.Dataset, config: ForecastConfig = ForecastConfig(), *,
                    windows: int = 2) -> dict[str, pd.DataFrame]:
    """Holdout accuracy of the pipeline next to Naive, SeasonalNaive and WindowAverage.

    The last ``windows x horizon`` periods are held out window by window; each window is
    forecast from the history before it (planned promotions in the window are known).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``by_class`` and ``by_channel``: RMSSE, MASE, WAPE, bias and coverage of the central
        band per method; ``overall``: the same over all series.
    """
    history, groups = series_history(ds)
    settings = {"quantiles": config.quantiles, "models": config.models,
                "selection": config.selection, "n_windows": config.backtest_windows,
                "festivals": CHINA_RETAIL_FESTIVALS if config.festivals else (),
                "middle_out": ("sku", "channel") if config.middle_out else None,
                **config.extra}
    rows = evaluate(history, horizon=config.horizon, freq=ds.attrs["freq"],
                    holdout_windows=windows,
                    benchmarks=BENCHMARKS, groups=groups, **settings)
    rows = rows.merge(groups[["unique_id", "channel"]], on="unique_id", how="left")
    return {
        "overall": summarize(rows, by=["method"]),
        "by_class": summarize(rows, by=["demand_class", "method"]),
        "by_channel": summarize(rows, by=["channel", "method"]),
    }
