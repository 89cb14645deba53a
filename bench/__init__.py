"""Benchmarks that print the figures the issues name.

Each module ``bench/<name>.py`` has a ``run()`` function that prints one line per
figure through :func:`report`, ``metric.name: VALUE UNIT``, with the workload
size in the metric name or in a :func:`note` line before it.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence


def note(text: str) -> None:
    """A comment line (workload size, machine, caveats) before the figures it explains."""
    print(f"# {text}", flush=True)


def report(metric: str, value: float, unit: str) -> None:
    """Print one figure as ``metric.name: VALUE UNIT``."""
    if abs(value) >= 100:
        shown = f"{value:.0f}"
    elif abs(value) >= 1:
        shown = f"{value:.2f}"
    else:
        shown = f"{value:.4f}"
    print(f"{metric}: {shown} {unit}", flush=True)


def percentile(samples: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile (0–100) of ``samples``, interpolated."""
    if not samples:
        raise ValueError("no samples")
    if len(samples) == 1:
        return float(samples[0])
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    if pct <= 0:
        return float(min(samples))
    if pct >= 100:
        return float(max(samples))
    return float(cuts[int(pct) - 1])


def fail(message: str) -> None:
    """Stop a benchmark that could not run, saying why (no made-up figures)."""
    print(f"# FAILED: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)
