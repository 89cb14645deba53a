"""The live board: filtering per keystroke, the SLA tick, memory, and cold start.

Figures (``python -m bench board``):

- ``board.filter_100k_p95_ms``: one keystroke typed into the filter box of the
  real main window over 100k incidents, until the shown view (the queue, or
  the board's five columns) has re-filtered and the window has repainted
  (95th percentile over typing and deleting, with the queue and the board).
- ``board.sla_tick_10k_ms``: one second's clock update of the real window with
  10k incidents: the tick plus the repaint it causes (median).
- ``board.rss_100k_mb``: resident memory of a fresh console process that
  opened a 100k-incident cache and painted its window.
- ``board.cold_start_10k_s``: from starting a console process to the first
  painted queue, with a 10k-incident cache (the app's own start-up path).
- ``board.alert_check_100k_p95_ms``: one 5-second alert check of the GUI
  thread with 100k incidents loaded, while a sync delivers 200 changed
  incidents between checks (95th percentile); ``board.alert_prime_100k_ms``:
  taking in the loaded queue at start-up without alarming.

The two process figures run ``python -c`` children over a real cache file,
so nothing of this process (its 100k incidents, its Qt objects) is counted.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench import fail, note, percentile, report
from bench.store import make_incidents
from console.domain.incident import Incident

if TYPE_CHECKING:
    # Qt is imported inside the functions, after QT_QPA_PLATFORM is set.
    from PySide6.QtCore import QCoreApplication

    from console.views.main_window import MainWindow

FILTER_N = 100_000
TICK_N = 10_000
TICKS = 30
CHILD_TIMEOUT_S = 300

# What an operator types: a service, a number, a name; then deletes it again.
TYPED = ["service-01", "INC-0004", "branch 3", "cannot reach"]


def _window(incidents: list[Incident], now: datetime) -> MainWindow:
    """The real main window (no backend), shown offscreen at a desk size."""
    from console.domain.sla import SlaPolicy
    from console.models.incident_table import IncidentTableModel
    from console.views.main_window import MainWindow

    model = IncidentTableModel(SlaPolicy.default(), now, incidents)
    window = MainWindow(
        model, themes=[("light", "Light")], current_theme="light", clock=lambda: now
    )
    window.ticker.stop()
    window.resize(1440, 860)
    window.show()
    return window


def _settle(app: QCoreApplication) -> None:
    """Let Qt lay out and paint everything that is pending."""
    for _ in range(3):
        app.processEvents()


def filter_keystrokes(incidents: list[Incident], now: datetime, *, on_board: bool) -> list[float]:
    """Milliseconds per keystroke, typing and deleting each of :data:`TYPED`.

    ``on_board``: type with the board shown (five column models re-filter)
    rather than the queue.
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["bench"])
    window = _window(incidents, now)
    if on_board:
        window.menu_actions.show_board.trigger()
    _settle(app)
    search = window.filter_bar.search
    samples: list[float] = []
    for word in TYPED:
        typed = ""
        steps = [word[: k + 1] for k in range(len(word))]
        steps += [word[:k] for k in range(len(word) - 1, -1, -1)]  # backspace to empty
        for text in steps:
            started = time.perf_counter()
            search.setText(text)
            _settle(app)
            samples.append((time.perf_counter() - started) * 1000)
            typed = text
        assert typed == ""
    window.close()
    window.deleteLater()
    _settle(app)
    return samples


def alert_checks(incidents: list[Incident], now: datetime) -> tuple[float, list[float], int]:
    """Prime the alert watch over 100k incidents, then time checks 5 s apart with updates."""
    from dataclasses import replace

    from console.domain.alerts import AlertTracker
    from console.domain.sla import SlaPolicy
    from console.services.alert_watch import QueueAlertWatch
    from console.services.queue import IncidentQueue

    queue = IncidentQueue(SlaPolicy.default(), now)
    queue.load(incidents)
    watch = QueueAlertWatch(queue, AlertTracker())
    started = time.perf_counter()
    watch.prime(now)
    prime_ms = (time.perf_counter() - started) * 1000
    samples: list[float] = []
    checked = 0
    for round_ in range(1, 31):
        at = now + timedelta(seconds=5 * round_)
        changed = incidents[round_ * 200 : round_ * 200 + 200]
        queue.upsert(replace(i, title=i.title + " (updated)", updated_at=at) for i in changed)
        queue.tick(at)
        started = time.perf_counter()
        watch.check(at)
        samples.append((time.perf_counter() - started) * 1000)
        checked = max(checked, watch.last_checked)
    return prime_ms, samples, checked


def sla_ticks(incidents: list[Incident], now: datetime) -> list[float]:
    """Milliseconds per one-second tick of the real window (tick + repaint)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["bench"])
    moments = [now + timedelta(seconds=s) for s in range(TICKS + 1)]
    clock_at = {"now": moments[0]}
    window = _window(incidents, now)
    window._clock = lambda: clock_at["now"]  # the window asks this clock on each tick
    _settle(app)
    samples: list[float] = []
    for moment in moments[1:]:
        clock_at["now"] = moment
        started = time.perf_counter()
        window.tick()
        _settle(app)
        samples.append((time.perf_counter() - started) * 1000)
    window.close()
    _settle(app)
    return samples


CHILD = """
import os, sys, time
started = time.perf_counter()
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import argparse
from PySide6.QtCore import QEvent, QObject, QTimer
from console.app import gui as console_app
args = argparse.Namespace(config_dir=sys.argv[1], data_dir=sys.argv[2], demo=False, screenshot=None)
qt_app = console_app._application()
settings = console_app._load_settings(args)
console_app._apply_theme(qt_app, settings.theme.value)
cache = console_app._open_cache(console_app._data_folder(args))
window = console_app._build_window(qt_app, settings, cache, demo=False)
window.resize(*console_app.WINDOW_SIZE)

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, done)
        return False

def done():
    status = open("/proc/self/status").read().split("VmRSS:")[1].split()[0]
    print(f"painted {time.perf_counter() - started:.4f} {int(status) / 1024:.1f} "
          f"{window.model.rowCount()}", flush=True)
    os._exit(0)

watcher = FirstPaint()
window.table.viewport().installEventFilter(watcher)
window.show()
qt_app.exec()
"""


def child_run(data_dir: Path, config_dir: Path) -> tuple[float, float, float, int]:
    """Start a console over ``data_dir``: (wall s to first paint, in-child s, RSS MB, rows)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(config_dir), str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    wall = time.perf_counter() - started
    lines = [line for line in result.stdout.splitlines() if line.startswith("painted ")]
    if not lines:
        fail(f"the console process did not paint: {result.stderr.strip()[-800:]}")
    _, inside, rss, rows = lines[0].split()
    return wall, float(inside), float(rss), int(rows)


def write_cache(folder: Path, incidents: list[Incident]) -> Path:
    from console.store import Cache

    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    with Cache.open(data / "cache.db") as cache:
        cache.upsert_incidents(incidents)
    (folder / "config").mkdir(exist_ok=True)
    return data


def run() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    note(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores at the start")
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    started = time.perf_counter()
    incidents = make_incidents(FILTER_N)
    # Open work, with a clock anchored near "now" (the generator spreads over a month).
    note(f"made {len(incidents)} incidents in {time.perf_counter() - started:.1f} s")

    with tempfile.TemporaryDirectory(prefix="noc-bench-board-") as tmp:
        folder = Path(tmp)
        # Process figures first, while this process is still small.
        big = write_cache(folder / "big", incidents)
        small = write_cache(folder / "small", incidents[:TICK_N])
        wall, inside, rss, rows = child_run(big, folder / "big" / "config")
        note(
            f"100k cache: first paint after {wall:.2f} s ({inside:.2f} s inside the process), "
            f"{rows} rows on the queue"
        )
        report("board.rss_100k_mb", rss, "MB")
        colds = [child_run(small, folder / "small" / "config") for _ in range(3)]
        note(
            "cold start, 10k cache, 3 runs: "
            + ", ".join(f"{w:.2f} s" for w, _i, _r, _n in colds)
            + f" ({colds[0][3]} rows on the queue)"
        )
        report("board.cold_start_10k_s", statistics.median(w for w, *_ in colds), "s")

    queue = filter_keystrokes(incidents, now, on_board=False)
    board = filter_keystrokes(incidents, now, on_board=True)
    for name, part in (("queue", queue), ("board (5 columns)", board)):
        note(
            f"filter, {name} shown: {len(part)} keystrokes over {FILTER_N} incidents incl. "
            f"repaint; median {statistics.median(part):.1f} ms, max {max(part):.1f} ms"
        )
    report("board.filter_100k_p95_ms", percentile(queue + board, 95), "ms")

    prime_ms, checks, checked = alert_checks(incidents, now)
    note(
        f"alerts: {len(checks)} checks 5 s apart over {FILTER_N} incidents, 200 updated "
        f"between checks; at most {checked} incidents evaluated per check"
    )
    report("board.alert_prime_100k_ms", prime_ms, "ms")
    report("board.alert_check_100k_p95_ms", percentile(checks, 95), "ms")

    ticks = sla_ticks(incidents[:TICK_N], now)
    note(
        f"SLA tick: {TICKS} ticks with {TICK_N} incidents (tick + repaint); "
        f"p95 {percentile(ticks, 95):.1f} ms, max {max(ticks):.1f} ms"
    )
    report("board.sla_tick_10k_ms", statistics.median(ticks), "ms")
