"""Waking SSE clients when the change log grows.

The SSE stream carries no data beyond the newest seq: the change feed is the
truth, the stream only says "there is something new". Wake-ups reach the
:class:`ChangeBroadcaster` from three places:

- this process's own commits (``Database.on_commit``), at once;
- on PostgreSQL, other ``serve`` processes' commits, through LISTEN/NOTIFY
  (:class:`PgListener`, one connection per process);
- a periodic re-read of the newest seq (``feed_poll_s``), the safety net for a
  dropped LISTEN connection or a second server on the same SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable

log = logging.getLogger(__name__)


class ChangeBroadcaster:
    """In-process fan-out of "the newest seq is now N" to every SSE stream.

    ``publish`` may be called from any thread; streams wait on the event loop.
    """

    def __init__(self) -> None:
        self._latest = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()
        self._closed = False
        self._lock = threading.Lock()

    @property
    def latest(self) -> int:
        """The newest seq seen so far."""
        return self._latest

    @property
    def closed(self) -> bool:
        return self._closed

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the server's event loop (at startup)."""
        with self._lock:
            self._loop = loop
            self._changed = asyncio.Event()
            self._closed = False

    def publish(self, seq: int) -> None:
        """Announce that ``seq`` is committed (thread-safe, never blocks)."""
        with self._lock:
            loop = self._loop
        if loop is None or loop.is_closed():
            self._latest = max(self._latest, seq)
            return
        # The loop may close meanwhile (shutdown): then nobody is listening.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._advance, seq)

    def _advance(self, seq: int) -> None:
        if seq <= self._latest:
            return
        self._latest = seq
        self._wake()

    def _wake(self) -> None:
        # Waiters hold the old event; replacing it before setting means a
        # waiter that re-checks ``latest`` and waits again cannot miss a wake.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_newer(self, than: int, timeout: float) -> int | None:
        """Wait until a seq above ``than`` is published; its value, or None on timeout/close."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._closed:
            if self._latest > than:
                return self._latest
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return None
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return None
        return None

    def close(self) -> None:
        """End every stream (server shutdown); thread-safe."""
        with self._lock:
            loop = self._loop
        if loop is None or loop.is_closed():
            self._closed = True
            return

        def _close() -> None:
            self._closed = True
            self._wake()

        try:
            loop.call_soon_threadsafe(_close)
        except RuntimeError:
            self._closed = True


def sse_event(seq: int) -> str:
    """One SSE ``change`` event: ``id`` is the seq, so a reconnect resumes from it."""
    return f'id: {seq}\nevent: change\ndata: {{"seq":{seq}}}\n\n'


async def sse_stream(
    broadcaster: ChangeBroadcaster,
    *,
    current_seq: int,
    last_event_id: int | None,
    heartbeat_s: float,
) -> AsyncIterator[str]:
    """The body of ``GET /v1/events``.

    Opens with a ``retry`` hint and, when the client is behind (or new), a wake
    carrying the newest seq at once; then a ``change`` event whenever the seq
    grows and a comment line every ``heartbeat_s`` while it does not.
    """
    yield "retry: 2000\n: connected\n\n"
    sent = current_seq
    if last_event_id is None or last_event_id != current_seq:
        yield sse_event(current_seq)
    while True:
        seq = await broadcaster.wait_newer(sent, heartbeat_s)
        if broadcaster.closed:
            return
        if seq is None:
            yield ": heartbeat\n\n"
            continue
        sent = seq
        yield sse_event(seq)


class PgListener:
    """LISTEN on the change channel in a background thread and publish each seq.

    One connection per server process; on a lost connection it reconnects and
    re-reads the newest seq (``on_reconnect``), so a notification missed while
    disconnected still wakes the clients.
    """

    def __init__(
        self,
        conninfo: str,
        channel: str,
        publish: Callable[[int], None],
        on_reconnect: Callable[[], None],
    ) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._publish = publish
        self._on_reconnect = on_reconnect
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="noc-pg-listen", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        """Start listening; returns once LISTEN is in place (or after ``timeout``)."""
        self._thread.start()
        self._ready.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        # Only a PostgreSQL-backed server listens; psycopg is the `postgres`
        # extra, so the SQLite server (and the one embedded in the desktop
        # app) must not need it.
        import psycopg

        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f'LISTEN "{self._channel}"')
                    self._ready.set()
                    self._on_reconnect()
                    backoff = 0.5
                    while not self._stop.is_set():
                        # A short timeout so stop() is honoured promptly.
                        for note in conn.notifies(timeout=0.5):
                            try:
                                self._publish(int(note.payload))
                            except ValueError:
                                log.warning("ignoring odd change notification %r", note.payload)
            except psycopg.Error as exc:
                if self._stop.is_set():
                    return
                log.warning("LISTEN connection lost (%s); reconnecting in %.1fs", exc, backoff)
                self._ready.set()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
