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

from models.distributions import FAMILY_LABELS, choose_family, count_variance, quantile
from models.forecast.candidates import (
    ENSEMBLE,
    FALLBACK,
    INACTIVE_MODEL,
    PROFILES,
    Candidate,
    candidates,
    for_panel,
)
from models.forecast.classes import CLASS_NAMES, Classification, DemandClass, classify
from models.forecast.coldstart import analogue_levels, credibility_blend, own_variance
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
from models.forecast.protection import (
    ProtectionFit,
    fit_protection,
    history_sums,
    interval_weights,
)
from models.forecast.runner import ModelRun, run_model, window_average
from models.forecast.selection import (
    SELECTIONS,
    choose,
    cross_fitted_forecast,
    rolling_backtest,
)
from models.forecast.uplift import Uplifts, deflate, estimate_uplifts, local_baseline

DEFAULT_ANALOGUES = (("category", "channel", "region"), ("category", "channel"), ("category",),
                     ())
VARIANCE_CAP = 4.0
"""A step's forecast variance is at most this times max(mean square of the series' history
since its first sale, step mean^2): a standard deviation at most twice what the history (or
the forecast) could justify. Capped series are flagged (`StepDistribution.clamped`)."""
PROTECTION_VARIANCE_CAP = 4.0
"""The same bound for the demand over a protection interval, against the mean square of the
series' historical interval sums (`predict_protection`)."""
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


WINDOWS = 3
"""Backtest windows of weekly and finer data (monthly and coarser data get a year's worth)."""


@dataclass(frozen=True)
class _Derived:
    """Settings that follow from the frequency unless given."""

    season: int
    backtest_horizon: int
    n_windows: int
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
    n_windows : int, optional
        Rolling-origin backtest windows (default: enough windows of ``backtest_horizon`` to
        cover a year of target periods for monthly or coarser data, 4 for monthly, so that
        every month of the seasonal cycle is in the choice and the calibration; 3 otherwise.
        On the PBS replay of issue 14, 3 monthly windows never saw the February surge and
        delivered 95.8% at a 98% fill-rate target; 4 windows delivered 97.1% with less stock).
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
                 models: str = "fast", selection: str = "class", n_windows: int | None = None,
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
        self.n_windows = None if n_windows is None else int(n_windows)
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
        panel = from_long(history, self.freq).from_first_sale()
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
        with np.errstate(all="ignore"):
            level = np.nan_to_num(np.nanmean(np.abs(baseline), axis=1))
            square = np.nan_to_num(np.nanmean(panel.y**2, axis=1))

        choice = np.full(panel.n_series, "", dtype=object)
        members: dict[str, tuple[str, ...]] = {}
        backtest_table: dict[str, dict[str, float]] = {}
        dispersion = np.zeros(panel.n_series)
        step_factor: dict[int, np.ndarray] = {}
        spread: dict[int, float] = {}
        failures = np.zeros(panel.n_series, dtype=np.int64)
        width = (derived.n_windows, derived.backtest_horizon)
        backtest_actual = np.full((panel.n_series, *width), np.nan)
        backtest_forecast = np.full((panel.n_series, *width), np.nan)
        honest_forecast = np.full((panel.n_series, *width), np.nan)
        for family in _FAMILIES_OF_CLASSES:
            rows = np.flatnonzero(np.isin(classes.code, [c.code for c in family]))
            if len(rows) == 0:
                continue
            options = for_panel(candidates(family[0], self.models), len(rows))
            backtest = rolling_backtest(
                baseline[rows], panel.y[rows], panel.start[rows], history_multiplier[rows],
                options, season=derived.season, horizon=derived.backtest_horizon,
                n_windows=derived.n_windows, fallback_window=derived.level_window,
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
                backtest.actual, chosen_forecast, classes.code[rows], level=level[rows],
                counts=counts, low=min(self.quantiles), high=max(self.quantiles),
                nonnegative=self.nonnegative)
            dispersion[rows] = found.per_series
            step_factor.update(found.step_factor)
            spread.update(found.spread)
            backtest_actual[rows] = backtest.actual
            backtest_forecast[rows] = chosen_forecast
            honest_forecast[rows] = cross_fitted_forecast(
                backtest, baseline[rows], classes.code[rows], self.selection,
                default=options[0].name)

        self.panel_ = panel
        self.derived_ = derived
        self.keys_ = keys
        self.uplift_group_ = uplift_group
        self.uplifts_: Uplifts = uplifts
        self.baseline_ = baseline
        self.classes_: Classification = classes
        self.new_dispersion_ = np.zeros(len(classes.code))   # set by the cold start
        self.counts_ = counts
        self.choice_ = choice.astype(str)
        self.backtest_: dict[str, dict[str, float]] = backtest_table
        self.ensemble_members_: dict[str, tuple[str, ...]] = members
        self.dispersion_ = Dispersion(dispersion, step_factor, spread)
        self.failures_ = failures
        self.backtest_actual_ = backtest_actual
        self.backtest_forecast_ = backtest_forecast
        self.deployed_backtest_ = honest_forecast
        self.level_ = level
        self.mean_square_ = square
        self.protection_fits_: dict[tuple[float, float, int], ProtectionFit] = {}
        self.baseline_forecast_ = None
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
        for w in range(derived.n_windows):
            cut = panel.n_periods - (w + 1) * derived.backtest_horizon
            if cut <= 0:
                continue
            share = recent_shares(self.baseline_, codes, len(parents), cut, SHARE_WINDOW,
                                  first_sale=panel.start)
            middle[:, w] = parent.backtest_forecast_[order[codes], w] * share[:, None]
        choice = choose_parents(self.backtest_actual_, self.backtest_forecast_, middle, codes,
                                len(parents), naive_scale(self.baseline_, 2))
        split = choice.use[codes] & np.isin(self.classes_.code, [c.code for c in _MODELLED])
        self.deployed_backtest_ = np.where(split[:, None, None] & np.isfinite(middle), middle,
                                           self.deployed_backtest_)
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
        windows = self.n_windows or (max(WINDOWS, -(-per_year // backtest)) if per_year <= 12
                                     else WINDOWS)
        return _Derived(m, backtest, windows, min_history, inactive, level_window, half_window)

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
        mean, model = self._step_mean(horizon, future)
        variance, family = self._variance(mean)
        cap = VARIANCE_CAP * np.maximum(self.mean_square_[:, None], mean**2)
        clamped = variance > cap
        variance = np.minimum(variance, cap)
        return (StepDistribution(mean, variance, family, self.nonnegative, clamped.any(axis=1)),
                model.astype(str))

    def _step_mean(self, horizon: int, future: pd.DataFrame | None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Forecast mean per series and step (the baseline times the planned effects), and the
        model name of every series."""
        base, model = self._baseline(horizon)
        mean = base * self._multiplier(horizon, future)
        if self.nonnegative:
            mean = np.maximum(mean, 0.0)
        return mean, model

    def _baseline(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """The baseline of ``predict_distribution`` (middle-out splits applied), computed once
        for the longest horizon asked so far and sliced: every candidate's first steps do not
        depend on how many steps follow, so a second call (say ``predict_protection`` after
        ``predict``) does not run the models again."""
        cached = getattr(self, "baseline_forecast_", None)
        if cached is None or cached[0].shape[1] < horizon:
            base, model = self.predict_baseline(horizon)
            if self.parent_ is not None:
                base, model = self._split_parents(base, model, horizon)
            self.baseline_forecast_ = cached = (base, model)
        return cached[0][:, :horizon].copy(), cached[1].copy()

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
                if candidate.run is not None:  # a global model learns from every series
                    whole = self._run(candidate, rows, horizon)
                    run = ModelRun(whole.mean[needed], whole.fallback[needed],
                                   whole.failed[needed])
                else:
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
                              self.panel_.n_periods, SHARE_WINDOW, first_sale=self.panel_.start)
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
        # the level of a new series is as uncertain as its own sales and its analogues
        # disagree: the squared relative gap is its least dispersion (`_variance`)
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(level > 0, (np.nan_to_num(latest) - level) / level, 0.0) ** 2
            own = np.where(level > 0, own_variance(self.baseline_, panel.start,
                                                   panel.n_periods) / level**2, 0.0)
        self.new_dispersion_ = np.where(new, np.maximum(np.nan_to_num(gap),
                                                        np.nan_to_num(own)), 0.0)
        return level, source

    def _variance(self, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Variance and family per step: calibrated dispersion for modelled series, the
        median dispersion of modelled series for new and inactive ones, and for a new series
        at least the squared relative gap between its own recent sales and its cold-start
        level (an analogue far from what the series sells is an uncertain level)."""
        code = self.classes_.code
        dispersion = self.dispersion_.at(code, mean.shape[1])
        modelled = np.isin(code, [c.code for c in _MODELLED])
        typical = float(np.median(self.dispersion_.per_series[modelled])) if modelled.any() \
            else (0.5 if self.counts_ else 0.25)
        dispersion[~modelled] = typical
        new = code == DemandClass.NEW.code
        if new.any():
            dispersion[new] = np.maximum(dispersion[new], self.new_dispersion_[new, None])
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


    # -- protection interval -------------------------------------------------------------------

    def predict_protection(self, lead_time, review_period=1, *, start: int = 0,
                           future: pd.DataFrame | None = None) -> pd.DataFrame:
        """Distribution of each series' demand over its protection interval L + R.

        The mean is the forecast summed over the interval (a fractional last period counts by
        its fraction); the variance comes from the dispersion of the interval sums in the
        rolling-origin backtest, calibrated per demand class so that order-up-to levels for
        fill rates of 80-98% deliver them on the backtest (`models.forecast.protection`), and
        capped at ``VARIANCE_CAP x max(mean square of the historical interval sums, mean^2)``;
        new and inactive series take the median dispersion and spread of the modelled series.
        The family follows `models.distributions.choose_family` (count data: negative
        binomial when overdispersed; continuous non-negative data: gamma).

        Parameters
        ----------
        lead_time : float or pandas.Series
            L >= 0, periods: one for every series, or a Series indexed by ``unique_id`` with
            one per series (every series must be present).
        review_period : float or pandas.Series
            R > 0, periods, likewise.
        start : int
            Periods between the end of the history and the start of the interval (0: the
            interval starts right after it; k: a decision taken k periods later from this
            forecast, calibrated on the backtest errors k steps ahead).
        future : pandas.DataFrame, optional
            Planned promotions, as in `predict`.

        Returns
        -------
        pandas.DataFrame
            One row per ``unique_id`` (sorted): ``unique_id``, ``lead_time``,
            ``review_period``, ``mean``, ``variance``, ``family`` (``normal``, ``poisson``,
            ``negbin``, ``gamma``), the forecaster's quantile columns (``q10`` ...) of the
            interval demand, then ``lead_mean``, ``lead_variance``, ``lead_family`` (the
            demand over L alone, for the exact shortage per cycle), ``largest_sum`` (the
            largest historical interval sum), ``clamped`` (the variance hit its cap).
        """
        if not hasattr(self, "panel_"):
            raise RuntimeError("call fit() before predict_protection()")
        panel = self.panel_
        lead = _per_series(lead_time, "lead_time", panel.ids, low=0.0, low_open=False)
        review = _per_series(review_period, "review_period", panel.ids, low=0.0, low_open=True)
        if not isinstance(start, (int, np.integer)) or isinstance(start, bool) or start < 0:
            raise ValueError(f"start must be a whole number >= 0; found {start!r}")
        total = lead + review
        steps = int(np.ceil(total.max() - 1e-9))
        step_mean, _ = self._step_mean(start + max(steps, 1), future)
        ahead = step_mean[:, start:]
        mean = (ahead * interval_weights(total, steps)).sum(axis=1)
        lead_mean = (ahead * interval_weights(lead, steps)).sum(axis=1)
        code = self.classes_.code
        modelled = np.isin(code, [c.code for c in _MODELLED])
        variance = np.zeros(panel.n_series)
        lead_variance = np.zeros(panel.n_series)
        largest = np.zeros(panel.n_series)
        square = np.zeros(panel.n_series)
        lead_square = np.zeros(panel.n_series)
        pairs = np.unique(np.stack([lead, review], axis=1), axis=0)
        for lead_value, review_value in pairs:
            rows = np.flatnonzero((lead == lead_value) & (review == review_value))
            fit = self._protection_fit(float(lead_value), float(review_value), int(start))
            dispersion, lead_dispersion = fit.dispersion.copy(), fit.lead_dispersion.copy()
            k = np.array([fit.spread.get(int(c), np.nan) for c in code])
            typical = modelled & np.isfinite(k)
            fill = ~modelled | ~np.isfinite(k)
            if typical.any():
                dispersion[fill] = np.median(dispersion[typical])
                lead_dispersion[fill] = np.median(lead_dispersion[typical])
                k[fill] = np.median(k[typical])
            else:
                dispersion[fill] = lead_dispersion[fill] = 0.5 if self.counts_ else 0.25
                k[fill] = 1.0
            variance[rows] = _interval_variance(mean[rows], dispersion[rows] * k[rows] ** 2,
                                                self.counts_)
            lead_variance[rows] = _interval_variance(
                lead_mean[rows], lead_dispersion[rows] * k[rows] ** 2, self.counts_)
            rows_square, rows_largest = history_sums(panel.y[rows], panel.start[rows],
                                                     float(lead_value + review_value))
            square[rows], largest[rows] = rows_square, rows_largest
            if lead_value > 0:
                lead_square[rows] = history_sums(panel.y[rows], panel.start[rows],
                                                 float(lead_value))[0]
        cap = PROTECTION_VARIANCE_CAP * np.maximum(square, mean**2)
        lead_cap = PROTECTION_VARIANCE_CAP * np.maximum(lead_square, lead_mean**2)
        clamped = (variance > cap) | (lead_variance > lead_cap)
        variance = np.minimum(variance, cap)
        lead_variance = np.minimum(lead_variance, lead_cap)
        family = choose_family(mean, variance, counts=self.counts_, nonnegative=self.nonnegative)
        lead_family = choose_family(lead_mean, lead_variance, counts=self.counts_,
                                    nonnegative=self.nonnegative)
        frame = {"unique_id": panel.ids, "lead_time": lead, "review_period": review,
                 "mean": mean, "variance": variance, "family": FAMILY_LABELS[family]}
        for q in self.quantiles:
            frame[quantile_column(q)] = quantile(family, mean, variance, q,
                                                 nonnegative=self.nonnegative)
        frame |= {"lead_mean": lead_mean, "lead_variance": lead_variance,
                  "lead_family": FAMILY_LABELS[lead_family], "largest_sum": largest,
                  "clamped": clamped}
        return pd.DataFrame(frame)

    def _protection_fit(self, lead_time: float, review_period: float,
                        start: int) -> ProtectionFit:
        """The calibrated dispersion of the interval sums (computed once per (L, R, start))."""
        key = (lead_time, review_period, start)
        if key not in self.protection_fits_:
            h = self.backtest_actual_.shape[2]
            growth = np.ones((self.panel_.n_series, h))
            for code, factor in self.dispersion_.step_factor.items():
                growth[self.classes_.code == code] = factor[np.minimum(np.arange(h),
                                                                       len(factor) - 1)]
            self.protection_fits_[key] = fit_protection(
                self.backtest_actual_, self.deployed_backtest_, self.classes_.code,
                level=self.level_, lead_time=lead_time, review_period=review_period,
                counts=self.counts_, nonnegative=self.nonnegative, offset=start, growth=growth)
        return self.protection_fits_[key]


def _interval_variance(mean: np.ndarray, dispersion: np.ndarray, counts: bool) -> np.ndarray:
    return count_variance(mean, dispersion) if counts else dispersion * mean**2


def _per_series(value, name: str, ids: np.ndarray, *, low: float, low_open: bool) -> np.ndarray:
    """A number or a Series indexed by unique_id as one float per series (in ``ids`` order)."""
    if isinstance(value, pd.Series):
        missing = pd.Index(ids).difference(value.index)
        if len(missing):
            raise ValueError(f"{name} has no value for {len(missing)} series, such as "
                             f"{missing[0]!r}")
        if not value.index.is_unique:
            raise ValueError(f"{name} must have one value per unique_id; found duplicates")
        array = pd.to_numeric(value, errors="coerce").reindex(ids).to_numpy(dtype=float)
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        array = np.full(len(ids), float(value))
    else:
        raise TypeError(f"{name} must be a number or a pandas Series indexed by unique_id; "
                        f"found {type(value).__name__}")
    bad = ~np.isfinite(array) | ((array <= low) if low_open else (array < low))
    if bad.any():
        first = int(np.argmax(bad))
        relation = ">" if low_open else ">="
        raise ValueError(f"{name} must be a finite number {relation} {low:g}; found "
                         f"{array[first]!r} for series {ids[first]!r}")
    return array


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
