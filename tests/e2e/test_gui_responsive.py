"""A large first sync keeps the GUI event loop responsive.

The sync worker catches up with a server subprocess holding 20k incidents
(the bench does 100k) while the GUI thread applies the updates to the real
incident table model; a 10 ms QTimer on the GUI thread measures the longest
gap between its ticks. Were the sync (network, JSON, SQLite) on the GUI
thread, the gaps would be whole seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from console.connectors.noc import NocBackend
from console.domain.sla import SlaPolicy
from console.models.incident_table import IncidentTableModel
from console.models.sync_worker import SyncThread, UpdatePacer
from console.store import Cache
from console.sync.engine import SyncEngine
from tests.helpers.processes import ServerProcess, make_token

pytestmark = pytest.mark.slow  # real server processes, several seconds each

SEEDED = 20_000
# The bench aims at 50 ms on a quiet machine; this bound leaves room for a
# loaded CI box while still failing if work lands on the GUI thread.
MAX_GAP_MS = 250


@pytest.mark.timeout(180)
def test_a_large_first_sync_keeps_the_gui_event_loop_responsive(
    qtbot: QtBot, server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(seed=SEEDED)
    token = make_token(server.db_path, "gui", "viewer")
    cache = Cache.open(tmp_path / "cache.db")
    backend = NocBackend(server.url, token)
    sync = SyncThread(SyncEngine(cache, backend))
    pacer = UpdatePacer()
    model = IncidentTableModel(SlaPolicy.default(), datetime.now(UTC))
    sync.changed.connect(pacer.push)
    pacer.ready.connect(lambda update: model.apply_changes(update.changes, update.lookup))
    progress: list[tuple[int, int]] = []
    sync.progress.connect(lambda done, total: progress.append((done, total)))

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(tick)
    try:
        last[0] = time.perf_counter()
        probe.start()
        with qtbot.waitSignal(
            sync.state_changed, check_params_cb=lambda s, _t: s == "live", timeout=150_000
        ):
            sync.start()
        qtbot.waitUntil(lambda: pacer.pending == 0 and model.rowCount() == SEEDED, timeout=30_000)
        probe.stop()
    finally:
        assert sync.stop()
        backend.close()
        cache.close()
    assert progress[-1] == (SEEDED, SEEDED)
    assert len(progress) >= SEEDED // 1000  # the status bar moved page by page
    longest_ms = max(gaps) * 1000
    assert len(gaps) > 50
    assert longest_ms < MAX_GAP_MS, f"the GUI thread stalled for {longest_ms:.0f} ms"
