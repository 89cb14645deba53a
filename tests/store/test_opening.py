"""Opening the cache: creation, WAL, the schema history, newer files refused, damaged files."""

from __future__ import annotations

import hashlib
import os
import random
import re
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine

from console.store import Cache, CacheError, CacheTooNew, OutboxEntry, migrations
from console.store.codec import ts_text
from console.store.migrations import APPLICATION_ID, Migration
from console.store.opening import BUSY_TIMEOUT_S
from console.store.tables import Base
from tests.helpers.factories import cached_incident as make_incident


def pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as conn:
        value = conn.execute(f"PRAGMA {name}").fetchone()[0]
    conn.close()
    return value


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def filled_cache(path: Path, incidents: int = 10) -> None:
    """A real cache with incidents and a queued edit, closed (WAL folded in)."""
    with Cache.open(path) as cache:
        cache.upsert_incidents(make_incident(f"inc-{k}") for k in range(incidents))
        cache.enqueue(OutboxEntry("patch", "inc-0", {"state": "triaged"}, 1))
    assert not Path(f"{path}-wal").exists()


def schema(path: Path) -> dict[str, str | None]:
    """Every table and index, with its SQL normalised for whitespace."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    conn.close()
    return {
        name: None if sql is None else re.sub(r"\s+", " ", sql).replace("( ", "(")
        for name, sql in rows
    }


# ------------------------------------------------------------------ a good file


def test_a_new_cache_is_created_in_wal_mode_and_stamped(cache_path: Path) -> None:
    with Cache.open(cache_path) as cache:
        assert cache.notices == []
        assert cache.path == cache_path
    assert pragma(cache_path, "journal_mode") == "wal"
    assert pragma(cache_path, "user_version") == migrations.latest_version()
    assert pragma(cache_path, "application_id") == APPLICATION_ID


def test_an_empty_file_is_treated_as_a_new_cache(cache_path: Path) -> None:
    cache_path.parent.mkdir(parents=True)
    cache_path.write_bytes(b"")
    with Cache.open(cache_path) as cache:
        assert cache.notices == []
        cache.upsert_incidents([make_incident("a")])
    assert list(cache_path.parent.glob("*.corrupt-*")) == []


def test_reopening_keeps_everything(cache_path: Path) -> None:
    filled_cache(cache_path, incidents=25)
    with Cache.open(cache_path) as cache:
        assert cache.notices == []
        assert cache.incident_count() == 25
        assert len(cache.pending_outbox()) == 1


def test_running_every_step_gives_exactly_the_schema_the_tables_describe(
    tmp_path: Path,
) -> None:
    # The steps are frozen DDL; the table classes are what the code queries.
    # If they drift apart, a migrated file and the code disagree.
    migrated = tmp_path / "migrated.sqlite3"
    Cache.open(migrated).close()
    declared = tmp_path / "declared.sqlite3"
    engine = create_engine(f"sqlite:///{declared}")
    Base.metadata.create_all(engine)
    engine.dispose()
    assert schema(migrated) == schema(declared)


def test_the_history_must_be_numbered_without_gaps() -> None:
    migrations.check_history(migrations.MIGRATIONS)
    step = migrations.MIGRATIONS[0]
    with pytest.raises(RuntimeError, match="numbered"):
        migrations.check_history([step, Migration(3, "skips 2", step.apply)])


CURRENT = migrations.latest_version()
NEXT = CURRENT + 1


# ----------------------------------------------------------- older and newer


def add_step(monkeypatch: pytest.MonkeyPatch, apply: Callable[[Connection], None]) -> None:
    """Pretend this build has one more schema step (as the next release will)."""
    steps = [*migrations.MIGRATIONS, Migration(NEXT, "saved views", apply)]
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)


def test_an_older_cache_is_migrated_forward_keeping_its_data(
    cache_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filled_cache(cache_path)
    assert pragma(cache_path, "user_version") == CURRENT
    ran: list[int] = []

    def to_v2(conn: Connection) -> None:
        ran.append(NEXT)
        conn.exec_driver_sql("CREATE TABLE saved_views (id VARCHAR PRIMARY KEY, query TEXT)")
        conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES ('views', 'created')")

    add_step(monkeypatch, to_v2)
    with Cache.open(cache_path) as cache:
        assert ran == [NEXT]
        assert cache.notices == [f"The cache was updated from format {CURRENT} to {NEXT}."]
        assert cache.meta("views") == "created"
        assert cache.incident_count() == 10
        assert len(cache.pending_outbox()) == 1
    assert pragma(cache_path, "user_version") == NEXT

    with Cache.open(cache_path) as cache:
        assert cache.notices == []
    assert ran == [NEXT]  # a step runs once


def test_a_failing_step_leaves_the_cache_as_it_was(
    cache_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filled_cache(cache_path)

    def broken(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE saved_views (id VARCHAR PRIMARY KEY)")
        conn.exec_driver_sql("ALTER TABLE no_such_table ADD COLUMN x TEXT")

    add_step(monkeypatch, broken)
    with pytest.raises(CacheError, match="no_such_table"):
        Cache.open(cache_path)
    assert pragma(cache_path, "user_version") == CURRENT
    assert "saved_views" not in schema(cache_path)  # the whole step rolled back
    monkeypatch.undo()
    with Cache.open(cache_path) as cache:
        assert cache.incident_count() == 10


def test_a_cache_from_a_newer_console_is_refused_and_left_alone(
    cache_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filled_cache(cache_path)
    add_step(monkeypatch, lambda conn: None)
    Cache.open(cache_path).close()  # "the newer console" stamps the next version
    monkeypatch.undo()
    before = digest(cache_path)

    with pytest.raises(CacheTooNew) as caught:
        Cache.open(cache_path)

    message = str(caught.value)
    assert "newer NOC Console" in message
    assert "Upgrade" in message
    assert "--data-dir" in message
    assert "move the file aside" in message
    assert caught.value.found == NEXT
    assert caught.value.supported == CURRENT
    assert isinstance(caught.value, CacheError)
    assert digest(cache_path) == before
    assert list(cache_path.parent.glob("*.corrupt-*")) == []


# -------------------------------------------------------------- damaged files


def garbage(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(16384))


def plain_text(path: Path) -> None:
    path.write_text("incident export\nINC-000001,down\n")


def header_only(path: Path) -> None:
    filled_cache(path)
    path.write_bytes(path.read_bytes()[:60])


def truncated(path: Path) -> None:
    filled_cache(path, incidents=3000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 5])


def overwritten_pages(path: Path) -> None:
    filled_cache(path, incidents=3000)
    data = bytearray(path.read_bytes())
    page = 4096
    noise = random.Random(2)
    for number in range(2, len(data) // page, 3):  # every third page after the first
        data[number * page : (number + 1) * page] = noise.randbytes(page)
    path.write_bytes(bytes(data))


def another_programs_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE songs (title TEXT, artist TEXT)")
        conn.execute("INSERT INTO songs VALUES ('Blue Monday', 'New Order')")
    conn.close()


def missing_table(path: Path) -> None:
    filled_cache(path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE timeline")
    conn.close()


@pytest.mark.parametrize(
    "damage",
    [
        garbage,
        plain_text,
        header_only,
        truncated,
        overwritten_pages,
        another_programs_database,
        missing_table,
    ],
)
def test_a_damaged_file_is_moved_aside_and_a_fresh_cache_started(
    cache_path: Path, damage: Callable[[Path], None]
) -> None:
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    damage(cache_path)
    before = digest(cache_path)

    with Cache.open(cache_path) as cache:
        (notice,) = cache.notices
        assert cache.incident_count() == 0
        assert cache.pending_outbox() == []
        cache.upsert_incidents([make_incident("after")])  # the fresh cache works
        assert cache.incident("after") is not None

    (moved,) = cache_path.parent.glob("cache.sqlite3.corrupt-*")
    assert re.fullmatch(r"cache\.sqlite3\.corrupt-\d{8}T\d{6}Z", moved.name)
    assert digest(moved) == before  # moved as it was, for whoever wants to recover it
    assert str(moved) in notice
    assert "rebuilding from the backend" in notice
    assert "may still be in the moved file" in notice
    with Cache.open(cache_path) as again:
        assert again.notices == []
        assert again.incident("after") is not None


def test_the_wal_of_a_damaged_file_moves_with_it(cache_path: Path) -> None:
    cache_path.parent.mkdir(parents=True)
    garbage(cache_path)
    wal = Path(f"{cache_path}-wal")
    wal.write_bytes(b"stale write-ahead log of the damaged file")

    with Cache.open(cache_path) as cache:
        cache.upsert_incidents([make_incident("fresh")])
        assert cache.incident_count() == 1

    (moved,) = cache_path.parent.glob("cache.sqlite3.corrupt-*[!l]")
    assert Path(f"{moved}-wal").read_bytes() == b"stale write-ahead log of the damaged file"


def test_a_second_damage_in_the_same_second_gets_its_own_name(cache_path: Path) -> None:
    cache_path.parent.mkdir(parents=True)
    for _ in range(2):
        garbage(cache_path)
        Cache.open(cache_path).close()
    assert len(list(cache_path.parent.glob("cache.sqlite3.corrupt-*"))) == 2


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_an_unreadable_file_is_moved_aside(cache_path: Path) -> None:
    filled_cache(cache_path)
    cache_path.chmod(0)
    with Cache.open(cache_path) as cache:
        assert "cannot be read" in cache.notices[0]


def test_a_folder_in_place_of_the_cache_file_is_a_clear_error(cache_path: Path) -> None:
    cache_path.mkdir(parents=True)
    with pytest.raises(CacheError, match=r"is a folder.*--data-dir"):
        Cache.open(cache_path)


def test_a_data_folder_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(CacheError, match="--data-dir"):
        Cache.open(blocker / "cache.sqlite3")


def test_the_cache_opens_while_another_console_is_writing_to_it(cache_path: Path) -> None:
    filled_cache(cache_path)
    writer = sqlite3.connect(cache_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long sync would
        writer.execute("DELETE FROM incidents")
        started = time.monotonic()
        with Cache.open(cache_path) as cache:
            assert cache.incident_count() == 10  # the other's uncommitted write is not seen
        assert time.monotonic() - started < BUSY_TIMEOUT_S / 2  # did not wait for the lock
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def version_1_cache(path: Path) -> None:
    """A cache file exactly as version 1 of the console left it, with one queued edit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        for statement in migrations._V1_SCHEMA:
            db.execute(statement)
        db.execute(
            "INSERT INTO outbox (operation, incident_id, payload, base_version, "
            "idempotency_key, created_at, status, attempts, last_error) "
            "VALUES ('patch', 'inc-0', '{\"state\": \"triaged\"}', 1, 'key-1', ?, "
            "'pending', 0, NULL)",
            (ts_text(datetime.now(UTC)),),
        )
        db.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
        db.execute("PRAGMA user_version = 1")
    db.close()


def test_a_version_1_cache_gains_the_engage_operation_keeping_its_outbox(
    cache_path: Path,
) -> None:
    version_1_cache(cache_path)
    with Cache.open(cache_path) as cache:
        before = cache.pending_outbox()
        assert len(before) == 1
        cache.enqueue(
            OutboxEntry("engage", "inc-1", {"tiers": [2], "reason": "r"}, base_version=None)
        )
        after = cache.pending_outbox()
    assert [r.id for r in after[:1]] == [before[0].id]
    assert after[1].operation == "engage"
    assert after[1].id > before[0].id
    assert pragma(cache_path, "user_version") == migrations.latest_version()
    # And the send time (version 3): kept a week after sending, not after queueing.
    with Cache.open(cache_path) as cache:
        cache.mark_outbox_sent(before[0].id)
    with sqlite3.connect(cache_path) as db:
        (sent_at,) = db.execute(
            "SELECT sent_at FROM outbox WHERE id = ?", (before[0].id,)
        ).fetchone()
    db.close()
    assert sent_at is not None
