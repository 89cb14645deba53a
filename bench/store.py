"""Local cache throughput: bulk upsert, full load and a no-op re-upsert of 100k incidents."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import fail, note, report
from console.domain.incident import HoldPeriod, Incident, Source, format_number
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import DEFAULT_MATRIX, Impact, Urgency
from console.store import Cache

N = 100_000
ROUNDS = 3


def make_incidents(n: int, seed: int = 7) -> list[Incident]:
    """``n`` realistic incidents: varied states, optional fields about half filled."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    services = [f"service-{k:03d}" for k in range(120)]
    groups = ["noc", "network", "database", "storage", "identity", None]
    people = ["ana", "bo", "chen", "dee", "eli", None]
    incidents: list[Incident] = []
    for k in range(1, n + 1):
        impact = rng.choice(list(Impact))
        urgency = rng.choice(list(Urgency))
        state = rng.choice(list(State))
        opened = start + timedelta(seconds=rng.randrange(30 * 86400), microseconds=k)
        on_hold = state is State.ON_HOLD
        incidents.append(
            Incident(
                id=f"inc-{k:08d}",
                number=format_number(k),
                title=f"Users cannot reach {rng.choice(services)} from branch {k % 40}",
                service=rng.choice(services),
                impact=impact,
                urgency=urgency,
                severity=DEFAULT_MATRIX.severity(impact, urgency),
                state=state,
                opened_at=opened,
                updated_at=opened + timedelta(minutes=rng.randrange(600)),
                version=rng.randrange(1, 9),
                description="Reported by the service desk; see the monitoring alert." * 2,
                category=rng.choice(["network", "software", "hardware", None]),
                assignee=rng.choice(people),
                assignment_group=rng.choice(groups),
                reporter=rng.choice(people),
                source=rng.choice(list(Source)),
                major=rng.random() < 0.01,
                hold_reason=HoldReason.AWAITING_VENDOR if on_hold else None,
                holds=(HoldPeriod(opened + timedelta(minutes=5)),) if on_hold else (),
                acknowledged_at=opened + timedelta(minutes=3) if state is not State.NEW else None,
                response_due=opened + timedelta(minutes=15),
                resolution_due=opened + timedelta(hours=4),
            )
        )
    return incidents


def one_round(incidents: list[Incident], folder: Path) -> dict[str, float]:
    """Upsert into a fresh cache, load, re-upsert unchanged, reopen; seconds for each."""
    path = folder / "cache.sqlite3"
    figures: dict[str, float] = {}
    with Cache.open(path) as cache:
        started = time.perf_counter()
        changes = cache.upsert_incidents(incidents)
        figures["store.upsert_100k_s"] = time.perf_counter() - started
        if len(changes.inserted) != len(incidents):
            fail(f"upsert reported {len(changes.inserted)} inserted, not {len(incidents)}")

        started = time.perf_counter()
        loaded = cache.incidents()
        figures["store.load_100k_s"] = time.perf_counter() - started
        if len(loaded) != len(incidents):
            fail(f"loaded {len(loaded)} incidents, not {len(incidents)}")

        started = time.perf_counter()
        changes = cache.upsert_incidents(incidents)
        figures["store.reupsert_100k_unchanged_s"] = time.perf_counter() - started
        if changes:
            fail("re-upserting unchanged incidents reported changes")

    # Reopening runs SQLite's integrity check over the whole file.
    started = time.perf_counter()
    Cache.open(path).close()
    figures["store.open_100k_s"] = time.perf_counter() - started
    return figures


def run() -> None:
    incidents = make_incidents(N)
    note(f"store: {N} incidents into a fresh SQLite cache (WAL, synchronous=NORMAL)")
    # Wall-clock figures on a shared machine: the median of a few rounds, with
    # the spread and the load average, so one disturbed round does not mislead.
    note(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores at the start")
    rounds: list[dict[str, float]] = []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory(prefix="noc-bench-store-") as folder:
            rounds.append(one_round(incidents, Path(folder)))
    for metric in rounds[0]:
        samples = [r[metric] for r in rounds]
        note(f"{metric}: {ROUNDS} rounds, min {min(samples):.2f} s, max {max(samples):.2f} s")
        report(metric, statistics.median(samples), "s")
