"""The Qt side: the engine on a QThread, its reports as signals the GUI thread receives."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QObject, QThread, Slot
from pytestqt.qtbot import QtBot

from console.connectors.noc import NocBackend
from console.models.sync_worker import SyncStatusModel, SyncThread, UpdatePacer, split_update
from console.server.core.auth import Role
from console.server.embedded import EmbeddedServer
from console.store import ChangeSet
from console.sync.engine import SyncState, SyncStatus, SyncUpdate
from tests.helpers.processes import make_incidents
from tests.helpers.sync import NEW, Console


class _Receiver(QObject):
    """Records which thread each signal is delivered on (a GUI-thread object)."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[QThread] = set()
        self.states: list[str] = []

    @Slot(str, str)
    def on_state(self, state: str, _text: str) -> None:
        self.threads.add(QThread.currentThread())
        self.states.append(state)


def test_the_worker_syncs_on_its_own_thread_and_reports_by_signal(
    qtbot: QtBot, console_factory: Callable[..., Console], other: NocBackend
) -> None:
    for k in range(5):
        other.create_incident({**NEW, "title": f"Incident {k}"}, idempotency_key=f"w{k}")
    console = console_factory(page_size=2)
    sync = SyncThread(console.engine)
    receiver = _Receiver()
    sync.state_changed.connect(receiver.on_state)
    updates: list[SyncUpdate] = []
    sync.changed.connect(updates.append)  # a plain callable: fine on SyncThread's signals
    worker_threads: set[QThread] = set()
    sync.worker.progress.connect(lambda *_: worker_threads.add(QThread.currentThread()))
    with (
        qtbot.waitSignal(
            sync.state_changed,
            check_params_cb=lambda state, _text: state == "live",
            timeout=20_000,
        ),
        qtbot.waitSignal(sync.progress, timeout=20_000),
    ):
        sync.start()
    assert receiver.states[0] == "syncing"
    assert receiver.threads == {QThread.currentThread()}  # delivered to the GUI thread
    assert worker_threads == {sync.qthread}  # the work itself ran on the sync thread
    shown = {i for u in updates for i in u.incidents}
    assert len(shown) == 5
    assert all(u.lookup(i) is not None for u in updates for i in u.changes.inserted)

    started = time.monotonic()
    assert sync.stop()
    assert time.monotonic() - started < 3
    assert not sync.is_running()


def test_an_edit_elsewhere_arrives_as_a_changed_signal(
    qtbot: QtBot, console: Console, other: NocBackend
) -> None:
    sync = SyncThread(console.engine)
    with qtbot.waitSignal(
        sync.state_changed, check_params_cb=lambda s, _t: s == "live", timeout=20_000
    ):
        sync.start()
    try:
        with qtbot.waitSignal(
            sync.changed,
            check_params_cb=lambda update: bool(update.changes.inserted),
            timeout=10_000,
        ) as arrived:
            created = other.create_incident(NEW, idempotency_key=uuid.uuid4().hex)
        update: SyncUpdate = arrived.args[0]
        assert update.lookup(created.id) == created
    finally:
        assert sync.stop()


def test_auth_failed_is_a_state_with_what_to_do(
    qtbot: QtBot, server: EmbeddedServer, console: Console
) -> None:
    console.backend.set_token("expired")
    sync = SyncThread(console.engine)
    with qtbot.waitSignal(
        sync.state_changed,
        check_params_cb=lambda s, _t: s == "auth_failed",
        timeout=20_000,
    ) as failed:
        sync.start()
    try:
        assert "Enter a new token" in failed.args[1]
        with qtbot.waitSignal(
            sync.state_changed, check_params_cb=lambda s, _t: s == "live", timeout=20_000
        ):
            console.engine.set_token(server.issue_token("console-new", Role.DISPATCHER))
    finally:
        assert sync.stop()


def test_the_pacer_hands_over_slices_and_keeps_renames_together(qtbot: QtBot) -> None:
    incidents = make_incidents(450)
    ids = frozenset(i.id for i in incidents)
    update = SyncUpdate(
        ChangeSet(inserted=ids, removed=frozenset({"local-1"})),
        {i.id: i for i in incidents},
        renamed={"local-1": incidents[-1].id},
    )
    slices = split_update(update, 200)
    assert [len(s.changes.inserted) for s in slices] == [200, 200, 50]
    assert slices[0].changes.removed == {"local-1"}
    assert incidents[-1].id in slices[0].changes.inserted  # the rename's new id comes first
    assert all(not s.changes.removed for s in slices[1:])

    pacer = UpdatePacer(budget_ms=1, slice_size=100)
    received: list[SyncUpdate] = []
    pacer.ready.connect(received.append)
    pacer.push(update)
    qtbot.waitUntil(lambda: pacer.pending == 0, timeout=5_000)
    assert sum(len(s.changes.inserted) for s in received) == 450
    assert len(received) == 5


def test_the_status_model_shows_progress_and_counts_down(qtbot: QtBot) -> None:
    model = SyncStatusModel()
    texts: list[str] = []
    model.text_changed.connect(texts.append)
    model.set_status(SyncStatus(SyncState.SYNCING, "https://noc.example.com"))
    model.set_progress(12_400, 100_000)
    assert model.text == "Syncing 12 400 / 100 000"
    soon = datetime.now(UTC) + timedelta(seconds=3)
    as_of = datetime(2026, 11, 23, 9, 15, 2, tzinfo=UTC)
    with qtbot.waitSignal(model.text_changed, timeout=5_000):
        model.set_status(
            SyncStatus(SyncState.OFFLINE, "https://noc.example.com", "no route", as_of, soon)
        )
    assert model.state == "offline"
    assert f"data as of {as_of.astimezone():%H:%M:%S}" in model.text
    # The countdown moves by itself, once a second.
    before = model.text
    with qtbot.waitSignal(model.text_changed, timeout=3_000):
        pass
    assert model.text != before
    assert "next try in" in model.text or "trying now" in model.text
