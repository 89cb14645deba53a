"""The metrics dashboard (Ctrl+6) over a cache of 100,000 incidents: opening it, and
how long the GUI thread stalls while it refreshes live.

The Metrics tab (:class:`console.app.dashboard.DashboardTab`) sits in a tab
widget at 1920×1080 offscreen beside an empty queue tab, as in the window.

* ``open_warm``: the usual case — the tab prepared itself after start-up (chart
  library imported on a thread, first snapshot computed): from switching to
  the tab to its first frame painted with the figures, and until every chart
  of the Executive tab is drawn.
* ``open_cold``: opened before anything was prepared (in a fresh process, so
  the pyqtgraph import is in it): the first frame ("Computing the metrics…"),
  and until the figures are on screen (the worker's computation included).
* ``refresh_stall``: with the tab on screen, an incident changes and the
  dashboard recomputes and redraws; a 5 ms timer on the GUI thread records the
  gaps between its ticks (p50, p95, max) from the change until every chart is
  drawn. A gap is how long the GUI could not answer.

Size: ``NOC_BENCH_METRICS_CACHE_N`` (default 100,000).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench import fail, note, percentile, report
from bench._metrics_data import generate
from console.domain.incident import Incident
from console.store import Cache

if TYPE_CHECKING:
    from console.app.dashboard import DashboardTab
    from console.models.dashboard import DashboardSnapshot

CACHE_N = int(os.environ.get("NOC_BENCH_METRICS_CACHE_N", "100000"))
END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ROUNDS = 5


def _until(done: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            fail(f"the dashboard did not {what} within {timeout:.0f} s")
        QApplication.processEvents()
        time.sleep(0.0005)


def run() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QTabWidget, QWidget

    app = QApplication.instance() or QApplication([])
    from console.app.dashboard import DashboardTab
    from console.domain.sla import SlaPolicy
    from console.models.dashboard import DashboardLoader

    note(f"load average: {Path('/proc/loadavg').read_text().strip()}")
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        cache = Cache.open(Path(tmp) / "cache.sqlite3")
        data = list(generate(CACHE_N, end=END, days=365, seed=22))
        cache.upsert_incidents(g.incident for g in data)
        cache.upsert_timeline(e for g in data for e in g.timeline)
        note(f"dashboard: a cache of {CACHE_N:,} incidents (a year), the last 13 weeks, 1920×1080")

        def host() -> tuple[QTabWidget, DashboardTab]:
            tabs = QTabWidget()
            tabs.addTab(QWidget(), "Queue")
            loader = DashboardLoader(
                cache, policy=SlaPolicy.default(), operator="ana", clock=lambda: END
            )
            tab = DashboardTab(loader, tabs)
            loader.setParent(tab)
            tabs.addTab(tab, "Metrics")
            tabs.resize(1920, 1080)
            tabs.show()
            app.processEvents()
            return tabs, tab

        def close(tabs: QTabWidget, tab: DashboardTab) -> None:
            tab.loader.wait()
            tabs.close()
            tabs.deleteLater()
            app.processEvents()

        def drawn(tab: DashboardTab) -> bool:
            return tab.view is not None and not tab.view.pending_charts()

        # Cold: nothing prepared, pyqtgraph not imported yet in this process.
        tabs, tab = host()
        started = time.perf_counter()
        tabs.setCurrentWidget(tab)
        tabs.repaint()
        frame = time.perf_counter() - started
        _until(lambda: tab.view is not None and tab.view.snapshot is not None, "compute")
        figures = time.perf_counter() - started
        _until(lambda: drawn(tab), "draw its charts")
        charts = time.perf_counter() - started
        report(f"dashboard.{CACHE_N}.open_cold_first_frame", frame * 1000, "ms")
        report(f"dashboard.{CACHE_N}.open_cold_figures_shown", figures * 1000, "ms")
        report(f"dashboard.{CACHE_N}.open_cold_charts_drawn", charts * 1000, "ms")
        close(tabs, tab)

        # Warm: the tab prepared itself after start-up.
        paints, drawn_at = [], []
        for _ in range(ROUNDS):
            tabs, tab = host()
            tab.prepare()
            if tab.importer is not None:
                tab.importer.join()
            loader = tab.loader
            _until(lambda: loader.last is not None, "compute")  # noqa: B023 — this round's
            app.processEvents()
            started = time.perf_counter()
            tabs.setCurrentWidget(tab)
            tabs.repaint()
            paints.append(time.perf_counter() - started)
            this = tab
            _until(lambda: drawn(this), "draw its charts")  # noqa: B023 — this round's
            drawn_at.append(time.perf_counter() - started)
            close(tabs, tab)
        report(f"dashboard.{CACHE_N}.open_warm_first_paint", statistics.median(paints) * 1000, "ms")
        report(
            f"dashboard.{CACHE_N}.open_warm_charts_drawn", statistics.median(drawn_at) * 1000, "ms"
        )
        note(f"warm open: median of {ROUNDS}; first paint max {max(paints) * 1000:.0f} ms")

        # Live refresh on screen: the GUI thread's stalls.
        tabs, tab = host()
        tabs.setCurrentWidget(tab)
        _until(lambda: tab.loader.last is not None and drawn(tab), "compute")
        _stalls(tab, cache, data[-1].incident)
        close(tabs, tab)
        cache.close()
    note(f"load average: {Path('/proc/loadavg').read_text().strip()}")


def _ticking(seconds: float | None, until: Callable[[], bool] | None = None) -> list[float]:
    """Gaps between the ticks of a 5 ms GUI timer for ``seconds`` or until ``until()``."""
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    ticker = QTimer()
    ticker.setInterval(5)
    ticker.timeout.connect(tick)
    ticker.start()
    end = time.perf_counter() + (seconds or 0)
    _until(until if until is not None else lambda: time.perf_counter() > end, "refresh")
    ticker.stop()
    return gaps


def _stalls(tab: DashboardTab, cache: Cache, base: Incident) -> None:
    view = tab.view
    assert view is not None
    tasks: list[float] = []  # how long each piece of dashboard work held the GUI thread

    def timed(call: Callable[..., None]) -> Callable[..., None]:
        def run(*args: object) -> None:
            started = time.perf_counter()
            call(*args)
            tasks.append(time.perf_counter() - started)

        return run

    view.show_snapshot = timed(view.show_snapshot)  # type: ignore[method-assign]
    for card in view.cards():
        card.render_chart = timed(card.render_chart)  # type: ignore[method-assign]
    idle = _ticking(3.0)
    gaps: list[float] = []
    took: list[float] = []
    for n in range(ROUNDS):
        opened = END - timedelta(hours=n + 1)
        cache.upsert_incidents(
            [replace(base, id=f"bench-{n}", number=f"INC-9{n:05d}", opened_at=opened)]
        )
        before = tab.loader.last
        started = time.perf_counter()
        tab.loader.refresh_now()  # what a change does once its coalescing delay is over

        def done(before: DashboardSnapshot | None = before) -> bool:
            return tab.loader.last is not before and not view.pending_charts()

        gaps += _ticking(None, done)
        took.append(time.perf_counter() - started)
    note(
        f"live refresh: {ROUNDS} changes, each a recompute over {CACHE_N:,} incidents on the "
        f"worker and a redraw; a 5 ms GUI timer, {len(gaps)} gaps; the same timer idle for 3 s "
        f"(the machine's own noise): p95 {percentile(idle, 95) * 1000:.1f} ms, "
        f"max {max(idle) * 1000:.0f} ms"
    )
    report(f"dashboard.{CACHE_N}.refresh_gui_stall_p50", percentile(gaps, 50) * 1000, "ms")
    report(f"dashboard.{CACHE_N}.refresh_gui_stall_p95", percentile(gaps, 95) * 1000, "ms")
    report(f"dashboard.{CACHE_N}.refresh_gui_stall_max", max(gaps) * 1000, "ms")
    report(f"dashboard.{CACHE_N}.refresh_longest_gui_task", max(tasks) * 1000, "ms")
    report(f"dashboard.{CACHE_N}.refresh_total", statistics.median(took) * 1000, "ms")


if __name__ == "__main__":
    run()
