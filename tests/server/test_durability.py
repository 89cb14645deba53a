"""Durability: a kill -9 of a real server process loses no acknowledged write."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from console.server.db import Database
from console.server.settings import normalise_db_url
from tests.server.conftest import INCIDENT, Api
from tests.server.processes import ServeProcess, create_token

pytestmark = pytest.mark.slow


def test_sqlite_runs_in_wal_with_full_sync(api: Api) -> None:
    with api.server.app.state.context.db.read_session() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL


def _kill_during_writes(db: str, tmp_path: Path) -> None:
    token = create_token(db, "dispatcher", f"writer-{time.monotonic_ns()}")
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    with ServeProcess(db, tmp_path / "first.log") as server:

        def write(index: int) -> None:
            with server.client(token) as client:
                n = 0
                while not stop.is_set():
                    n += 1
                    try:
                        response = client.post(
                            "/v1/incidents", json={**INCIDENT, "title": f"w{index} #{n}"}
                        )
                    except httpx.HTTPError:
                        return  # the server died mid-request: that write was never acknowledged
                    if response.status_code == 201:
                        with lock:
                            acked.append(response.json()["id"])

        writers = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 20
        while len(acked) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.stop(signal.SIGKILL)  # mid-write: the writers are still sending
        stop.set()
        for writer in writers:
            writer.join(10)
    assert len(acked) >= 150, "too few writes were acknowledged to test anything"

    with ServeProcess(db, tmp_path / "second.log") as server, server.client(token) as client:
        stored: set[str] = set()
        cursor = 0
        while True:
            page = client.get(f"/v1/changes?after={cursor}&limit=1000").json()
            stored |= {c["id"] for c in page["changes"] if c["kind"] == "incident"}
            cursor = page["cursor"]
            if not page["more"]:
                break
        lost = set(acked) - stored
        assert not lost, f"{len(lost)} acknowledged incidents were lost by kill -9"
        total = client.get("/v1/incidents?limit=1").json()["total"]
        assert total >= len(acked)


def test_kill_9_loses_no_acknowledged_write_on_sqlite(tmp_path: Path) -> None:
    _kill_during_writes(str(tmp_path / "durable.db"), tmp_path)


@pytest.mark.postgres
def test_kill_9_loses_no_acknowledged_write_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    _kill_during_writes(pg_url, tmp_path)


def test_database_url_forms() -> None:
    assert normalise_db_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_db_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_db_url("/tmp/x.db").startswith("sqlite:////")
    with pytest.raises(ValueError, match="unsupported database URL scheme 'mysql'"):
        normalise_db_url("mysql://u@h/db")


def test_unreachable_database_is_a_clear_error() -> None:
    from console.server.db import DatabaseUnavailableError

    with pytest.raises(DatabaseUnavailableError, match="cannot open the database"):
        Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_a_database_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    from console.server.db import DatabaseUnavailableError
    from console.server.settings import sqlite_url

    url = sqlite_url(tmp_path / "old.db")
    db = Database(url)
    with db.write_session() as session:
        session.execute(text("UPDATE server_meta SET value = '0' WHERE key = 'schema_version'"))
        session.commit()
    db.dispose()
    with pytest.raises(DatabaseUnavailableError, match="schema version 0"):
        Database(url)
