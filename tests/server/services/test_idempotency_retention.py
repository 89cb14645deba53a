"""Stored ``Idempotency-Key``s: kept long enough for a console back from days offline, then purged.

Real servers on loopback (the conftest's ``api_factory``) on a real SQLite file
and, where the test is about the database, on the real PostgreSQL too. The
test owns the server's clock and runs the timer's tick itself, as
``tests/server/test_escalation.py`` does.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, event, func, insert, select

from console.server.core.settings import Settings
from console.server.core.tables import IdempotencyRow
from console.server.jobs import escalation_timer as escalation
from console.server.main import context_of
from console.server.services import idempotency
from tests.helpers.servers import INCIDENT, Api, ApiFactory

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass
class Clock:
    """The server's clock, moved by the test."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desk:
    """A server whose clock the test sets and whose timer only runs when the test ticks it."""

    api: Api
    clock: Clock

    def log_incident(self, key: str, at: datetime, title: str = "VPN drops") -> httpx.Response:
        """``POST /v1/incidents`` with ``Idempotency-Key: key``, sent at ``at``."""
        self.clock.now = at
        return self.api.request(
            "POST",
            "/v1/incidents",
            role="dispatcher",
            json={**INCIDENT, "title": title},
            headers={"Idempotency-Key": key},
        )

    def tick(self, at: datetime) -> None:
        self.clock.now = at
        escalation.tick(context_of(self.api.server.app))

    def stored_keys(self) -> set[str]:
        with context_of(self.api.server.app).db.read_session() as session:
            return set(session.scalars(select(IdempotencyRow.key)))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None (a SQLite file in tmp_path) or a fresh schema on the test PostgreSQL."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_url")
    return url


def _desk(api_factory: ApiFactory, db_url: str | None, **settings: Any) -> Desk:
    api = api_factory(db_url, escalation_tick_s=0, **settings)
    clock = Clock()
    context_of(api.server.app).clock = clock
    return Desk(api, clock)


def test_the_default_retention_is_a_week() -> None:
    assert Settings().idempotency_retention_s == 7 * 24 * 3600


def test_an_expired_key_is_purged_and_a_recent_one_still_replays(
    api_factory: ApiFactory, db_url: str | None
) -> None:
    desk = _desk(api_factory, db_url)
    first = desk.log_incident("outbox-old", T0)
    recent = desk.log_incident("outbox-recent", T0 + 6 * DAY, title="Printer on fire")
    assert first.status_code == recent.status_code == 201

    desk.tick(T0 + 7 * DAY + timedelta(hours=1))

    assert desk.stored_keys() == {"outbox-recent"}
    # A console back after six days offline resends its queue: the first answer, no duplicate.
    back = T0 + 7 * DAY + timedelta(hours=2)
    replay = desk.log_incident("outbox-recent", back, title="Printer on fire")
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == recent.json()["id"]
    # Past the retention the key is forgotten: the same key is a new request.
    again = desk.log_incident("outbox-old", back)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]


def test_a_key_just_inside_the_retention_is_kept(api_factory: ApiFactory) -> None:
    desk = _desk(api_factory, None)
    desk.log_incident("outbox-1", T0)
    desk.tick(T0 + 7 * DAY - timedelta(minutes=1))
    assert desk.stored_keys() == {"outbox-1"}
    replay = desk.log_incident("outbox-1", T0 + 7 * DAY - timedelta(seconds=30))
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_the_timer_looks_for_expired_keys_once_an_hour(api_factory: ApiFactory) -> None:
    desk = _desk(api_factory, None)
    desk.log_incident("outbox-1", T0)
    later = T0 + 8 * DAY
    desk.tick(later)
    assert desk.stored_keys() == set()

    desk.log_incident("outbox-2", T0 + timedelta(minutes=5))  # sent by a console with a slow clock
    desk.tick(later + timedelta(minutes=30))
    assert desk.stored_keys() == {"outbox-2"}, "purged again within the hour"
    desk.tick(later + idempotency.PURGE_EVERY)
    assert desk.stored_keys() == set()


def test_a_retention_of_zero_keeps_keys_forever(api_factory: ApiFactory) -> None:
    desk = _desk(api_factory, None, idempotency_retention_s=0)
    desk.log_incident("outbox-1", T0)
    desk.tick(T0 + 365 * DAY)
    assert desk.stored_keys() == {"outbox-1"}


def test_a_failed_purge_does_not_stop_the_escalation_timer(
    api_factory: ApiFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The purge is made to fail by replacing it (a database error cannot be provoked
    on demand here); the tick must still return and leave the keys for the next run."""
    desk = _desk(api_factory, None)
    desk.log_incident("outbox-1", T0)

    def broken(**_kwargs: object) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(idempotency, "purge_expired", broken)
    desk.tick(T0 + 8 * DAY)
    monkeypatch.undo()
    desk.tick(T0 + 8 * DAY + timedelta(minutes=1))  # not counted as done: tried again
    assert desk.stored_keys() == set()


def _expired_keys(api: Api, count: int) -> None:
    rows = [
        {
            "client": "console-a",
            "key": f"old-{n:05d}",
            "request_hash": "0" * 64,
            "status_code": 201,
            "response": "{}",
            "headers": {},
            "created_at": T0 - 30 * DAY,
        }
        for n in range(count)
    ]
    with context_of(api.server.app).db.write_session() as session:
        session.execute(insert(IdempotencyRow), rows)
        session.commit()


def test_the_purge_lets_writers_in_between_its_batches(
    api_factory: ApiFactory, db_url: str | None
) -> None:
    """Writers keep being served while a large backlog of keys is purged: the
    purge commits in batches, and other writes commit between them."""
    desk = _desk(api_factory, db_url)
    db = context_of(desk.api.server.app).db
    _expired_keys(desk.api, 3000)
    purger = threading.get_ident()
    commits: list[str] = []  # "purge" or "write", in commit order

    @event.listens_for(db.engine, "commit")
    def _on_commit(_conn: Connection) -> None:
        commits.append("purge" if threading.get_ident() == purger else "write")

    stop = threading.Event()
    written: list[float] = []  # seconds each write took

    def keep_writing() -> None:
        with httpx.Client(base_url=desk.api.url, timeout=30) as client:
            n = 0
            while not stop.is_set():
                n += 1
                started = time.perf_counter()
                response = client.post(
                    "/v1/incidents",
                    json={**INCIDENT, "title": f"write {n}"},
                    headers={**desk.api.auth("dispatcher"), "Idempotency-Key": f"w-{n}"},
                )
                assert response.status_code == 201, response.text
                written.append(time.perf_counter() - started)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while not written and time.monotonic() < deadline:
            time.sleep(0.01)  # until the writer is under way
        purged = idempotency.purge_expired(db=db, before=T0 - DAY, batch_size=100)
    finally:
        stop.set()
        writer.join(timeout=30)
        event.remove(db.engine, "commit", _on_commit)

    assert purged == 3000
    purges = [i for i, who in enumerate(commits) if who == "purge"]
    assert len(purges) == 30, "one transaction per batch of 100"
    assert "write" in commits[purges[0] : purges[-1]], "no write got in while the purge ran"
    with db.read_session() as session:
        remaining = session.scalar(
            select(func.count())
            .select_from(IdempotencyRow)
            .where(IdempotencyRow.client == "console-a")
        )
    assert remaining == 0
    assert written
    assert max(written) < 5, "a write waited far longer than one batch"


def test_the_purge_reads_and_deletes_through_indexes_not_a_table_scan(
    api_factory: ApiFactory,
) -> None:
    """What the purge sends to SQLite, as SQLite plans it: no full scan of the key table,
    neither in the read that finds expired keys nor in the deletes under the writer lock."""
    api = api_factory()
    db = context_of(api.server.app).db
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "idempotency_keys" in statement and not statement.startswith("EXPLAIN"):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.write_session() as session:
            session.execute(
                insert(IdempotencyRow),
                [
                    {
                        "client": "c",
                        "key": f"k{n}",
                        "request_hash": "h",
                        "status_code": 201,
                        "response": "{}",
                        "headers": {},
                        "created_at": T0 - 30 * DAY,
                    }
                    for n in range(20)
                ],
            )
            session.commit()
        statements.clear()
        assert idempotency.purge_expired(db=db, before=T0 - DAY) == 20
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    kinds = {statement.split()[0] for statement, _ in statements}
    assert kinds == {"SELECT", "DELETE"}, statements
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            params = parameters[0] if isinstance(parameters, list) else parameters
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            details = " ".join(str(row[-1]) for row in plan)
            assert "USING" in details, (statement, details)
            assert "INDEX" in details, (statement, details)
            assert "SCAN idempotency_keys" not in details.replace("USING", "| USING"), details
