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

The parts: :mod:`console.sync.pull`, :mod:`console.sync.push` and
:mod:`console.sync.conflicts` are the engine's mixins, on the shared state of
:mod:`console.sync.core`; what it reports is in :mod:`console.sync.status`
(re-exported here). This module holds the loop, the backoff and the controls.

Threads: :meth:`SyncEngine.run` (or :meth:`sync_once`) runs on one thread (the
worker's). :meth:`stop`, :meth:`wake`, :meth:`retry_now` and :meth:`set_token`
may be called from any thread. :meth:`resolve_conflict`, :meth:`discard`,
:meth:`conflicts` and :meth:`rejections` only touch the cache, so the GUI
thread may call them.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from console.connectors.base import AuthFailed, Backend, BackendError, EventStream, RateLimited
from console.domain.severity import DEFAULT_MATRIX, PriorityMatrix
from console.store import Cache, CacheError
from console.sync.conflicts import META_CONFLICT
from console.sync.pull import META_LOCAL_ID
from console.sync.push import _Pushing
from console.sync.status import (
    Conflict,
    NullListener,
    Rejection,
    SyncListener,
    SyncState,
    SyncStatus,
    SyncUpdate,
)

log = logging.getLogger(__name__)

# Consecutive failed attempts before "reconnecting" is called "offline".
OFFLINE_AFTER = 3
# With a live wake-up stream, pull anyway this often (a safety net).
STREAM_SAFETY_POLL_S = 60.0


__all__ = [
    "META_CONFLICT",
    "META_LOCAL_ID",
    "Backoff",
    "Conflict",
    "NullListener",
    "Rejection",
    "SyncEngine",
    "SyncListener",
    "SyncState",
    "SyncStatus",
    "SyncUpdate",
]


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


class SyncEngine(_Pushing):
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
