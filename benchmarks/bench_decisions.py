"""Stock decisions judged on real history: a base-stock replay of actual demand (issue 14, item 7).

For each real data set (`realdata`: stallion, walmart, PBS) the last ``N`` periods of actual
demand are replayed through a periodic-review base-stock system (`models.policy.replay`: receive,
order up to the level, serve, backorder the rest; lead time L = 1, review every period R = 1, so
the protection interval is L + R = 2 periods; start at the level with nothing in transit). At
every origin t the level of each policy and fill-rate target beta in (0.80, 0.90, 0.95, 0.98)
is decided with the history before t only:

- ``omnistock`` (`OmnistockPolicy`): `models.forecast.DemandForecaster` fitted on the history
  before t, then `models.policy.targets_from_forecast` (``service="fill_rate"``): the demand
  distribution over the protection interval calibrated on backtest sums, and the base-stock
  level that meets the fill rate with the exact shortage per cycle. The forecaster is refitted
  every ``k`` origins; in between, the origin asks the last fit for the interval that starts
  that many periods later (``start``; nothing is recomputed from history after the refit
  origin).
- ``textbook``: per-period mean m of the last 13 periods, standard deviation s of the last 52
  (fewer where the history is shorter), level (L+1) m + z s sqrt(L+1), z = Phi^-1(beta).
- ``textbook_loss``: the same m and s, the smallest level y with
  sigma_P G((y - mu_P) / sigma_P) <= (1 - beta) m, G the standard normal loss function,
  mu_P = (L+1) m, sigma_P = s sqrt(L+1) (Axsäter 2015, section 5.3).
- ``empirical``: the beta-quantile of the series' historical (L+1)-period rolling sums.

The baselines are recomputed at every origin (they are cheap); only omnistock's forecaster is
refitted every ``k`` origins. The table gives per data set, policy and beta the realised fill
rate (total served at once / total demand, over all series and periods) and the average
on-hand stock (sum over series of the mean end-of-period on hand, in the data's units); and,
for omnistock, the stock the best baseline would need for omnistock's realised fill rate,
interpolated linearly along that baseline's (fill rate, on-hand) curve over the four betas
(best = least stock; NaN outside the curve), and the ratio of omnistock's stock to it. The
same figures are also given without the series where omnistock's level ever exceeded 10x the
largest (L+1)-period demand in the series' history (the exploding variances of issue 14).

Settings (environment variables; defaults keep the CI run short):

- ``OMNISTOCK_DECISION_SERIES``: series per data set, a random sample (seed 0), or ``all``
  (default 60);
- ``OMNISTOCK_DECISION_ORIGINS``: periods replayed, N (default 6; 26 for the full figures);
- ``OMNISTOCK_DECISION_REFIT``: refit the forecaster every k origins (default 4).

Full figures (a few minutes per data set)::

    OMNISTOCK_DECISION_SERIES=all OMNISTOCK_DECISION_ORIGINS=26 \\
        nice python -m pytest benchmarks/bench_decisions.py -s --benchmark-disable

References
----------
S. Axsäter, *Inventory Control*, 3rd ed., Springer, 2015, chapter 5 (the normal loss function
and fill-rate reorder points).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import realdata

from models.forecast import DemandForecaster
from models.policy import baselines, targets_from_forecast, targets_from_protection
from models.policy.replay import replay_base_stock

SERVICE_LEVELS = (0.80, 0.90, 0.95, 0.98)
"""Fill-rate targets beta of the replay."""
LEAD_TIME = 1
"""Replenishment lead time L, periods."""
REVIEW_PERIOD = 1
"""Review period R, periods (the replay reviews every period)."""
BASELINES = ("textbook", "textbook_loss", "empirical")
POLICIES = ("omnistock", *BASELINES)
ABSURD_MULTIPLE = 10.0
"""A level above this multiple of the largest (L+1)-period demand of the series' history (and
above this many units) marks the series as absurd (issue 14)."""
WORST_SHOWN = 8
"""Series listed in the diagnostics."""


@dataclass(frozen=True)
class DecisionSettings:
    """Size and refit cadence of the replay.

    Attributes
    ----------
    series : int or None
        Series per data set (a random sample, ``seed``), None for all.
    origins : int
        Periods replayed N: the last N periods of each data set.
    refit_every : int
        The forecaster is refitted every k origins.
    seed : int
        Seed of the series sample.
    """

    series: int | None = 60
    origins: int = 6
    refit_every: int = 4
    seed: int = 0

    @classmethod
    def from_environment(cls) -> DecisionSettings:
        """``OMNISTOCK_DECISION_SERIES`` (a number or ``all``), ``OMNISTOCK_DECISION_ORIGINS``
        and ``OMNISTOCK_DECISION_REFIT``, each defaulting to the class defaults."""
        series = os.environ.get("OMNISTOCK_DECISION_SERIES", str(cls.series))
        settings = cls(series=None if series.lower() == "all" else int(series),
                       origins=int(os.environ.get("OMNISTOCK_DECISION_ORIGINS", cls.origins)),
                       refit_every=int(os.environ.get("OMNISTOCK_DECISION_REFIT",
                                                      cls.refit_every)))
        if settings.origins < 1 or settings.refit_every < 1 or (settings.series or 1) < 1:
            raise ValueError(f"decision settings must be >= 1; found {settings}")
        return settings


@dataclass(frozen=True)
class DemandPanel:
    """Actual demand of many series on one period grid.

    Attributes
    ----------
    ids : numpy.ndarray of str, shape (series,)
    dates : pandas.DatetimeIndex, shape (T,)
    y : numpy.ndarray, shape (series, T)
        Demand per period; NaN before a series' first row, 0 for missing rows after it.
    promo : numpy.ndarray of float, shape (series, T)
        Promotion flag (0 where the data has none).
    has_promo : bool
        Whether the data set has a promotion column.
    freq : str
    """

    ids: np.ndarray
    dates: pd.DatetimeIndex
    y: np.ndarray
    promo: np.ndarray
    has_promo: bool
    freq: str


def demand_panel(history: pd.DataFrame, freq: str) -> DemandPanel:
    """Pivot a long table (``unique_id, ds, y`` [+ ``promo``]) to a `DemandPanel`."""
    dates = pd.date_range(history["ds"].min(), history["ds"].max(), freq=freq)
    wide = history.pivot(index="unique_id", columns="ds", values="y").reindex(columns=dates)
    y = wide.to_numpy(dtype=float)
    observed = ~np.isnan(y)
    first = np.where(observed.any(axis=1), observed.argmax(axis=1), y.shape[1])
    started = np.arange(y.shape[1])[None, :] >= first[:, None]
    y = np.where(started, np.nan_to_num(y), np.nan)
    has_promo = "promo" in history.columns
    promo = np.zeros(y.shape)
    if has_promo:
        promo = (history.pivot(index="unique_id", columns="ds", values="promo")
                 .reindex(index=wide.index, columns=dates).fillna(0).to_numpy(dtype=float))
    return DemandPanel(wide.index.to_numpy().astype(str), dates, y, promo, has_promo, freq)


def sample_series(panel: DemandPanel, count: int | None, seed: int) -> DemandPanel:
    """``count`` series drawn at random (without replacement, kept in id order), or all."""
    if count is None or count >= len(panel.ids):
        return panel
    rows = np.sort(np.random.default_rng(seed).choice(len(panel.ids), count, replace=False))
    return DemandPanel(panel.ids[rows], panel.dates, panel.y[rows], panel.promo[rows],
                       panel.has_promo, panel.freq)


def history_before(panel: DemandPanel, column: int) -> pd.DataFrame:
    """Long table of every period before ``column`` from each series' first row (zeros filled
    in), so every series' history ends at the period before the origin."""
    y = panel.y[:, :column]
    row, col = np.nonzero(~np.isnan(y))
    history = pd.DataFrame({"unique_id": panel.ids[row], "ds": panel.dates[col],
                            "y": y[row, col]})
    if panel.has_promo:
        history["promo"] = panel.promo[row, col].astype(int)
    return history


# ---------------------------------------------------------------------------------------------
# baselines: `models.policy.baselines`, over the interval L + R of this replay


def baseline_levels(y_before: np.ndarray, betas=SERVICE_LEVELS, *,
                    lead_time: int = LEAD_TIME) -> dict[str, np.ndarray]:
    """Levels of every baseline for every beta, ``{name: (len(betas), series)}``."""
    return baselines.baseline_levels(y_before, betas, lead_time + REVIEW_PERIOD,
                                     review=REVIEW_PERIOD)


def protection_sums(y_before: np.ndarray, *, lead_time: int = LEAD_TIME) -> np.ndarray:
    """Rolling (L+1)-period sums of each series' history (`models.policy.baselines`)."""
    return baselines.protection_sums(y_before, lead_time + REVIEW_PERIOD)


# ---------------------------------------------------------------------------------------------
# omnistock: targets straight from the forecast


@dataclass
class OmnistockPolicy:
    """omnistock's path from history to a base-stock level: `models.policy.targets_from_forecast`.

    ``fit`` fits `models.forecast.DemandForecaster` (default settings; no festivals, no
    middle-out: the real data sets have no Chinese retail calendar and no sku x channel
    parents) on the history before the refit origin, with the known promotion flags of the
    next ``horizon`` steps as planned promotions (the engine passes its planned promotions the
    same way). ``levels`` then asks `models.policy.targets_from_forecast` for the fill-rate
    targets of the protection interval that starts ``periods_ahead`` periods after the refit
    origin (``start=periods_ahead``: the demand distribution over L + R periods, calibrated on
    backtest sums that many steps ahead) with L = 1, R = 1, pack size 1 and no MOQ; its
    ``reorder_point`` is the base-stock level (no lot binds, so it equals ``order_up_to``).

    Attributes set by ``fit``: ``forecaster_``, ``ids_`` (series forecast), ``future_``,
    ``seconds_`` (fit time, and the targets' time is added by ``levels``).
    """

    freq: str

    def fit(self, history: pd.DataFrame, *, horizon: int,
            future: pd.DataFrame | None = None) -> OmnistockPolicy:
        start = time.perf_counter()
        self.forecaster_ = DemandForecaster(freq=self.freq).fit(history)
        self.ids_ = self.forecaster_.panel_.ids.astype(str)
        self.future_ = future
        self.seconds_ = time.perf_counter() - start
        return self

    def protection(self, *, lead_time: int = LEAD_TIME, periods_ahead: int = 0
                   ) -> pd.DataFrame:
        """The protection-interval distributions (`DemandForecaster.predict_protection`)."""
        return self.forecaster_.predict_protection(lead_time, REVIEW_PERIOD,
                                                   start=periods_ahead, future=self.future_)

    def levels(self, betas=SERVICE_LEVELS, *, lead_time: int = LEAD_TIME,
               periods_ahead: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
        """Base-stock levels, shape (len(betas), series), and the protection table."""
        start = time.perf_counter()
        protection = self.protection(lead_time=lead_time, periods_ahead=periods_ahead)
        out = np.zeros((len(betas), len(protection)))
        for b, beta in enumerate(betas):
            out[b] = targets_from_protection(protection, service_level=float(beta),
                                             service="fill_rate")["reorder_point"].to_numpy()
        self.seconds_ += time.perf_counter() - start
        return out, protection


def omnistock_levels(history: pd.DataFrame, freq: str, beta: float,
                     lead_time: int = LEAD_TIME) -> pd.Series:
    """omnistock's level for the protection interval right after ``history``, per series:
    ``(history before t, freq, beta, lead_time) -> level per unique_id``."""
    forecaster = DemandForecaster(freq=freq).fit(history)
    targets = targets_from_forecast(forecaster, lead_time=lead_time, review_period=REVIEW_PERIOD,
                                    service_level=beta)
    return pd.Series(targets["reorder_point"].to_numpy(),
                     index=pd.Index(targets["unique_id"].astype(str), name="unique_id"),
                     name="level")


# ---------------------------------------------------------------------------------------------
# the origin loop, the replay and the comparison


@dataclass(frozen=True)
class DecisionLevels:
    """Levels decided at every origin and what omnistock's forecasts looked like.

    Attributes
    ----------
    levels : dict of str to numpy.ndarray, shape (len(betas), series, N)
        Base-stock level per policy, beta, series and replayed period.
    demand : numpy.ndarray, shape (series, N)
        Actual demand of the replayed periods (NaN before a series starts).
    protection_mean, protection_variance : numpy.ndarray, shape (series, N)
        omnistock's forecast mean and variance of the demand over the protection interval
        (NaN where the series had no history).
    largest_sum : numpy.ndarray, shape (series, N)
        Largest historical (L+1)-period demand of each series before each origin (0 without).
    clamped : numpy.ndarray of bool, shape (series, N)
        omnistock's protection-interval variance hit its history bound.
    fit_seconds : list of float
    """

    levels: dict[str, np.ndarray]
    demand: np.ndarray
    protection_mean: np.ndarray
    protection_variance: np.ndarray
    largest_sum: np.ndarray
    clamped: np.ndarray
    fit_seconds: list[float]


def decide_levels(panel: DemandPanel, settings: DecisionSettings, *, betas=SERVICE_LEVELS,
                  lead_time: int = LEAD_TIME) -> DecisionLevels:
    """Levels of every policy at each of the last ``settings.origins`` periods of ``panel``.

    The level of period t uses only the history before t: baselines are recomputed at every
    origin; omnistock's forecaster is fitted at every ``settings.refit_every``-th origin t0 for
    ``refit_every + L + R - 1`` steps, and origin t uses the steps t - t0 ... t - t0 + L.
    Series with no history before t get level 0 from every policy.
    """
    n_series, n_total = panel.y.shape
    n = settings.origins
    if n >= n_total:
        raise ValueError(f"{n} origins need more than {n} periods of data; found {n_total}")
    shape = (len(betas), n_series, n)
    levels = {name: np.zeros(shape) for name in POLICIES}
    clamped = np.zeros((n_series, n), dtype=bool)
    protection_mean = np.full((n_series, n), np.nan)
    protection_variance = np.full((n_series, n), np.nan)
    largest_sum = np.zeros((n_series, n))
    steps = int(np.ceil(lead_time + REVIEW_PERIOD))
    policy, rows, fit_seconds, refit_at = None, None, [], 0
    for t in range(n):
        column = n_total - n + t
        y_before = panel.y[:, :column]
        for name, values in baseline_levels(y_before, betas, lead_time=lead_time).items():
            levels[name][:, :, t] = values
        sums = protection_sums(y_before, lead_time=lead_time)
        if sums.shape[1]:
            has_sum = (~np.isnan(sums)).any(axis=1)
            largest_sum[has_sum, t] = np.nanmax(sums[has_sum], axis=1)
        if t % settings.refit_every == 0:
            horizon = min(settings.refit_every, n - t) + steps - 1
            history = history_before(panel, column)
            future = _planned_promotions(panel, column, horizon)
            policy = OmnistockPolicy(panel.freq).fit(history, horizon=horizon, future=future)
            rows = pd.Index(panel.ids).get_indexer(policy.ids_)
            fit_seconds.append(policy.seconds_)
            refit_at = t
        ahead = t - refit_at
        values, protection = policy.levels(betas, lead_time=lead_time, periods_ahead=ahead)
        # a series launched after the refit origin has no forecast yet: level 0
        levels["omnistock"][:, rows, t] = values
        protection_mean[rows, t] = protection["mean"].to_numpy()
        protection_variance[rows, t] = protection["variance"].to_numpy()
        clamped[rows, t] = protection["clamped"].to_numpy()
    return DecisionLevels(levels, panel.y[:, n_total - n:], protection_mean,
                          protection_variance, largest_sum, clamped, fit_seconds)


def _planned_promotions(panel: DemandPanel, column: int, horizon: int) -> pd.DataFrame | None:
    """Known promotion flags of the ``horizon`` periods from ``column`` (planned in advance)."""
    if not panel.has_promo:
        return None
    end = min(column + horizon, panel.y.shape[1])
    promo = panel.promo[:, column:end]
    row, step = np.nonzero(promo > 0)
    return pd.DataFrame({"unique_id": panel.ids[row], "ds": panel.dates[column + step],
                         "promo": promo[row, step]})


def absurd_series(decided: DecisionLevels, *, multiple: float = ABSURD_MULTIPLE) -> np.ndarray:
    """Series where some omnistock level exceeded ``multiple`` x max(largest historical
    (L+1)-period demand, 1 unit), at any origin and beta; bool, shape (series,)."""
    bound = multiple * np.maximum(decided.largest_sum, 1.0)
    return (decided.levels["omnistock"] > bound[None]).any(axis=(0, 2))


def stock_at_fill_rate(fill_rates, on_hand, target: float) -> float:
    """On-hand stock at fill rate ``target`` by linear interpolation along a policy's curve.

    Parameters
    ----------
    fill_rates, on_hand : array_like, shape (points,)
        The policy's (realised fill rate, average on hand) points, one per beta.
    target : float
        Fill rate at which the stock is wanted.

    Returns
    -------
    float
        The interpolated on hand; NaN when ``target`` lies outside the realised fill rates.
    """
    fill_rates, on_hand = np.asarray(fill_rates, float), np.asarray(on_hand, float)
    order = np.argsort(fill_rates)
    fill_rates, on_hand = fill_rates[order], on_hand[order]
    if not (fill_rates[0] <= target <= fill_rates[-1]):
        return float("nan")
    return float(np.interp(target, fill_rates, on_hand))


def replay_table(decided: DecisionLevels, keep: np.ndarray | None = None, *,
                 betas=SERVICE_LEVELS, lead_time: int = LEAD_TIME) -> pd.DataFrame:
    """Realised fill rate and average on hand of every policy and beta (the series ``keep``).

    Columns: ``policy, beta, fill_rate`` (total served at once / total demand over the kept
    series and replayed periods), ``avg_on_hand`` (sum over series of the mean end-of-period
    on hand), ``series``.
    """
    keep = np.ones(len(decided.demand), dtype=bool) if keep is None else keep
    demand = decided.demand[keep]
    total_demand = np.nansum(demand)
    rows = []
    for name in POLICIES:
        for b, beta in enumerate(betas):
            replay = replay_base_stock(decided.levels[name][b][keep], demand,
                                       lead_time=lead_time)
            rows.append({"policy": name, "beta": beta,
                         "fill_rate": replay.served.sum() / total_demand,
                         "avg_on_hand": replay.average_on_hand.sum(),
                         "series": int(keep.sum())})
    return pd.DataFrame(rows)


def compare_with_baselines(table: pd.DataFrame) -> pd.DataFrame:
    """Add, on omnistock's rows, the best baseline's stock at omnistock's realised fill rate.

    Adds ``best_baseline`` (the baseline needing least stock at that fill rate, along its
    curve over the betas), ``baseline_on_hand`` (that stock) and ``ratio`` (omnistock's
    average on hand / baseline_on_hand); NaN where omnistock's fill rate is outside every
    baseline's curve.
    """
    table = table.copy()
    table["best_baseline"] = ""
    table["baseline_on_hand"] = np.nan
    curves = {name: table[table["policy"] == name] for name in BASELINES}
    for index, row in table[table["policy"] == "omnistock"].iterrows():
        needed = {name: stock_at_fill_rate(curve["fill_rate"], curve["avg_on_hand"],
                                           row["fill_rate"]) for name, curve in curves.items()}
        needed = {name: value for name, value in needed.items() if np.isfinite(value)}
        if needed:
            best = min(needed, key=needed.get)
            table.loc[index, "best_baseline"] = best
            table.loc[index, "baseline_on_hand"] = needed[best]
    table["ratio"] = table["avg_on_hand"] / table["baseline_on_hand"]
    return table


@dataclass(frozen=True)
class DecisionResult:
    """Figures of one data set.

    Attributes
    ----------
    table : pandas.DataFrame
        ``dataset, series_set`` (``all``, or ``sane``: without `absurd_series`), ``policy,
        beta, fill_rate, avg_on_hand, series, best_baseline, baseline_on_hand, ratio``.
    diagnostics : dict
        Signs of exploding variances in omnistock's forecasts (see `diagnose`).
    settings : DecisionSettings
    """

    table: pd.DataFrame
    diagnostics: dict
    settings: DecisionSettings


def diagnose(panel: DemandPanel, decided: DecisionLevels, *, betas=SERVICE_LEVELS) -> dict:
    """Largest protection-interval forecast variance against the largest historical
    (L+1)-period demand squared, series whose variance exceeds their own largest sum squared,
    absurd and clamped series, with the worst series ids."""
    n = decided.demand.shape[1]
    dates = panel.dates[-n:]
    variance = np.nan_to_num(decided.protection_variance, nan=-np.inf)
    series, origin = np.unravel_index(np.argmax(variance), variance.shape)
    largest = decided.largest_sum
    worst_sum = np.unravel_index(np.argmax(largest), largest.shape)
    too_wide = (decided.protection_variance > np.maximum(largest, 1.0) ** 2).any(axis=1)
    absurd = absurd_series(decided)
    ratio = decided.levels["omnistock"] / np.maximum(largest, 1.0)[None]
    # forecast bias: protection-interval mean against the actual demand of the same periods
    periods = LEAD_TIME + REVIEW_PERIOD
    actual = sum(decided.demand[:, k:n - periods + 1 + k] for k in range(periods))
    forecast = decided.protection_mean[:, :n - periods + 1]
    known = ~np.isnan(actual) & ~np.isnan(forecast)
    per_series = ratio.max(axis=(0, 2))
    top = np.argsort(per_series)[::-1][:WORST_SHOWN]
    worst_beta = ratio[:, top].max(axis=2).argmax(axis=0)
    worst_origin = ratio[worst_beta, top].argmax(axis=1)
    worst = pd.DataFrame({
        "unique_id": panel.ids[top].astype(str),
        "origin": dates[worst_origin].strftime("%Y-%m-%d"),
        "beta": np.asarray(betas)[worst_beta],
        "level": decided.levels["omnistock"][worst_beta, top, worst_origin],
        "largest_sum": largest[top, worst_origin],
        "level_over_largest": per_series[top],
        "protection_mean": decided.protection_mean[top, worst_origin],
        "protection_variance": decided.protection_variance[top, worst_origin],
        "clamped": decided.clamped[top, worst_origin],
    })
    return {
        "max_protection_variance": float(variance[series, origin]),
        "forecast_over_actual": float(forecast[known].sum() / actual[known].sum())
        if known.any() and actual[known].sum() > 0 else float("nan"),
        "max_variance_series": str(panel.ids[series]),
        "max_variance_origin": dates[origin].date().isoformat(),
        "max_variance_series_largest_sum": float(largest[series, origin]),
        "max_historical_sum_squared": float(largest[worst_sum] ** 2),
        "max_historical_sum_series": str(panel.ids[worst_sum[0]]),
        "series_variance_above_largest_sum_squared": int(too_wide.sum()),
        "series_level_above_10x_largest_sum": int(absurd.sum()),
        "series_level_above_10x_by_beta": {beta: int((ratio[b] > ABSURD_MULTIPLE).any(axis=1)
                                                     .sum()) for b, beta in enumerate(betas)},
        "worst_series": worst,
        "series_clamped": int(decided.clamped.any(axis=1).sum()),
        "clamped_ids": panel.ids[decided.clamped.any(axis=1)][:10].tolist(),
        "fit_seconds": round(float(np.sum(decided.fit_seconds)), 1),
        "fits": len(decided.fit_seconds),
    }


def run_decisions(name: str, settings: DecisionSettings) -> DecisionResult | None:
    """Replay data set ``name`` (one of `realdata.LOADERS`); None when its data are absent."""
    loaded = realdata.load(name)
    if loaded is None:
        return None
    panel = sample_series(demand_panel(*loaded), settings.series, settings.seed)
    decided = decide_levels(panel, settings)
    absurd = absurd_series(decided)
    tables = [compare_with_baselines(replay_table(decided)).assign(series_set="all")]
    if absurd.any():
        tables.append(compare_with_baselines(replay_table(decided, ~absurd))
                      .assign(series_set="sane"))
    table = pd.concat(tables, ignore_index=True).assign(dataset=name)
    columns = ["dataset", "series_set", "policy", "beta", "fill_rate", "avg_on_hand", "series",
               "best_baseline", "baseline_on_hand", "ratio"]
    return DecisionResult(table[columns], diagnose(panel, decided), settings)


def format_result(result: DecisionResult) -> str:
    """The figures of one data set as text."""
    settings, diagnostics = result.settings, result.diagnostics
    table = result.table
    dataset = table["dataset"].iloc[0]
    lines = [f"\n== {dataset}: last {settings.origins} periods replayed, "
             f"{table['series'].iloc[0]} series "
             f"({'all' if settings.series is None else f'sample of {settings.series}'}), "
             f"L = {LEAD_TIME}, R = {REVIEW_PERIOD}; omnistock refitted every "
             f"{settings.refit_every} origins ({diagnostics['fits']} fits, "
             f"{diagnostics['fit_seconds']} s), baselines at every origin",
             "fill rate = total served at once / total demand over all series and periods; "
             "on hand = sum over series of the mean end-of-period on hand (data units)"]
    shown = table.assign(
        fill_rate=table["fill_rate"].map("{:.4f}".format),
        avg_on_hand=table["avg_on_hand"].map("{:,.6g}".format),
        baseline_on_hand=table["baseline_on_hand"].map(
            lambda v: "" if not np.isfinite(v) else f"{v:,.6g}"),
        ratio=table["ratio"].map(lambda v: "" if not np.isfinite(v) else f"{v:.3f}"))
    lines.append(shown.drop(columns="dataset").to_string(index=False))
    lines.append(
        f"omnistock forecasts: max protection-interval variance "
        f"{diagnostics['max_protection_variance']:.3g} ({diagnostics['max_variance_series']}, "
        f"origin {diagnostics['max_variance_origin']}, whose largest (L+1)-sum was "
        f"{diagnostics['max_variance_series_largest_sum']:.6g}) vs max historical (L+1)-sum "
        f"squared {diagnostics['max_historical_sum_squared']:.3g} "
        f"({diagnostics['max_historical_sum_series']})")
    lines.append(
        f"series with variance > own largest (L+1)-sum squared: "
        f"{diagnostics['series_variance_above_largest_sum_squared']}; with a level > "
        f"{ABSURD_MULTIPLE:g}x own largest (L+1)-sum: "
        f"{diagnostics['series_level_above_10x_largest_sum']} "
        f"(by beta {diagnostics['series_level_above_10x_by_beta']}); whose "
        f"protection-interval variance was capped at its history bound: "
        f"{diagnostics['series_clamped']} {diagnostics['clamped_ids']}")
    worst = diagnostics["worst_series"]
    lines.append("omnistock's largest levels against the largest (L+1)-period demand of the "
                 "history, at their worst origin and beta (level, sums, mean, variance over "
                 "the protection interval):")
    lines.append(worst.to_string(index=False, float_format="{:.4g}".format))
    lines.append(f"omnistock protection-interval mean / actual demand of the same periods "
                 f"(all series, origins with both known): "
                 f"{diagnostics['forecast_over_actual']:.3f}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def decision_settings() -> DecisionSettings:
    return DecisionSettings.from_environment()


@pytest.mark.parametrize("dataset", list(realdata.LOADERS))
def test_decision_replay(benchmark, decision_settings, dataset):
    results = {}

    def run():
        results["result"] = run_decisions(dataset, decision_settings)

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
    result = results["result"]
    if result is None:
        pytest.skip(f"the {dataset} data are not on this machine")
    print(format_result(result))
    table = result.table
    assert set(table["policy"]) == set(POLICIES)
    assert table["fill_rate"].between(0, 1).all()
    assert (table["avg_on_hand"] >= 0).all()
    # every baseline serves more from a higher target
    for _, curve in table[table["policy"].isin(BASELINES)].groupby(["series_set", "policy"]):
        assert curve.sort_values("beta")["fill_rate"].is_monotonic_increasing
    if not benchmark.disabled:
        benchmark.extra_info.update({
            "series": int(table["series"].iloc[0]), "origins": decision_settings.origins,
            "refit_every": decision_settings.refit_every,
            "omnistock_ratio": table.loc[(table["policy"] == "omnistock")
                                         & (table["series_set"] == "all"), "ratio"].tolist()})
