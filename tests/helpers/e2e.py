"""Fixtures for the end-to-end tests: server subprocesses, tokens made by the CLI, consoles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from console.connectors.noc import NocBackend
from console.store import Cache
from console.sync.engine import Backoff, SyncEngine
from tests.helpers.processes import ServerProcess, make_token, seed_incidents
from tests.helpers.sync import Recorder

FAST = Backoff(base=0.2, cap=1.0)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start ``noc-console serve`` subprocesses (optionally seeded); SIGKILLed afterwards."""
    made: list[ServerProcess] = []

    def make(name: str = "server", seed: int = 0) -> ServerProcess:
        folder = tmp_path / name
        folder.mkdir()
        db = folder / "server.db"
        if seed:
            seed_incidents(db, seed)
        process = ServerProcess(db, folder, heartbeat=0.5)
        made.append(process)
        return process.start()

    yield make
    for process in made:
        process.kill()


@dataclass
class E2EConsole:
    """One console's sync side against a server process."""

    cache: Cache
    backend: NocBackend
    engine: SyncEngine
    recorder: Recorder


@pytest.fixture
def console_for(tmp_path: Path) -> Iterator[Callable[..., E2EConsole]]:
    """Consoles with a CLI-made token, their own cache file; closed afterwards."""
    made: list[E2EConsole] = []

    def make(server: ServerProcess, name: str, **options: Any) -> E2EConsole:
        token = make_token(server.db_path, name, options.pop("role", "dispatcher"))
        cache = Cache.open(tmp_path / name / "cache.db")
        backend = NocBackend(server.url, token)
        recorder = Recorder()
        options.setdefault("backoff", FAST)
        options.setdefault("poll_interval", 5.0)
        engine = SyncEngine(cache, backend, recorder, **options)
        console = E2EConsole(cache, backend, engine, recorder)
        made.append(console)
        return console

    yield make
    for console in made:
        console.engine.stop()
        console.backend.close()
        console.cache.close()
