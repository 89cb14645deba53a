"""Request Tracker: a first sync of 5 000 tickets, and how soon a change in RT is on screen.

Against a local RT 5 (``rt-server`` over SQLite, started here; needs
``.ci/install-rt``), with RT's default cost for checking auth tokens (bcrypt
12, as a real RT has it): every REST2 request costs RT about a third of a
second of CPU for that check alone, which is what bounds these figures.

``NOC_BENCH_RT_QUICK=1`` measures only the operator figures (under a minute).

- ``rt.initial_5k_tickets_per_s``: a fresh cache catching up with a queue of
  5 000 tickets (custom fields set, seeded straight into RT's tables), with
  ``SyncEngine.sync_once`` as ``noc-console sync --once`` runs it.
- ``rt.operator_300_history_requests``: a first sync of a queue of 300 tickets
  as real ones are (a requestor and RT's autoreply, custom fields, a comment, a
  reply, a status and a field change each: 7 transactions, 2 of them hidden)
  on the operator account of the test RT (no ShowOutgoingEmail, so RT's pages
  come back short), in REST2 requests; then what an idle poll costs
  (``rt.idle_poll_requests``).
- ``rt.change_to_screen_p50_ms``: someone changes a ticket's subject in RT;
  the time until the console's Qt table model shows it, with the sync worker
  on its QThread polling at the default interval (``rt.poll_interval_seconds``,
  10 s). Changes are made at random moments of the poll cycle, so about half
  the interval is waiting for the next poll.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from bench import fail, note, percentile, report
from console.connectors.rt import RtBackend
from console.connectors.rt.mapping import RtMapping, incident_id
from console.connectors.rt.settings import RtSettings
from console.store import Cache
from console.sync.engine import SyncEngine, SyncState

TICKETS = 5_000
LATENCY_SAMPLES = 15


class _Counting(RtBackend):
    """The connector, counting its requests (for the note under the figure)."""

    requests = 0

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        type(self).requests += 1
        return super()._call(method, path, **kwargs)


def _initial(rt: object, folder: Path) -> Path:
    from tests.helpers.rtserver import RtInstance

    assert isinstance(rt, RtInstance)
    cache_path = folder / "cache.db"
    with Cache.open(cache_path) as cache:
        backend = _Counting(f"rt+{rt.url}", rt.token, mapping=RtMapping(queue=rt.queue))
        engine = SyncEngine(cache, backend, use_events=False)
        started = time.perf_counter()
        engine.sync_once()
        elapsed = time.perf_counter() - started
        count = cache.incident_count()
        backend.close()
    if count != TICKETS:
        fail(f"the cache holds {count} incidents after syncing {TICKETS} RT tickets")
    note(
        f"initial sync: {TICKETS} tickets in {elapsed:.1f} s, {_Counting.requests} REST2 "
        "requests (RT checks the token's bcrypt hash on each)"
    )
    report("rt.initial_5k_tickets_per_s", TICKETS / elapsed, "tickets/s")
    return cache_path


def _operator_history(rt: object, folder: Path) -> None:
    from tests.helpers.rtserver import RtInstance

    assert isinstance(rt, RtInstance)
    operator = rt.with_queue(rt.server.take_spare_queue()).as_user()
    tickets = 300
    rt.with_queue(operator.queue).seed_history(tickets - 1)
    time.sleep(2.5)  # the cloned tickets share one second: keep them out of the look-back
    rt.with_queue(operator.queue).create_ticket("Newest", Requestor="caller@example.org")
    _Counting.requests = 0
    with Cache.open(folder / "history.db") as cache:
        backend = _Counting(
            f"rt+{operator.url}", operator.token, mapping=RtMapping(queue=operator.queue),
            overlap=1, tombstone_every=3600,
        )  # fmt: skip
        engine = SyncEngine(cache, backend, use_events=False)
        started = time.perf_counter()
        engine.sync_once()
        elapsed = time.perf_counter() - started
        first = _Counting.requests
        notes = sum(len(cache.timeline(i.id)) for i in cache.incidents())
        time.sleep(2.5)  # past the look-back: the newest ticket settles at this poll...
        backend.changes(cache.cursor(backend.key), 100)
        _Counting.requests = 0  # ... so the next one is idle
        backend.changes(cache.cursor(backend.key), 100)
        idle = _Counting.requests
        backend.close()
    note(
        f"operator account, {tickets} tickets with 7 transactions each (2 hidden from it): "
        f"first sync {elapsed:.1f} s, {first} requests, {notes} timeline entries"
    )
    report("rt.operator_300_history_requests", first, "requests")
    report("rt.idle_poll_requests", idle, "requests")


def _latency(rt: object, cache_path: Path) -> None:
    from console.domain.sla import SlaPolicy
    from console.models.incident_table import IncidentTableModel
    from console.models.sync_worker import SyncThread, UpdatePacer
    from tests.helpers.rtserver import RtInstance

    assert isinstance(rt, RtInstance)
    _app = QApplication.instance() or QApplication([])
    interval = RtSettings().poll_interval.total_seconds()
    cache = Cache.open(cache_path)
    backend = RtBackend(f"rt+{rt.url}", rt.token, mapping=RtMapping(queue=rt.queue))
    engine = SyncEngine(cache, backend, poll_interval=interval)
    sync = SyncThread(engine)
    pacer = UpdatePacer()
    model = IncidentTableModel(SlaPolicy.default(), datetime.now(UTC), cache.incidents())
    pacer.ready.connect(lambda update: model.apply_changes(update.changes, update.lookup))
    sync.changed.connect(pacer.push)
    loop = QEventLoop()
    live = threading.Event()

    def on_state(state: str, _text: str) -> None:
        if state == SyncState.LIVE.value and not live.is_set():
            live.set()
            loop.quit()

    sync.state_changed.connect(on_state)
    timeout = QTimer()
    timeout.setSingleShot(True)
    timeout.timeout.connect(loop.quit)
    rng = random.Random(7)
    ids = [int(i.id.removeprefix("rt-")) for i in model.incidents()]
    samples: list[float] = []
    target: dict[str, object] = {}

    def check(_update: object) -> None:
        wanted = target.get("id")
        if wanted is None:
            return
        row = model.row_of(str(wanted))
        if row is not None and model.incident_at(row).title == target["title"]:
            samples.append(time.perf_counter() - float(str(target["sent"])))
            target.clear()
            loop.quit()

    pacer.ready.connect(check)

    def write(ticket: int, title: str) -> None:
        reply = rt.api("PUT", f"ticket/{ticket}", json={"Subject": title})
        target["sent"] = time.perf_counter()
        if reply.status_code != 200:
            target["error"] = f"{reply.status_code} {reply.text[:200]}"

    try:
        sync.start()
        timeout.start(300_000)
        loop.exec()
        timeout.stop()
        if not live.is_set():
            fail("the sync worker did not reach the live state within 300 s")
        for k in range(LATENCY_SAMPLES):
            # A random moment of the poll cycle (the GUI keeps running meanwhile).
            pause = QEventLoop()
            QTimer.singleShot(int(rng.uniform(0, interval) * 1000), pause.quit)
            pause.exec()
            ticket = rng.choice(ids)
            title = f"Changed in RT #{k}"
            target.update(id=incident_id(ticket), title=title, sent=time.perf_counter())
            writer = threading.Thread(target=write, args=(ticket, title))
            writer.start()
            timeout.start(int((interval * 3 + 30) * 1000))
            loop.exec()
            timeout.stop()
            writer.join(30)
            if "error" in target:
                fail(f"changing ticket {ticket} in RT failed: {target['error']}")
            if target:
                fail(f"change {k} did not reach the model within {interval * 3 + 30:.0f} s")
    finally:
        sync.stop()
        backend.close()
        cache.close()
    note(
        f"change to screen: {len(samples)} subject changes made in RT one at a time, "
        f"polling every {interval:g} s"
    )
    report("rt.change_to_screen_p50_ms", percentile(samples, 50) * 1000, "ms")


def run() -> None:
    try:
        from tests.helpers.rtserver import RtServer, RtUnavailable, rt_unavailable_reason
    except ImportError as exc:  # a wheel without the tests
        fail(f"the RT bench needs the tests folder of a checkout ({exc})")
        return
    reason = rt_unavailable_reason()
    if reason:
        fail(reason)
    folder = Path(tempfile.mkdtemp(prefix="noc-bench-rt-"))
    server = RtServer(bcrypt_cost=None)  # RT's own default: what a real RT costs
    try:
        try:
            server.start()
        except RtUnavailable as exc:
            fail(str(exc))
        rt = server.instance()
        _operator_history(rt, folder)
        if os.environ.get("NOC_BENCH_RT_QUICK") == "1":
            return  # the operator figures only
        started = time.perf_counter()
        rt.bulk_seed(TICKETS)
        note(f"seeded {TICKETS} tickets into RT in {time.perf_counter() - started:.1f} s")
        cache_path = _initial(rt, folder)
        _latency(rt, cache_path)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
