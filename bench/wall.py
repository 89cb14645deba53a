"""The wall display's periodic work: a snapshot (counts, lists, SLA clocks) and a repaint.

The wall takes a snapshot every 5 s and on every sync update, on the GUI
thread, so its cost decides how smooth the wall stays with many open
incidents. Also measured: one alert-rule evaluation over the same set (the
alert notifier runs one every few seconds) and a refresh plus a full repaint;
and the optional metrics page's computation over 100 000 cached incidents
(on its worker thread, once a minute).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bench import note, percentile, report
from console.domain.alerts import AlertTracker, readings_for
from console.domain.sla import SlaPolicy
from console.models.wall import build_snapshot
from console.services.demo import read_demo

OPEN_INCIDENTS = (1_000, 10_000)
ROUNDS = 15


def run() -> None:
    now = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday, inside business hours
    policy = SlaPolicy.default()
    demo = [i for i in read_demo(now, policy=policy).incidents if i.is_open]
    for size in OPEN_INCIDENTS:
        # The demo's open incidents, copied under new ids up to ``size``.
        incidents = [
            replace(demo[n % len(demo)], id=f"bench-{n}", number=f"INC-{n + 1:06d}")
            for n in range(size)
        ]
        note(f"wall: {size} open incidents, default SLA policy (business hours)")
        samples = []
        for round_ in range(ROUNDS):
            started = time.perf_counter()
            build_snapshot(incidents, policy, now + timedelta(seconds=round_))
            samples.append(time.perf_counter() - started)
        report(f"wall.snapshot_{size}_open_p50", percentile(samples, 50) * 1000, "ms")
        report(f"wall.snapshot_{size}_open_p95", percentile(samples, 95) * 1000, "ms")
        tracker = AlertTracker()
        tracker.prime(incidents, readings_for(incidents, policy, now), now)
        started = time.perf_counter()
        later = now + timedelta(seconds=5)
        tracker.evaluate(incidents, readings_for(incidents, policy, later), later)
        report(f"alerts.evaluate_{size}_open", (time.perf_counter() - started) * 1000, "ms")
    _paint(now)
    _metrics_page()


METRICS_CACHE_N = 100_000


def _metrics_page() -> None:
    """The optional metrics page's computation (worker thread) over a 100k-incident cache."""
    import tempfile
    from pathlib import Path

    from bench._metrics_data import generate
    from console.models.wall_metrics import build_wall_metrics
    from console.store import Cache

    end = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)  # a Thursday: four days of "this week"
    with tempfile.TemporaryDirectory() as folder, Cache.open(Path(folder) / "m.db") as cache:
        data = list(generate(METRICS_CACHE_N, end=end, days=365, seed=22))
        cache.upsert_incidents(g.incident for g in data)
        cache.upsert_timeline(e for g in data for e in g.timeline)
        note(f"wall metrics page: {METRICS_CACHE_N} cached incidents over a year, on its worker")
        walls, cpus = [], []
        for _ in range(5):
            started, cpu = time.perf_counter(), time.process_time()
            build_wall_metrics(cache, end)
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        report("wall.metrics_page_100k_p50", percentile(walls, 50) * 1000, "ms")
        report("wall.metrics_page_100k_cpu_p50", percentile(cpus, 50) * 1000, "ms")


def _paint(now: datetime) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import tempfile
    from pathlib import Path

    from PySide6.QtWidgets import QApplication

    from console.config.settings import Settings
    from console.services.demo import load_demo
    from console.store import Cache
    from console.views.wall.window import open_wall

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder, Cache.open(Path(folder) / "c.db") as cache:
        load_demo(cache, now)
        wall = open_wall(cache, Settings(), clock=lambda: now, show=False)
        for width, height in ((1920, 1080), (3840, 2160)):
            wall.resize(width, height)
            wall.show()
            app.processEvents()
            samples = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                wall.refresh()
                wall.grab()
                samples.append(time.perf_counter() - started)
            report(f"wall.refresh_and_paint_{height}p_p50", percentile(samples, 50) * 1000, "ms")
        wall.close()
