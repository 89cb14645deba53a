"""Opening a cache file: the engine and its pragmas, checks, migration, and recovery.

:func:`open_engine` either returns an engine on a checked, up-to-date cache,
or raises :class:`~console.store.errors.CacheError` (or ``CacheTooNew``) with a
message for the operator. A damaged or foreign file is moved aside and
replaced by a fresh cache rather than stopping the console: the cache only
mirrors the backend, and the notice tells the operator where the old file went.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from console.config import paths
from console.store import migrations
from console.store.errors import CacheError, CacheTooNew

# How long a statement waits for another connection's write lock before failing.
BUSY_TIMEOUT_S = 10.0

# An execution option marking connections that write (see _on_begin).
WRITE_OPTION = "noc_console_write"

_SQLITE_MAGIC = b"SQLite format 3\x00"

# SQLite result codes that mean the file itself is damaged or not a database.
_DAMAGED_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})

# Files SQLite keeps beside the database; they belong to it.
_SIDECARS = ("-wal", "-shm", "-journal")


class _UnusableFileError(Exception):
    """The file is damaged or not a NOC Console cache; the message says how."""


def sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    """The driver error behind ``exc`` (SQLAlchemy wraps it as ``.orig``)."""
    if isinstance(exc, DBAPIError) and isinstance(exc.orig, sqlite3.Error):
        return exc.orig
    if isinstance(exc, sqlite3.Error):
        return exc
    return None


def describe(exc: BaseException) -> str:
    """SQLite's own words for an error, without SQLAlchemy's statement dump."""
    err = sqlite_error(exc)
    return str(err if err is not None else exc)


def _is_damage(exc: BaseException) -> bool:
    code = getattr(sqlite_error(exc), "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in _DAMAGED_CODES


def make_engine(path: Path) -> Engine:
    """An engine of its own for one cache file, with the pragmas every connection needs."""
    engine = create_engine(
        URL.create("sqlite+pysqlite", database=str(path)),
        connect_args={"timeout": BUSY_TIMEOUT_S},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # SQLAlchemy emits BEGIN itself (_on_begin), so that reads start a
        # snapshot and writes take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # In WAL mode, NORMAL syncs at checkpoints, not at every commit: a
        # committed transaction (an outbox entry included) survives the app
        # crashing or being killed, and the file cannot be corrupted. Only an
        # OS crash or power loss can roll back the last few commits, which is
        # fine for a cache that rebuilds from the backend.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # BEGIN IMMEDIATE for writes: a deferred transaction that reads first
        # and writes later fails with SQLITE_BUSY when another connection
        # wrote in between; taking the lock at BEGIN makes it wait instead.
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def open_engine(path: Path) -> tuple[Engine, list[str]]:
    """An engine on a checked, migrated cache at ``path``, and notices for the operator."""
    try:
        paths.private_folder(path.parent)
    except OSError as exc:
        raise CacheError(
            f"cannot create the folder for the cache {path.parent} "
            f"({exc.strerror or exc}); start with --data-dir pointing at a writable folder"
        ) from exc
    if path.is_dir():
        raise CacheError(
            f"the cache path {path} is a folder; remove it or start with --data-dir "
            "pointing at another folder"
        )
    notices: list[str] = []
    try:
        return _open_file(path, notices), notices
    except _UnusableFileError as problem:
        moved = _move_aside(path)
        notices.append(
            f"The cache {path} could not be used because {problem}. It was moved to "
            f"{moved} and a fresh cache was started, rebuilding from the backend. "
            "Edits that had not been sent yet may still be in the moved file."
        )
    try:
        return _open_file(path, notices), notices
    except _UnusableFileError as problem:
        raise CacheError(
            f"a fresh cache at {path} could not be created either ({problem}); "
            "start with --data-dir pointing at another folder"
        ) from problem


def _open_file(path: Path, notices: list[str]) -> Engine:
    try:
        # 0600 on POSIX, with its -wal and -shm (see console/config/paths.py).
        paths.private_database(path)
    except OSError as exc:
        raise CacheError(
            f"cannot create the cache {path} ({exc.strerror or exc}); start with --data-dir "
            "pointing at a writable folder"
        ) from exc
    problem = _header_problem(path)
    if problem:
        raise _UnusableFileError(problem)
    engine = make_engine(path)
    try:
        try:
            _prepare(engine, path, notices)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            if _is_damage(exc):
                raise _UnusableFileError(f"SQLite reports it damaged ({describe(exc)})") from exc
            raise CacheError(
                f"cannot open the cache {path}: {describe(exc)}. If another NOC Console "
                "is using this data folder, close it; otherwise start with --data-dir "
                "pointing at another folder"
            ) from exc
    except BaseException:
        # Close every connection before the caller moves the file aside.
        engine.dispose()
        raise
    return engine


def _header_problem(path: Path) -> str | None:
    """Why the file cannot be our database, judged from its first bytes (None: looks fine)."""
    try:
        with path.open("rb") as file:
            head = file.read(100)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if not head:
        return None  # an empty file is a new, empty database to SQLite
    if not head.startswith(_SQLITE_MAGIC):
        return "it is not a SQLite database"
    if len(head) < 100:
        return "it is truncated (shorter than a SQLite header)"
    return None


def _prepare(engine: Engine, path: Path, notices: list[str]) -> None:
    """Check, migrate and validate the file; raises _UnusableFileError for a damaged one."""
    supported = migrations.latest_version()
    with engine.connect() as conn:
        application_id = migrations.stored_application_id(conn)
        version = migrations.stored_version(conn)
        has_tables = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).scalar_one()
    fresh = not has_tables
    if not fresh:
        if application_id != migrations.APPLICATION_ID:
            raise _UnusableFileError(
                "it is not a NOC Console cache (it holds another program's data)"
            )
        if version == 0:
            raise _UnusableFileError("its format version is missing")
        if version > supported:
            raise CacheTooNew(path, version, supported)
        with engine.connect() as conn:
            # quick_check reads every page (well under 0.1 s for 100k
            # incidents) and finds the damage a truncated or overwritten file
            # has, before a sync trips over it half-way.
            verdict = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check(5)")]
        if verdict != ["ok"]:
            lines = [line for row in verdict for line in row.splitlines()]
            details = [line for line in lines if not line.startswith("***")]
            raise _UnusableFileError(
                "SQLite's integrity check found damage (" + "; ".join(details[:3]) + ")"
            )
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # Persistent in the file; must run outside a transaction.
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
        cursor.close()
    finally:
        raw.close()
    if mode is None or str(mode[0]).lower() != "wal":
        notices.append(
            f"The cache folder {path.parent} does not support SQLite's WAL mode "
            "(a network drive?); the console works, but the screen may pause while "
            "the sync writes. A local --data-dir avoids this."
        )
    ran: list[migrations.Migration] = []
    if version < supported or fresh:
        # Under the write lock, so two consoles opening one old file do not
        # both migrate it; upgrade() re-reads the version inside.
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
            ran = migrations.upgrade(conn)
    with engine.connect() as conn:
        missing = migrations.missing_schema(conn)
    if missing:
        raise _UnusableFileError("it lacks " + ", ".join(missing))
    if ran and not fresh:
        notices.append(
            f"The cache was updated from format {ran[0].version - 1} to {ran[-1].version}."
        )


def _move_aside(path: Path) -> Path:
    """Rename a damaged cache (and its WAL/journal files) to ``<name>.corrupt-<UTC time>``.

    The sidecar files move with it under matching names: left behind, a stale
    WAL would be replayed into the fresh cache, and kept together the moved
    set still opens in the ``sqlite3`` shell for anyone recovering unsent edits.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    attempt = 1
    while any(Path(f"{target}{suffix}").exists() for suffix in ("", *_SIDECARS)):
        attempt += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{attempt}")
    try:
        os.replace(path, target)
        for suffix in _SIDECARS:
            sidecar = Path(f"{path}{suffix}")
            if sidecar.exists():
                os.replace(sidecar, Path(f"{target}{suffix}"))
    except OSError as exc:
        raise CacheError(
            f"the cache {path} is damaged and could not be moved aside "
            f"({exc.strerror or exc}); move it away by hand, or start with --data-dir "
            "pointing at another folder"
        ) from exc
    return target
