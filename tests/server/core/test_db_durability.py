"""Durability: a kill -9 of a real server process loses no acknowledged write."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from console.server.core.db import Database
from console.server.core.settings import normalise_db_url
from tests.helpers.serve import ServeProcess, create_token
from tests.helpers.servers import INCIDENT, Api

pytestmark = pytest.mark.slow


def test_sqlite_runs_in_wal_with_full_sync(api: Api) -> None:
    with api.server.app.state.context.db.read_session() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL


KILLS = 3
WRITERS = 8
ACKED_PER_LIFE = 80


def _kill_during_writes(db: str, tmp_path: Path) -> None:
    """8 writers, the server killed with SIGKILL 3 times mid-write: 0 lost, 0 doubled.

    Each create carries an Idempotency-Key. A write whose answer was lost when
    the server died is "in doubt": the writer sends it again, with the same key,
    to the next server. At the end every acknowledged incident must be in the
    feed, and every key must have made exactly one incident.
    """
    token = create_token(db, "dispatcher", f"writer-{time.monotonic_ns()}")
    acked: dict[str, str] = {}  # key -> incident id
    in_doubt: list[tuple[str, str]] = []  # (key, title)
    lock = threading.Lock()

    def live(log: Path) -> None:
        stop = threading.Event()
        before = len(acked)
        with ServeProcess(db, log) as server:

            def write(index: int) -> None:
                with server.client(token) as client:
                    with lock:
                        mine = [
                            in_doubt.pop() for _ in range(len(in_doubt) // WRITERS + 1) if in_doubt
                        ]
                    n = 0
                    while not stop.is_set():
                        if mine:
                            key, title = mine.pop()
                        else:
                            n += 1
                            key = f"{log.stem}-w{index}-{n}"
                            title = key
                        try:
                            response = client.post(
                                "/v1/incidents",
                                json={**INCIDENT, "title": title},
                                headers={"Idempotency-Key": key},
                            )
                        except httpx.HTTPError:
                            with lock:  # the server died mid-request: not acknowledged
                                in_doubt.append((key, title))
                            return
                        assert response.status_code == 201, response.text
                        with lock:
                            acked[key] = response.json()["id"]

            writers = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
            for writer in writers:
                writer.start()
            deadline = time.monotonic() + 30
            while len(acked) - before < ACKED_PER_LIFE and time.monotonic() < deadline:
                time.sleep(0.005)
            server.stop(signal.SIGKILL)  # mid-write: the writers are still sending
            stop.set()
            for writer in writers:
                writer.join(10)
        assert len(acked) - before >= ACKED_PER_LIFE, "too few writes were acknowledged"

    for life in range(KILLS):
        live(tmp_path / f"life-{life}.log")

    with ServeProcess(db, tmp_path / "after.log") as server, server.client(token) as client:
        # The writes in doubt are sent again with their keys: each makes its
        # incident once, whether or not the killed server had committed it.
        for key, title in list(in_doubt):
            response = client.post(
                "/v1/incidents", json={**INCIDENT, "title": title}, headers={"Idempotency-Key": key}
            )
            assert response.status_code == 201, response.text
            acked[key] = response.json()["id"]
        stored: dict[str, str] = {}
        titles: list[str] = []
        cursor = 0
        while True:
            page = client.get(f"/v1/changes?after={cursor}&limit=1000").json()
            for change in page["changes"]:
                if change["kind"] == "incident":
                    stored[change["id"]] = change["data"]["title"]
                    titles.append(change["data"]["title"])
            cursor = page["cursor"]
            if not page["more"]:
                break
        lost = set(acked.values()) - set(stored)
        assert not lost, f"{len(lost)} acknowledged incidents were lost by kill -9"
        doubled = {t for t in titles if titles.count(t) > 1}
        assert not doubled, f"incidents made twice: {sorted(doubled)[:5]}"
        assert sorted(stored.values()) == sorted(acked), "an incident without a key, or missing"
        total = client.get("/v1/incidents?limit=1").json()["total"]
        assert total == len(acked)


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
    from console.server.core.db import DatabaseUnavailableError

    with pytest.raises(DatabaseUnavailableError, match="cannot open the database"):
        Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_a_database_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    from console.server.core.db import DatabaseUnavailableError
    from console.server.core.settings import sqlite_url

    url = sqlite_url(tmp_path / "old.db")
    db = Database(url)
    with db.write_session() as session:
        session.execute(text("UPDATE server_meta SET value = '0' WHERE key = 'schema_version'"))
        session.commit()
    db.dispose()
    with pytest.raises(DatabaseUnavailableError, match="schema version 0"):
        Database(url)
