"""Major incidents: a published update's way to another console's screen; countdown cost.

* ``major.publish_to_screen_p50/p99_ms``: another client POSTs a status
  update to a real server subprocess on loopback; this console's sync worker
  (a QThread, SSE) receives it, the pacer hands it to the GUI thread, and
  the major incident workspace re-reads the cache and shows the text.
  Measured from the POST being sent to the text being in the workspace's
  list. Target: p99 ≤ 100 ms.
* ``major.countdowns_gui_ms_per_s``: the workspace's once-a-second tick with
  50 concurrent majors (relabelling the countdowns and the 50 rows), the GUI
  thread's time per second. Target: ≤ 2 ms.
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from bench import fail, note, percentile, report
from console.connectors.noc import NocBackend
from console.domain.incident import TimelineEvent, TimelineKind
from console.store import Cache
from console.sync.engine import SyncEngine, SyncState
from tests.helpers.processes import ServerProcess, make_token

SAMPLES = 100
MAJORS = 50
TICKS = 200
SEV1 = {
    "title": "Checkout returns 502",
    "service": "checkout",
    "impact": "high",
    "urgency": "high",
    "major": True,
    "commander": "Iris",
}


def _publish_to_screen(root: Path) -> None:
    import requests

    from console.models.sync_worker import SyncThread, UpdatePacer
    from console.views.major_workspace import MajorWorkspace

    process = ServerProcess(root / "server.db", root, heartbeat=5).start()
    token = make_token(process.db_path, "bench-commander", "commander")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    created = session.post(f"{process.url}/v1/incidents", json=SEV1, timeout=10)
    if created.status_code != 201:
        fail(f"creating the major incident failed: {created.status_code} {created.text[:200]}")
    incident_id = created.json()["id"]
    cache = Cache.open(root / "cache.db")
    backend = NocBackend(process.url, token)
    sync = SyncThread(SyncEngine(cache, backend, poll_interval=5))
    pacer = UpdatePacer()
    workspace = MajorWorkspace(cache, None)
    loop = QEventLoop()
    live = threading.Event()
    target: dict[str, object] = {}
    samples: list[float] = []

    def on_state(state: str, _text: str) -> None:
        if state == SyncState.LIVE.value and not live.is_set():
            live.set()
            loop.quit()

    def on_update(_update: object) -> None:
        text = target.get("text")
        if text is None:
            return
        workspace.refresh()
        shown = [workspace.updates.item(i).text() for i in range(workspace.updates.count())]
        if any(str(text) in line for line in shown):
            samples.append(time.perf_counter() - float(str(target["sent"])))
            target.clear()
            loop.quit()

    sync.changed.connect(pacer.push)
    pacer.ready.connect(on_update)
    sync.state_changed.connect(on_state)
    timeout = QTimer()
    timeout.setSingleShot(True)
    timeout.timeout.connect(loop.quit)
    try:
        sync.start()
        timeout.start(60_000)
        loop.exec()
        if not live.is_set():
            fail("the sync worker did not reach the live state within 60 s")
        workspace.refresh()
        for k in range(SAMPLES):
            text = f"Update {k}: still investigating"
            target.update(text=text, sent=time.perf_counter())

            def post(body: str = text, key: int = k) -> None:
                response = session.post(
                    f"{process.url}/v1/incidents/{incident_id}/status-updates",
                    json={"audience": "internal", "status": "investigating", "text": body},
                    headers={"Idempotency-Key": f"bench-major-{key}"},
                    timeout=10,
                )
                if response.status_code != 201:
                    target["error"] = f"{response.status_code} {response.text[:200]}"

            writer = threading.Thread(target=post)
            writer.start()
            timeout.start(10_000)
            loop.exec()
            timeout.stop()
            writer.join(10)
            if "error" in target:
                fail(f"publishing failed: {target['error']}")
            if target:
                fail(f"update {k} did not reach the workspace within 10 s")
    finally:
        sync.stop()
        backend.close()
        cache.close()
        session.close()
        process.stop()
    note(f"publish to screen: {len(samples)} updates by another client, one at a time, loopback")
    report("major.publish_to_screen_p50_ms", percentile(samples, 50) * 1000, "ms")
    report("major.publish_to_screen_p99_ms", percentile(samples, 99) * 1000, "ms")


def _countdowns(root: Path) -> None:
    from console.views.major_workspace import MajorWorkspace
    from tests.helpers.factories import NOW
    from tests.helpers.factories import desk_incident as make_incident

    cache = Cache.open(root / "majors.db")
    from console.domain.severity import Severity

    incidents = [
        make_incident(n, Severity.SEV1 if n % 2 else Severity.SEV2, age_min=n, major=True)
        for n in range(1, MAJORS + 1)
    ]
    cache.upsert_incidents(incidents)
    cache.upsert_timeline(
        [
            TimelineEvent(
                f"u{i.id}",
                i.id,
                TimelineKind.STATUS_UPDATE,
                i.opened_at + timedelta(minutes=1),
                "iris",
                "Investigating.",
                {"audience": "internal", "status": "investigating"},
            )
            for i in incidents
        ]
    )
    now = [NOW]
    workspace = MajorWorkspace(cache, None, clock=lambda: now[0])
    workspace.resize(1920, 1080)
    workspace.show()
    if workspace.majors.count() != MAJORS:
        fail(f"the workspace shows {workspace.majors.count()} majors, not {MAJORS}")
    QApplication.processEvents()
    started = time.perf_counter()
    for k in range(TICKS):
        now[0] = NOW + timedelta(seconds=k)
        workspace.tick()
        QApplication.processEvents()
    per_tick_ms = (time.perf_counter() - started) * 1000 / TICKS
    workspace.close()
    cache.close()
    note(f"countdowns: {MAJORS} concurrent majors, {TICKS} ticks (one a second), 1920x1080")
    report("major.countdowns_gui_ms_per_s", per_tick_ms, "ms")


def run() -> None:
    QApplication.instance() or QApplication([])
    root = Path(tempfile.mkdtemp(prefix="noc-bench-major-"))
    note(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    note(f"started {datetime.now(UTC):%H:%M:%S} UTC")
    _countdowns(root)
    _publish_to_screen(root)
