"""Tiny benchmark harness: every scenario reports figures as ratios to a baseline measured in the
same run, so results compare across machines and loads. No scenario asserts on time."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Measurement:
    name: str
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)


def measure(name: str, fn: Callable[[], object], *, repeat: int = 5, warmup: int = 0) -> Measurement:
    for _ in range(warmup):
        fn()
    result = Measurement(name)
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        result.samples.append(time.perf_counter() - started)
    return result


def report(title: str, baseline: Measurement, others: list[Measurement], *, unit: str = "ms") -> list[dict]:
    """Print a table of medians and ratio to the baseline; return the rows."""
    scale = 1000.0 if unit == "ms" else 1.0
    print(f"\n== {title} (baseline: {baseline.name}, median of {len(baseline.samples)}) ==")
    print(f"{'scenario':<40} {'median ' + unit:>12} {'best ' + unit:>10} {'ratio':>8}")
    rows = []
    for m in [baseline, *others]:
        ratio = m.median / baseline.median if baseline.median else float("nan")
        print(f"{m.name:<40} {m.median * scale:>12.2f} {m.best * scale:>10.2f} {ratio:>8.2f}")
        rows.append({"name": m.name, "median_s": m.median, "best_s": m.best, "ratio": ratio})
    return rows
