"""The forecasting pipeline: classify, clean, backtest, choose, forecast, add uplifts, quantiles.

`DemandForecaster` keeps its settings in ``__init__``; ``fit(history)`` learns everything that
needs the history (demand classes, the clean baseline, uplifts, the model choice from the
rolling-origin backtest, the spread calibration) into attributes ending in ``_``;
``predict(horizon)`` runs the chosen models on the whole history and returns the forecast table.
`forecast` does both without keeping state.

Steps of ``fit``:

1. pack the long table into a right-aligned matrix (`models.forecast.panel`);
2. flag promotion periods and festival periods, estimate their uplifts per group against the
   local baseline, and divide the flagged periods by their multiplier (unknown values take the
   local baseline) to get the clean baseline history (`models.forecast.uplift`);
3. classify each series on its baseline (`models.forecast.classes`);
4. backtest the candidates of each class over rolling origins and choose per class or per
   series by RMSSE (`models.forecast.selection`, `models.forecast.candidates`);
5. estimate each series' dispersion from the chosen model's backtest errors, shrunk towards its
   class, and calibrate the spread per class so the central band covers what it promises
   (`models.forecast.intervals`).

With ``middle_out`` set, ``fit`` also forecasts the parents (say sku x channel) and chooses per
parent, by backtest, between splitting the parent by recent shares and forecasting each child
(`models.forecast.middle_out`).

``predict`` forecasts modelled series with their chosen model, new series from analogues
(`models.forecast.coldstart`), inactive series with TSB (whose demand probability decays while
a series stays silent, Teunter, Syntetos & Babai 2011), multiplies by the festival and planned
promotion multipliers of each future period, and derives variance, family and quantiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.distributions import FAMILY_LABELS, count_variance
from models.forecast.candidates import (
    ENSEMBLE,
    FALLBACK,
    INACTIVE_MODEL,
    PROFILES,
    Candidate,
    candidates,
)
from models.forecast.classes import CLASS_NAMES, Classification, DemandClass, classify
from models.forecast.coldstart import analogue_levels, credibility_blend
from models.forecast.dispersion import Dispersion, estimate_dispersion
from models.forecast.events import Festival, exposure
from models.forecast.intervals import StepDistribution, family_for
from models.forecast.metrics import naive_scale
from models.forecast.middle_out import (
    MiddleOutChoice,
    choose_parents,
    parent_codes,
    parent_history,
    recent_shares,
)
from models.forecast.panel import Panel, from_long, season_length
from models.forecast.runner import ModelRun, run_model, window_average
from models.forecast.selection import SELECTIONS, choose, rolling_backtest
from models.forecast.uplift import Uplifts, deflate, estimate_uplifts, local_baseline

DEFAULT_ANALOGUES = (("category", "channel", "region"), ("category", "channel"), ("category",),
                     ())
SHARE_WINDOW = 26
"""Periods over which middle-out shares are measured."""
FAILED_SUFFIX = " (fallback: fit failed)"
"""Appended to the model name of a series whose chosen model (or an ensemble member) raised or
gave a non-finite forecast; the series got a window-average forecast in its place."""
NEW_LEVEL_WINDOW = 4
"""A new series' own level is the mean of its last few periods: young series are ramping up."""
NEW_PRIOR_PERIODS = 4.0
"""Weight of the analogue level in periods of own history (`models.forecast.coldstart`); chosen
on holdouts of the demo: 4 gave the lowest RMSSE without bias among 0, 1, 4 and 13."""
_MODELLED = (DemandClass.SMOOTH, DemandClass.ERRATIC, DemandClass.INTERMITTENT,
             DemandClass.LUMPY)
_FAMILIES_OF_CLASSES = ((DemandClass.SMOOTH, DemandClass.ERRATIC),
                        (DemandClass.INTERMITTENT, DemandClass.LUMPY))


@dataclass(frozen=True)
class _Derived:
    """Settings that follow from the frequency unless given."""

    season: int
    backtest_horizon: int
    min_history: int
    inactive_periods: int
    level_window: int
    half_window: int


class DemandForecaster:
    """Probabilistic demand forecasts for many series (see the module docstring).

    Parameters
    ----------
    freq : str
        Pandas frequency alias of the history (``W-MON``, ``D``, ``MS`` ...).
    quantiles : sequence of float
        Probabilities of the quantile columns, each in (0, 1); columns are named ``q10``,
        ``q50``, ``q90`` for 0.1, 0.5, 0.9.
    models : {"fast", "accurate"}
        Candidate profile (`models.forecast.candidates`).
    selection : {"class", "series"}
        Choose one model per demand class, or per series.
    n_windows : int
        Rolling-origin backtest windows.
    backtest_horizon : int, optional
        Periods per backtest window (default: a quarter of a year; 28 days for daily data).
    min_history : int, optional
        Fewer periods since the first sale make a series ``new`` (default: a quarter of a year,
        at least 8).
    inactive_periods : int, optional
        No sale in this many periods makes a series ``inactive`` (default: half a year; 13
        weeks for weekly data).
    festivals : sequence of Festival
        Festival windows whose effect is estimated and forecast (default: none; the engine
        passes `models.forecast.events.CHINA_RETAIL_FESTIVALS`).
    uplift_by : sequence of str
        Columns of ``groups`` that pool the uplift estimates (default category x channel).
    analogues : sequence of sequence of str
        Peer groups for new series, finest first (`models.forecast.coldstart`).
    middle_out : sequence of str, optional
        Columns of ``groups`` naming each series' parent (e.g. ``("sku", "channel")`` for
        sku x channel x region series): parents are forecast too, and each parent whose
        backtest favours it is split to its children by recent shares
        (`models.forecast.middle_out`).
    nonnegative : bool
        Demand cannot be negative: forecasts, quantiles and draws are floored at zero, and a
        negative value in the history is an error.
    """

    def __init__(self, *, freq: str, quantiles: Sequence[float] = (0.1, 0.5, 0.9),
                 models: str = "fast", selection: str = "class", n_windows: int = 3,
                 backtest_horizon: int | None = None, min_history: int | None = None,
                 inactive_periods: int | None = None, festivals: Sequence[Festival] = (),
                 uplift_by: Sequence[str] = ("category", "channel"),
                 analogues: Sequence[Sequence[str]] = DEFAULT_ANALOGUES,
                 middle_out: Sequence[str] | None = None, nonnegative: bool = True):
        _settings_iv(freq, quantiles, models, selection, n_windows, backtest_horizon,
                     min_history, inactive_periods, festivals)
        self.freq = freq
        self.quantiles = tuple(float(q) for q in quantiles)
        self.models = models
        self.selection = selection
        self.n_windows = int(n_windows)
        self.backtest_horizon = backtest_horizon
        self.min_history = min_history
        self.inactive_periods = inactive_periods
        self.festivals = tuple(festivals)
        self.uplift_by = tuple(uplift_by)
        self.analogues = tuple(tuple(a) for a in analogues)
        self.middle_out = tuple(middle_out) if middle_out else None
        self.nonnegative = bool(nonnegative)

    # -- fit ---------------------------------------------------------------------------------

    def fit(self, history: pd.DataFrame, *, groups: pd.DataFrame | None = None
            ) -> DemandForecaster:
        """Learn classes, baseline, uplifts, model choice and spread from the history.

        Parameters
        ----------
        history : pandas.DataFrame
            Long table: ``unique_id``, ``ds`` (dates on ``freq``), ``y``; optional ``promo``
            (promotion flag). Other columns are ignored.
        groups : pandas.DataFrame, optional
            One row per ``unique_id`` with grouping columns (``sku``, ``category``,
            ``channel``, ``region`` ...) for uplift pooling and analogues.

        Returns
        -------
        DemandForecaster
            ``self``, fitted.
        """
        _history_iv(history, self.nonnegative)
        panel = from_long(history, self.freq)
        derived = self._derived(panel)
        keys = _align_groups(groups, panel.ids)
        uplift_group, n_uplift_groups = _group_codes(keys, self.uplift_by, panel.n_series)
        effects = self._effects(panel, panel.grid_positions(), panel.promo)
        flagged = panel.promo.copy()
        if len(self.festivals):
            flagged |= effects[:-1].sum(axis=0) > 0
        local = local_baseline(panel.y, flagged, derived.half_window)
        uplifts = estimate_uplifts(panel.y, local, effects, uplift_group, n_uplift_groups,
                                   self._effect_names())
        history_multiplier = uplifts.multiplier(uplift_group, effects)
        baseline = deflate(panel.y, local, flagged, history_multiplier)
        classes = classify(baseline, min_history=derived.min_history,
                           inactive_periods=derived.inactive_periods)
        observed = panel.y[~np.isnan(panel.y)]
        counts = bool(np.all(observed == np.round(observed)))

        choice = np.full(panel.n_series, "", dtype=object)
        members: dict[str, tuple[str, ...]] = {}
        backtest_table: dict[str, dict[str, float]] = {}
        dispersion = np.zeros(panel.n_series)
        step_factor: dict[int, np.ndarray] = {}
        spread: dict[int, float] = {}
        failures = np.zeros(panel.n_series, dtype=np.int64)
        width = (self.n_windows, derived.backtest_horizon)
        backtest_actual = np.full((panel.n_series, *width), np.nan)
        backtest_forecast = np.full((panel.n_series, *width), np.nan)
        for family in _FAMILIES_OF_CLASSES:
            rows = np.flatnonzero(np.isin(classes.code, [c.code for c in family]))
            if len(rows) == 0:
                continue
            options = candidates(family[0], self.models)
            backtest = rolling_backtest(
                baseline[rows], panel.y[rows], panel.start[rows], history_multiplier[rows],
                options, season=derived.season, horizon=derived.backtest_horizon,
                n_windows=self.n_windows, fallback_window=derived.level_window,
                nonnegative=self.nonnegative)
            failures[rows] = backtest.failed
            chosen = choose(backtest, baseline[rows], classes.code[rows], self.selection,
                            default=options[0].name)
            choice[rows] = chosen.model
            for code, means in chosen.table.items():
                backtest_table[CLASS_NAMES[code]] = means
                members[CLASS_NAMES[code]] = chosen.members[code]
            forecasts = {**backtest.forecasts, ENSEMBLE: chosen.ensemble_forecast}
            chosen_forecast = np.full(backtest.actual.shape, np.nan)
            for name in np.unique(chosen.model):
                picked = chosen.model == name
                chosen_forecast[picked] = forecasts[name][picked]
            found = estimate_dispersion(
                backtest.actual, chosen_forecast, classes.code[rows], counts=counts,
                low=min(self.quantiles), high=max(self.quantiles), nonnegative=self.nonnegative)
            dispersion[rows] = found.per_series
            step_factor.update(found.step_factor)
            spread.update(found.spread)
            backtest_actual[rows] = backtest.actual
            backtest_forecast[rows] = chosen_forecast

        self.panel_ = panel
        self.derived_ = derived
        self.keys_ = keys
        self.uplift_group_ = uplift_group
        self.uplifts_: Uplifts = uplifts
        self.baseline_ = baseline
        self.classes_: Classification = classes
        self.counts_ = counts
        self.choice_ = choice.astype(str)
        self.backtest_: dict[str, dict[str, float]] = backtest_table
        self.ensemble_members_: dict[str, tuple[str, ...]] = members
        self.dispersion_ = Dispersion(dispersion, step_factor, spread)
        self.failures_ = failures
        self.backtest_actual_ = backtest_actual
        self.backtest_forecast_ = backtest_forecast
        self.parent_ = None
        if self.middle_out:
            self._fit_middle_out(groups)
        return self

    def _fit_middle_out(self, groups: pd.DataFrame | None) -> None:
        """Forecast the parents, and choose per parent between middle-out and child by child."""
        panel, derived = self.panel_, self.derived_
        codes, parents = parent_codes(self.keys_, self.middle_out)
        history = parent_history(panel, codes, parents["unique_id"].to_numpy())
        settings = {k: v for k, v in vars(self).items() if not k.endswith("_")}
        settings["middle_out"] = None
        parent = DemandForecaster(**settings).fit(history, groups=parents)
        order = pd.Index(parent.panel_.ids).get_indexer(parents["unique_id"])
        middle = np.full(self.backtest_actual_.shape, np.nan)
        for w in range(self.n_windows):
            cut = panel.n_periods - (w + 1) * derived.backtest_horizon
            if cut <= 0:
                continue
            share = recent_shares(self.baseline_, codes, len(parents), cut, SHARE_WINDOW)
            middle[:, w] = parent.backtest_forecast_[order[codes], w] * share[:, None]
        choice = choose_parents(self.backtest_actual_, self.backtest_forecast_, middle, codes,
                                len(parents), naive_scale(self.baseline_, 2))
        self.parent_ = parent
        self.parent_codes_ = codes
        self.parent_order_ = order
        self.middle_out_choice_: MiddleOutChoice = choice

    def _derived(self, panel: Panel) -> _Derived:
        m = season_length(self.freq)
        per_year = {52: 52, 7: 365, 12: 12, 4: 4, 24: 24 * 365}.get(m, max(m, 1))
        quarter = max(1, round(per_year / 4))
        backtest = self.backtest_horizon or (28 if m == 7 else max(2, min(quarter, 13)))
        min_history = self.min_history or max(8, min(quarter, 13))
        inactive = self.inactive_periods or (13 if m == 52 else max(3, round(per_year / 2)))
        level_window = 28 if m == 7 else max(3, min(quarter, 13))
        half_window = 7 if m == 7 else (4 if m == 52 else 2)
        return _Derived(m, backtest, min_history, inactive, level_window, half_window)

    def _effect_names(self) -> tuple[str, ...]:
        return (*(f.name for f in self.festivals), "promo")

    def _effects(self, panel: Panel, positions: np.ndarray, promo: np.ndarray) -> np.ndarray:
        """Exposure of each (series, period) to each festival, then the promotion flag."""
        n_fest = len(self.festivals)
        out = np.zeros((n_fest + 1,) + positions.shape)
        if n_fest:
            span = int(max(positions.max(), 0)) + 1
            grid = pd.date_range(panel.grid[0], periods=span, freq=self.freq)
            table = exposure(grid, self.freq, self.festivals)
            inside = positions >= 0
            out[:n_fest][:, inside] = table[:, positions[inside]]
        # a promotion inside a festival is part of the festival's effect
        out[n_fest] = promo * np.clip(1.0 - out[:n_fest].sum(axis=0), 0.0, 1.0)
        return out

    # -- predict -----------------------------------------------------------------------------

    def predict(self, horizon: int, *, future: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast ``horizon`` periods after each series' last period.

        Parameters
        ----------
        horizon : int
            Periods ahead (h >= 1).
        future : pandas.DataFrame, optional
            Planned promotions: ``unique_id``, ``ds`` and ``uplift`` (a demand multiplier that
            replaces the estimated festival and promotion effect of that period) and/or
            ``promo`` (a flag: the estimated promotion uplift applies).

        Returns
        -------
        pandas.DataFrame
            ``unique_id``, ``ds``, ``mean``, one column per quantile (``q10`` ...), ``model``,
            ``demand_class``, ``variance``, ``distribution``; sorted by series and date.
        """
        distribution, model = self.predict_distribution(horizon, future=future)
        return self._table(distribution, model, horizon)

    def predict_distribution(self, horizon: int, *, future: pd.DataFrame | None = None
                             ) -> tuple[StepDistribution, np.ndarray]:
        """The per-step distributions of ``predict`` and the model name of every series."""
        if not hasattr(self, "panel_"):
            raise RuntimeError("call fit() before predict()")
        if not isinstance(horizon, (int, np.integer)) or horizon < 1:
            raise ValueError(f"horizon must be a whole number >= 1; found {horizon!r}")
        base, model = self.predict_baseline(horizon)
        if self.parent_ is not None:
            base, model = self._split_parents(base, model, horizon)
        mean = base * self._multiplier(horizon, future)
        if self.nonnegative:
            mean = np.maximum(mean, 0.0)
        variance, family = self._variance(mean)
        return StepDistribution(mean, variance, family, self.nonnegative), model.astype(str)

    def predict_baseline(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Baseline forecast (before promotion and festival multipliers) and model names."""
        panel, classes = self.panel_, self.classes_
        base = np.zeros((panel.n_series, horizon))
        model = self.choice_.astype(object)
        failed = np.zeros(panel.n_series, dtype=bool)
        class_names = CLASS_NAMES[classes.code]
        for family in _FAMILIES_OF_CLASSES:
            options = candidates(family[0], self.models)
            rows = np.flatnonzero(np.isin(classes.code, [c.code for c in family]))
            if len(rows) == 0:
                continue
            ensemble = self.choice_[rows] == ENSEMBLE
            in_ensemble = {c.name: np.zeros(len(rows), dtype=bool) for c in options}
            for name in np.unique(class_names[rows[ensemble]]):
                for member in self.ensemble_members_[name]:
                    in_ensemble[member] |= ensemble & (class_names[rows] == name)
            members_sum = np.zeros((len(rows), horizon))
            members_count = np.zeros(len(rows))
            for candidate in options:
                alone = self.choice_[rows] == candidate.name
                needed = alone | in_ensemble[candidate.name]
                if not needed.any():
                    continue
                run = self._run(candidate, rows[needed], horizon)
                base[rows[alone]] = run.mean[alone[needed]]
                short = fallback_mask(run.fallback & ~run.failed, needed)
                model[rows[alone & short]] = f"{FALLBACK.name} (short history)"
                failed[rows[fallback_mask(run.failed, needed)]] = True
                part = in_ensemble[candidate.name]
                members_sum[part] += run.mean[part[needed]]
                members_count[part] += 1
            base[rows[ensemble]] = members_sum[ensemble] / np.maximum(
                members_count[ensemble], 1)[:, None]
        model[failed] = np.char.add(model[failed].astype(str), FAILED_SUFFIX)

        inactive = np.flatnonzero(classes.code == DemandClass.INACTIVE.code)
        if len(inactive):
            base[inactive] = self._run(INACTIVE_MODEL, inactive, horizon).mean
            model[inactive] = f"{INACTIVE_MODEL.name} (inactive)"

        new = classes.code == DemandClass.NEW.code
        if new.any():
            level, source = self._cold_start(new)
            base[new] = level[new, None]
            model[new] = np.char.add("analogue:", source[new].astype(str))

        return base, model

    def _split_parents(self, base: np.ndarray, model: np.ndarray,
                       horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Replace the baseline of modelled children of middle-out parents by their share."""
        codes = self.parent_codes_
        parent_base, parent_model = self.parent_.predict_baseline(horizon)
        share = recent_shares(self.baseline_, codes, len(self.parent_order_),
                              self.panel_.n_periods, SHARE_WINDOW)
        row = self.parent_order_[codes]
        split = self.middle_out_choice_.use[codes] & np.isin(
            self.classes_.code, [c.code for c in _MODELLED])
        base = base.copy()
        base[split] = parent_base[row[split]] * share[split, None]
        model = model.copy()
        model[split] = np.char.add("middle-out:", parent_model[row[split]].astype(str))
        return base, model

    def _multiplier(self, horizon: int, future: pd.DataFrame | None) -> np.ndarray:
        """Festival and promotion multipliers of every future period (planned uplifts win)."""
        panel = self.panel_
        positions = panel.end[:, None] + 1 + np.arange(horizon)[None, :]
        promo, planned = _future_table(future, panel, horizon)
        effects = self._effects(panel, positions, promo)
        multiplier = self.uplifts_.multiplier(self.uplift_group_, effects)
        return np.where(np.isnan(planned), multiplier, planned)

    def _run(self, candidate: Candidate, rows: np.ndarray, horizon: int) -> ModelRun:
        panel = self.panel_
        return run_model(candidate, self.baseline_[rows], panel.start[rows], panel.n_periods,
                         horizon, self.derived_.season, self.derived_.level_window)

    def _cold_start(self, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        panel, derived = self.panel_, self.derived_
        observed = (~np.isnan(panel.y)).sum(axis=1)
        recent = window_average(self.baseline_, panel.start, panel.n_periods,
                                derived.level_window)
        latest = window_average(self.baseline_, panel.start, panel.n_periods, NEW_LEVEL_WINDOW)
        mature = np.isin(self.classes_.code, [c.code for c in _MODELLED])
        analogue, source = analogue_levels(recent, mature, self.keys_, self.analogues)
        level = credibility_blend(latest, observed, analogue, NEW_PRIOR_PERIODS)
        return level, source

    def _variance(self, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Variance and family per step: calibrated dispersion for modelled series, the
        median dispersion of modelled series for new and inactive ones."""
        code = self.classes_.code
        dispersion = self.dispersion_.at(code, mean.shape[1])
        modelled = np.isin(code, [c.code for c in _MODELLED])
        typical = float(np.median(self.dispersion_.per_series[modelled])) if modelled.any() \
            else (0.5 if self.counts_ else 0.25)
        dispersion[~modelled] = typical
        if self.counts_:
            return count_variance(mean, dispersion), family_for(mean, dispersion, True)
        return dispersion * mean**2, family_for(mean, dispersion, False)

    def _table(self, distribution: StepDistribution, model: np.ndarray,
               horizon: int) -> pd.DataFrame:
        panel = self.panel_
        n = panel.n_series
        quantiles = distribution.quantiles(np.asarray(self.quantiles))
        frame = {
            "unique_id": np.repeat(panel.ids, horizon),
            "ds": panel.future_dates(horizon).ravel(),
            "mean": distribution.mean.ravel(),
        }
        for k, q in enumerate(self.quantiles):
            frame[quantile_column(q)] = quantiles[..., k].ravel()
        frame["model"] = np.repeat(model, horizon)
        frame["demand_class"] = np.repeat(CLASS_NAMES[self.classes_.code], horizon)
        frame["variance"] = distribution.variance.ravel()
        frame["distribution"] = FAMILY_LABELS[distribution.family.ravel()]
        out = pd.DataFrame(frame)
        assert len(out) == n * horizon
        return out


def fallback_mask(fallback: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """Spread a mask over the ``needed`` rows back to all rows."""
    out = np.zeros(len(needed), dtype=bool)
    out[needed] = fallback
    return out


def quantile_column(q: float) -> str:
    """Column name of a quantile: 0.1 -> ``q10``, 0.025 -> ``q2.5``."""
    return f"q{100 * q:g}"


def forecast(history: pd.DataFrame, *, horizon: int, freq: str,
             quantiles: Sequence[float] = (0.1, 0.5, 0.9), groups: pd.DataFrame | None = None,
             future: pd.DataFrame | None = None, **settings) -> pd.DataFrame:
    """Fit and predict in one call, keeping no state.

    Parameters
    ----------
    history : pandas.DataFrame
        ``unique_id``, ``ds``, ``y`` and optionally ``promo`` (statsforecast long format).
    horizon : int
        Periods to forecast.
    freq : str
        Pandas frequency alias (``W-MON``, ``D``, ``MS`` ...).
    quantiles : sequence of float
        Probabilities of the quantile columns.
    groups, future : pandas.DataFrame, optional
        See `DemandForecaster.fit` and `DemandForecaster.predict`.
    **settings
        Other `DemandForecaster` settings (``models``, ``selection``, ``festivals`` ...).

    Returns
    -------
    pandas.DataFrame
        See `DemandForecaster.predict`.
    """
    settings.setdefault("backtest_horizon", horizon)
    forecaster = DemandForecaster(freq=freq, quantiles=quantiles, **settings)
    return forecaster.fit(history, groups=groups).predict(horizon, future=future)


# ---------------------------------------------------------------------------------------------
# argument checks


def _settings_iv(freq, quantiles, models, selection, n_windows, backtest_horizon, min_history,
                 inactive_periods, festivals) -> None:
    try:
        pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        raise ValueError(f"freq must be a pandas frequency alias such as 'W-MON', 'D' or "
                         f"'MS'; found {freq!r}") from None
    qs = np.asarray(quantiles, dtype=float) if len(quantiles) else np.zeros(0)
    if qs.ndim != 1 or len(qs) == 0 or not ((qs > 0) & (qs < 1)).all():
        raise ValueError(f"quantiles must be probabilities in (0, 1); found {quantiles!r}")
    if models not in PROFILES:
        raise ValueError(f"models must be one of {', '.join(PROFILES)}; found {models!r}")
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {', '.join(SELECTIONS)}; "
                         f"found {selection!r}")
    for name, value, smallest in (("n_windows", n_windows, 1),
                                  ("backtest_horizon", backtest_horizon, 1),
                                  ("min_history", min_history, 2),
                                  ("inactive_periods", inactive_periods, 1)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < smallest):
            raise ValueError(f"{name} must be a whole number >= {smallest}; found {value!r}")
    for festival in festivals:
        if not isinstance(festival, Festival):
            raise TypeError(f"festivals must hold Festival objects; found {festival!r}")


def _history_iv(history: pd.DataFrame, nonnegative: bool) -> None:
    if not isinstance(history, pd.DataFrame):
        raise TypeError(f"history must be a pandas DataFrame; found {type(history).__name__}")
    missing = [c for c in ("unique_id", "ds", "y") if c not in history.columns]
    if missing:
        raise ValueError(f"history must have the columns unique_id, ds and y; missing "
                         f"{', '.join(missing)}")
    if len(history) == 0:
        raise ValueError("history must have at least one row; found none")
    if not pd.api.types.is_numeric_dtype(history["y"]):
        raise ValueError(f"history.y must be numeric; found dtype {history['y'].dtype}")
    if not pd.api.types.is_datetime64_any_dtype(history["ds"]):
        raise ValueError(f"history.ds must be dates (datetime64); found dtype "
                         f"{history['ds'].dtype}")
    y = history["y"].to_numpy(dtype=float)
    if np.isinf(y).any():
        row = int(np.argmax(np.isinf(y)))
        raise ValueError(f"history.y row {row}: expected a finite number or NaN, found {y[row]}")
    if nonnegative and (y < 0).any():
        row = int(np.argmax(y < 0))
        raise ValueError(f"history.y row {row}: expected a number >= 0 (nonnegative=True), "
                         f"found {y[row]:g}")


def _align_groups(groups: pd.DataFrame | None, ids: np.ndarray) -> pd.DataFrame | None:
    if groups is None:
        return None
    if "unique_id" not in groups.columns:
        raise ValueError("groups must have a unique_id column")
    indexed = groups.drop_duplicates("unique_id").set_index("unique_id")
    missing = pd.Index(ids).difference(indexed.index)
    if len(missing):
        raise ValueError(f"groups has no row for {len(missing)} series, such as "
                         f"{missing[0]!r}")
    return indexed.loc[ids].reset_index(drop=True)


def _group_codes(keys: pd.DataFrame | None, columns: Sequence[str],
                 n: int) -> tuple[np.ndarray, int]:
    """Group number of each series by the given columns of ``keys`` (one group without)."""
    present = [c for c in columns if keys is not None and c in keys.columns]
    if not present:
        return np.zeros(n, dtype=np.int64), 1
    codes = keys.groupby(present, sort=True, observed=True).ngroup().to_numpy()
    return codes, int(codes.max()) + 1


def _future_table(future: pd.DataFrame | None, panel: Panel,
                  horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Promotion flags and planned multipliers (NaN where none) per series and step."""
    promo = np.zeros((panel.n_series, horizon))
    planned = np.full((panel.n_series, horizon), np.nan)
    if future is None or len(future) == 0:
        return promo, planned
    if not {"unique_id", "ds"} <= set(future.columns) or not ({"uplift", "promo"}
                                                              & set(future.columns)):
        raise ValueError("future must have unique_id, ds and an uplift or promo column")
    row = pd.Index(panel.ids).get_indexer(future["unique_id"])
    dates = panel.future_dates(horizon)
    ds = pd.DatetimeIndex(future["ds"]).to_numpy()
    known = row >= 0
    step = np.full(len(future), -1)
    step[known] = [int(np.searchsorted(dates[r], d)) for r, d in zip(row[known], ds[known],
                                                                      strict=True)]
    inside = known & (step >= 0) & (step < horizon)
    inside[inside] &= dates[row[inside], step[inside]] == ds[inside]
    if "promo" in future.columns:
        promo[row[inside], step[inside]] = future["promo"].to_numpy(dtype=float)[inside]
    if "uplift" in future.columns:
        uplift = future["uplift"].to_numpy(dtype=float)[inside]
        planned[row[inside], step[inside]] = uplift
    return promo, planned
