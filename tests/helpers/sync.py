"""Sync helpers: a recording listener; consoles (cache, connector, engine) on ``server``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from console.connectors.noc import NocBackend
from console.server.core.auth import Role
from console.server.embedded import EmbeddedServer
from console.store import Cache
from console.sync.engine import (
    Backoff,
    Conflict,
    Rejection,
    SyncEngine,
    SyncState,
    SyncStatus,
    SyncUpdate,
)

NEW = {"title": "Checkout returns 502", "service": "checkout", "impact": "high", "urgency": "low"}
FAST = Backoff(base=0.1, cap=0.5)


@dataclass
class Recorder:
    """A listener that keeps every report and lets a test wait for one (no sleeping)."""

    statuses: list[SyncStatus] = field(default_factory=list)
    progress_log: list[tuple[int, int]] = field(default_factory=list)
    updates: list[SyncUpdate] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def _add(self, items: list[Any], item: Any) -> None:
        with self.cond:
            items.append(item)
            self.cond.notify_all()

    def status_changed(self, status: SyncStatus) -> None:
        self._add(self.statuses, status)

    def progress(self, done: int, total: int) -> None:
        self._add(self.progress_log, (done, total))

    def changed(self, update: SyncUpdate) -> None:
        self._add(self.updates, update)

    def conflict(self, conflict: Conflict) -> None:
        self._add(self.conflicts, conflict)

    def rejected(self, rejection: Rejection) -> None:
        self._add(self.rejections, rejection)

    def outbox_changed(self, pending: int) -> None:
        self._add(self.pending, pending)

    def wait_for(self, predicate: Callable[[Recorder], bool], timeout: float = 20) -> bool:
        """Wait until ``predicate(self)`` holds (checked on every report)."""
        with self.cond:
            return self.cond.wait_for(lambda: predicate(self), timeout)

    def states(self) -> list[SyncState]:
        with self.cond:
            return [s.state for s in self.statuses]

    @property
    def state(self) -> SyncState | None:
        with self.cond:
            return self.statuses[-1].state if self.statuses else None


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def other(server: EmbeddedServer) -> Iterator[NocBackend]:
    """Another client of the same server (a second console, or a script)."""
    connector = NocBackend(server.url, server.issue_token("other-console", Role.COMMANDER))
    yield connector
    connector.close()


@dataclass
class Console:
    """One console's sync side: its cache, connector and engine."""

    cache: Cache
    backend: NocBackend
    engine: SyncEngine
    recorder: Recorder


@pytest.fixture
def console_factory(server: EmbeddedServer, tmp_path: Path) -> Iterator[Callable[..., Console]]:
    """Build consoles (each with its own cache file and token); closed afterwards."""
    made: list[Console] = []

    def make(name: str = "console-a", role: Role = Role.DISPATCHER, **options: Any) -> Console:
        cache = Cache.open(tmp_path / name / "cache.db")
        backend = NocBackend(server.url, server.issue_token(name, role))
        recorder = Recorder()
        options.setdefault("backoff", FAST)
        options.setdefault("poll_interval", 5.0)
        engine = SyncEngine(cache, backend, recorder, **options)
        console = Console(cache, backend, engine, recorder)
        made.append(console)
        return console

    yield make
    for console in made:
        console.engine.stop()
        console.backend.close()
        console.cache.close()


@pytest.fixture
def console(console_factory: Callable[..., Console]) -> Console:
    return console_factory()


class Running:
    """Runs an engine on a thread for the test; stops and joins it afterwards."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.thread = threading.Thread(target=engine.run, name="test-sync", daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.stop()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the engine did not stop within 10 s"
