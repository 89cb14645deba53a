"""The Qt side of syncing: the engine on a QThread, its reports as signals.

Wiring (superqt's pattern)::

    engine = SyncEngine(cache, backend, poll_interval=settings.poll_interval.total_seconds())
    sync = SyncThread(engine, parent=window)       # re-emits on the GUI thread
    pacer = UpdatePacer(parent=window)
    sync.changed.connect(pacer.push)
    pacer.ready.connect(lambda update: model.apply_changes(update.changes, update.lookup))
    status = SyncStatusModel(parent=window)
    status.attach(sync)
    status.text_changed.connect(window.set_connection_state)
    sync.conflict.connect(window.show_conflict)     # both values, let the operator choose
    sync.rejected.connect(window.show_rejection)    # the server's message
    sync.start()
    ...
    sync.stop()   # at exit: stops the engine and waits for the thread

The worker never touches a widget: every signal carries plain data
(:class:`~console.sync.engine.SyncStatus`, :class:`~console.sync.engine.SyncUpdate`,
:class:`~console.sync.engine.Conflict`, :class:`~console.sync.engine.Rejection`)
and is delivered to GUI-thread receivers as a queued call. Bulk cache writes
happen on the worker's thread; the GUI only applies ready-made records.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from console.store import ChangeSet
from console.sync.engine import SyncEngine
from console.sync.status import Conflict, Rejection, SyncState, SyncStatus, SyncUpdate

_INT_MAX = 2**31 - 1


class SyncWorker(QObject):
    """Runs :meth:`SyncEngine.run` on the thread it lives in and re-emits its reports.

    Signals (all carry plain data, emitted from the worker thread):

    - ``state_changed(str state, str text)``: a :class:`SyncState` value
      (``live``, ``syncing``, ``reconnecting``, ``offline``, ``auth_failed``,
      ``stopped``) and the status-bar line.
    - ``status_changed(object)``: the full :class:`SyncStatus` (next try time,
      data-as-of time) for a countdown.
    - ``progress(int done, int total)``: while syncing; ``total`` 0 = not known.
    - ``changed(object)``: a :class:`SyncUpdate` (ids changed and their records).
    - ``conflict(object)``: a :class:`Conflict` to let the operator choose.
    - ``rejected(object)``: a :class:`Rejection` with the backend's message.
    - ``outbox_changed(int pending)``: edits still waiting to be sent.
    - ``finished()``: :meth:`run` returned.
    """

    state_changed = Signal(str, str)
    status_changed = Signal(object)
    progress = Signal(int, int)
    changed = Signal(object)
    conflict = Signal(object)
    rejected = Signal(object)
    outbox_changed = Signal(int)
    finished = Signal()

    def __init__(self, engine: SyncEngine) -> None:
        super().__init__()
        self.engine = engine
        engine.listener = _SignalRelay(self)

    @Slot()
    def run(self) -> None:
        """Sync until stopped (connected to ``QThread.started``)."""
        try:
            self.engine.run()
        finally:
            self.finished.emit()

    def stop(self) -> None:
        """Ask the engine to stop (thread-safe; returns at once)."""
        self.engine.stop()


class _SignalRelay:
    """The engine's listener: turns each report into the worker's signal."""

    def __init__(self, worker: SyncWorker) -> None:
        self._worker = worker

    def status_changed(self, status: SyncStatus) -> None:
        self._worker.status_changed.emit(status)
        self._worker.state_changed.emit(status.state.value, status.text())

    def progress(self, done: int, total: int) -> None:
        self._worker.progress.emit(min(done, _INT_MAX), min(total, _INT_MAX))

    def changed(self, update: SyncUpdate) -> None:
        self._worker.changed.emit(update)

    def conflict(self, conflict: Conflict) -> None:
        self._worker.conflict.emit(conflict)

    def rejected(self, rejection: Rejection) -> None:
        self._worker.rejected.emit(rejection)

    def outbox_changed(self, pending: int) -> None:
        self._worker.outbox_changed.emit(pending)


class SyncThread(QObject):
    """A :class:`SyncWorker` on a :class:`QThread` of its own.

    ``started → run``, ``finished → quit``, the worker deleted after it
    finishes. :meth:`stop` stops the engine (the event stream is closed, so
    this is prompt) and waits for the thread; call it before the application
    quits.

    This object lives on the thread that made it (the GUI thread) and
    re-emits the worker's signals there, under the same names: connect the
    GUI to *these*. A plain function or lambda connected to the worker's own
    signals would run on the worker thread, where it must not touch a widget.
    """

    state_changed = Signal(str, str)
    status_changed = Signal(object)
    progress = Signal(int, int)
    changed = Signal(object)
    conflict = Signal(object)
    rejected = Signal(object)
    outbox_changed = Signal(int)

    def __init__(self, engine: SyncEngine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.worker = SyncWorker(engine)
        # Signal to signal: queued to this object's (the GUI) thread, in order.
        for name in (
            "state_changed",
            "status_changed",
            "progress",
            "changed",
            "conflict",
            "rejected",
            "outbox_changed",
        ):
            getattr(self.worker, name).connect(getattr(self, name))
        self.qthread = QThread(self)
        self.qthread.setObjectName("noc-sync")
        self.worker.moveToThread(self.qthread)
        self.qthread.started.connect(self.worker.run)
        # Direct: quit() is thread-safe, and stop() waits for the thread on the
        # GUI thread, where a queued quit would never be delivered.
        self.worker.finished.connect(self.qthread.quit, Qt.ConnectionType.DirectConnection)
        self.worker.finished.connect(self.worker.deleteLater)

    def start(self) -> None:
        """Start syncing (and shorten the interpreter's GIL switch interval, see below)."""
        _shorten_switch_interval()
        self.qthread.start()

    def is_running(self) -> bool:
        return self.qthread.isRunning()

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Stop the engine and wait for the thread; False if it did not end in time."""
        self.engine.stop()
        if not self.qthread.isRunning():
            return True
        return bool(self.qthread.wait(timeout_ms))


# The sync's threads (decoding pages, writing the cache) are busy Python code.
# With the interpreter's default 5 ms switch interval, the GUI thread may wait
# that long for the GIL each time it wants it, several times per event: a
# 1 ms model update then takes 30 ms and more on the clock (measured during a
# 100k sync). At 1 ms the GUI thread gets its turn five times sooner, for a
# throughput cost too small to measure.
GUI_SWITCH_INTERVAL_S = 0.001


def _shorten_switch_interval() -> None:
    if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
        sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


class UpdatePacer(QObject):
    """Feeds sync updates to the GUI in slices, within a time budget per event-loop turn.

    A first sync delivers pages of a thousand incidents; applying one to a
    100k-row model in one go can take longer than a frame. The pacer queues
    updates (cheaply) and emits ``ready(SyncUpdate)`` slices of at most
    ``slice_size`` incidents, stopping after ``budget_ms`` and continuing on
    the next turn of the event loop, so timers, input and painting keep
    running. Slices keep the order of the updates; a rename's removal and
    insertion travel in the same slice.
    """

    ready = Signal(object)

    def __init__(
        self, *, budget_ms: float = 5.0, slice_size: int = 25, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.budget_s = budget_ms / 1000
        self.slice_size = slice_size
        self._queue: deque[SyncUpdate] = deque()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._drain)

    @property
    def pending(self) -> int:
        """Updates (or slices) not yet emitted."""
        return len(self._queue)

    @Slot(object)
    def push(self, update: SyncUpdate) -> None:
        """Queue an update (connect ``SyncWorker.changed`` here)."""
        self._queue.extend(split_update(update, self.slice_size))
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Emit everything queued now, ignoring the budget (tests, shutdown)."""
        while self._queue:
            self.ready.emit(self._queue.popleft())

    @Slot()
    def _drain(self) -> None:
        started = time.perf_counter()
        while self._queue:
            self.ready.emit(self._queue.popleft())
            if time.perf_counter() - started >= self.budget_s:
                break
        if self._queue:
            self._timer.start()


def split_update(update: SyncUpdate, size: int) -> list[SyncUpdate]:
    """``update`` as slices of at most ``size`` inserted/updated incidents.

    The first slice carries the removals, the renames (with their new ids),
    the timeline and reference news; the rest carry inserts and updates only.
    """
    changes = update.changes
    touched = len(changes.inserted) + len(changes.updated)
    if touched <= size:
        return [update]
    renamed_to = set(update.renamed.values())
    order = sorted(changes.inserted | changes.updated, key=lambda i: (i not in renamed_to, i))
    slices: list[SyncUpdate] = []
    for start in range(0, len(order), size):
        ids = order[start : start + size]
        first = start == 0
        part = ChangeSet(
            inserted=frozenset(i for i in ids if i in changes.inserted),
            updated=frozenset(i for i in ids if i in changes.updated),
            removed=changes.removed if first else frozenset(),
            timeline_of=changes.timeline_of if first else frozenset(),
            reference_kinds=changes.reference_kinds if first else frozenset(),
        )
        slices.append(
            SyncUpdate(
                part,
                {i: update.incidents[i] for i in ids if i in update.incidents},
                renamed=update.renamed if first else {},
                catching_up=update.catching_up,
            )
        )
    return slices


class SyncStatusModel(QObject):
    """The status-bar line for the sync, kept current (progress, countdown to the next try).

    Connect :meth:`attach` to a worker; show :attr:`text` and listen to
    ``text_changed(str)``. ``state_changed(str)`` carries the
    :class:`SyncState` value for an icon or a colour (with the text, never
    colour alone).
    """

    text_changed = Signal(str)
    state_changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._status: SyncStatus | None = None
        self._done = 0
        self._total = 0
        self._text = "Not syncing"
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._refresh)

    @property
    def status(self) -> SyncStatus | None:
        return self._status

    @property
    def state(self) -> str:
        return self._status.state.value if self._status else SyncState.STOPPED.value

    @property
    def text(self) -> str:
        return self._text

    def attach(self, sync: SyncThread | SyncWorker) -> None:
        """Follow the status and progress of a :class:`SyncThread` (or its worker)."""
        sync.status_changed.connect(self.set_status)
        sync.progress.connect(self.set_progress)

    @Slot(object)
    def set_status(self, status: SyncStatus) -> None:
        previous = self.state
        self._status = status
        if status.state is not SyncState.SYNCING:
            self._done = self._total = 0
        if status.next_try_at is not None:
            self._tick.start()
        else:
            self._tick.stop()
        self._refresh()
        if status.state.value != previous:
            self.state_changed.emit(status.state.value)

    @Slot(int, int)
    def set_progress(self, done: int, total: int) -> None:
        self._done, self._total = done, total
        self._refresh()

    @Slot()
    def _refresh(self) -> None:
        status = self._status
        if status is None:
            return
        if status.state is SyncState.SYNCING:
            status = replace(status, done=self._done, total=self._total)
        text = status.text(datetime.now(UTC))
        if text != self._text:
            self._text = text
            self.text_changed.emit(text)
