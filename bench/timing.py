"""What the signing benchmarks share: the median of many timed calls, after a warm-up."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_us(fn: Callable[[int], Any], n: int) -> float:
    """Median µs of ``fn(i)`` for ``i`` in ``range(n)``, after ``min(200, n)`` warm-up calls."""
    for i in range(min(200, n)):
        fn(i)
    samples = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        fn(i)
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1000
