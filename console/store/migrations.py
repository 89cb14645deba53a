"""The cache's schema history, as an ordered list of steps.

``PRAGMA user_version`` holds the version a file is at (0: a brand-new, empty
file) and ``PRAGMA application_id`` marks the file as a NOC Console cache.
Opening a file runs, in one transaction, every step newer than its version,
then stamps the last step's version; a file newer than the last step is
refused (:class:`~console.store.errors.CacheTooNew`).

To change the schema: append a step with the next version whose ``apply``
issues the DDL (and any data fix-up) from the previous version, and change
:mod:`console.store.tables` to match. Never edit a released step: files in the
field are at that step's shape. Each step's DDL is frozen text rather than
``metadata.create_all()``, because the table classes always describe the
*latest* shape; ``tests/store/test_opening.py`` checks that running every
step gives exactly the schema the table classes describe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from console.store.codec import MARKING_KINDS_SQL, MARKS_SQL, metric_sql
from console.store.tables import Base

# "NOCC" in ASCII: tells our cache apart from any other SQLite file.
APPLICATION_ID = 0x4E4F4343


@dataclass(frozen=True)
class Migration:
    """One step of the schema history: from ``version - 1`` to ``version``."""

    version: int
    description: str
    apply: Callable[[Connection], None]


_V1_SCHEMA = (
    """CREATE TABLE incidents (
        id VARCHAR NOT NULL,
        number VARCHAR NOT NULL,
        title TEXT NOT NULL,
        service VARCHAR NOT NULL,
        impact VARCHAR NOT NULL,
        urgency VARCHAR NOT NULL,
        severity INTEGER NOT NULL,
        state VARCHAR NOT NULL,
        opened_at VARCHAR NOT NULL,
        updated_at VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        description TEXT NOT NULL,
        category VARCHAR,
        subcategory VARCHAR,
        assignee VARCHAR,
        assignment_group VARCHAR,
        reporter VARCHAR,
        source VARCHAR NOT NULL,
        major INTEGER NOT NULL,
        hold_reason VARCHAR,
        holds TEXT NOT NULL,
        acknowledged_at VARCHAR,
        resolved_at VARCHAR,
        closed_at VARCHAR,
        response_due VARCHAR,
        resolution_due VARCHAR,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_incidents_service ON incidents (service)",
    "CREATE INDEX ix_incidents_severity ON incidents (severity)",
    "CREATE INDEX ix_incidents_state ON incidents (state)",
    """CREATE TABLE timeline (
        id VARCHAR NOT NULL,
        incident_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        at VARCHAR NOT NULL,
        author VARCHAR NOT NULL,
        body TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_timeline_incident_at ON timeline (incident_id, at)",
    """CREATE TABLE reference (
        kind VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    )""",
    """CREATE TABLE sync_state (
        backend VARCHAR NOT NULL,
        cursor INTEGER NOT NULL,
        last_synced_at VARCHAR,
        PRIMARY KEY (backend)
    )""",
    """CREATE TABLE outbox (
        id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        operation VARCHAR NOT NULL,
        incident_id VARCHAR NOT NULL,
        payload TEXT NOT NULL,
        base_version INTEGER,
        idempotency_key VARCHAR NOT NULL,
        created_at VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        CONSTRAINT ck_outbox_operation CHECK (operation IN ('create', 'patch', 'timeline')),
        CONSTRAINT ck_outbox_status CHECK (status IN ('pending', 'sent', 'rejected', 'conflict')),
        UNIQUE (idempotency_key)
    )""",
    "CREATE INDEX ix_outbox_status_id ON outbox (status, id)",
    """CREATE TABLE meta (
        "key" VARCHAR NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY ("key")
    )""",
)


def _v1_initial_schema(conn: Connection) -> None:
    for statement in _V1_SCHEMA:
        conn.exec_driver_sql(statement)


_V2_OUTBOX = """CREATE TABLE outbox (
        id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        operation VARCHAR NOT NULL,
        incident_id VARCHAR NOT NULL,
        payload TEXT NOT NULL,
        base_version INTEGER,
        idempotency_key VARCHAR NOT NULL,
        created_at VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        CONSTRAINT ck_outbox_operation
            CHECK (operation IN ('create', 'patch', 'timeline', 'engage')),
        CONSTRAINT ck_outbox_status CHECK (status IN ('pending', 'sent', 'rejected', 'conflict')),
        UNIQUE (idempotency_key)
    )"""

_OUTBOX_COLUMNS = (
    "id, operation, incident_id, payload, base_version, idempotency_key, "
    "created_at, status, attempts, last_error"
)


def _v2_outbox_engage(conn: Connection) -> None:
    """Allow the ``engage`` operation: SQLite cannot alter a CHECK, so rebuild the table.

    Rows keep their ids, and ``sqlite_sequence`` keeps the highest id handed
    out, so queue order and never-reused ids survive the copy.
    """
    conn.exec_driver_sql("ALTER TABLE outbox RENAME TO outbox_v1")
    conn.exec_driver_sql("DROP INDEX ix_outbox_status_id")
    conn.exec_driver_sql(_V2_OUTBOX)
    conn.exec_driver_sql(
        f"INSERT INTO outbox ({_OUTBOX_COLUMNS}) SELECT {_OUTBOX_COLUMNS} FROM outbox_v1"
    )
    conn.exec_driver_sql(
        "UPDATE sqlite_sequence SET seq = MAX(seq, "
        "(SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'outbox_v1')) "
        "WHERE name = 'outbox'"
    )
    conn.exec_driver_sql("DROP TABLE outbox_v1")
    conn.exec_driver_sql("CREATE INDEX ix_outbox_status_id ON outbox (status, id)")


def _v3_outbox_sent_at(conn: Connection) -> None:
    """Record when an entry was sent, so sent entries are kept a week after sending.

    Entries sent before this step have none; their age counts from when they
    were queued, as before.
    """
    conn.exec_driver_sql("ALTER TABLE outbox ADD COLUMN sent_at VARCHAR")


def _v4_incident_alert(conn: Connection) -> None:
    """Keep what monitoring said about incidents alert intake opened (labels, repeats).

    Rows cached before this step have none. Monitoring incidents among them are
    fetched again: their cached version drops to 1 (unless an edit of the
    operator's waits in the outbox, whose base version must stay) and the sync
    cursor goes back to the start, so the next sync re-reads the feed and the
    backend's versions, alert facts included, replace them. Nothing else
    changes: upserts of versions already held are ignored.
    """
    conn.exec_driver_sql("ALTER TABLE incidents ADD COLUMN alert TEXT")
    conn.exec_driver_sql(
        "UPDATE incidents SET version = 1 WHERE source = 'monitoring' AND id NOT IN "
        "(SELECT incident_id FROM outbox WHERE status IN ('pending', 'conflict'))"
    )
    conn.exec_driver_sql(
        "UPDATE sync_state SET cursor = 0 "
        "WHERE EXISTS (SELECT 1 FROM incidents WHERE source = 'monitoring')"
    )


# -- #19 (major incidents): its own step; the lead renumbers it at merge ------

_V5_OUTBOX = _V2_OUTBOX.replace(
    "'timeline', 'engage')", "'timeline', 'engage', 'status_update')"
).replace("last_error TEXT,", "last_error TEXT,\n        sent_at VARCHAR,")
_OUTBOX_COLUMNS_V3 = f"{_OUTBOX_COLUMNS}, sent_at"


def _v5_outbox_status_update(conn: Connection) -> None:
    """Allow the ``status_update`` operation (a major incident's published update).

    Rebuilt like step 2 (SQLite cannot alter a CHECK): ids, queue order and
    ``sqlite_sequence`` survive the copy.
    """
    conn.exec_driver_sql("ALTER TABLE outbox RENAME TO outbox_v4")
    conn.exec_driver_sql("DROP INDEX ix_outbox_status_id")
    conn.exec_driver_sql(_V5_OUTBOX)
    conn.exec_driver_sql(
        f"INSERT INTO outbox ({_OUTBOX_COLUMNS_V3}) SELECT {_OUTBOX_COLUMNS_V3} FROM outbox_v4"
    )
    conn.exec_driver_sql(
        "UPDATE sqlite_sequence SET seq = MAX(seq, "
        "(SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'outbox_v4')) "
        "WHERE name = 'outbox'"
    )
    conn.exec_driver_sql("DROP TABLE outbox_v4")
    conn.exec_driver_sql("CREATE INDEX ix_outbox_status_id ON outbox (status, id)")


def _v6_incident_major_facts(conn: Connection) -> None:
    """Keep a major incident's role holders and update cadence (#19) on its row.

    Rows cached before this step have neither. Major incidents among them are
    fetched again, as step 4 does for monitoring incidents: their cached
    version drops to 1 (unless an edit waits in the outbox) and the sync
    cursor goes back to the start, so the backend's versions fill them in.
    """
    conn.exec_driver_sql("ALTER TABLE incidents ADD COLUMN roles TEXT")
    conn.exec_driver_sql("ALTER TABLE incidents ADD COLUMN next_update_due TEXT")
    conn.exec_driver_sql(
        "UPDATE incidents SET version = 1 WHERE major = 1 AND id NOT IN "
        "(SELECT incident_id FROM outbox WHERE status IN ('pending', 'conflict'))"
    )
    conn.exec_driver_sql(
        "UPDATE sync_state SET cursor = 0 WHERE EXISTS (SELECT 1 FROM incidents WHERE major = 1)"
    )


_V7_OUTBOX = _V5_OUTBOX.replace(
    "'engage', 'status_update')", "'engage', 'status_update', 'record', 'workaround')"
)


def _v7_outbox_records(conn: Connection) -> None:
    """Allow the ``record`` and ``workaround`` operations (reviews, problems, known errors).

    Rebuilt like step 2 (SQLite cannot alter a CHECK): ids, queue order and
    ``sqlite_sequence`` survive the copy.
    """
    conn.exec_driver_sql("ALTER TABLE outbox RENAME TO outbox_v6")
    conn.exec_driver_sql("DROP INDEX ix_outbox_status_id")
    conn.exec_driver_sql(_V7_OUTBOX)
    conn.exec_driver_sql(
        f"INSERT INTO outbox ({_OUTBOX_COLUMNS_V3}) SELECT {_OUTBOX_COLUMNS_V3} FROM outbox_v6"
    )
    conn.exec_driver_sql(
        "UPDATE sqlite_sequence SET seq = MAX(seq, "
        "(SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'outbox_v6')) "
        "WHERE name = 'outbox'"
    )
    conn.exec_driver_sql("DROP TABLE outbox_v6")
    conn.exec_driver_sql("CREATE INDEX ix_outbox_status_id ON outbox (status, id)")


def _v8_incident_metrics(conn: Connection) -> None:
    """Keep what the metrics read on each incident row (#21), derived from what is cached.

    The durations and SLA flags from the row's own times and the timeline
    marks from the cached timeline, by the SQL every later write uses
    (``codec.metric_sql``, ``codec.MARKS_SQL``).
    """
    for name in ("opened_s", "ack_s", "fix_s", "response_met", "resolution_met"):
        conn.exec_driver_sql(f"ALTER TABLE incidents ADD COLUMN {name} INTEGER")
    for name in ("escalated", "reopened"):
        conn.exec_driver_sql(
            f"ALTER TABLE incidents ADD COLUMN {name} INTEGER DEFAULT '0' NOT NULL"
        )
    conn.exec_driver_sql("ALTER TABLE incidents ADD COLUMN csat INTEGER")

    derived = ", ".join(f"{name} = {sql}" for name, sql in metric_sql(str).items())
    conn.exec_driver_sql(f"UPDATE incidents SET {derived}")
    conn.exec_driver_sql(
        f"UPDATE incidents SET (escalated, reopened, csat) = ({MARKS_SQL}) "
        f"WHERE id IN (SELECT incident_id FROM timeline WHERE kind IN ({MARKING_KINDS_SQL}))"
    )


# The schema history, oldest first. Versions must run 1, 2, 3, ... without gaps.
MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "incidents, timeline, reference data, sync cursors, outbox, meta",
        _v1_initial_schema,
    ),
    Migration(2, "outbox: the engage (swarming) operation", _v2_outbox_engage),
    Migration(3, "outbox: when each entry was sent", _v3_outbox_sent_at),
    Migration(4, "incidents: the alert facts of monitoring incidents", _v4_incident_alert),
    # #19: a separate step; renumber at merge if another branch added step 5.
    Migration(5, "outbox: the status_update operation (major incidents)", _v5_outbox_status_update),
    Migration(
        6, "incidents: a major incident's roles and next update due", _v6_incident_major_facts
    ),
    Migration(7, "outbox: the record and workaround operations (reviews)", _v7_outbox_records),
    Migration(8, "incidents: what the metrics read, derived once", _v8_incident_metrics),
]


def latest_version(steps: Sequence[Migration] | None = None) -> int:
    """The version a file has after every step (the newest this build understands)."""
    chosen = MIGRATIONS if steps is None else steps
    return chosen[-1].version if chosen else 0


def stored_version(conn: Connection) -> int:
    """The version stamped in the open file (0 for a new one)."""
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


def stored_application_id(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA application_id").scalar_one())


def check_history(steps: Sequence[Migration]) -> None:
    """Refuse a history with gaps or reordering (a programming error, caught by the tests)."""
    for expected, step in enumerate(steps, start=1):
        if step.version != expected:
            raise RuntimeError(
                f"cache migration steps must be numbered 1, 2, 3, ...; "
                f"step {expected} is numbered {step.version}"
            )


def upgrade(conn: Connection, steps: Sequence[Migration] | None = None) -> list[Migration]:
    """Run every step newer than the file's version, inside the caller's transaction.

    The caller holds the write lock (``BEGIN IMMEDIATE``), so two processes
    opening the same old file cannot both migrate it. Returns the steps run.
    """
    chosen = MIGRATIONS if steps is None else steps
    check_history(chosen)
    current = stored_version(conn)
    pending = [step for step in chosen if step.version > current]
    for step in pending:
        step.apply(conn)
    if pending:
        # Both pragmas write the file header inside this transaction, so the
        # stamp and the DDL commit (or roll back) together.
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID:d}")
        conn.exec_driver_sql(f"PRAGMA user_version = {pending[-1].version:d}")
    return pending


def missing_schema(conn: Connection) -> list[str]:
    """Tables or columns the table classes expect but the file lacks (empty when all is there)."""
    missing: list[str] = []
    for table in Base.metadata.sorted_tables:
        rows = conn.exec_driver_sql(f'PRAGMA table_info("{table.name}")').all()
        present = {row[1] for row in rows}
        if not present:
            missing.append(f"table {table.name}")
            continue
        missing.extend(
            f"column {table.name}.{column.name}"
            for column in table.columns
            if column.name not in present
        )
    return missing
