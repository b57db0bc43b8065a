"""Monte Carlo simulation of the multi-location network, many SKUs at once: the thin wrapper.

`NetworkArrays` holds one network (locations, their sources and inbound lead-time pmfs) and the
SKUs simulated on it (policies, costs, starting stock and pipeline, demand streams), as plain
numpy arrays validated once (`_network_iv`). `simulate_network` validates the run's arguments
(`_simulate_network_iv`), derives every SKU's randomness from its own seed, runs the numba kernel
of `engine.simulation.network_kernels` (whose docstring gives the event order within a period,
the rationing and spill-over rules) and returns the per-sample statistics as a
`NetworkSimulation`; `NetworkSimulation.summary` gives means and percentiles across samples.

Seeding
-------
Everything random about SKU k comes from ``numpy.random.SeedSequence(seed, spawn_key=(key,))``
with ``key = arrays.sku_key[k]``, through its two children (what ``.spawn(2)`` gives):

- ``spawn_key=(key, 0)``: the 64-bit key of the counter-based lead-time draws
  (`network_kernels.lead_time_uniform`, keyed by sample, period and location);
- ``spawn_key=(key, 1)``: the PCG64 generator of the SKU's demand when `simulate_network`
  draws it (``demand=None``): the SKU's streams in index order, each a (samples, periods)
  array.

So results of a SKU depend only on its own inputs, its key and the seed: not on the other SKUs
in the batch, their order, the chunking or the number of threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal, get_args

import numba
import numpy as np

from engine.simulation import network_kernels as kernels
from models.checks import check_range, flag, float_array, found, integer_array, whole
from models.distributions import Family, gamma_parameters, negative_binomial_parameters

Rationing = Literal["priority", "fair_share"]
"""How a source short of stock splits it among its requesters (`network_kernels`)."""

_RATIONING_CODES = {"priority": kernels.PRIORITY, "fair_share": kernels.FAIR_SHARE}


MAX_LOCATIONS = 2**16 - 1
"""Largest number of locations (the lead-time counter gives 16 bits to the location)."""
MAX_PERIODS = 2**16 - 1
"""Largest number of periods simulated (16 bits of the lead-time counter)."""
MAX_SAMPLES = 2**32 - 1
"""Largest number of samples (32 bits of the lead-time counter)."""

LEAD_TIME_STREAM = 0
"""``spawn_key=(sku_key, LEAD_TIME_STREAM)``: the seed of a SKU's lead-time draws."""
DEMAND_STREAM = 1
"""``spawn_key=(sku_key, DEMAND_STREAM)``: the generator of a SKU's demand draws."""

Execution = Literal["serial", "prange", "threads"]
"""How `simulate_network` spreads the SKUs over the cores (results are identical either way):

- ``"serial"``: one SKU after another in the calling thread;
- ``"prange"``: the kernel spreads the SKUs of a chunk over numba's threads (``prange``); the
  demand of the chunk is drawn before, in the calling thread;
- ``"threads"``: ``numba.get_num_threads()`` Python threads each take chunks of SKUs, draw
  their demand and run the serial kernel on them; the kernel and numpy's generators release
  the GIL, so the draws run in parallel too.
"""

DEFAULT_EXECUTION: Execution = "threads"
"""The `Execution` of `simulate_network` unless told otherwise (a caller that already runs one
task per core, such as a Dask worker, asks for "serial": `engine.stages.simulate.SimulationConfig`).

Chosen from benchmarks/bench_simulation_network.py on the two-core development machine: see
`simulate_network`, *Notes*, for the figures and their caveat."""

DEFAULT_CHUNK_SKUS = 128

SUMMARY_BLOCK_SKUS = 256
"""SKUs summarised at a time by `NetworkSimulation.summary` (bounds its working memory)."""
"""SKUs per chunk: bounds the memory of the demand drawn by `simulate_network` to
8 x chunk x streams per SKU x samples x periods bytes per chunk in flight (19 MB for 7 streams,
200 samples, 13 periods), one chunk per thread."""

STREAM_KPIS = (*kernels.STREAM_STATISTICS, "fill_rate", "cycle_service_level")
"""KPIs of a stream, in the order of `NetworkSummary.stream`: the `STREAM_STATISTICS` of
`network_kernels` (totals over the horizon) and the fill rate (served / demand) and cycle
service level (share of periods without unmet demand)."""

LOCATION_KPIS = ("avg_on_hand", *kernels.LOCATION_STATISTICS[1:])
"""KPIs of a SKU at a location, in the order of `NetworkSummary.location`: the average
end-of-period on hand (units) and the other `LOCATION_STATISTICS` of `network_kernels`
(totals over the horizon or end-of-horizon state)."""


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, kw_only=True, eq=False)
class NetworkArrays:
    """One network and the SKUs simulated on it, as plain numpy arrays (validated on creation).

    K SKUs, L locations, S demand streams over all SKUs (a stream is a channel in a region of
    one SKU; the streams of a SKU are consecutive), A periods of scheduled arrivals. Every
    array is copied, converted to the dtype below, C-contiguous and read-only.

    Attributes
    ----------
    source : int array, shape (L,)
        Location that replenishes each location, or -1 for a location that buys from an
        outside supplier (which ships up to ``supply_limit`` per order). The sources must form
        a forest (no cycles).
    lead_time_pmf : float array, shape (L, Lmax + 1)
        P(lead time = l periods) of each location's inbound lane (from its source, or from the
        supplier for a DC), l = 0..Lmax; each row non-negative, summing to 1 (to 1e-9).
    location_priority : float array, shape (L,)
        Priority weight of each location when its source rations (higher first).
    sku_key : integer array, shape (K,)
        Integer >= 0 identifying each SKU's randomness (a stable hash of the SKU id): see the
        module docstring, *Seeding*. Two SKUs with the same key get the same random numbers.
    reorder_point : float array, shape (K, L)
        s, units: a location requests when its inventory position is at or below s; -inf
        never requests (a location not stocking the SKU).
    order_up_to : float array, shape (K, L)
        S >= s, units: the position a request restores.
    holding_cost : float array, shape (K, L)
        h >= 0 per unit on hand at the end of a period, cost units per unit-period.
    on_hand : float array, shape (K, L)
        On hand >= 0 at the start of period 0 (after tonight's plan), units.
    arrivals : float array, shape (K, L, A)
        Units >= 0 already on the way (tonight's moves included) arriving at the start of
        period a; arrivals at a >= periods simulated stay in transit (and in the position).
    sku_stream_ptr : integer array, shape (K + 1,)
        The streams of SKU k are ``sku_stream_ptr[k]:sku_stream_ptr[k + 1]``; 0 first, S last.
    stream_ptr : integer array, shape (S + 1,)
        CSR pointers into ``stream_locations``: stream s is eligible at
        ``stream_locations[stream_ptr[s]:stream_ptr[s + 1]]`` (at least one location).
    stream_locations : integer array
        The eligible locations of each stream in preference order (no repeats in a stream);
        the first one owes the stream's backorders.
    backorders : bool array, shape (S,)
        True: a stream's unmet demand waits (owed by its first location); False: it is lost.
    shortage_cost : float array, shape (S,)
        p >= 0, cost units per unit backordered at the end of a period (backorders) or per unit
        lost (lost sales).
    stream_priority : float array, shape (S,)
        Priority weight of each stream: a SKU's streams are served (and their backorders
        filled) in decreasing priority, ties by stream index.
    receipts : float array, shape (K, L, A'), optional
        Scheduled supplier receipts >= 0 (normally at DCs) arriving at the start of period a,
        units; treated exactly like ``arrivals``. None: none.
    order_cost : float array, shape (K, L), optional
        Cost >= 0 per shipment a location receives (a supplier order at a DC), cost units.
        None: no order cost.
    review_period : integer array, shape (L,), optional
        Periods between a location's reviews (>= 1; it reviews at t = 0, R, 2R, ...). None:
        every period.
    supply_limit : float array, shape (K, L), optional
        Largest supplier shipment per period to a buying location (source -1), units > 0 or
        inf; the rest of a request is dropped. None: no limit.
    """

    source: np.ndarray
    lead_time_pmf: np.ndarray
    location_priority: np.ndarray
    sku_key: np.ndarray
    reorder_point: np.ndarray
    order_up_to: np.ndarray
    holding_cost: np.ndarray
    on_hand: np.ndarray
    arrivals: np.ndarray
    sku_stream_ptr: np.ndarray
    stream_ptr: np.ndarray
    stream_locations: np.ndarray
    backorders: np.ndarray
    shortage_cost: np.ndarray
    stream_priority: np.ndarray
    receipts: np.ndarray | None = None
    order_cost: np.ndarray | None = None
    review_period: np.ndarray | None = None
    supply_limit: np.ndarray | None = None
    # derived once from the above (`_network_iv`)
    _inbound: np.ndarray = field(init=False, repr=False, compare=False)
    _location_order: np.ndarray = field(init=False, repr=False, compare=False)
    _children_ptr: np.ndarray = field(init=False, repr=False, compare=False)
    _children: np.ndarray = field(init=False, repr=False, compare=False)
    _lead_time_cdf: np.ndarray = field(init=False, repr=False, compare=False)
    _fixed_lead_time: np.ndarray = field(init=False, repr=False, compare=False)
    _serving_order: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        for name, value in _network_iv(self).items():
            object.__setattr__(self, name, value)

    @property
    def skus(self) -> int:
        """K, the number of SKUs."""
        return self.sku_key.shape[0]

    @property
    def locations(self) -> int:
        """L, the number of locations."""
        return self.source.shape[0]

    @property
    def streams(self) -> int:
        """S, the number of demand streams over all SKUs."""
        return self.backorders.shape[0]

    def stream_rows(self, skus) -> np.ndarray:
        """The indices of the streams of ``skus`` (in that order): rows of the demand inputs."""
        skus = _sku_selection(skus, self.skus)
        starts, stops = self.sku_stream_ptr[skus], self.sku_stream_ptr[skus + 1]
        return _ranges(starts, stops)

    def take(self, skus) -> NetworkArrays:
        """A `NetworkArrays` of the SKUs ``skus`` (indices, in that order) on the same network.

        Each SKU keeps its key, so it gets the same random numbers as in the full batch.
        Slice the per-stream inputs of `simulate_network` with `stream_rows` (same ``skus``).
        """
        skus = _sku_selection(skus, self.skus)
        rows = self.stream_rows(skus)
        counts = np.diff(self.sku_stream_ptr)[skus]
        location_counts = np.diff(self.stream_ptr)[rows]
        location_rows = _ranges(self.stream_ptr[rows], self.stream_ptr[rows + 1])
        return NetworkArrays(
            source=self.source, lead_time_pmf=self.lead_time_pmf,
            location_priority=self.location_priority, sku_key=self.sku_key[skus],
            reorder_point=self.reorder_point[skus], order_up_to=self.order_up_to[skus],
            holding_cost=self.holding_cost[skus], on_hand=self.on_hand[skus],
            arrivals=self.arrivals[skus],
            sku_stream_ptr=np.concatenate([[0], np.cumsum(counts)]),
            stream_ptr=np.concatenate([[0], np.cumsum(location_counts)]),
            stream_locations=self.stream_locations[location_rows],
            backorders=self.backorders[rows], shortage_cost=self.shortage_cost[rows],
            stream_priority=self.stream_priority[rows], receipts=self.receipts[skus],
            order_cost=self.order_cost[skus], review_period=self.review_period,
            supply_limit=self.supply_limit[skus])


@dataclass(frozen=True, eq=False)
class NetworkTrajectory:
    """Every period of every sample (recorded with ``record_trajectory=True``; for tests).

    Attributes
    ----------
    location : numpy.ndarray, shape (K, sample, period, L, len(network_kernels.LOCATION_FIELDS))
        Per SKU, location and period: arrivals, stock available to ship, units shipped,
        requested, replenished and the lead time drawn, served, backorders filled, end-of-period
        on hand, backorders owed and in transit (fields of `network_kernels`).
    stream : numpy.ndarray, shape (S, sample, period, len(network_kernels.STREAM_FIELDS))
        Per stream and period: demand, served, unmet, lost, backorders filled, end backorders.
    served_from : numpy.ndarray, shape (S, sample, period, L)
        Units of each stream's demand served from each location in the period.
    """

    location: np.ndarray
    stream: np.ndarray
    served_from: np.ndarray


@dataclass(frozen=True, eq=False)
class NetworkSummary:
    """Means and percentiles across samples of every KPI.

    Attributes
    ----------
    stream : numpy.ndarray, shape (S, len(STREAM_KPIS), len(statistics))
        Per stream and KPI (`STREAM_KPIS`): the mean over samples, then the quantiles. The
        mean fill rate is the ratio of the mean served to the mean demand; its quantiles are
        those of the per-sample ratios over the samples with demand (``nan`` if none).
    location : numpy.ndarray, shape (K, L, len(LOCATION_KPIS), len(statistics))
        Per SKU, location and KPI (`LOCATION_KPIS`): mean, then quantiles.
    stream_kpis, location_kpis : tuple of str
        The KPI names, in the order of the second-to-last axes.
    statistics : tuple of str
        ``("mean", "q10", "q90")`` for the default quantiles: the last axis.
    """

    stream: np.ndarray
    location: np.ndarray
    stream_kpis: tuple[str, ...]
    location_kpis: tuple[str, ...]
    statistics: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class NetworkSimulation:
    """Per-sample results of `simulate_network` (read-only arrays).

    Attributes
    ----------
    stream_statistics : numpy.ndarray, shape (S, sample, len(STREAM_STATISTICS))
        For each stream and sample, the totals over the simulated periods named by
        `network_kernels.STREAM_STATISTICS` (units, unit-periods, periods, cost units).
    location_statistics : numpy.ndarray, shape (K, L, sample, len(LOCATION_STATISTICS))
        For each SKU, location and sample, the totals named by
        `network_kernels.LOCATION_STATISTICS`.
    samples, periods, seed : int
        As given to `simulate_network`.
    rationing : str
        The rationing rule simulated.
    trajectory : NetworkTrajectory or None
        Every period, with ``record_trajectory=True``.
    """

    stream_statistics: np.ndarray
    location_statistics: np.ndarray
    samples: int
    periods: int
    seed: int
    rationing: str
    trajectory: NetworkTrajectory | None = None

    def stream(self, name: str) -> np.ndarray:
        """One stream statistic or KPI, shape (S, sample) (`STREAM_KPIS`)."""
        if name == "fill_rate":
            return self.fill_rate()
        if name == "cycle_service_level":
            return self.cycle_service_level()
        if name not in kernels.STREAM_STATISTICS:
            raise ValueError(f"name must be one of {', '.join(STREAM_KPIS)}; found {name!r}")
        return self.stream_statistics[:, :, kernels.STREAM_STATISTICS.index(name)]

    def location(self, name: str) -> np.ndarray:
        """One location statistic or KPI, shape (K, L, sample) (`LOCATION_KPIS`, "on_hand")."""
        if name == "avg_on_hand":
            return self.avg_on_hand()
        if name not in kernels.LOCATION_STATISTICS:
            raise ValueError(f"name must be one of {', '.join(LOCATION_KPIS)}; found {name!r}")
        return self.location_statistics[:, :, :, kernels.LOCATION_STATISTICS.index(name)]

    def fill_rate(self) -> np.ndarray:
        """Served / demand per stream and sample, shape (S, sample); nan without demand."""
        demand = self.stream_statistics[:, :, kernels.STREAM_DEMAND]
        served = self.stream_statistics[:, :, kernels.STREAM_SERVED]
        return np.divide(served, demand, out=np.full(demand.shape, np.nan), where=demand > 0)

    def cycle_service_level(self) -> np.ndarray:
        """Share of periods without unmet demand per stream and sample, shape (S, sample)."""
        return 1.0 - self.stream_statistics[:, :, kernels.STREAM_STOCKOUT_PERIODS] / self.periods

    def avg_on_hand(self) -> np.ndarray:
        """Mean end-of-period on hand per SKU, location and sample, shape (K, L, sample)."""
        return self.location_statistics[:, :, :, kernels.LOCATION_ON_HAND] / self.periods

    def summary(self, quantiles=(0.1, 0.9)) -> NetworkSummary:
        """Mean over samples and the given quantiles across samples of every KPI.

        Parameters
        ----------
        quantiles : sequence of float in [0, 1], default (0.1, 0.9)
            Quantiles across samples (numpy's default, linear interpolation).
        """
        quantiles = np.asarray(quantiles, dtype=np.float64)
        if quantiles.ndim != 1 or not np.all((quantiles >= 0) & (quantiles <= 1)):
            raise ValueError(f"quantiles must be a sequence of numbers in [0, 1]; found "
                             f"{quantiles.tolist()!r}")
        statistics = ("mean", *(f"q{round(100 * q):02d}" for q in quantiles))

        stream_values = np.concatenate(
            [self.stream_statistics, self.fill_rate()[..., None],
             self.cycle_service_level()[..., None]], axis=2)  # (S, sample, kpi)
        stream = _mean_and_quantiles(stream_values, quantiles, axis=1)
        demand = self.stream_statistics[:, :, kernels.STREAM_DEMAND].mean(axis=1)
        served = self.stream_statistics[:, :, kernels.STREAM_SERVED].mean(axis=1)
        stream[:, STREAM_KPIS.index("fill_rate"), 0] = np.divide(
            served, demand, out=np.full(demand.shape, np.nan), where=demand > 0)

        # by blocks of SKUs: the per-sample location statistics of a large batch are big
        skus = self.location_statistics.shape[0]
        location = np.empty((*self.location_statistics.shape[:2],
                             self.location_statistics.shape[3], 1 + len(quantiles)))
        for start in range(0, skus, SUMMARY_BLOCK_SKUS):
            block = self.location_statistics[start:start + SUMMARY_BLOCK_SKUS].copy()
            block[..., kernels.LOCATION_ON_HAND] /= self.periods
            location[start:start + SUMMARY_BLOCK_SKUS] = _mean_and_quantiles(block, quantiles,
                                                                             axis=2)
        return NetworkSummary(stream=_frozen(stream), location=_frozen(location),
                              stream_kpis=STREAM_KPIS, location_kpis=LOCATION_KPIS,
                              statistics=statistics)


def _mean_and_quantiles(values: np.ndarray, quantiles: np.ndarray, *, axis: int) -> np.ndarray:
    """Mean and nan-ignoring quantiles over ``axis``, stacked on a new last axis.

    A slice that is all nan (a fill rate without demand in any sample) gives nan, without the
    RuntimeWarning numpy raises for it.
    """
    values = np.moveaxis(values, axis, -1)  # (..., kpi, sample)
    empty = np.isnan(values).all(axis=-1)
    filled = np.where(empty[..., None], 0.0, values)
    result = np.empty((*values.shape[:-1], 1 + len(quantiles)))
    result[..., 0] = np.where(empty, np.nan, np.nanmean(filled, axis=-1))
    if len(quantiles):
        result[..., 1:] = _nanquantile_last(filled, quantiles)
        result[..., 1:][empty] = np.nan
    return result


def _nanquantile_last(values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """``numpy.nanquantile`` over the last axis (linear interpolation), vectorised.

    numpy applies its nan-aware quantile one slice at a time; here NaNs sort last, each slice's
    count of numbers sets its positions, and one ``take_along_axis`` reads them all. Slices
    without numbers give NaN.
    """
    ordered = np.sort(values, axis=-1)                      # NaN sort to the end
    count = (~np.isnan(values)).sum(axis=-1)
    position = quantiles[None, :] * np.maximum(count.reshape(-1, 1) - 1, 0)  # (slices, q)
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, np.maximum(count.reshape(-1, 1) - 1, 0))
    flat = ordered.reshape(-1, ordered.shape[-1])
    low = np.take_along_axis(flat, lower, axis=1)
    high = np.take_along_axis(flat, upper, axis=1)
    out = low + (high - low) * (position - lower)
    out[count.reshape(-1) == 0] = np.nan
    return out.reshape(*values.shape[:-1], len(quantiles))


def simulate_network(arrays: NetworkArrays, *, samples: int, periods: int, seed: int,
                     demand: np.ndarray | None = None, demand_mean: np.ndarray | None = None,
                     demand_variance: np.ndarray | None = None,
                     demand_family: np.ndarray | None = None,
                     demand_level_variance: np.ndarray | None = None,
                     rationing: Rationing = "priority", execution: Execution = DEFAULT_EXECUTION,
                     chunk_skus: int | None = None,
                     record_trajectory: bool = False) -> NetworkSimulation:
    """Simulate every SKU of ``arrays`` on its network, ``samples`` times over ``periods``.

    Review every period, (s, S) at every location, lead time l: a shipment dispatched in period
    t arrives at the start of period t + l (DESIGN.md, *Conventions*). The event order within a
    period (arrivals; shipping to requesters and reviews from the leaves to the roots, with
    rationing; demand with spill-over; charges) is given in `engine.simulation.network_kernels`.
    There is no warm-up: the simulation starts from tonight's state (``arrivals``, ``on_hand``)
    and every period counts.

    Demand is either given (``demand``) or drawn here per SKU from ``demand_mean``,
    ``demand_variance`` and ``demand_family`` (see the module docstring, *Seeding*).

    Parameters
    ----------
    arrays : NetworkArrays
        The network and its SKUs.
    samples : int
        Independent samples (demand and lead-time paths), 1 <= samples <= `MAX_SAMPLES`.
    periods : int
        Periods simulated, 1 <= periods <= `MAX_PERIODS`.
    seed : int
        Seed >= 0 of every SKU's ``numpy.random.SeedSequence``.
    demand : float array, shape (S, samples, periods), optional
        Demand draws >= 0 of each stream, units per period. Give this or the three below.
    demand_mean, demand_variance : float array, shape (S, periods), optional
        Per-period mean >= 0 and variance >= 0 of each stream's demand, units and units^2.
    demand_family : integer array, shape (S,), optional
        `models.distributions.Family` code of each stream: 0 normal (truncated at 0), 1
        Poisson, 2 negative binomial (which needs variance > mean in every period with mean
        > 0), 3 gamma.
    demand_level_variance : float array, shape (S,), optional
        Variance c >= 0 of a level factor U shared by all periods of a sample of each stream
        (gamma, mean 1; none where c = 0, the default): forecast errors of neighbouring
        periods share the level error, so the demand over several periods is wider than
        independent periods make it. Given U, period t has mean m_t U and the family's
        dispersion of that period: Poisson; negative binomial with the same shape n (variance
        m_t U + (v_t - m_t) U^2); normal and gamma with the same coefficient of variation
        (variance v_t U^2). A sum over periods then has variance
        sum v_t + c (sum q_t + (sum m_t)^2), q_t = v_t - m_t (negative binomial), v_t (normal,
        gamma) or 0 (Poisson). U is drawn, per sample, before the stream's periods, from the
        SKU's demand generator.
    rationing : {"priority", "fair_share"}, default "priority"
        How a source short of stock splits it among its requesters.
    execution : {"serial", "prange", "threads"}, default `DEFAULT_EXECUTION`
        How the SKUs are spread over the cores (`Execution`). Results are identical either
        way.
    chunk_skus : int or None, default None
        SKUs per chunk (`DEFAULT_CHUNK_SKUS` if None): the unit of work of a thread and of the
        demand drawn at once; results do not depend on it.
    record_trajectory : bool, default False
        Also record every period (`NetworkTrajectory`): memory ~ 8 x samples x periods x
        (11 K L + S (6 + L)) bytes; for tests and small runs.

    Returns
    -------
    NetworkSimulation
        Per-sample totals per stream and per SKU x location; ``.summary()`` for the mean and
        the 10th and 90th percentiles across samples.

    Raises
    ------
    TypeError
        If ``arrays`` is not a `NetworkArrays` or an argument has the wrong type.
    ValueError
        If an argument is out of range or has the wrong shape, or the demand is given both
        ways or neither.

    Notes
    -----
    Memory: the outputs take 8 x samples x (8 S + 13 K L) bytes; the demand drawn here,
    8 x chunk_skus x (streams per SKU) x samples x periods bytes per thread at a time; given
    ``demand`` is used in place (converted to C-contiguous float64 if it is not).

    Speed (benchmarks/bench_simulation_network.py, demo-like network of 14 locations and 7
    streams per SKU, 2,000 SKUs x 200 samples x 13 weeks, on the shared two-core development
    machine while another job kept one core busy): the serial kernel runs about 3 million
    SKU-sample-periods per second (~330 ns for 14 locations and 7 streams); the whole call,
    demand drawn inside, about 1.3 million (4 s), of which numpy's negative-binomial and
    Poisson draws take over half. Against ``"serial"``: ``"threads"`` 0.84 (kernel only) and
    0.98 (whole call), ``"prange"`` 0.89 and 1.05; compiling takes 3.1 s (serial kernel) and
    4.3 s (``prange``), loading from numba's cache 0.2 s. ``"threads"`` was never slower than
    ``"prange"`` and is the only one that spreads the draws too, hence `DEFAULT_EXECUTION`;
    neither could show its full gain, as even a bare numba loop did not scale to two threads
    while the other job ran.

    Examples
    --------
    A DC with 10 units and two RDCs that each request 8 (position 0, s = 0, S = 8), lead time
    1 everywhere, no demand: by priority the first RDC gets 8 and the second 2.

    >>> import numpy as np
    >>> arrays = NetworkArrays(
    ...     source=np.array([-1, 0, 0]), lead_time_pmf=np.array([[0.0, 1.0]] * 3),
    ...     location_priority=np.array([0.0, 2.0, 1.0]), sku_key=np.array([7]),
    ...     reorder_point=np.array([[-np.inf, 0.0, 0.0]]),
    ...     order_up_to=np.array([[10.0, 8.0, 8.0]]), holding_cost=np.zeros((1, 3)),
    ...     on_hand=np.array([[10.0, 0.0, 0.0]]), arrivals=np.zeros((1, 3, 0)),
    ...     sku_stream_ptr=np.array([0, 1]), stream_ptr=np.array([0, 1]),
    ...     stream_locations=np.array([1]), backorders=np.array([False]),
    ...     shortage_cost=np.zeros(1), stream_priority=np.zeros(1))
    >>> result = simulate_network(arrays, samples=1, periods=2, seed=0,
    ...                           demand=np.zeros((1, 1, 2)))
    >>> result.location("replenished_units")[0, :, 0].tolist()
    [0.0, 8.0, 2.0]
    """
    run = _simulate_network_iv(arrays, samples, periods, seed, demand, demand_mean,
                               demand_variance, demand_family, demand_level_variance, rationing,
                               execution, chunk_skus, record_trajectory)
    execution = run.pop("execution")
    kernel = kernels.simulate_skus_parallel if execution == "prange" else kernels.simulate_skus
    threads = numba.get_num_threads() if execution == "threads" else 1
    return _simulate(arrays, kernel, threads=threads, **run)


def _simulate(arrays: NetworkArrays, kernel, *, samples: int, periods: int, seed: int,
              demand, demand_mean, demand_variance, demand_family, rationing: str,
              chunk_skus: int, record_trajectory: bool, threads: int = 1,
              demand_level_variance=None) -> NetworkSimulation:
    """Run ``kernel`` (a kernel of `network_kernels` or the plain-Python reference, same
    signature) on validated arguments, chunk by chunk of SKUs on ``threads`` threads; the
    demand of a chunk is drawn just before it is simulated, if not given."""
    K, L, S = arrays.skus, arrays.locations, arrays.streams
    lead_key = _lead_time_keys(arrays.sku_key, seed)
    stream_out = np.empty((S, samples, len(kernels.STREAM_STATISTICS)))
    location_out = np.empty((K, L, samples, len(kernels.LOCATION_STATISTICS)))
    recorded = (K, S) if record_trajectory else (0, 0)
    location_trajectory = np.zeros((recorded[0], samples, periods, L,
                                    len(kernels.LOCATION_FIELDS)))
    stream_trajectory = np.zeros((recorded[1], samples, periods, len(kernels.STREAM_FIELDS)))
    served_from = np.zeros((recorded[1], samples, periods, L))

    def simulate_chunk(start: int, stop: int) -> None:
        if demand is None:
            draws = _draw_demand(arrays, start, stop, samples=samples, periods=periods,
                                 seed=seed, mean=demand_mean, variance=demand_variance,
                                 family=demand_family, level=demand_level_variance)
            offset = int(arrays.sku_stream_ptr[start])
        else:
            draws, offset = demand, 0
        kernel(start, stop, _RATIONING_CODES[rationing], arrays.source, arrays._location_order,
               arrays._children_ptr, arrays._children, arrays._lead_time_cdf,
               arrays._fixed_lead_time, arrays.reorder_point, arrays.order_up_to,
               arrays.holding_cost, arrays.order_cost, arrays.review_period,
               arrays.supply_limit, arrays.on_hand, arrays._inbound,
               lead_key, arrays.sku_stream_ptr, arrays.stream_ptr, arrays.stream_locations,
               arrays._serving_order, arrays.backorders, arrays.shortage_cost, draws, offset,
               stream_out, location_out, location_trajectory, stream_trajectory, served_from)

    chunks = [(start, min(start + chunk_skus, K)) for start in range(0, K, chunk_skus)]
    if threads > 1 and len(chunks) > 1:
        # every chunk writes only its SKUs' rows of the outputs
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for done in [pool.submit(simulate_chunk, *chunk) for chunk in chunks]:
                done.result()
    else:
        for chunk in chunks:
            simulate_chunk(*chunk)

    trajectory = None
    if record_trajectory:
        trajectory = NetworkTrajectory(location=_frozen(location_trajectory),
                                       stream=_frozen(stream_trajectory),
                                       served_from=_frozen(served_from))
    return NetworkSimulation(stream_statistics=_frozen(stream_out),
                             location_statistics=_frozen(location_out), samples=samples,
                             periods=periods, seed=seed, rationing=rationing,
                             trajectory=trajectory)


def _lead_time_keys(sku_key: np.ndarray, seed: int) -> np.ndarray:
    """The 64-bit key of each SKU's lead-time draws, from its SeedSequence (module docstring)."""
    keys = np.empty(sku_key.shape[0], dtype=np.uint64)
    for k, key in enumerate(sku_key.tolist()):
        sequence = np.random.SeedSequence(seed, spawn_key=(key, LEAD_TIME_STREAM))
        keys[k] = sequence.generate_state(1, dtype=np.uint64)[0]
    return keys


def _draw_demand(arrays: NetworkArrays, start: int, stop: int, *, samples: int, periods: int,
                 seed: int, mean: np.ndarray, variance: np.ndarray,
                 family: np.ndarray, level: np.ndarray | None = None) -> np.ndarray:
    """Draw the demand of the streams of SKUs ``start:stop``, shape (rows, samples, periods).

    SKU k's streams, in index order, each draw a (samples, periods) array from the SKU's
    generator ``PCG64(SeedSequence(seed, spawn_key=(sku_key[k], DEMAND_STREAM)))``, after
    its level factors (``samples`` gamma draws) where its level variance is positive.
    """
    first = int(arrays.sku_stream_ptr[start])
    draws = np.empty((int(arrays.sku_stream_ptr[stop]) - first, samples, periods))
    size = (samples, periods)
    for k in range(start, stop):
        streams = range(int(arrays.sku_stream_ptr[k]), int(arrays.sku_stream_ptr[k + 1]))
        if not streams:
            continue
        sequence = np.random.SeedSequence(seed, spawn_key=(int(arrays.sku_key[k]),
                                                           DEMAND_STREAM))
        rng = np.random.Generator(np.random.PCG64(sequence))
        for s in streams:
            m, v, out = mean[s], variance[s], draws[s - first]
            code = family[s]
            if level is not None and level[s] > 0:
                _draw_with_level(rng, m, v, code, float(level[s]), out)
            elif code == Family.POISSON:
                out[...] = rng.poisson(m, size)
            elif code == Family.NEGATIVE_BINOMIAL:
                # numpy's parametrisation; a period with m = 0 gets n = 1, p = 1 (always 0)
                n, p = negative_binomial_parameters(m, v)
                out[...] = rng.negative_binomial(n, p, size)
            elif code == Family.GAMMA:
                # a period without spread draws its mean
                shape, scale = gamma_parameters(m, v)
                out[...] = np.where(v > 0, rng.gamma(shape, scale, size), m)
            else:  # NORMAL
                out[...] = rng.normal(m, np.sqrt(v), size)
                np.maximum(out, 0.0, out=out)
                out[:, m <= 0] = 0.0
    return draws


def _draw_with_level(rng: np.random.Generator, m: np.ndarray, v: np.ndarray, code: int,
                     c: float, out: np.ndarray) -> None:
    """One stream's (samples, periods) draws with a level factor U ~ gamma(1/c, c) per sample
    (`simulate_network`, ``demand_level_variance``)."""
    samples = out.shape[0]
    u = rng.gamma(1.0 / c, c, samples)[:, None]
    shifted = m[None, :] * u
    if code == Family.POISSON:
        out[...] = rng.poisson(shifted)
    elif code == Family.NEGATIVE_BINOMIAL:
        n, _ = negative_binomial_parameters(m, v)        # the shape n is kept
        n = np.broadcast_to(n, shifted.shape)
        with np.errstate(all="ignore"):
            p = np.where(shifted > 0, n / (n + shifted), 1.0)
        out[...] = rng.negative_binomial(n, p)
    elif code == Family.GAMMA:
        shape, scale = gamma_parameters(m, v)
        draws = rng.gamma(np.broadcast_to(shape, shifted.shape), scale[None, :] * u)
        out[...] = np.where(v[None, :] > 0, draws, shifted)
    else:  # NORMAL
        out[...] = rng.normal(shifted, np.sqrt(v)[None, :] * u)
        np.maximum(out, 0.0, out=out)
        out[:, m <= 0] = 0.0


# -- validation -----------------------------------------------------------------------------------


def _network_iv(arrays: NetworkArrays) -> dict[str, np.ndarray]:
    """Validate every field of a `NetworkArrays`; return its arrays (copied, read-only) and the
    derived ones the kernels need (location order, children, cdfs, serving order)."""
    out: dict[str, np.ndarray] = {}

    source = integer_array(arrays.source, "source", ndim=1)
    L = source.shape[0]
    if not 1 <= L <= MAX_LOCATIONS:
        raise ValueError(f"source must have between 1 and {MAX_LOCATIONS} locations; "
                         f"found {L}")
    bad = (source < -1) | (source >= L) | (source == np.arange(L))
    if bad.any():
        raise ValueError(f"source must hold -1 (supplier) or another location in 0..{L - 1}; "
                         f"{found(source, bad, name='source')}")
    depth = _depths(source)
    out["source"] = source

    pmf = float_array(arrays.lead_time_pmf, "lead_time_pmf", ndim=2)
    if pmf.shape[0] != L or pmf.shape[1] < 1:
        raise ValueError(f"lead_time_pmf must have shape (locations, Lmax + 1) = ({L}, >=1); "
                         f"found {pmf.shape}")
    check_range(pmf, "lead_time_pmf", low=0.0, style="entry")
    totals = pmf.sum(axis=1)
    bad = np.flatnonzero(np.abs(totals - 1.0) > 1e-9)
    if bad.size:
        raise ValueError(f"lead_time_pmf rows must sum to 1; found lead_time_pmf[{bad[0]}] "
                         f"summing to {float(totals[bad[0]])!r}")
    out["lead_time_pmf"] = pmf

    out["location_priority"] = float_array(arrays.location_priority, "location_priority",
                                            shape=(L,))
    check_range(out["location_priority"], "location_priority", style="entry")

    sku_key = integer_array(arrays.sku_key, "sku_key", ndim=1, unsigned=True)
    K = sku_key.shape[0]
    out["sku_key"] = sku_key

    for name in ("reorder_point", "order_up_to", "holding_cost", "on_hand"):
        out[name] = float_array(getattr(arrays, name), name, shape=(K, L))
    check_range(out["reorder_point"], "reorder_point", allow_minus_inf=True, style="entry")
    check_range(out["order_up_to"], "order_up_to", style="entry")
    check_range(out["holding_cost"], "holding_cost", low=0.0, style="entry")
    check_range(out["on_hand"], "on_hand", low=0.0, style="entry")
    above = np.argwhere(out["reorder_point"] > out["order_up_to"])
    if above.size:
        k, v = above[0]
        s_value, S_value = float(out["reorder_point"][k, v]), float(out["order_up_to"][k, v])
        raise ValueError(f"reorder_point must be at most order_up_to; found reorder_point"
                         f"[{k}, {v}] = {s_value!r} > order_up_to[{k}, {v}] = {S_value!r}")
    if arrays.order_cost is None:
        out["order_cost"] = np.zeros((K, L))
    else:
        out["order_cost"] = float_array(arrays.order_cost, "order_cost", shape=(K, L))
        check_range(out["order_cost"], "order_cost", low=0.0, style="entry")
    if arrays.review_period is None:
        out["review_period"] = np.ones(L, dtype=np.int64)
    else:
        out["review_period"] = integer_array(arrays.review_period, "review_period",
                                             shape=(L,))
        check_range(out["review_period"], "review_period", low=1.0, style="entry")
    if arrays.supply_limit is None:
        out["supply_limit"] = np.full((K, L), np.inf)
    else:
        out["supply_limit"] = float_array(arrays.supply_limit, "supply_limit", shape=(K, L))
        check_range(out["supply_limit"], "supply_limit", low=0.0, low_open=True,
                    allow_inf=True, style="entry")

    arrivals = float_array(arrays.arrivals, "arrivals", ndim=3, leading=(K, L))
    check_range(arrivals, "arrivals", low=0.0, style="entry")
    out["arrivals"] = arrivals
    if arrays.receipts is None:
        receipts = np.zeros((K, L, 0))
    else:
        receipts = float_array(arrays.receipts, "receipts", ndim=3, leading=(K, L))
        check_range(receipts, "receipts", low=0.0, style="entry")
    out["receipts"] = receipts
    horizon = max(arrivals.shape[2], receipts.shape[2])
    inbound = np.zeros((K, L, horizon))
    inbound[:, :, :arrivals.shape[2]] += arrivals
    inbound[:, :, :receipts.shape[2]] += receipts
    out["_inbound"] = inbound

    sku_stream_ptr = integer_array(arrays.sku_stream_ptr, "sku_stream_ptr", shape=(K + 1,))
    stream_ptr = integer_array(arrays.stream_ptr, "stream_ptr", ndim=1)
    S = stream_ptr.shape[0] - 1
    if S < 0:
        raise ValueError("stream_ptr must have one more entry than there are streams; "
                         "found an empty array")
    _check_pointers(sku_stream_ptr, "sku_stream_ptr", end=S, end_name="the number of streams "
                    "(len(stream_ptr) - 1)", strict=False)
    stream_locations = integer_array(arrays.stream_locations, "stream_locations", ndim=1)
    _check_pointers(stream_ptr, "stream_ptr", end=stream_locations.shape[0],
                    end_name="len(stream_locations)", strict=True)
    bad = (stream_locations < 0) | (stream_locations >= L)
    if bad.any():
        raise ValueError(f"stream_locations must hold locations in 0..{L - 1}; "
                         f"{found(stream_locations, bad, name='stream_locations')}")
    stream_of = np.repeat(np.arange(S), np.diff(stream_ptr))
    pairs = stream_of * L + stream_locations
    if np.unique(pairs).shape[0] != pairs.shape[0]:
        s = int(stream_of[np.flatnonzero(np.diff(np.sort(pairs)) == 0)[0]])
        repeated = stream_locations[stream_ptr[s]:stream_ptr[s + 1]].tolist()
        raise ValueError(f"stream_locations must not repeat a location within a stream; found "
                         f"stream {s} eligible at {repeated}")
    out.update(sku_stream_ptr=sku_stream_ptr, stream_ptr=stream_ptr,
               stream_locations=stream_locations)

    backorders = np.asarray(arrays.backorders)
    if backorders.dtype != np.bool_:
        raise TypeError(f"backorders must be a boolean array; found dtype {backorders.dtype}")
    if backorders.shape != (S,):
        raise ValueError(f"backorders must have shape (streams,) = ({S},); found "
                         f"{backorders.shape}")
    out["backorders"] = np.array(backorders, dtype=np.bool_, order="C")
    out["shortage_cost"] = float_array(arrays.shortage_cost, "shortage_cost", shape=(S,))
    check_range(out["shortage_cost"], "shortage_cost", low=0.0, style="entry")
    out["stream_priority"] = float_array(arrays.stream_priority, "stream_priority",
                                          shape=(S,))
    check_range(out["stream_priority"], "stream_priority", style="entry")

    # derived: leaves before their sources; children by decreasing priority, ties by index
    index = np.arange(L)
    out["_location_order"] = np.lexsort((index, -depth)).astype(np.int64)
    fed = np.flatnonzero(source >= 0)
    priority = out["location_priority"]
    out["_children"] = fed[np.lexsort((fed, -priority[fed], source[fed]))].astype(np.int64)
    out["_children_ptr"] = np.concatenate(
        [[0], np.cumsum(np.bincount(source[fed], minlength=L))]).astype(np.int64)
    cdf = np.cumsum(pmf, axis=1) / totals[:, None]
    last = pmf.shape[1] - 1 - np.argmax(pmf[:, ::-1] > 0, axis=1)  # largest l with P > 0
    cdf[np.arange(pmf.shape[1]) >= last[:, None]] = 1.0
    out["_lead_time_cdf"] = cdf
    support = (pmf > 0).sum(axis=1)
    out["_fixed_lead_time"] = np.where(support == 1, last, -1).astype(np.int64)
    stream_sku = np.repeat(np.arange(K), np.diff(sku_stream_ptr))
    streams = np.arange(S)
    out["_serving_order"] = np.lexsort(
        (streams, -out["stream_priority"], stream_sku)).astype(np.int64)
    return {name: _frozen(np.ascontiguousarray(value)) for name, value in out.items()}


def _depths(source: np.ndarray) -> np.ndarray:
    """Distance of each location from its root; raises ValueError if the sources cycle."""
    L = source.shape[0]
    depth = np.full(L, -1)
    for v in range(L):
        chain: list[int] = []
        u = v
        while u >= 0 and depth[u] < 0:
            if u in chain:
                cycle = [*chain[chain.index(u):], u]
                raise ValueError(f"source must form a forest (no cycles); found the cycle "
                                 f"{' -> '.join(map(str, cycle))} (location -> its source)")
            chain.append(u)
            u = int(source[u])
        base = -1 if u < 0 else depth[u]
        for offset, w in enumerate(reversed(chain), start=1):
            depth[w] = base + offset
    return depth


def _simulate_network_iv(arrays, samples, periods, seed, demand, demand_mean, demand_variance,
                         demand_family, demand_level_variance, rationing, execution, chunk_skus,
                         record_trajectory) -> dict:
    """Validate the arguments of `simulate_network`; return them normalised."""
    if not isinstance(arrays, NetworkArrays):
        raise TypeError(f"arrays must be a NetworkArrays; found {type(arrays).__name__}")
    samples = whole(samples, "samples", minimum=1, maximum=MAX_SAMPLES)
    periods = whole(periods, "periods", minimum=1, maximum=MAX_PERIODS)
    seed = whole(seed, "seed", minimum=0)
    if rationing not in _RATIONING_CODES:
        raise ValueError(f"rationing must be one of {', '.join(map(repr, get_args(Rationing)))};"
                         f" found {rationing!r}")
    if execution not in get_args(Execution):
        raise ValueError(f"execution must be one of {', '.join(map(repr, get_args(Execution)))}; "
                         f"found {execution!r}")
    flag(record_trajectory, "record_trajectory")
    chunk_skus = (DEFAULT_CHUNK_SKUS if chunk_skus is None
                  else whole(chunk_skus, "chunk_skus", minimum=1))
    S = arrays.streams
    parameters = (demand_mean, demand_variance, demand_family)
    if demand_level_variance is not None:
        if demand is not None:
            raise ValueError("demand_level_variance goes with demand drawn from parameters "
                             "(demand_mean, demand_variance, demand_family), not with draws")
        demand_level_variance = float_array(demand_level_variance, "demand_level_variance",
                                            shape=(S,), copy=False)
        check_range(demand_level_variance, "demand_level_variance", low=0.0, style="entry")
    if demand is not None:
        if any(value is not None for value in parameters):
            raise ValueError("demand must be given either as draws (demand) or as parameters "
                             "(demand_mean, demand_variance, demand_family), not both")
        demand = float_array(demand, "demand", shape=(S, samples, periods), copy=False)
        check_range(demand, "demand", low=0.0, style="entry")
    else:
        missing = [name for name, value in zip(
            ("demand_mean", "demand_variance", "demand_family"), parameters, strict=True)
            if value is None]
        if missing:
            raise ValueError(f"demand must be given as draws (demand) or as parameters; "
                             f"missing {', '.join(missing)}")
        demand_mean = float_array(demand_mean, "demand_mean", shape=(S, periods), copy=False)
        demand_variance = float_array(demand_variance, "demand_variance", shape=(S, periods),
                                       copy=False)
        check_range(demand_mean, "demand_mean", low=0.0, style="entry")
        check_range(demand_variance, "demand_variance", low=0.0, style="entry")
        demand_family = integer_array(demand_family, "demand_family", shape=(S,))
        codes = [int(code) for code in Family]
        bad = ~np.isin(demand_family, codes)
        if bad.any():
            allowed = ", ".join(f"{int(code)} ({code.name.lower()})" for code in Family)
            raise ValueError(f"demand_family must hold {allowed}; "
                             f"{found(demand_family, bad, name='demand_family')}")
        negative_binomial = demand_family == Family.NEGATIVE_BINOMIAL
        bad = np.argwhere(negative_binomial[:, None] & (demand_mean > 0)
                          & (demand_variance <= demand_mean))
        if bad.size:
            s, t = bad[0]
            m, v = float(demand_mean[s, t]), float(demand_variance[s, t])
            raise ValueError(f"demand_variance must exceed demand_mean for a negative binomial "
                             f"stream (use {int(Family.POISSON)}, Poisson, otherwise); "
                             f"found demand_variance[{s}, {t}] = {v!r} <= demand_mean[{s}, {t}] "
                             f"= {m!r}")
    return {"samples": samples, "periods": periods, "seed": seed, "demand": demand,
            "demand_mean": demand_mean, "demand_variance": demand_variance,
            "demand_family": demand_family, "demand_level_variance": demand_level_variance,
            "rationing": rationing, "execution": execution,
            "chunk_skus": chunk_skus, "record_trajectory": bool(record_trajectory)}


def _sku_selection(skus, count: int) -> np.ndarray:
    skus = integer_array(skus, "skus", ndim=1)
    bad = (skus < 0) | (skus >= count)
    if bad.any():
        raise ValueError(f"skus must hold SKU indices in 0..{count - 1}; "
                         f"{found(skus, bad, name='skus')}")
    return skus


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenation of ``range(start, stop)`` for each pair, as int64."""
    lengths = stops - starts
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return (np.arange(int(lengths.sum())) + offsets).astype(np.int64)


def _check_pointers(pointers: np.ndarray, name: str, *, end: int, end_name: str,
                    strict: bool) -> None:
    """CSR pointers: start at 0, end at ``end``, increase (strictly: no empty group)."""
    if pointers.shape[0] == 0 or pointers[0] != 0 or pointers[-1] != end:
        found = pointers.tolist() if pointers.shape[0] <= 8 else (
            f"[{pointers[0]}, ..., {pointers[-1]}]")
        raise ValueError(f"{name} must start at 0 and end at {end_name} = {end}; found {found}")
    steps = np.diff(pointers)
    bad = np.flatnonzero(steps <= 0 if strict else steps < 0)
    if bad.size:
        i = int(bad[0])
        rule = "increase (every stream has an eligible location)" if strict else "not decrease"
        raise ValueError(f"{name} must {rule}; found {name}[{i}] = {int(pointers[i])}, "
                         f"{name}[{i + 1}] = {int(pointers[i + 1])}")
