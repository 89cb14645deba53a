"""The database: engines and sessions for SQLite and PostgreSQL.

Every write transaction is serialised, on both databases, from its first
statement to its commit:

- SQLite: write sessions open with ``BEGIN IMMEDIATE``, which takes the write
  lock at once, so a read-then-write (the next incident number, the
  ``If-Match`` version check, an idempotency key lookup) cannot interleave with
  another writer. Within one process, writers first queue on a Python lock, so
  they hand over at once instead of sleeping in SQLite's busy handler.
  Readers use a plain ``BEGIN`` and, in WAL mode, never block.
- PostgreSQL: write sessions take a transaction-scoped advisory lock
  (``pg_advisory_xact_lock``) as their first statement. PostgreSQL releases it
  only after the commit is visible, so change-log sequence numbers are handed
  out and committed in the same order: a reader that has seen seq N can never
  later find a newly committed row below N (see ``changes.py``).

Holding one lock per write is the simple, deadlock-free choice; the incident
API's writes are short, and the bench reports what it costs.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Executable, create_engine, event, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from console.config import paths
from console.server.core import migrations
from console.server.core.tables import SCHEMA_VERSION, Base, MetaRow

log = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]

# Execution option that marks connections of write sessions.
_WRITE = "noc_write"
# Key in a pooled SQLite connection's info while it holds the writer lock.
_HOLDS_WRITER_LOCK = "noc_holds_writer_lock"
_WRITER_WAIT_S = 30.0
# Key in ``Session.info`` where ``changes.append`` leaves the newest seq of the
# transaction, for the after-commit wake-up.
FEED_SEQ_KEY = "noc_feed_seq"
# Key in ``Session.info`` for what one request leaves for itself later in the
# same transaction (the wire JSON of what it wrote). The group writer gives each
# request of a batch a fresh one, so nothing of a rolled-back request is reused.
SCRATCH_KEY = "noc_request_scratch"
# Key in ``Session.info``: the next incident number, known for the rest of the
# transaction once one create has read it (the writer lock is held throughout).
NEXT_NUMBER_KEY = "noc_next_number"
# Key in ``Session.info``: {token secret: principal or None} as read in this
# transaction, so a batch of requests with one token reads it once.
TOKENS_KEY = "noc_tokens_read"
# Key in ``Session.info``: {name: value} read once per write transaction and
# shared by the requests of a batch (reference data no writer of the batch
# changes: the escalation directory, the webhook subscribers).
READ_ONCE_KEY = "noc_read_once"
# Key in ``Session.info``: ((statement, parameters), ...) to insert just before the
# transaction commits, one ``executemany`` per statement (see ``defer_insert``).
DEFERRED_KEY = "noc_deferred_inserts"
# Key in ``Session.info``: {(client, key): stored answer or None} of the
# ``Idempotency-Key``s this transaction has looked up or stored (``idempotency.py``).
IDEMPOTENCY_KEY = "noc_idempotency_keys"
# Key in ``Session.info`` of every session: the internal (and customer) update
# cadence of major incidents, {severity number: minutes} (``Settings.update_cadence_min``),
# put there by ``create_app`` with ``Database.share_with_sessions``.
UPDATE_CADENCE_KEY = "noc_update_cadence"
# What ``Session.info`` holds for one transaction only: dropped at its end.
_TRANSACTION_KEYS = (
    FEED_SEQ_KEY,
    SCRATCH_KEY,
    NEXT_NUMBER_KEY,
    TOKENS_KEY,
    READ_ONCE_KEY,
    DEFERRED_KEY,
    IDEMPOTENCY_KEY,
)


def defer_insert(session: Session, statement: Executable, parameters: dict[str, Any]) -> None:
    """Insert ``parameters`` with ``statement`` when the transaction commits.

    The rows deferred in one transaction go in with one ``executemany`` per
    statement just before ``COMMIT``, so a batch of requests costs one statement
    (one round trip on PostgreSQL) instead of one each. For rows nothing in the
    transaction reads back from the database. A savepoint rolled back drops the
    rows deferred inside it (``Session.info`` is put back as it was, and this
    replaces the tuple rather than changing it in place).
    """
    pending: tuple[tuple[Executable, dict[str, Any]], ...] = session.info.get(DEFERRED_KEY, ())
    session.info[DEFERRED_KEY] = (*pending, (statement, parameters))


class DatabaseUnavailableError(RuntimeError):
    """The database cannot be opened; the message says which one and why."""


class Database:
    """Engines, session factories and the serialisation rules for one database URL.

    ``read_session()`` is for GETs; ``write_session()`` for anything that writes
    (it is serialised against every other writer, see the module docstring).
    """

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = make_url(url)
        backend = self.url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise DatabaseUnavailableError(
                f"unsupported database {backend!r}; use SQLite or PostgreSQL"
            )
        self.dialect: Dialect = "sqlite" if backend == "sqlite" else "postgresql"
        self._commit_listeners: list[Callable[[int], None]] = []
        self.schema = "main"
        if self.dialect == "sqlite":
            self.engine = self._sqlite_engine(pool_size)
        else:
            self.engine = create_engine(
                self.url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
        self._install_begin_hook()
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(self._write_engine, expire_on_commit=False)
        event.listen(self._writes, "before_commit", self._insert_deferred)
        if self.dialect == "postgresql":
            event.listen(self._writes, "before_commit", self._notify_before_commit)
        event.listen(self._writes, "after_commit", self._after_commit)
        event.listen(self._writes, "after_soft_rollback", self._after_rollback)
        try:
            self._prepare()
        except DatabaseUnavailableError:
            self.engine.dispose()
            raise
        except Exception as exc:
            self.engine.dispose()
            where = self.url.render_as_string(hide_password=True)
            raise DatabaseUnavailableError(f"cannot open the database {where}: {exc}") from exc

    # -- engines ---------------------------------------------------------

    def _sqlite_engine(self, pool_size: int) -> Engine:
        database = self.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            paths.private_folder(path.parent)
            paths.private_database(path)
        engine = create_engine(
            self.url,
            # Requests run on a thread pool; each connection is used by one
            # thread at a time, handed over by the pool.
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # We issue BEGIN ourselves (IMMEDIATE for writers), so pysqlite
            # must not open transactions behind our back.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            # WAL: readers never block the writer. synchronous=FULL: a commit
            # is on disk before it is acknowledged, so kill -9 (or a power cut
            # with an honest disk) loses no acknowledged write.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine

    def _install_begin_hook(self) -> None:
        sqlite = self.dialect == "sqlite"
        # SQLite: writers of this process queue on a Python lock before BEGIN
        # IMMEDIATE. SQLite's own busy handler would also serialise them, but
        # by sleeping and retrying, which wastes most of the time under
        # contention; the lock hands over at once. (A second process on the
        # same file still waits in SQLite's busy handler.)
        writer_lock = threading.Lock()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn: Connection) -> None:
            writing = bool(conn.get_execution_options().get(_WRITE))
            if sqlite:
                if writing:
                    if not writer_lock.acquire(timeout=_WRITER_WAIT_S):
                        raise PoolTimeoutError(
                            f"no write slot within {_WRITER_WAIT_S:g} s; the database is busy"
                        )
                    conn.info[_HOLDS_WRITER_LOCK] = True
                conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
            elif writing:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({self.feed_lock_key})")

        if sqlite:
            # A session hands its connection back to the pool as soon as it
            # commits or rolls back, and always when it closes: the one place
            # the lock is certain to be released, exactly once.
            @event.listens_for(self.engine, "checkin")
            def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
                if record is not None and record.info.pop(_HOLDS_WRITER_LOCK, False):
                    writer_lock.release()

    def _prepare(self) -> None:
        """Create the tables (once, even with several servers starting together)."""
        if self.dialect == "postgresql":
            with self.engine.connect() as conn:
                self.schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({self._key('ddl')})")
            Base.metadata.create_all(conn)
            # Indexes added to tables that already existed (create_all only makes
            # missing tables): the metrics' indexes on an older database.
            for table in Base.metadata.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            stored = conn.execute(
                select(MetaRow.value).where(MetaRow.key == "schema_version")
            ).scalar_one_or_none()
            if stored is None:
                conn.execute(
                    insert(MetaRow).values(key="schema_version", value=str(SCHEMA_VERSION))
                )
            elif stored.isdigit() and 1 <= int(stored) < SCHEMA_VERSION:
                migrations.upgrade(conn, int(stored), SCHEMA_VERSION)
            elif stored != str(SCHEMA_VERSION):
                raise DatabaseUnavailableError(
                    f"the database has schema version {stored}, this server needs "
                    f"{SCHEMA_VERSION}; use a server of the matching version or a new database"
                )

    def _key(self, purpose: str) -> int:
        # Advisory-lock keys and the NOTIFY channel are per schema, so test runs
        # (or tenants) in separate schemas of one database never contend.
        return zlib.crc32(f"noc-console:{purpose}:{self.schema}".encode())

    @property
    def feed_lock_key(self) -> int:
        """The advisory-lock key that serialises writers (PostgreSQL)."""
        return self._key("feed")

    @property
    def notify_channel(self) -> str:
        """The LISTEN/NOTIFY channel that carries new seqs between server processes."""
        return f"noc_changes_{self._key('notify'):08x}"

    def libpq_conninfo(self) -> str:
        """The URL for a raw psycopg connection (the LISTEN connection)."""
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    # -- sessions --------------------------------------------------------

    def share_with_sessions(self, key: str, value: object) -> None:
        """Put ``value`` under ``key`` in the ``Session.info`` of every session opened from now on.

        For the site's policy that reads and writes both apply and that the
        server's settings, not the request, decide (the update cadence).
        """
        for factory in (self._reads, self._writes):
            factory.kw.setdefault("info", {})[key] = value

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading; it never blocks or is blocked by writers."""
        with self._reads() as session:
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session for writing, serialised against every other writer.

        The caller commits; leaving the block without a commit rolls back.
        """
        with self._writes() as session:
            yield session

    def new_write_session(self) -> Session:
        """A write session the caller closes (for FastAPI dependencies)."""
        return self._writes()

    def new_read_session(self) -> Session:
        """A read session the caller closes (for FastAPI dependencies)."""
        return self._reads()

    # -- commit notifications ---------------------------------------------

    def on_commit(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(seq)`` after each write commit that appended to the change log."""
        self._commit_listeners.append(listener)

    def _insert_deferred(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a SAVEPOINT released (a request of a batch), not the commit
        pending = session.info.pop(DEFERRED_KEY, ())
        if not pending:
            return
        by_statement: dict[Executable, list[dict[str, Any]]] = {}
        for statement, parameters in pending:
            by_statement.setdefault(statement, []).append(parameters)
        connection = session.connection()
        for statement, rows in by_statement.items():
            connection.execute(statement, rows)

    def _notify_before_commit(self, session: Session) -> None:
        # One NOTIFY per transaction, with its newest seq: PostgreSQL delivers
        # it to the other server processes only if the commit succeeds.
        if session.in_nested_transaction():
            return  # a SAVEPOINT released (a request of a batch), not the commit
        seq = session.info.get(FEED_SEQ_KEY)
        if seq is not None:
            session.connection().execute(
                text("SELECT pg_notify(:channel, :seq)"),
                {"channel": self.notify_channel, "seq": str(seq)},
            )

    def _after_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a SAVEPOINT released (a request of a batch), not the commit
        seq = session.info.pop(FEED_SEQ_KEY, None)
        for key in _TRANSACTION_KEYS:
            session.info.pop(key, None)
        if seq is None:
            return
        for listener in self._commit_listeners:
            try:
                listener(int(seq))
            except Exception:  # a wake-up must never turn a committed write into an error
                log.exception("change listener failed")

    def _after_rollback(self, session: Session, previous: Any) -> None:
        if previous.nested:
            return  # back to a SAVEPOINT: the group writer restores what it noted
        for key in _TRANSACTION_KEYS:
            session.info.pop(key, None)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
