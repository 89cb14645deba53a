"""Metrics: ``GET /v1/metrics`` over 1,000,000 incidents and the cache path over
100,000 (the dashboard's opening and refresh: ``python -m bench dashboard``).

The server figures are whole HTTP requests to a real server on loopback, on
SQLite and on PostgreSQL (skipped with the reason when it does not answer):
a 90-day window grouped by severity, and grouped by week. The incidents span
a year (so the window holds about a quarter of them), with realistic timeline
entries (escalations, reassignments, reopens, CSAT) for about a quarter, and
are written with bulk inserts, not through the API (each row as the writer's
own ``store_incident`` and ``note_entries`` make it, metrics columns included).
The cache figure is :func:`console.store.metrics.compute` over a cache of
100,000 incidents (``noc-console metrics`` and the wall's page over the cache).
Sizes: ``NOC_BENCH_METRICS_N`` and ``NOC_BENCH_METRICS_CACHE_N``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import httpx
from sqlalchemy import insert

from bench import fail, note, report
from bench._metrics_data import generate, server_incident_row, server_timeline_row
from bench.server import pg_database, pg_problem, sqlite_database
from console.domain import metrics as m
from console.server.core.auth import Role
from console.server.core.db import Database
from console.server.core.settings import Settings
from console.server.core.tables import IncidentRow, TimelineRow
from console.server.embedded import EmbeddedServer
from console.store import Cache
from console.store import metrics as cache_metrics

N = int(os.environ.get("NOC_BENCH_METRICS_N", "1000000"))
CACHE_N = int(os.environ.get("NOC_BENCH_METRICS_CACHE_N", "100000"))
END = datetime(2026, 11, 30, tzinfo=UTC)
WINDOW = ("2026-09-01", "2026-11-30")  # 90 days
ROUNDS = 3
CHUNK = 20_000


def _load(url: str, n: int) -> tuple[int, float]:
    """Bulk-insert ``n`` generated incidents; returns the timeline rows and seconds taken."""
    started = time.perf_counter()
    db = Database(url)
    events = 0
    try:
        data = generate(n, end=END, days=365, seed=21)
        number = 0
        while chunk := list(islice(data, CHUNK)):
            rows, timeline = [], []
            for g in chunk:
                number += 1
                rows.append(server_incident_row(g.incident, number, g.timeline))
                timeline += [server_timeline_row(e) for e in g.timeline]
            with db.engine.begin() as conn:
                conn.execute(insert(IncidentRow), rows)
                if timeline:
                    conn.execute(insert(TimelineRow), timeline)
            events += len(timeline)
        with db.engine.begin() as conn:
            if db.dialect == "postgresql":
                conn.exec_driver_sql("ANALYZE")
            else:
                conn.exec_driver_sql("ANALYZE")
    finally:
        db.dispose()
    return events, time.perf_counter() - started


def _timed(call: Callable[[], object]) -> float:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _server(url: str, name: str) -> None:
    events, took = _load(url, N)
    note(f"{name}: {N:,} incidents and {events:,} timeline entries bulk-inserted in {took:.0f} s")
    server = EmbeddedServer(Settings(db_url=url, host="127.0.0.1", port=0))
    server.start()
    try:
        token = server.issue_token("bench-metrics", Role.VIEWER)
        with httpx.Client(
            base_url=server.url, timeout=120, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            for group_by in ("severity", "period"):
                params = {"from": WINDOW[0], "to": WINDOW[1], "group_by": group_by}

                def ask(params: dict[str, str] = params) -> object:
                    response = client.get("/v1/metrics", params=params)
                    if response.status_code != 200:
                        fail(f"/v1/metrics answered {response.status_code}: {response.text}")
                    return response.json()

                answer = ask()
                assert isinstance(answer, dict)
                if group_by == "severity":
                    note(f"{name}: the 90-day window holds {answer['total']['count']:,} incidents")
                key = "severity" if group_by == "severity" else "week"
                report(f"metrics.{name}.{N}.90d_by_{key}", _timed(ask) * 1000, "ms")
    finally:
        server.stop()


def _cache(folder: Path) -> None:
    cache = Cache.open(folder / "cache.sqlite3")
    try:
        data = list(generate(CACHE_N, end=END, days=365, seed=22))
        cache.upsert_incidents(g.incident for g in data)
        cache.upsert_timeline(e for g in data for e in g.timeline)
        window = m.make_window("2025-12-01", "2026-11-30", "severity")
        note(f"cache: {CACHE_N:,} incidents, a 364-day window (nearly all of them), by severity")
        report(
            f"metrics.cache.{CACHE_N}.by_severity",
            _timed(lambda: cache_metrics.compute(cache, window, now=END)) * 1000,
            "ms",
        )
        week = m.make_window("2025-12-01", "2026-11-30", "period", "week")
        report(
            f"metrics.cache.{CACHE_N}.by_week",
            _timed(lambda: cache_metrics.compute(cache, week, now=END)) * 1000,
            "ms",
        )
    finally:
        cache.close()


def run() -> None:
    only = os.environ.get("NOC_BENCH_METRICS_ONLY", "")  # "cache": skip the servers
    note(f"load average: {Path('/proc/loadavg').read_text().strip()}")
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        folder = Path(tmp)
        _cache(folder)
        if only == "cache":
            return
        with sqlite_database(folder, "metrics") as url:
            _server(url, "sqlite")
    problem = pg_problem()
    if problem is not None:
        note(f"postgresql skipped: {problem}")
        return
    with pg_database("metrics") as url:
        _server(url, "postgresql")
    note(f"load average: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    run()
