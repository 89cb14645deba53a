"""The sync engine: pull the change feed into the cache, push the outbox, never lose an edit.

Qt-free and backend-neutral: it speaks the :class:`~console.connectors.base.Backend`
protocol and the :class:`~console.store.Cache` API, and reports to a
:class:`SyncListener` (the Qt worker turns those calls into signals).

How it works (docs/architecture.md, "How data moves"):

- **Pull.** ``changes(after=cursor)`` page by page; each page and the new
  cursor go into the cache in one transaction (:meth:`Cache.apply_changes`),
  so a crash or a kill resumes at the stored cursor with no gap and no
  duplicate. A first sync of 100k incidents is ~100 such pages, with progress.
- **Live.** A background thread holds the backend's wake-up stream
  (``/v1/events``); each wake-up makes the engine pull. Without a stream the
  engine polls every ``poll_interval`` seconds.
- **Push.** Outbox entries are sent oldest first with their ``Idempotency-Key``
  (a resend after a lost answer is not applied twice) and, for edits, the
  version they started from as ``If-Match``. A stale edit (412) is merged
  field by field (:func:`console.sync.edits.merge`): fields nobody else
  touched are re-sent; a field changed on both sides becomes a *conflict*,
  kept with both values until the operator chooses (:meth:`SyncEngine.resolve_conflict`).
  A refused edit (403/404/409/422) is kept as *rejected* with the backend's
  message and never retried. Sending stops at the first transient failure,
  so entries always arrive in order.
- **Who.** Once per (re)connection the engine asks the backend who the token
  belongs to (:meth:`Backend.whoami`) and keeps the answer in the cache, so
  the console knows the operator's role offline too
  (:meth:`console.sync.edits.LocalEdits.caller`).
- **Failures.** Network trouble → exponential backoff with jitter (reconnecting,
  then offline); 429 → wait for ``Retry-After``; 401 → *auth failed* until a
  new token is given (:meth:`SyncEngine.set_token`); the outbox is kept
  throughout.

Threads: :meth:`SyncEngine.run` (or :meth:`sync_once`) runs on one thread (the
worker's). :meth:`stop`, :meth:`wake`, :meth:`retry_now` and :meth:`set_token`
may be called from any thread. :meth:`resolve_conflict`, :meth:`discard`,
:meth:`conflicts` and :meth:`rejections` only touch the cache, so the GUI
thread may call them.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import json
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from console.connectors.base import (
    COMPANION_FIELDS,
    AuthFailed,
    Backend,
    BackendError,
    ChangeBatch,
    EventStream,
    RateLimited,
    Rejected,
    Stale,
    Unreachable,
)
from console.domain.incident import Incident, TimelineEvent, TimelineKind
from console.domain.severity import DEFAULT_MATRIX, PriorityMatrix
from console.store import Cache, CacheError, ChangeSet, OutboxEntry, OutboxRecord
from console.sync.edits import (
    CREATE_ECHO,
    FieldConflict,
    apply_fields,
    is_local_id,
    merge,
    store_caller,
    stored_caller,
)

log = logging.getLogger(__name__)

# Cache meta keys (the store has no table for these, see the module notes).
META_LOCAL_ID = "sync.local-id:"  # + placeholder id → the backend's id
META_CONFLICT = "sync.conflict:"  # + outbox record id → JSON of both sides

# A sent note's local stand-in is moved under this incident id (which never
# exists), so it leaves the timeline in the same transaction that adds the
# backend's entry. The cache has no way to delete a single timeline entry.
RETIRED_EVENTS_INCIDENT = "~sent-local-notes"

# After this many unexpected failures (not the network, not a refusal) an
# entry is set aside as rejected, so one bad entry cannot block the queue.
MAX_ATTEMPTS = 8
# Re-reads on 412 before giving up for this round (the incident kept changing).
MAX_MERGE_ROUNDS = 3
# Consecutive failed attempts before "reconnecting" is called "offline".
OFFLINE_AFTER = 3
# With a live wake-up stream, pull anyway this often (a safety net).
STREAM_SAFETY_POLL_S = 60.0


class SyncState(enum.Enum):
    """What the operator sees about the connection (values are the signal strings)."""

    SYNCING = "syncing"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    AUTH_FAILED = "auth_failed"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return {
            "syncing": "Syncing",
            "live": "Live",
            "reconnecting": "Reconnecting",
            "offline": "Offline",
            "auth_failed": "Sign-in needed",
            "stopped": "Not syncing",
        }[self.value]


def _grouped(n: int) -> str:
    """``12400`` → ``12 400`` (the status bar's digit grouping)."""
    return f"{n:,}".replace(",", " ")


def _clock_text(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M:%S")


@dataclass(frozen=True)
class SyncStatus:
    """The engine's state for the status bar, as plain data.

    ``next_try_at`` (UTC) is when the next attempt is due while reconnecting,
    offline or rate limited; :meth:`text` counts down to it. ``data_as_of`` is
    when the cache last caught up with this backend.
    """

    state: SyncState
    backend: str
    reason: str = ""
    data_as_of: datetime | None = None
    next_try_at: datetime | None = None
    done: int = 0
    total: int = 0
    polling_every: float | None = None

    def text(self, now: datetime | None = None) -> str:
        """One line for the status bar (call again each second to count down)."""
        now = now or datetime.now(UTC)
        as_of = (
            f"data as of {_clock_text(self.data_as_of)}"
            if self.data_as_of
            else "no data from it yet"
        )
        retry = ""
        if self.next_try_at is not None:
            seconds = max(0, round((self.next_try_at - now).total_seconds()))
            retry = f"next try in {seconds} s" if seconds else "trying now"
        if self.state is SyncState.SYNCING:
            if self.total:
                return f"Syncing {_grouped(self.done)} / {_grouped(self.total)}"
            if self.done:
                return f"Syncing {_grouped(self.done)}"
            return f"Syncing with {self.backend}…"
        if self.state is SyncState.LIVE:
            if self.polling_every:
                return f"Live — {self.backend} (checking every {self.polling_every:g} s)"
            return f"Live — {self.backend}"
        if self.state is SyncState.RECONNECTING:
            parts = [f"Reconnecting to {self.backend}", retry, self.reason]
            return " — ".join(p for p in parts if p)
        if self.state is SyncState.OFFLINE:
            parts = [f"Offline — {as_of}", retry, self.reason]
            return " — ".join(p for p in parts if p)
        if self.state is SyncState.AUTH_FAILED:
            return (
                f"Sign-in needed — {self.backend} refused the API token ({self.reason}). "
                "Enter a new token to reconnect; your edits are kept and sent afterwards."
            )
        return f"Not syncing — {as_of}"


@dataclass(frozen=True)
class SyncUpdate:
    """What a sync step changed in the cache, with the new records (no query needed).

    ``incidents`` holds the incidents as written, for every id inserted or
    updated in ``changes``; ``renamed`` maps a placeholder id to the backend's
    id once a create is acknowledged (the placeholder's removal and the new
    record's insertion are both in ``changes``). ``catching_up`` is true while
    a longer sync runs (a view may hold back animations).
    """

    changes: ChangeSet
    incidents: Mapping[str, Incident] = field(default_factory=dict)
    renamed: Mapping[str, str] = field(default_factory=dict)
    catching_up: bool = False

    def lookup(self, incident_id: str) -> Incident | None:
        """The new record of a changed incident (what ``IncidentTableModel.apply_changes`` asks)."""
        return self.incidents.get(incident_id)


@dataclass(frozen=True)
class Conflict:
    """An edit that clashed with someone else's: both values of each field, for a choice."""

    record_id: int
    incident_id: str
    number: str
    title: str
    fields: Mapping[str, FieldConflict]
    theirs_version: int

    @property
    def message(self) -> str:
        names = ", ".join(name.replace("_", " ") for name in self.fields)
        return (
            f"{self.number}: someone else changed {names} while your edit was waiting; "
            "choose which value to keep"
        )


@dataclass(frozen=True)
class Rejection:
    """An edit the backend refused for good, with its reason (never retried)."""

    record_id: int
    operation: str
    incident_id: str
    status: int
    message: str
    payload: Mapping[str, Any]

    @property
    def text(self) -> str:
        what = {
            "create": "New incident",
            "patch": "Edit",
            "timeline": "Note",
            "engage": "Engaging teams",
        }.get(self.operation, "Edit")
        return f"{what} refused by the backend: {self.message}"


class SyncListener(Protocol):
    """What the engine reports. Calls come from the engine's thread."""

    def status_changed(self, status: SyncStatus) -> None: ...

    def progress(self, done: int, total: int) -> None: ...

    def changed(self, update: SyncUpdate) -> None: ...

    def conflict(self, conflict: Conflict) -> None: ...

    def rejected(self, rejection: Rejection) -> None: ...

    def outbox_changed(self, pending: int) -> None: ...


class NullListener:
    """A listener that ignores everything (the default)."""

    def status_changed(self, status: SyncStatus) -> None:
        pass

    def progress(self, done: int, total: int) -> None:
        pass

    def changed(self, update: SyncUpdate) -> None:
        pass

    def conflict(self, conflict: Conflict) -> None:
        pass

    def rejected(self, rejection: Rejection) -> None:
        pass

    def outbox_changed(self, pending: int) -> None:
        pass


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits between half and all of base·2ⁿ⁻¹.

    Jitter spreads the reconnects of a whole NOC floor after a server restart;
    the lower bound keeps a retry from coming straight back.
    """

    base: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        ceiling = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return ceiling / 2 + rng() * ceiling / 2


def _shown_part(status: SyncStatus) -> SyncStatus:
    """The part of a status worth telling the GUI about again.

    Every pull moves ``data_as_of``; while live or syncing it is not shown, so
    repeating the status for it would only make noise.
    """
    if status.state in (SyncState.LIVE, SyncState.SYNCING):
        return replace(status, data_as_of=None)
    return status


def _pause_gc() -> bool:
    """Switch the cyclic garbage collector off for a long catch-up; True if it was on.

    A first sync of 100k incidents keeps about a million new objects alive;
    each full collection over them holds the GIL for up to half a second,
    freezing the GUI thread with it (measured: 0.7 s stalls, 3 s of GC in a
    100k sync). Nearly all the sync's garbage is freed by reference counting
    anyway, so the collector is paused for the catch-up.
    """
    if not gc.isenabled():
        return False  # someone else manages it (e.g. a bulk load): leave it be
    gc.disable()
    return True


def _resume_gc() -> None:
    """Turn the collector back on without the pause of scanning what the catch-up kept.

    ``gc.freeze()`` moves every object alive now (the cache's worth of records
    the GUI now holds) out of the collector's reach, so the next collections
    only look at new objects instead of a million old ones.
    """
    gc.freeze()
    gc.enable()


def _timeline_only(changes: ChangeSet) -> ChangeSet:
    """A timeline write's ChangeSet in the incident id space the models expect.

    The cache reports event ids as inserted/updated for timeline writes; a
    model reading those as incident ids would look up rows that do not exist.
    """
    return ChangeSet(timeline_of=changes.timeline_of - {RETIRED_EVENTS_INCIDENT})


class _Retry(BackendError):
    """Internal: leave the queue as it is and try again after a backoff."""


class SyncEngine:
    """Keeps one cache in step with one backend. See the module docstring."""

    def __init__(
        self,
        cache: Cache,
        backend: Backend,
        listener: SyncListener | None = None,
        *,
        poll_interval: float = 15.0,
        use_events: bool = True,
        page_size: int = 1000,
        backoff: Backoff | None = None,
        matrix: PriorityMatrix = DEFAULT_MATRIX,
        rng: Callable[[], float] = random.random,
        quiet_gc: bool = True,
    ) -> None:
        self.cache = cache
        self.backend = backend
        self.listener: SyncListener = listener or NullListener()
        self.poll_interval = poll_interval
        self.page_size = page_size
        # Pause the cyclic GC during long catch-ups (see _pause_gc).
        self.quiet_gc = quiet_gc
        self.backoff = backoff or Backoff()
        self._use_events = use_events and backend.supports_events
        self._matrix = matrix
        self._rng = rng
        self._cond = threading.Condition()
        self._stopping = False
        self._work = False
        self._retry = False
        self._auth_blocked = False
        self._latest_seen: int | None = None
        # incident id → {version we sent against: the version our edit produced}.
        # Lets the next queued edit of the same incident go straight to the
        # version our own previous edit made, instead of a 412 round trip.
        self._own_versions: dict[str, dict[int, int]] = {}
        self._needs_refresh: set[str] = set()
        self._pump: _EventPump | None = None
        self._status: SyncStatus | None = None
        # Ask the backend who we are at the next cycle (set again on every reconnection).
        self._ask_caller = True
        self._report_next = False
        self._forget_other_caller()

    # ------------------------------------------------------------------ controls

    def stop(self) -> None:
        """Ask the engine to stop (thread-safe); :meth:`run` returns promptly."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        pump = self._pump
        if pump is not None:
            pump.halt()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def wake(self) -> None:
        """There is work: an edit was queued, or the backend has news (thread-safe)."""
        with self._cond:
            self._work = True
            self._cond.notify_all()

    def retry_now(self) -> None:
        """Cut a backoff short and try at once (thread-safe)."""
        with self._cond:
            self._retry = True
            self._work = True
            self._cond.notify_all()

    def set_token(self, token: str) -> None:
        """Use a new token (after auth failed) and reconnect at once (thread-safe)."""
        self.backend.set_token(token)
        self._ask_caller = True
        # The verdict on this token is news even if it reads as before (refused
        # again): the console brings its token dialog back on it.
        self._report_next = True
        with self._cond:
            self._auth_blocked = False
        pump = self._pump
        if pump is not None:
            pump.kick()
        self.retry_now()

    def _wait(self, timeout: float | None, *, retry_only: bool) -> None:
        """Sleep until ``timeout``, stop, a retry request, or (unless ``retry_only``) work."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._stopping:
                if self._retry:
                    self._retry = False
                    self._work = False
                    return
                if self._work and not retry_only:
                    self._work = False
                    return
                if deadline is None:
                    self._cond.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    # Called by the event pump's thread.
    def _on_stream_opened(self) -> None:
        self.retry_now()

    def _on_wake(self, seq: int) -> None:
        self._latest_seen = max(seq, self._latest_seen or 0)
        self.wake()

    def _on_stream_lost(self) -> None:
        # Pull now: if the backend is gone, the pull says so and the status
        # bar shows it within a second rather than at the next poll.
        self.wake()

    # ------------------------------------------------------------------ status

    def _emit_status(self, state: SyncState, **details: Any) -> None:
        status = SyncStatus(
            state=state,
            backend=self.backend.url,
            data_as_of=self._data_as_of(),
            **details,
        )
        if (
            self._status is None
            or self._report_next
            or _shown_part(status) != _shown_part(self._status)
        ):
            self._report_next = False
            self._status = status
            self.listener.status_changed(status)

    def _data_as_of(self) -> datetime | None:
        try:
            return self.cache.last_synced_at(self.backend.key)
        except CacheError:
            return None

    @property
    def status(self) -> SyncStatus | None:
        """The last status reported."""
        return self._status

    def _outbox_count(self) -> None:
        with contextlib.suppress(CacheError):
            self.listener.outbox_changed(len(self.cache.pending_outbox()))

    # ------------------------------------------------------------------ running

    def run(self) -> None:
        """Sync until :meth:`stop`: catch up, then stay live; never raises for the backend."""
        if self._use_events:
            self._pump = _EventPump(self)
            self._pump.start()
        failures = 0
        catching_up = True
        ever_live = False
        self._emit_status(SyncState.SYNCING)
        self._outbox_count()
        try:
            while not self._stopping:
                if self._auth_blocked:
                    self._wait(None, retry_only=True)
                    continue
                try:
                    self._cycle(catching_up=catching_up)
                except AuthFailed as exc:
                    with self._cond:
                        self._auth_blocked = True
                    self._emit_status(SyncState.AUTH_FAILED, reason=exc.message)
                    continue
                except RateLimited as exc:
                    delay = max(exc.retry_after, 0.0) + self._rng() * 0.5
                    self._emit_status(
                        SyncState.RECONNECTING,
                        reason="the backend asked the console to slow down",
                        next_try_at=datetime.now(UTC) + timedelta(seconds=delay),
                    )
                    self._sleep(delay)
                    continue
                except (BackendError, CacheError) as exc:
                    failures += 1
                    self._backoff(exc, failures, ever_live)
                    catching_up = True
                    continue
                except Exception as exc:  # a bug must not end syncing for the session
                    log.exception("sync step failed unexpectedly")
                    failures += 1
                    self._backoff(exc, failures, ever_live)
                    catching_up = True
                    continue
                failures = 0
                catching_up = False
                ever_live = True
                streaming = self._pump is not None and self._pump.connected
                self._emit_status(
                    SyncState.LIVE, polling_every=None if streaming else self.poll_interval
                )
                self._wait(
                    max(self.poll_interval, STREAM_SAFETY_POLL_S)
                    if streaming
                    else self.poll_interval,
                    retry_only=False,
                )
        finally:
            if self._pump is not None:
                self._pump.halt()
                self._pump.join(5.0)
                self._pump = None
            self._emit_status(SyncState.STOPPED)

    def _backoff(self, exc: BaseException, failures: int, ever_live: bool) -> None:
        self._ask_caller = True  # the next success is a new connection
        hint = getattr(exc, "retry_after", None)
        delay = self.backoff.delay(failures, self._rng)
        if isinstance(hint, int | float) and hint > 0:
            delay = max(delay, float(hint))
        state = (
            SyncState.RECONNECTING if ever_live and failures <= OFFLINE_AFTER else SyncState.OFFLINE
        )
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if isinstance(exc, CacheError):
            reason = f"the local cache failed: {exc}"
        self._emit_status(
            state, reason=reason, next_try_at=datetime.now(UTC) + timedelta(seconds=delay)
        )
        self._wait(delay, retry_only=True)

    def _sleep(self, seconds: float) -> None:
        """Wait out a Retry-After: only stop cuts it short."""
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    def sync_once(self) -> None:
        """Send the outbox and catch up once, then return (``noc-console sync --once``).

        Raises the backend's errors (:class:`Unreachable`, :class:`AuthFailed`,
        …) instead of retrying; the cache holds everything applied so far.
        """
        self._emit_status(SyncState.SYNCING)
        self._outbox_count()
        self._cycle(catching_up=True)
        self._emit_status(SyncState.LIVE)

    def _cycle(self, *, catching_up: bool) -> None:
        """Push, pull until caught up, push what was queued meanwhile."""
        if self._ask_caller:
            self._learn_caller()
        self._refresh_pending()
        self._push()
        self._pull(catching_up=catching_up)
        if self.cache.pending_outbox():
            self._push()

    # ------------------------------------------------------------------ caller

    def _forget_other_caller(self) -> None:
        """Drop a caller stored for another backend (or the demo): it says nothing here."""
        with contextlib.suppress(CacheError):
            stored = stored_caller(self.cache)
            if stored is not None and stored[0] != self.backend.key:
                store_caller(self.cache, self.backend.key, None)

    def _learn_caller(self) -> None:
        """Ask the backend who the token belongs to and keep the answer in the cache.

        Network and token failures propagate (the cycle would meet them anyway);
        any other failure is logged and leaves the last known answer, because
        syncing matters more than knowing the role.
        """
        try:
            caller = self.backend.whoami()
        except (Unreachable, AuthFailed, RateLimited):
            raise
        except BackendError as exc:
            log.warning("the backend did not say who the console acts as: %s", exc.message)
            self._ask_caller = False
            return
        store_caller(self.cache, self.backend.key, caller)
        self._ask_caller = False

    # ------------------------------------------------------------------ pull

    def _pull(self, *, catching_up: bool) -> None:
        key = self.backend.key
        start = cursor = self.cache.cursor(key)
        target = self._latest_seen
        if catching_up:
            self._emit_status(SyncState.SYNCING)
            if target is None or target <= cursor:
                try:
                    target = self.backend.latest_cursor()
                except BackendError:
                    target = None
        announced = catching_up
        reader: _PageReader | None = None
        quiet_gc = False
        try:
            while not self._stopping:
                if reader is None:
                    batch = self.backend.changes(cursor, self.page_size)
                    if batch.more:
                        # A long catch-up: fetch and decode the next pages on a
                        # thread of their own while this one writes the cache.
                        reader = _PageReader(self, batch.cursor)
                        quiet_gc = self.quiet_gc and _pause_gc()
                else:
                    next_batch = reader.next()
                    if next_batch is None:
                        return  # stopping
                    batch = next_batch
                update = self._apply(batch, catching_up=announced)
                cursor = batch.cursor
                if batch.more and not announced:
                    # A burst bigger than a page: say so, with progress.
                    announced = True
                    self._emit_status(SyncState.SYNCING)
                if announced:
                    done = cursor - start
                    known = max(target or 0, self._latest_seen or 0)
                    if not batch.more:
                        total = done
                    elif known > cursor:
                        total = known - start
                    else:
                        total = 0  # not known: the status bar shows the count alone
                    self.listener.progress(done, total)
                if update is not None:
                    self.listener.changed(update)
                if not batch.more:
                    return
        finally:
            if reader is not None:
                reader.close()
            if quiet_gc:
                _resume_gc()

    def _apply(self, batch: ChangeBatch, *, catching_up: bool) -> SyncUpdate | None:
        incidents = list(batch.incidents)
        pending = self._pending_patches() if incidents else {}
        if pending:
            incidents = [self._overlay(i, pending.get(i.id, ())) for i in incidents]
        changes = self.cache.apply_changes(
            self.backend.key,
            incidents=incidents,
            deleted_incidents=batch.deleted_incidents,
            timeline=batch.timeline,
            reference=batch.reference,
            deleted_reference=batch.deleted_reference,
            cursor=batch.cursor,
        )
        if not changes:
            return None
        touched = changes.inserted | changes.updated
        return SyncUpdate(
            changes,
            {i.id: i for i in incidents if i.id in touched},
            catching_up=catching_up,
        )

    # ------------------------------------------------------------------ overlay

    def _pending_patches(
        self, exclude: int | None = None
    ) -> dict[str, list[tuple[Mapping[str, object], datetime]]]:
        """Queued edits by (backend) incident id, oldest first, for showing over fresh data."""
        out: dict[str, list[tuple[Mapping[str, object], datetime]]] = {}
        for record in self.cache.pending_outbox():
            if record.operation != "patch" or record.id == exclude:
                continue
            fields = record.payload.get("fields")
            if not isinstance(fields, dict) or not fields:
                continue
            incident_id = self._mapped_id(record.incident_id) or record.incident_id
            out.setdefault(incident_id, []).append((fields, record.created_at))
            if incident_id != record.incident_id:
                out.setdefault(record.incident_id, []).append((fields, record.created_at))
        return out

    def _overlay(
        self, incident: Incident, edits: Iterable[tuple[Mapping[str, object], datetime]]
    ) -> Incident:
        """The backend's record with the operator's unsent edits on top (version kept).

        Without this, a fresh version pulled while an edit waits would make the
        edit vanish from the screen until it is sent.
        """
        shown = incident
        for fields, at in edits:
            shown = apply_fields(shown, fields, at, matrix=self._matrix, lenient=True)
        return replace(shown, version=incident.version) if shown is not incident else incident

    def _show(self, incident: Incident, exclude: int | None = None) -> SyncUpdate | None:
        """Write the backend's ``incident`` (with unsent edits over it) to the cache."""
        shown = self._overlay(incident, self._pending_patches(exclude).get(incident.id, ()))
        changes = self.cache.upsert_incidents([shown])
        if not changes:
            local = self.cache.incident(shown.id)
            if local is None or local == shown:
                return None
            # Same version as the local edit: only a local write replaces it.
            changes = self._force_write(shown)
        return SyncUpdate(changes, {shown.id: shown})

    def _force_write(self, incident: Incident) -> ChangeSet:
        """Replace the cached row whatever its version, in one transaction.

        The cache only writes a backend record that is newer than the cached
        one, and the operator's edit is cached at the version it started from;
        so showing the backend's state again at that same version (after a
        refusal or a conflict) goes through :meth:`Cache.enqueue`, the one
        write that ignores versions, with an empty edit that is marked sent
        right away (and is skipped as empty if a crash comes in between).
        """
        entry = OutboxEntry(
            operation="patch",
            incident_id=incident.id,
            payload={"fields": {}, "base": {}, "refresh": True},
            base_version=incident.version,
        )
        record = self.cache.enqueue(entry, local_incident=incident)
        self.cache.mark_outbox_sent(record.id)
        return ChangeSet(updated=frozenset({incident.id}))

    def _refresh_pending(self) -> None:
        """Re-read incidents whose refused edit is still shown (the backend was away)."""
        for incident_id in list(self._needs_refresh):
            try:
                current = self.backend.get_incident(incident_id)
            except Rejected:
                self._needs_refresh.discard(incident_id)  # gone: the feed says so
                continue
            self._needs_refresh.discard(incident_id)
            update = self._show(current)
            if update is not None:
                self.listener.changed(update)

    # ------------------------------------------------------------------ push

    def _push(self) -> None:
        """Send pending entries oldest first; stop at the first that must wait."""
        try:
            while not self._stopping:
                records = self.cache.pending_outbox()
                if not records:
                    return
                for index, record in enumerate(records):  # oldest first: the order matters
                    if self._stopping:
                        return
                    self._send(record)
                    # How many still wait, for the status bar (no query per entry).
                    self.listener.outbox_changed(len(records) - index - 1)
        finally:
            self._outbox_count()

    def _send(self, record: OutboxRecord) -> None:
        try:
            if record.operation == "create":
                self._send_create(record)
            elif record.operation == "patch":
                self._send_patch(record)
            elif record.operation == "timeline":
                self._send_note(record)
            elif record.operation == "engage":
                self._send_engage(record)
            else:
                self._reject(record, Rejected(0, f"unknown operation {record.operation!r}"))
        except Rejected as refused:
            self._reject(record, refused)
        except (Unreachable, RateLimited, AuthFailed, _Retry):
            raise
        except BackendError as exc:
            # Neither the network nor a refusal: retry a few times, then set
            # the entry aside so it cannot block the edits behind it.
            permanent = record.attempts + 1 >= MAX_ATTEMPTS
            self.cache.mark_outbox_failed(record.id, exc.message, permanent=permanent)
            if permanent:
                self._after_rejection(record, 0, exc.message)
                return
            raise

    def _mapped_id(self, incident_id: str) -> str | None:
        if not is_local_id(incident_id):
            return incident_id
        mapped = self.cache.meta(META_LOCAL_ID + incident_id)
        return mapped or None

    def _target(self, record: OutboxRecord) -> str:
        """The backend id an entry goes to (placeholders resolved), or Rejected."""
        target = self._mapped_id(record.incident_id)
        if target is None:
            raise Rejected(
                0,
                "the new incident this belongs to was not created (see the refused "
                "new incident); nothing was sent",
            )
        return target

    def _idempotency_key(self, record: OutboxRecord, version: int | None) -> str:
        # A re-send against another version is another request; a key of its
        # own keeps the server from calling it a reused key.
        if version is None or version == record.base_version:
            return record.idempotency_key
        return f"{record.idempotency_key}-v{version}"

    def _send_create(self, record: OutboxRecord) -> None:
        local_id = record.incident_id
        fields = record.payload.get("fields")
        if not isinstance(fields, dict):
            raise Rejected(0, "the queued new incident is unreadable")
        created = self.backend.create_incident(fields, idempotency_key=record.idempotency_key)
        # The mapping first: if we crash now, the resend replays the same
        # create (same key) and later edits still find their incident.
        self.cache.set_meta(META_LOCAL_ID + local_id, created.id)
        pending = self._pending_patches(exclude=record.id)
        shown = self._overlay(created, pending.get(local_id, ()))
        notes = [
            replace(event, incident_id=created.id)
            for event in self.cache.timeline(local_id)
            if not event.data.get(CREATE_ECHO)  # the backend wrote its own entry
        ]
        changes = self.cache.apply_changes(
            self.backend.key,
            incidents=[shown],
            deleted_incidents=[local_id],
            timeline=notes,
            cursor=self.cache.cursor(self.backend.key),
        )
        self.cache.mark_outbox_sent(record.id)
        self.listener.changed(
            SyncUpdate(changes, {shown.id: shown}, renamed={local_id: created.id})
        )

    def _send_patch(self, record: OutboxRecord) -> None:
        fields = record.payload.get("fields")
        base = record.payload.get("base")
        if not isinstance(fields, dict) or not isinstance(base, dict):
            raise Rejected(0, "the queued edit is unreadable")
        if not fields:
            self.cache.mark_outbox_sent(record.id)  # an empty (refresh) entry
            return
        incident_id = self._target(record)
        version = self._rebased(incident_id, record.base_version)
        send: Mapping[str, object] = fields
        for _round in range(MAX_MERGE_ROUNDS):
            key = self._idempotency_key(record, version)
            try:
                updated = self.backend.update_incident(
                    incident_id, send, version=version, idempotency_key=key
                )
            except Stale as stale:
                current = stale.current
                result = merge(fields, base, current)
                if result.conflicts:
                    self._conflict(record, current, fields, result.conflicts, result.theirs)
                    return
                if not result.resend:
                    self._accept(record, current)  # the backend already has all of it
                    return
                send, version = result.resend, current.version
                continue
            self._own_versions.setdefault(incident_id, {})[version] = updated.version
            self._accept(record, updated)
            return
        raise _Retry(f"{incident_id} kept changing while the console tried to save an edit")

    def _rebased(self, incident_id: str, base_version: int | None) -> int:
        version = base_version or 1
        chain = self._own_versions.get(incident_id, {})
        seen = 0
        while version in chain and chain[version] != version and seen < 1000:
            version, seen = chain[version], seen + 1
        return version

    def _accept(self, record: OutboxRecord, incident: Incident) -> None:
        update = self._show(incident, exclude=record.id)
        self.cache.mark_outbox_sent(record.id)
        if update is not None:
            self.listener.changed(update)

    def _send_note(self, record: OutboxRecord) -> None:
        payload = record.payload
        kind, body = payload.get("kind"), payload.get("body")
        if not isinstance(kind, str) or not isinstance(body, str):
            raise Rejected(0, "the queued note is unreadable")
        incident_id = self._target(record)
        score = payload.get("score")
        if score is not None:
            # A CSAT score (kind csat): the only note that carries a value.
            if not isinstance(score, int):
                raise Rejected(0, "the queued CSAT score is unreadable")
            event = self.backend.add_timeline_entry(
                incident_id, kind, body, idempotency_key=record.idempotency_key, score=score
            )
        else:
            event = self.backend.add_timeline_entry(
                incident_id, kind, body, idempotency_key=record.idempotency_key
            )
        events = [event, *self._retired_local_note(record)]
        changes = self.cache.upsert_timeline(events)
        self.cache.mark_outbox_sent(record.id)
        if changes:
            self.listener.changed(SyncUpdate(_timeline_only(changes)))

    def _send_engage(self, record: OutboxRecord) -> None:
        """Swarm: engage the queued tiers; the backend's entries replace the local one."""
        payload = record.payload
        tiers, reason = payload.get("tiers"), payload.get("reason")
        if (
            not isinstance(tiers, list)
            or not tiers
            or not all(isinstance(t, int) and not isinstance(t, bool) for t in tiers)
            or not isinstance(reason, str)
        ):
            raise Rejected(0, "the queued request to engage teams is unreadable")
        incident_id = self._target(record)
        try:
            events = self.backend.engage(
                incident_id, list(tiers), reason, idempotency_key=record.idempotency_key
            )
        except Rejected as refused:
            if refused.status == 403:
                raise Rejected(
                    403,
                    "only commanders can engage several teams at once; "
                    "ask an incident commander, or escalate one tier at a time",
                    refused.code,
                ) from refused
            raise
        changes = self.cache.upsert_timeline([*events, *self._retired_local_note(record)])
        self.cache.mark_outbox_sent(record.id)
        if changes:
            self.listener.changed(SyncUpdate(_timeline_only(changes)))

    def _retired_local_note(self, record: OutboxRecord) -> list[TimelineEvent]:
        """The note's local stand-in, moved out of sight (see RETIRED_EVENTS_INCIDENT)."""
        payload = record.payload
        local_id = payload.get("local_event_id")
        if not isinstance(local_id, str):
            return []
        try:
            at = datetime.fromisoformat(str(payload.get("at")))
            return [
                TimelineEvent(
                    id=local_id,
                    incident_id=RETIRED_EVENTS_INCIDENT,
                    kind=TimelineKind.of(payload.get("kind")),
                    at=at,
                    author=str(payload.get("author") or ""),
                    body=str(payload.get("body") or "-"),
                )
            ]
        except (ValueError, TypeError):
            return []

    # ------------------------------------------------------------------ conflicts

    def _conflict(
        self,
        record: OutboxRecord,
        current: Incident,
        fields: Mapping[str, object],
        conflicts: Mapping[str, FieldConflict],
        theirs: Mapping[str, object],
    ) -> None:
        detail = {
            "incident_id": current.id,
            "theirs_version": current.version,
            "fields": dict(fields),
            "theirs": dict(theirs),
            "conflicts": {
                name: {"base": c.base, "mine": c.mine, "theirs": c.theirs}
                for name, c in conflicts.items()
            },
        }
        conflict = Conflict(
            record_id=record.id,
            incident_id=current.id,
            number=current.number,
            title=current.title,
            fields=dict(conflicts),
            theirs_version=current.version,
        )
        # The details first: a crash before the status change re-sends the
        # entry, meets the same 412 and records the same conflict.
        self.cache.set_meta(META_CONFLICT + str(record.id), json.dumps(detail))
        self.cache.mark_outbox_conflict(record.id, conflict.message)
        update = self._show(current, exclude=record.id)
        if update is not None:
            self.listener.changed(update)
        self.listener.conflict(conflict)

    def conflicts(self) -> list[Conflict]:
        """Every edit waiting for the operator's choice, oldest first."""
        out: list[Conflict] = []
        for record in self.cache.outbox_records(status="conflict"):
            detail = self._conflict_detail(record.id)
            if detail is None:
                continue
            incident = self.cache.incident(detail["incident_id"])
            out.append(
                Conflict(
                    record_id=record.id,
                    incident_id=detail["incident_id"],
                    number=incident.number if incident else detail["incident_id"],
                    title=incident.title if incident else "",
                    fields={
                        name: FieldConflict(c["base"], c["mine"], c["theirs"])
                        for name, c in detail["conflicts"].items()
                    },
                    theirs_version=int(detail["theirs_version"]),
                )
            )
        return out

    def _conflict_detail(self, record_id: int) -> dict[str, Any] | None:
        text = self.cache.meta(META_CONFLICT + str(record_id))
        if not text:
            return None
        try:
            detail = json.loads(text)
        except ValueError:
            return None
        return detail if isinstance(detail, dict) else None

    def resolve_conflict(self, record_id: int, choices: Mapping[str, str]) -> Incident | None:
        """Settle a conflict: for each clashing field, ``"mine"`` or ``"theirs"``.

        Fields chosen as mine, and the edit's fields nobody else touched, are
        queued again as a new edit based on the backend's version (shown at
        once, sent by the engine); fields chosen as theirs are dropped. Returns
        the incident as now shown (None when the incident is no longer cached).
        Raises ``ValueError`` for a missing or unknown choice.
        """
        record = next(
            (r for r in self.cache.outbox_records(status="conflict") if r.id == record_id), None
        )
        detail = self._conflict_detail(record_id)
        if record is None or detail is None:
            raise ValueError(f"there is no unresolved conflict {record_id}")
        clashing: dict[str, Any] = detail["conflicts"]
        missing = sorted(set(clashing) - set(choices))
        odd = sorted(name for name, choice in choices.items() if choice not in ("mine", "theirs"))
        if missing or odd or set(choices) - set(clashing):
            raise ValueError(
                f"choose mine or theirs for each of {', '.join(sorted(clashing))}"
                + (f" (missing: {', '.join(missing)})" if missing else "")
            )
        fields: dict[str, object] = dict(detail["fields"])
        theirs: dict[str, object] = dict(detail["theirs"])
        keep = {
            name: value
            for name, value in fields.items()
            if name not in COMPANION_FIELDS
            and theirs.get(name) != value
            and (name not in clashing or choices[name] == "mine")
        }
        for companion, main in COMPANION_FIELDS.items():
            if main in keep and companion in fields:
                keep[companion] = fields[companion]
        incident_id = str(detail["incident_id"])
        current = self.cache.incident(incident_id)
        shown = current
        if keep:
            entry = OutboxEntry(
                operation="patch",
                incident_id=incident_id,
                payload={
                    "fields": keep,
                    "base": {name: theirs.get(name) for name in keep if name in theirs},
                },
                base_version=int(detail["theirs_version"]),
            )
            if current is not None:
                shown = apply_fields(
                    current, keep, datetime.now(UTC), matrix=self._matrix, lenient=True
                )
                self.cache.enqueue(entry, local_incident=replace(shown, version=current.version))
            else:
                self.cache.enqueue(entry)  # not cached (yet): sent all the same
        self.cache.discard_outbox(record_id)
        self.cache.set_meta(META_CONFLICT + str(record_id), "")
        self.wake()
        return shown

    # ------------------------------------------------------------------ rejections

    def _reject(self, record: OutboxRecord, refused: Rejected) -> None:
        status = refused.status
        message = refused.message
        self.cache.mark_outbox_failed(
            record.id, f"[{status}] {message}" if status else message, permanent=True
        )
        self._after_rejection(record, status, message)

    def _after_rejection(self, record: OutboxRecord, status: int, message: str) -> None:
        """Show the backend's state again instead of the refused edit; report the refusal."""
        if record.operation == "create":
            changes = self.cache.delete_incidents([record.incident_id])
            if changes:
                self.listener.changed(SyncUpdate(changes))
        elif record.operation == "patch":
            target = self._mapped_id(record.incident_id)
            if target is not None:
                try:
                    update = self._show(self.backend.get_incident(target), exclude=record.id)
                except Rejected:
                    update = None  # gone on the backend; the feed says so
                except BackendError:
                    self._needs_refresh.add(target)
                    update = None
                if update is not None:
                    self.listener.changed(update)
        elif record.operation in ("timeline", "engage"):
            changes = self.cache.upsert_timeline(self._retired_local_note(record))
            if changes:
                self.listener.changed(SyncUpdate(_timeline_only(changes)))
        self.listener.rejected(
            Rejection(
                record_id=record.id,
                operation=record.operation,
                incident_id=record.incident_id,
                status=status,
                message=message,
                payload=record.payload,
            )
        )

    def rejections(self) -> list[Rejection]:
        """Every refused edit still kept, oldest first."""
        out: list[Rejection] = []
        for record in self.cache.outbox_records(status="rejected"):
            text = record.last_error or ""
            status = 0
            if text.startswith("[") and "] " in text:
                code, _, rest = text[1:].partition("] ")
                if code.isdigit():
                    status, text = int(code), rest
            out.append(
                Rejection(
                    record.id, record.operation, record.incident_id, status, text, record.payload
                )
            )
        return out

    def discard(self, record_id: int) -> None:
        """Drop a refused or conflicting edit the operator gave up (cache only)."""
        self.cache.discard_outbox(record_id)
        self.cache.set_meta(META_CONFLICT + str(record_id), "")


class _PageReader:
    """Reads the change feed ahead on a thread of its own during a long catch-up.

    The engine writes page N to the cache while this thread fetches and
    decodes page N+1: the backend's time and the cache's time overlap (SQLite
    and the socket release the GIL), which makes a first sync of 100k
    incidents about a third faster. Only this thread uses the backend while it
    runs; :meth:`close` waits for it before the engine talks to the backend
    again. A failure is handed over in order, after the pages read before it.
    """

    _DEPTH = 2

    def __init__(self, engine: SyncEngine, after: int) -> None:
        self._engine = engine
        self._after = after
        self._queue: queue.Queue[ChangeBatch | BaseException] = queue.Queue(self._DEPTH)
        self._halted = threading.Event()
        self._thread = threading.Thread(target=self._run, name="noc-sync-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        engine = self._engine
        cursor = self._after
        try:
            while not self._halted.is_set() and not engine.stopping:
                batch = engine.backend.changes(cursor, engine.page_size)
                if not self._put(batch) or not batch.more:
                    return
                cursor = batch.cursor
        except BaseException as exc:  # handed to the engine's thread, which raises it
            self._put(exc)

    def _put(self, item: ChangeBatch | BaseException) -> bool:
        while not self._halted.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def next(self) -> ChangeBatch | None:
        """The next page in order (None when the engine is stopping); raises its failure."""
        while not self._engine.stopping:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(item, BaseException):
                raise item
            return item
        return None

    def close(self) -> None:
        self._halted.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(30)


class _EventPump:
    """Holds the backend's wake-up stream on a thread of its own and wakes the engine.

    Reconnects with backoff when the stream drops; a successful reconnect
    tells the engine to retry at once (the backend is back).
    """

    def __init__(self, engine: SyncEngine) -> None:
        self._engine = engine
        self._halted = threading.Event()
        self._kicked = threading.Event()
        self._lock = threading.Lock()
        self._stream: EventStream | None = None
        self.connected = False
        self._thread = threading.Thread(target=self._run, name="noc-sync-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def halt(self) -> None:
        """Stop (thread-safe): a blocked read is woken by closing the stream."""
        self._halted.set()
        self._kicked.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()

    def kick(self) -> None:
        """Reconnect now (a new token was given)."""
        self._kicked.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _pause(self, seconds: float) -> None:
        self._kicked.wait(seconds)
        self._kicked.clear()

    def _run(self) -> None:
        engine = self._engine
        failures = 0
        while not self._halted.is_set():
            try:
                stream = engine.backend.open_events(None)
            except AuthFailed:
                self._pause(engine.backoff.cap)  # the engine reports it; wait for a token
                continue
            except (BackendError, OSError):
                failures += 1
                self._pause(engine.backoff.delay(failures, engine._rng))
                continue
            except Exception:
                log.exception("the event stream failed unexpectedly")
                failures += 1
                self._pause(engine.backoff.delay(failures, engine._rng))
                continue
            with self._lock:
                self._stream = stream
            if self._halted.is_set():
                stream.close()
                return
            failures = 0
            self.connected = True
            engine._on_stream_opened()
            try:
                for seq in stream:
                    engine._on_wake(seq)
            except (BackendError, OSError):
                pass
            except Exception:
                log.exception("reading the event stream failed unexpectedly")
            finally:
                self.connected = False
                stream.close()
                with self._lock:
                    self._stream = None
            if self._halted.is_set():
                return
            engine._on_stream_lost()
            # The stream ended by itself (the server restarted): reconnect soon,
            # spread out so a floor of consoles does not arrive at once.
            failures += 1
            self._pause(engine.backoff.delay(failures, engine._rng))
