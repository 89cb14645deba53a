"""Sync throughput and latency against our server on loopback (a real subprocess).

- ``sync.initial_10k_s`` / ``sync.initial_100k_s``: a fresh cache catching up
  with a server holding that many incidents (``SyncEngine.sync_once``, as
  ``noc-console sync --once`` runs it).
- ``sync.max_gui_stall_ms``: the longest gap between ticks of a 10 ms QTimer
  on the GUI thread while the sync worker (on its QThread) catches up with
  100k incidents and the GUI applies them to the incident table model.
- ``sync.change_to_screen_p50_ms`` / ``_p99_ms``: another client PATCHes an
  incident; the time until the row has the new version in this console's
  Qt model (10k incidents loaded, the worker live on the SSE stream).

The 100k server database is seeded once per run (directly, as the server
would write it; creating 100k incidents through the API takes minutes).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from bench import fail, note, percentile, report
from console.connectors.noc import NocBackend
from console.store import Cache
from console.sync.engine import SyncEngine, SyncState
from tests.helpers.processes import ServerProcess, make_token, seed_incidents

LATENCY_SAMPLES = 200


class _Server:
    """A seeded server database copied for each measurement, served by a subprocess."""

    def __init__(self, root: Path, n: int) -> None:
        self.root = root
        self.seed_db = root / f"seed-{n}.db"
        started = time.perf_counter()
        seed_incidents(self.seed_db, n)
        note(f"seeded {n} incidents in {time.perf_counter() - started:.1f} s")
        self.n = n
        self.runs = 0

    def serve(self) -> tuple[ServerProcess, str]:
        self.runs += 1
        folder = self.root / f"run-{self.n}-{self.runs}"
        folder.mkdir()
        db = folder / "server.db"
        shutil.copy(self.seed_db, db)
        token = make_token(db, f"bench-{self.runs}", "dispatcher")
        return ServerProcess(db, folder, heartbeat=5).start(), token


def _initial(server: _Server) -> float:
    process, token = server.serve()
    try:
        with Cache.open(process.log_dir / "cache.db") as cache:
            backend = NocBackend(process.url, token)
            engine = SyncEngine(cache, backend, use_events=False)
            started = time.perf_counter()
            engine.sync_once()
            elapsed = time.perf_counter() - started
            count = cache.incident_count()
            backend.close()
    finally:
        process.stop()
    if count != server.n:
        fail(f"the cache holds {count} incidents after syncing {server.n}")
    return elapsed


def _qt() -> object:
    return QApplication.instance() or QApplication([])


def _gui_run(
    server: _Server,
    during: Callable[[object, object, Cache, str, str], None] | None,
    *,
    measure_stall: bool,
) -> tuple[float, float]:
    """Sync with a worker on a QThread into a model; returns (seconds to live, max stall ms)."""
    from console.domain.sla import SlaPolicy
    from console.models.incident_table import IncidentTableModel
    from console.models.sync_worker import SyncThread, UpdatePacer

    _qt()
    process, token = server.serve()
    cache = Cache.open(process.log_dir / "cache.db")
    backend = NocBackend(process.url, token)
    engine = SyncEngine(cache, backend, poll_interval=5)
    sync = SyncThread(engine)
    pacer = UpdatePacer()
    model = IncidentTableModel(SlaPolicy.default(), datetime.now(UTC))
    pacer.ready.connect(lambda update: model.apply_changes(update.changes, update.lookup))
    sync.changed.connect(pacer.push)

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(tick)

    loop = QEventLoop()
    live = threading.Event()

    def on_state(state: str, _text: str) -> None:
        # Delivered on this (the GUI) thread, after the worker's earlier signals.
        if state == SyncState.LIVE.value and not live.is_set():
            live.set()
            loop.quit()

    sync.state_changed.connect(on_state)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(180_000)
    try:
        started = time.perf_counter()
        last[0] = started
        if measure_stall:
            probe.start()
        sync.start()
        loop.exec()
        # Let the GUI finish applying what the worker handed over.
        while pacer.pending:
            pacer.flush()
        elapsed = time.perf_counter() - started
        probe.stop()
        if not live.is_set():
            fail("the worker did not reach the live state within 180 s")
        if model.rowCount() != server.n:
            fail(f"the model shows {model.rowCount()} rows after syncing {server.n}")
        if during is not None:
            during(model, pacer, cache, process.url, token)
    finally:
        sync.stop()
        backend.close()
        cache.close()
        process.stop()
    stall_ms = max(gaps) * 1000 if gaps else 0.0
    return elapsed, stall_ms


def _latencies(model: object, pacer: object, cache: Cache, url: str, token: str) -> None:
    """PATCH random incidents from another client; time until the model row has the version."""
    import requests

    from console.models.incident_table import IncidentTableModel
    from console.models.sync_worker import UpdatePacer

    assert isinstance(model, IncidentTableModel)
    assert isinstance(pacer, UpdatePacer)
    rng = random.Random(11)
    incidents = {i.id: i for i in model.incidents()}
    ids = list(incidents)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    samples: list[float] = []
    target: dict[str, object] = {}
    loop = QEventLoop()

    def check(update: object) -> None:
        wanted = target.get("id")
        if wanted is None:
            return
        row = model.row_of(str(wanted))
        if row is not None and model.incident_at(row).version >= int(str(target["version"])):
            samples.append(time.perf_counter() - float(str(target["sent"])))
            target.clear()
            loop.quit()

    pacer.ready.connect(check)
    timeout = QTimer()
    timeout.setSingleShot(True)
    timeout.timeout.connect(loop.quit)

    def write(incident_id: str, version: int, k: int) -> None:
        response = session.patch(
            f"{url}/v1/incidents/{incident_id}",
            json={"title": f"Changed by another console #{k}"},
            headers={"If-Match": f'"{version}"', "Idempotency-Key": f"bench-{k}-{incident_id}"},
            timeout=10,
        )
        if response.status_code != 200:
            target["error"] = f"{response.status_code} {response.text[:200]}"

    for k in range(LATENCY_SAMPLES):
        incident_id = rng.choice(ids)
        row = model.row_of(incident_id)
        assert row is not None
        version = model.incident_at(row).version
        target.update(id=incident_id, version=version + 1, sent=time.perf_counter())
        writer = threading.Thread(target=write, args=(incident_id, version, k))
        writer.start()
        timeout.start(10_000)
        loop.exec()
        timeout.stop()
        writer.join(10)
        if "error" in target:
            fail(f"the other client's PATCH failed: {target['error']}")
        if target:
            fail(f"change {k} did not reach the model within 10 s")
    session.close()
    note(f"change to screen: {len(samples)} PATCHes by another client, one at a time")
    report("sync.change_to_screen_p50_ms", percentile(samples, 50) * 1000, "ms")
    report("sync.change_to_screen_p99_ms", percentile(samples, 99) * 1000, "ms")


def run() -> None:
    root = Path(tempfile.mkdtemp(prefix="noc-bench-sync-"))
    try:
        small = _Server(root, 10_000)
        times = [_initial(small) for _ in range(3)]
        note(f"initial 10k: 3 rounds, min {min(times):.2f} s, max {max(times):.2f} s")
        report("sync.initial_10k_s", min(times), "s")

        _gui_run(small, _latencies, measure_stall=False)

        big = _Server(root, 100_000)
        times = [_initial(big) for _ in range(2)]
        note(f"initial 100k: 2 rounds, min {min(times):.2f} s, max {max(times):.2f} s")
        report("sync.initial_100k_s", min(times), "s")

        elapsed, stall = _gui_run(big, None, measure_stall=True)
        note(
            f"GUI run: worker on a QThread synced 100k into the table model in {elapsed:.1f} s "
            "(10 ms QTimer probe on the GUI thread)"
        )
        report("sync.max_gui_stall_ms", stall, "ms")
    finally:
        shutil.rmtree(root, ignore_errors=True)
