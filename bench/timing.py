"""The benches' timer: the best of several runs, each after a garbage collection, and what the last run returned."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def best(runs: int, work: Callable[[], T]) -> tuple[float, T]:
    times: list[float] = []
    result: T
    for _ in range(max(1, runs)):
        gc.collect()
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result
