"""Group commit: one writer thread commits the write requests that arrive together.

A write request does its checks that need no database in the event loop, then
hands its work (a function of a write session) to :class:`GroupWriter` and
awaits the answer. The writer thread takes every request waiting at that
moment (at most :data:`MAX_BATCH`) and runs them in **one** write transaction:

- one lock: ``BEGIN IMMEDIATE`` plus the in-process writer lock on SQLite, the
  transaction-scoped advisory lock on PostgreSQL (``db.py``), taken once for
  the batch;
- each request inside its own ``SAVEPOINT``: a request that fails (a 409, a
  412, a 422, a constraint error) is rolled back to its savepoint and answered
  with its own error, and its neighbours carry on as if it had never been sent
  (a request alone in its batch needs no savepoint: it has the transaction);
- one ``COMMIT``, so one fsync (SQLite ``synchronous=FULL``, PostgreSQL's WAL
  flush) for the batch;
- every request is answered only after that commit returned. If the commit
  fails, nothing of the batch is durable and every request in it gets the
  error (none was acknowledged).

The change feed keeps its guarantee (``changes.py``): the seqs of a batch are
drawn in order inside the one serialised transaction, and batches commit one
after another. A request that waits while a batch commits goes into the next
one, so under load batches grow by themselves and at one client a batch is a
single request with no added wait.

This thread is the write path's only thread hop: the route's handler runs in
the event loop and the writer thread does everything that touches the database.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from console.server.core.db import SCRATCH_KEY, Database

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BATCH = 64
"""Requests per transaction at most: bounds the wait of the last one in a batch, and
keeps a batch's savepoints within the 64 subtransactions PostgreSQL tracks per
backend without overflowing (an overflow slows every concurrent reader's snapshot)."""


@dataclass
class _Job(Generic[T]):
    work: Callable[[Session], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]
    hint: Any = None


BatchPreparer = Callable[[Session, list[Any]], None]
"""Called with a batch's write session and the ``hint`` of each of its requests
(those that gave one) before the first request runs: reads the batch needs,
made with one statement for all of them (the ``Idempotency-Key`` lookups)."""


@dataclass
class WriterStats:
    """What the writer has done since it started (for the bench and the tests)."""

    batches: int = 0
    requests: int = 0
    largest_batch: int = 0
    failed_requests: int = 0
    failed_commits: int = 0
    sizes: deque[int] = field(default_factory=lambda: deque(maxlen=1000))


class _NothingToCommit(Exception):
    """Every request of the batch failed and was rolled back."""


class WriterStopped(RuntimeError):
    """The server is shutting down and takes no more writes."""


class GroupWriter:
    """The one thread that runs every request's write, a batch per transaction."""

    def __init__(
        self, db: Database, *, max_batch: int = MAX_BATCH, prepare: BatchPreparer | None = None
    ) -> None:
        self._db = db
        self._max_batch = max_batch
        self._prepare = prepare
        self._pending: deque[_Job[Any]] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.stats = WriterStats()

    # -- the event loop's side -------------------------------------------

    async def run(self, work: Callable[[Session], T], *, hint: Any = None) -> T:
        """Run ``work(session)`` in the next batch; its result once the batch is committed.

        ``work`` must not commit or roll back; an exception it raises is raised
        here after its savepoint was rolled back (the rest of the batch is kept).
        ``hint`` goes to the writer's ``prepare`` with those of the whole batch.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._wake:
            if self._stopping:
                raise WriterStopped("the server is shutting down; retry on the next one")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._main, name="noc-group-writer", daemon=True
                )
                self._thread.start()
            self._pending.append(_Job(work, loop, future, hint))
            self._wake.notify()
        return await future

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the requests already queued, then end the thread."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        stats = self.stats
        if stats.requests:
            log.info(
                "group writer: %d writes in %d transactions (%.1f a transaction, at most %d)",
                stats.requests,
                stats.batches,
                stats.requests / stats.batches,
                stats.largest_batch,
            )

    # -- the writer thread ---------------------------------------------------

    def _main(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._stopping:
                    self._wake.wait()
                if not self._pending:
                    return
                batch = [
                    self._pending.popleft() for _ in range(min(len(self._pending), self._max_batch))
                ]
            self._run_batch(batch)

    def _run_alone(self, session: Session, job: _Job[Any]) -> tuple[_Job[Any], Any, Any]:
        session.info[SCRATCH_KEY] = {}
        try:
            value = job.work(session)
        except Exception as exc:
            session.rollback()
            self.stats.failed_requests += 1
            return job, None, exc
        return job, value, None

    def _run_in_savepoint(self, session: Session, job: _Job[Any]) -> tuple[_Job[Any], Any, Any]:
        # What the transaction noted so far (the newest seq, the next incident
        # number): put back as it was if this request fails.
        before = dict(session.info)
        session.info[SCRATCH_KEY] = {}
        try:
            with session.begin_nested():
                value = job.work(session)
        except Exception as exc:
            # Rolled back to the savepoint: this request only.
            session.info.clear()
            session.info.update(before)
            self.stats.failed_requests += 1
            return job, None, exc
        return job, value, None

    def _run_batch(self, batch: list[_Job[Any]]) -> None:
        outcomes: list[tuple[_Job[Any], Any, BaseException | None]] = []
        session = self._db.new_write_session()
        try:
            if len(batch) == 1:
                # Alone in its transaction: no neighbour to protect, so no
                # savepoint (two statements fewer, a round trip each on PostgreSQL).
                outcomes.append(self._run_alone(session, batch[0]))
            else:
                hints = [job.hint for job in batch if job.hint is not None]
                if hints and self._prepare is not None:
                    self._prepare(session, hints)
                for job in batch:
                    outcomes.append(self._run_in_savepoint(session, job))
            if all(error is not None for _job, _value, error in outcomes):
                session.rollback()  # nothing to commit
                raise _NothingToCommit
            started = time.perf_counter()
            session.commit()
            commit_ms = (time.perf_counter() - started) * 1000
            if commit_ms > 1000:
                log.warning("a commit of %d writes took %.0f ms", len(batch), commit_ms)
        except _NothingToCommit:
            pass
        except Exception as exc:
            # The lock, a savepoint or the commit failed: nothing of this batch
            # is durable, so no request in it may be answered as done.
            log.warning("a batch of %d writes was not committed: %s", len(batch), exc)
            self.stats.failed_commits += 1
            with _Suppress():
                session.rollback()
            outcomes = [(job, None, exc) for job in batch]
        finally:
            with _Suppress():
                session.close()
        self.stats.batches += 1
        self.stats.requests += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        self.stats.sizes.append(len(batch))
        # One wake-up per event loop for the whole batch, not one per request.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job[Any], Any, Any]]] = {}
        for outcome in outcomes:
            by_loop.setdefault(outcome[0].loop, []).append(outcome)
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:
                log.warning("%d answers were dropped: the server is shutting down", len(settled))


def _settle(outcomes: list[tuple[_Job[Any], Any, BaseException | None]]) -> None:
    for job, value, error in outcomes:
        if job.future.cancelled():
            continue  # the client went away; the write stands (committed or not, as above)
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(value)


class _Suppress:
    """Log and swallow an exception while cleaning up after a failed batch."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: Any, _tb: Any) -> bool:
        if exc is not None and isinstance(exc, Exception):
            log.warning("cleaning up a write session failed: %s", exc)
            return True
        return False
