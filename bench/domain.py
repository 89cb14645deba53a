"""Domain rule throughput: how many severity computations and lifecycle checks per second."""

from __future__ import annotations

import itertools
import time

from bench import note, report
from console.domain.lifecycle import ALLOWED, State, can_transition
from console.domain.severity import DEFAULT_MATRIX, Impact, Urgency


def run() -> None:
    cells = list(itertools.product(Impact, Urgency))
    n = 200_000
    note(f"domain: {n} severity lookups and {n} transition checks")
    started = time.perf_counter()
    for i in range(n):
        impact, urgency = cells[i % 9]
        DEFAULT_MATRIX.severity(impact, urgency)
    report("domain.severity_lookups_per_s", n / (time.perf_counter() - started), "ops/s")
    pairs = list(itertools.product(ALLOWED, State))
    started = time.perf_counter()
    for i in range(n):
        a, b = pairs[i % len(pairs)]
        can_transition(a, b)
    report("domain.transition_checks_per_s", n / (time.perf_counter() - started), "ops/s")
