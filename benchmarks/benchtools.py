"""Timing a subject against a reference in the same run, interleaved round by round."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np


class Comparison:
    """Times a reference before every round of the benchmarked subject (interleaved)."""

    def __init__(self, reference: Callable[[], object]):
        self.reference = reference
        self.seconds: list[float] = []

    def setup(self) -> None:
        start = time.perf_counter()
        self.reference()
        self.seconds.append(time.perf_counter() - start)


def compare(benchmark, subject: Callable[[], object], reference: Callable[[], object], *,
            rounds: int = 3, label: str = "reference") -> float:
    """Benchmark ``subject`` and return its median time over the reference's median time.

    The ratio and both medians are stored in the benchmark's ``extra_info`` so they appear in
    ``--benchmark-json`` output, and printed.
    """
    comparison = Comparison(reference)
    benchmark.pedantic(subject, setup=comparison.setup, rounds=rounds, iterations=1,
                       warmup_rounds=0)
    if benchmark.disabled:
        return float("nan")
    subject_median = benchmark.stats.stats.median
    reference_median = float(np.median(comparison.seconds))
    ratio = subject_median / reference_median
    benchmark.extra_info.update({f"{label}_seconds": reference_median,
                                 "subject_seconds": subject_median, "ratio": ratio})
    print(f"\n{benchmark.name}: {subject_median:.3f} s vs {label} {reference_median:.3f} s "
          f"= ratio {ratio:.2f}")
    return ratio


def cold_first_call(script: str, argument: str, cache_dir) -> dict:
    """Run ``script`` (which prints a JSON report with ``cache_hits``) in a fresh process with
    numba's cache in ``cache_dir``; the report says whether it compiled or loaded the cache."""
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    output = subprocess.run([sys.executable, "-c", script, argument], env=environment,
                            capture_output=True, text=True, check=True).stdout
    report = json.loads(output)
    report["source"] = "cache" if report["cache_hits"] else "compiled"
    return report


def cold_starts(benchmark, script: str, argument: str, cache_dir) -> tuple[dict, dict]:
    """Benchmark a first call that compiles (empty cache), then one that loads numba's cache;
    checks which is which and records both in the benchmark's ``extra_info``."""
    reports = {}

    def both():
        reports["compiled"] = cold_first_call(script, argument, cache_dir)
        reports["cached"] = cold_first_call(script, argument, cache_dir)

    benchmark.pedantic(both, rounds=1, iterations=1, warmup_rounds=0)
    compiled, cached = reports["compiled"], reports["cached"]
    assert compiled["source"] == "compiled" and cached["source"] == "cache"
    benchmark.extra_info.update({"compile_seconds": compiled["seconds"],
                                 "cache_load_seconds": cached["seconds"],
                                 "warm_call_seconds": cached["second_call"]})
    return compiled, cached
