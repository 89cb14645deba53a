"""The console's local cache: incidents, timelines, reference data, sync cursors, outbox.

One SQLite file in the user's data folder, opened through :meth:`Cache.open`.
Every write is one transaction, so a failure or a crash leaves either all of a
batch or none of it; :meth:`Cache.apply_changes` and :meth:`Cache.enqueue` put
related rows in the same transaction on purpose (see their docstrings).

Threads: a Cache may be shared by the GUI thread and a sync worker. Each call
checks out its own SQLite connection from the Cache's engine pool; reads run
in parallel with a write (WAL); writes are serialised by a lock in the Cache
and by ``BEGIN IMMEDIATE`` in SQLite, which also serialises against another
process on the same file (waiting up to the busy timeout).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import SQLAlchemyError

from console.domain.clock import utc_now
from console.domain.incident import Incident, TimelineEvent
from console.store.changes import ChangeSet
from console.store.codec import (
    INCIDENT_COLUMNS,
    OPEN_STATE_VALUES,
    TIMELINE_COLUMNS,
    incident_from_row,
    incident_row,
    json_text,
    parse_ts,
    reference_key,
    timeline_from_row,
    timeline_row,
    ts_text,
)
from console.store.errors import CacheError
from console.store.opening import WRITE_OPTION, describe, open_engine
from console.store.outbox import (
    SENT_PURGE_BATCH,
    SENT_RETENTION,
    STATUSES,
    OutboxEntry,
    OutboxRecord,
)
from console.store.tables import INCIDENTS, META, OUTBOX, REFERENCE, SYNC_STATE, TIMELINE

# Reference data the server syncs; the wire layer defines each document.
REFERENCE_KINDS: tuple[str, ...] = (
    "services",
    "teams",
    "contacts",
    "policies",
    "shifts",
    "categories",
    "known_errors",
    # Post-incident reviews and problem records (issue #20): server documents
    # kept whole, like reference data; no schema change.
    "pirs",
    "problems",
)

# SQLite's historical limit is 999 bound parameters per statement; stay under it.
_CHUNK = 900

_T = TypeVar("_T")


def _chunks(items: Iterable[_T], size: int = _CHUNK) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _upsert_sql(
    table_columns: tuple[str, ...],
    table: Table,
    conflict: tuple[str, ...],
    only_if_newer: bool,
) -> str:
    """Compile one single-row ``INSERT ... ON CONFLICT DO UPDATE`` for ``executemany``.

    SQLAlchemy builds the statement from the typed table; the bulk paths run
    the compiled text with positional tuples, which skips per-row dict
    processing (about a third of the time at 100k rows). The check below makes
    sure the placeholders are in the order the row tuples are built in.
    """
    stmt = sqlite.insert(table)
    updates = {c: stmt.excluded[c] for c in table_columns if c not in conflict}
    if only_if_newer:
        upsert = stmt.on_conflict_do_update(
            index_elements=list(conflict),
            set_=updates,
            where=stmt.excluded.version > table.c.version,
        )
    else:
        upsert = stmt.on_conflict_do_update(index_elements=list(conflict), set_=updates)
    compiled = upsert.compile(dialect=sqlite.dialect())
    if tuple(compiled.positiontup or ()) != table_columns:
        raise RuntimeError(f"upsert placeholders for {table.name} are not in column order")
    return str(compiled)


# Incidents from the backend: a row whose version is not newer is left alone.
_INCIDENT_UPSERT = _upsert_sql(INCIDENT_COLUMNS, INCIDENTS, ("id",), only_if_newer=True)
# The operator's own edit (enqueue): written whatever its version.
_INCIDENT_WRITE = _upsert_sql(INCIDENT_COLUMNS, INCIDENTS, ("id",), only_if_newer=False)
_TIMELINE_UPSERT = _upsert_sql(TIMELINE_COLUMNS, TIMELINE, ("id",), only_if_newer=False)
_REFERENCE_UPSERT = _upsert_sql(
    ("kind", "id", "doc"), REFERENCE, ("kind", "id"), only_if_newer=False
)


def _select_incidents(*, open_only: bool, descriptions: bool) -> str:
    """The SQL reading incidents in INCIDENT_COLUMNS order (descriptions as '' when left out)."""
    columns = [
        INCIDENTS.c[name]
        if descriptions or name != "description"
        else literal_column("''").label("description")
        for name in INCIDENT_COLUMNS
    ]
    stmt = select(*columns)
    if open_only:
        stmt = stmt.where(INCIDENTS.c.state.in_(OPEN_STATE_VALUES))
    # The open states are fixed enum values, safe to inline as literals.
    return str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


_SELECT_INCIDENTS = {
    (open_only, descriptions): _select_incidents(open_only=open_only, descriptions=descriptions)
    for open_only in (False, True)
    for descriptions in (False, True)
}


class Cache:
    """The local cache of one console (see the module docstring for threads and transactions).

    Use :meth:`Cache.open`; close with :meth:`close` (or use it as a context manager).
    """

    path: Path
    notices: list[str]

    def __init__(self, path: Path, engine: Engine, notices: list[str]) -> None:
        """Internal: :meth:`open` builds caches."""
        self.path = path
        self.notices = notices
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._write_lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path) -> Cache:
        """Open the cache at ``path``, creating or migrating it as needed.

        A damaged or foreign file (not SQLite, truncated, failing SQLite's
        integrity check, another program's database) is moved aside to
        ``<name>.corrupt-<time>`` and a fresh cache takes its place; what
        happened is told in :attr:`notices`. A file from a newer NOC Console
        raises :class:`CacheTooNew` and is left untouched. Anything else that
        stops the cache from opening (a folder that cannot be written, a file
        locked by another program) raises :class:`CacheError` with what to do.
        """
        path = Path(path)
        engine, notices = open_engine(path)
        return cls(path, engine, notices)

    def close(self) -> None:
        """Close every connection (idempotent). SQLite then folds the WAL into the file."""
        with self._write_lock:
            if not self._closed:
                self._closed = True
                self._engine.dispose()

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cache({str(self.path)!r})"

    # -------------------------------------------------------------- transactions

    def _check_open(self) -> None:
        if self._closed:
            raise CacheError(f"the cache {self.path} is closed")

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        self._check_open()
        try:
            with self._engine.connect() as conn:
                yield conn
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise CacheError(f"reading the cache {self.path} failed: {describe(exc)}") from exc

    @contextmanager
    def _writing(self, what: str) -> Iterator[Connection]:
        """One write transaction, serialised with every other write to this cache."""
        with self._write_lock:
            self._check_open()
            try:
                with self._writer.begin() as conn:
                    yield conn
            except SQLAlchemyError as exc:
                raise CacheError(f"{what} failed and nothing was changed: {describe(exc)}") from exc

    # ---------------------------------------------------------------- incidents

    def upsert_incidents(self, incidents: Iterable[Incident]) -> ChangeSet:
        """Store incidents from the backend; report the ids inserted or updated.

        An incident whose version is not newer than the stored one is left as
        it is and not reported (the backend's version only grows, so an older
        or equal version is a repeat or a late delivery). Within one call, the
        newest version of a repeated id wins. All or nothing.
        """
        with self._writing("storing incidents") as conn:
            return self._upsert_incidents(conn, incidents)

    @staticmethod
    def _upsert_incidents(conn: Connection, incidents: Iterable[Incident]) -> ChangeSet:
        inserted: set[str] = set()
        updated: set[str] = set()
        for chunk in _chunks(incidents):
            batch: dict[str, Incident] = {}
            for incident in chunk:
                if not isinstance(incident, Incident):
                    raise CacheError(
                        f"expected an Incident to store, got {type(incident).__name__}"
                    )
                seen = batch.get(incident.id)
                if seen is None or incident.version > seen.version:
                    batch[incident.id] = incident
            # Reading the stored versions first tells inserts from updates and
            # spares converting rows that would not be written (a re-sync of
            # unchanged data costs little); the statement's WHERE keeps the
            # version rule in SQL as well.
            stored: dict[str, int] = {
                key: version
                for key, version in conn.execute(
                    select(INCIDENTS.c.id, INCIDENTS.c.version).where(
                        INCIDENTS.c.id.in_(list(batch))
                    )
                )
            }
            writes: list[tuple[Any, ...]] = []
            for key, incident in batch.items():
                old = stored.get(key)
                if old is None:
                    inserted.add(key)
                elif incident.version > old:
                    if key not in inserted:  # inserted by an earlier chunk of this call
                        updated.add(key)
                else:
                    continue
                writes.append(incident_row(incident))
            if writes:
                conn.exec_driver_sql(_INCIDENT_UPSERT, writes)
        return ChangeSet(inserted=frozenset(inserted), updated=frozenset(updated))

    def delete_incidents(self, ids: Iterable[str]) -> ChangeSet:
        """Remove incidents and their timelines; report the ids that were there."""
        with self._writing("removing incidents") as conn:
            return self._delete_incidents(conn, ids)

    @staticmethod
    def _delete_incidents(conn: Connection, ids: Iterable[str]) -> ChangeSet:
        removed: set[str] = set()
        for chunk in _chunks(ids):
            present = list(conn.scalars(select(INCIDENTS.c.id).where(INCIDENTS.c.id.in_(chunk))))
            if present:
                conn.execute(delete(INCIDENTS).where(INCIDENTS.c.id.in_(present)))
                conn.execute(delete(TIMELINE).where(TIMELINE.c.incident_id.in_(present)))
                removed.update(present)
        return ChangeSet(removed=frozenset(removed))

    def incident_ids(self) -> list[str]:
        """The id of every cached incident, in order (without reading the incidents)."""
        with self._reading() as conn:
            return [
                str(item) for item in conn.scalars(select(INCIDENTS.c.id).order_by(INCIDENTS.c.id))
            ]

    def incidents(self, *, open_only: bool = False, descriptions: bool = True) -> list[Incident]:
        """Every cached incident (or only the open ones), in no particular order.

        ``descriptions=False`` leaves each description out (as ""): the queue
        and the board never show it, and at 100k incidents the text is about
        15 MB the console would hold for nothing; :meth:`description` reads
        one when the detail pane shows it.
        """
        sql = _SELECT_INCIDENTS[(open_only, descriptions)]
        with self._reading() as conn:
            # The driver's cursor hands back plain tuples; building SQLAlchemy
            # Row objects for 100k rows costs about as much again as the query.
            driver = conn.connection.driver_connection
            if driver is None:  # only after the pool was disposed under us
                raise CacheError(f"the cache {self.path} is closed")
            cursor = driver.cursor()
            incidents: list[Incident] = []
            try:
                cursor.execute(sql)
                # In chunks: fetching 100k raw rows at once would hold them all
                # beside the records built from them (about 100 MB more at peak).
                while chunk := cursor.fetchmany(2000):
                    incidents.extend(incident_from_row(row) for row in chunk)
            finally:
                cursor.close()
        return incidents

    def incident(self, incident_id: str) -> Incident | None:
        """One incident, or None when it is not cached."""
        stmt = select(*(INCIDENTS.c[name] for name in INCIDENT_COLUMNS)).where(
            INCIDENTS.c.id == incident_id
        )
        with self._reading() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else incident_from_row(row)

    def open_major_incidents(self) -> list[Incident]:
        """The open major incidents (#19: the workspace and the wall re-read them every few s).

        Without a full read of the queue: at 100k incidents that would stall the GUI.
        """
        stmt = select(*(INCIDENTS.c[name] for name in INCIDENT_COLUMNS)).where(
            INCIDENTS.c.major == 1, INCIDENTS.c.state.in_(OPEN_STATE_VALUES)
        )
        with self._reading() as conn:
            rows = conn.execute(stmt).all()
        return [incident_from_row(row) for row in rows]

    def open_declare_candidates(self) -> list[Incident]:
        """Open incidents not yet major that a criterion says to declare (SEV-1 or security).

        #19: the major incident workspace suggests declaring them.
        """
        stmt = select(*(INCIDENTS.c[name] for name in INCIDENT_COLUMNS)).where(
            INCIDENTS.c.major == 0,
            INCIDENTS.c.state.in_(OPEN_STATE_VALUES),
            (INCIDENTS.c.severity == 1) | (func.lower(INCIDENTS.c.category) == "security"),
        )
        with self._reading() as conn:
            rows = conn.execute(stmt).all()
        return [incident_from_row(row) for row in rows]

    def description(self, incident_id: str) -> str:
        """One incident's description ("" when it has none or is not cached)."""
        with self._reading() as conn:
            text = conn.execute(
                select(INCIDENTS.c.description).where(INCIDENTS.c.id == incident_id)
            ).scalar()
        return str(text or "")

    def incident_count(self) -> int:
        """How many incidents are cached."""
        with self._reading() as conn:
            return int(conn.execute(select(func.count()).select_from(INCIDENTS)).scalar_one())

    def read_rows(
        self, sql: str, params: Mapping[str, object] | None = None
    ) -> list[tuple[Any, ...]]:
        """The rows of one read-only SQL statement (reports: ``console.store.metrics``)."""
        with self._reading() as conn:
            driver = conn.connection.driver_connection
            if driver is None:  # only after the pool was disposed under us
                raise CacheError(f"the cache {self.path} is closed")
            cursor = driver.cursor()
            try:
                cursor.execute(sql, dict(params or {}))
                return cursor.fetchall()
            except sqlite3.Error as exc:
                raise CacheError(f"reading the cache {self.path} failed: {exc}") from exc
            finally:
                cursor.close()

    # ----------------------------------------------------------------- timeline

    def upsert_timeline(self, events: Iterable[TimelineEvent]) -> ChangeSet:
        """Store timeline events; report event ids inserted or changed.

        ``timeline_of`` in the result names the incidents whose timeline
        changed. An event identical to the stored one is not reported.
        """
        with self._writing("storing timeline events") as conn:
            return self._upsert_timeline(conn, events)

    @staticmethod
    def _upsert_timeline(conn: Connection, events: Iterable[TimelineEvent]) -> ChangeSet:
        inserted: set[str] = set()
        updated: set[str] = set()
        incidents: set[str] = set()
        for chunk in _chunks(events):
            batch = {row[0]: row for row in map(timeline_row, chunk)}
            stored = {
                row[0]: tuple(row)
                for row in conn.execute(
                    select(*(TIMELINE.c[name] for name in TIMELINE_COLUMNS)).where(
                        TIMELINE.c.id.in_(list(batch))
                    )
                )
            }
            writes: list[tuple[Any, ...]] = []
            for key, row in batch.items():
                old = stored.get(key)
                if old == row:
                    continue
                writes.append(row)
                incidents.add(row[1])
                if old is None:
                    inserted.add(key)
                else:
                    incidents.add(old[1])  # an event moved to another incident
                    if key not in inserted:
                        updated.add(key)
            if writes:
                conn.exec_driver_sql(_TIMELINE_UPSERT, writes)
        return ChangeSet(
            inserted=frozenset(inserted),
            updated=frozenset(updated),
            timeline_of=frozenset(incidents),
        )

    def timeline(self, incident_id: str) -> list[TimelineEvent]:
        """An incident's timeline, oldest first."""
        stmt = (
            select(*(TIMELINE.c[name] for name in TIMELINE_COLUMNS))
            .where(TIMELINE.c.incident_id == incident_id)
            .order_by(TIMELINE.c.at, TIMELINE.c.id)
        )
        with self._reading() as conn:
            rows = conn.execute(stmt).all()
        return [timeline_from_row(row) for row in rows]

    # ------------------------------------------------------------ reference data

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in REFERENCE_KINDS:
            raise CacheError(
                f"unknown reference data kind {kind!r}; use one of {', '.join(REFERENCE_KINDS)}"
            )

    def upsert_reference(self, kind: str, items: Iterable[Mapping[str, object]]) -> ChangeSet:
        """Store reference documents of one kind, keyed by their ``"id"``; report ids changed.

        ``kind`` is one of :data:`REFERENCE_KINDS`; every item needs a
        non-empty string or integer ``"id"`` and JSON values only. An item
        identical to the stored one is not reported.
        """
        self._check_kind(kind)
        with self._writing(f"storing {kind}") as conn:
            return self._upsert_reference(conn, kind, items)

    @staticmethod
    def _upsert_reference(
        conn: Connection, kind: str, items: Iterable[Mapping[str, object]]
    ) -> ChangeSet:
        inserted: set[str] = set()
        updated: set[str] = set()
        for chunk in _chunks(items):
            batch: dict[str, str] = {}
            for item in chunk:
                key = reference_key(kind, item)
                batch[key] = json_text(dict(item), f"{kind} item {key!r}")
            stored: dict[str, str] = {
                key: doc
                for key, doc in conn.execute(
                    select(REFERENCE.c.id, REFERENCE.c.doc).where(
                        REFERENCE.c.kind == kind, REFERENCE.c.id.in_(list(batch))
                    )
                )
            }
            writes = [(kind, key, doc) for key, doc in batch.items() if stored.get(key) != doc]
            for _kind, key, _doc in writes:
                if key in stored:
                    if key not in inserted:
                        updated.add(key)
                else:
                    inserted.add(key)
            if writes:
                conn.exec_driver_sql(_REFERENCE_UPSERT, writes)
        changed = inserted or updated
        return ChangeSet(
            inserted=frozenset(inserted),
            updated=frozenset(updated),
            reference_kinds=frozenset({kind}) if changed else frozenset(),
        )

    def delete_reference(self, kind: str, ids: Iterable[str]) -> ChangeSet:
        """Remove reference documents of one kind; report the ids that were there."""
        self._check_kind(kind)
        with self._writing(f"removing {kind}") as conn:
            return self._delete_reference(conn, kind, ids)

    @staticmethod
    def _delete_reference(conn: Connection, kind: str, ids: Iterable[str]) -> ChangeSet:
        removed: set[str] = set()
        for chunk in _chunks(str(key) for key in ids):
            where = (REFERENCE.c.kind == kind, REFERENCE.c.id.in_(chunk))
            present = list(conn.scalars(select(REFERENCE.c.id).where(*where)))
            if present:
                conn.execute(delete(REFERENCE).where(*where))
                removed.update(present)
        return ChangeSet(
            removed=frozenset(removed),
            reference_kinds=frozenset({kind}) if removed else frozenset(),
        )

    def reference(self, kind: str) -> list[dict[str, object]]:
        """Every stored document of one kind, ordered by id."""
        self._check_kind(kind)
        stmt = select(REFERENCE.c.doc).where(REFERENCE.c.kind == kind).order_by(REFERENCE.c.id)
        with self._reading() as conn:
            docs = list(conn.scalars(stmt))
        return [json.loads(doc) for doc in docs]

    def reference_ids(self, kind: str) -> list[str]:
        """The ids of every stored document of one kind, in order (without reading the docs)."""
        self._check_kind(kind)
        stmt = select(REFERENCE.c.id).where(REFERENCE.c.kind == kind).order_by(REFERENCE.c.id)
        with self._reading() as conn:
            return [str(item) for item in conn.scalars(stmt)]

    # -------------------------------------------------------------- sync cursor

    def cursor(self, backend: str) -> int:
        """How far the change feed of ``backend`` (its URL) has been applied; 0 if never."""
        stmt = select(SYNC_STATE.c.cursor).where(SYNC_STATE.c.backend == backend)
        with self._reading() as conn:
            value = conn.execute(stmt).scalar_one_or_none()
        return 0 if value is None else int(value)

    def last_synced_at(self, backend: str) -> datetime | None:
        """When :meth:`apply_changes` last succeeded for ``backend`` (UTC), or None."""
        stmt = select(SYNC_STATE.c.last_synced_at).where(SYNC_STATE.c.backend == backend)
        with self._reading() as conn:
            value = conn.execute(stmt).scalar_one_or_none()
        return None if value is None else parse_ts(value)

    def apply_changes(
        self,
        backend: str,
        *,
        incidents: Iterable[Incident] = (),
        deleted_incidents: Iterable[str] = (),
        timeline: Iterable[TimelineEvent] = (),
        reference: Mapping[str, Iterable[Mapping[str, object]]] | None = None,
        deleted_reference: Mapping[str, Iterable[str]] | None = None,
        cursor: int,
    ) -> ChangeSet:
        """Apply one page of a backend's change feed and move its cursor, in ONE transaction.

        Rows and cursor commit together, so a crash or a bad row never leaves
        the cursor ahead of the data (which would skip changes for good) or the
        data ahead of the cursor. Upserts run before deletions.

        The result's ``inserted``/``updated``/``removed`` are incident ids;
        ``timeline_of`` names incidents whose timeline changed and
        ``reference_kinds`` the reference kinds that changed.
        """
        if not isinstance(backend, str) or not backend:
            raise CacheError("apply_changes needs the backend's URL to keep its cursor")
        if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
            raise CacheError(f"sync cursor must be a whole number from 0, got {cursor!r}")
        reference = reference or {}
        deleted_reference = deleted_reference or {}
        for kind in (*reference, *deleted_reference):
            self._check_kind(kind)
        with self._writing(f"applying changes from {backend}") as conn:
            result = self._upsert_incidents(conn, incidents)
            result = result.merge(self._delete_incidents(conn, deleted_incidents))
            timeline_changes = self._upsert_timeline(conn, timeline)
            kinds: set[str] = set()
            for kind, items in reference.items():
                kinds |= self._upsert_reference(conn, kind, items).reference_kinds
            for kind, ids in deleted_reference.items():
                kinds |= self._delete_reference(conn, kind, ids).reference_kinds
            stmt = sqlite.insert(SYNC_STATE).values(
                backend=backend, cursor=cursor, last_synced_at=ts_text(utc_now())
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[SYNC_STATE.c.backend],
                    set_={
                        "cursor": stmt.excluded.cursor,
                        "last_synced_at": stmt.excluded.last_synced_at,
                    },
                )
            )
        return ChangeSet(
            inserted=result.inserted,
            updated=result.updated,
            removed=result.removed,
            timeline_of=timeline_changes.timeline_of,
            reference_kinds=frozenset(kinds),
        )

    # ------------------------------------------------------------------- outbox

    def enqueue(
        self,
        entry: OutboxEntry,
        *,
        local_incident: Incident | None = None,
        local_event: TimelineEvent | None = None,
    ) -> OutboxRecord:
        """Queue an edit for the backend and show it locally, in ONE transaction.

        ``local_incident`` and ``local_event`` are the operator's edit as it
        should appear at once; they are written whatever their version. Keep
        the incident's version at the version the edit started from, so the
        backend's next version (the edit accepted, or someone else's) replaces
        it. Either the edit is both shown and queued, or neither.
        """
        if not isinstance(entry, OutboxEntry):
            raise CacheError(f"expected an OutboxEntry to queue, got {type(entry).__name__}")
        local_ids = [
            local_incident.id if local_incident is not None else None,
            local_event.incident_id if local_event is not None else None,
        ]
        for local_id in local_ids:
            if local_id is not None and local_id != entry.incident_id:
                raise CacheError(
                    f"the local change is for incident {local_id!r} but the outbox entry "
                    f"is for {entry.incident_id!r}"
                )
        payload = json_text(entry.payload, "the outbox payload")
        created_at = utc_now()
        with self._writing("queueing the edit") as conn:
            duplicate = conn.execute(
                select(OUTBOX.c.id).where(OUTBOX.c.idempotency_key == entry.idempotency_key)
            ).scalar_one_or_none()
            if duplicate is not None:
                raise CacheError(
                    f"this edit is already queued (outbox entry {duplicate} has the same "
                    "idempotency key)"
                )
            if local_incident is not None:
                conn.exec_driver_sql(_INCIDENT_WRITE, [incident_row(local_incident)])
            if local_event is not None:
                conn.exec_driver_sql(_TIMELINE_UPSERT, [timeline_row(local_event)])
            record_id = conn.execute(
                insert(OUTBOX)
                .values(
                    operation=entry.operation,
                    incident_id=entry.incident_id,
                    payload=payload,
                    base_version=entry.base_version,
                    idempotency_key=entry.idempotency_key,
                    created_at=ts_text(created_at),
                    status="pending",
                    attempts=0,
                    last_error=None,
                )
                .returning(OUTBOX.c.id)
            ).scalar_one()
        return OutboxRecord(
            id=record_id,
            operation=entry.operation,
            incident_id=entry.incident_id,
            payload=json.loads(payload),
            base_version=entry.base_version,
            idempotency_key=entry.idempotency_key,
            created_at=parse_ts(ts_text(created_at)),
            status="pending",
            attempts=0,
            last_error=None,
        )

    def pending_outbox(self) -> list[OutboxRecord]:
        """Entries still to send, oldest first (the order they must be sent in)."""
        return self.outbox_records(status="pending")

    def outbox_records(self, *, status: str | None = None) -> list[OutboxRecord]:
        """Every outbox entry, or those with one status, oldest first."""
        stmt = select(OUTBOX).order_by(OUTBOX.c.id)
        if status is not None:
            if status not in STATUSES:
                raise CacheError(
                    f"unknown outbox status {status!r}; use one of {', '.join(STATUSES)}"
                )
            stmt = stmt.where(OUTBOX.c.status == status)
        with self._reading() as conn:
            rows = conn.execute(stmt).all()
        return [
            OutboxRecord(
                id=row.id,
                operation=row.operation,
                incident_id=row.incident_id,
                payload=json.loads(row.payload),
                base_version=row.base_version,
                idempotency_key=row.idempotency_key,
                created_at=parse_ts(row.created_at),
                status=row.status,
                attempts=row.attempts,
                last_error=row.last_error,
            )
            for row in rows
        ]

    @staticmethod
    def _pending_entry(
        conn: Connection, record_id: int, target: str, what: str
    ) -> tuple[str, int | None] | None:
        """Incident id and base version of the pending entry to move to ``target``.

        None when the entry is already there (a repeat after a lost reply).
        """
        row = conn.execute(
            select(OUTBOX.c.status, OUTBOX.c.incident_id, OUTBOX.c.base_version).where(
                OUTBOX.c.id == record_id
            )
        ).first()
        if row is None:
            raise CacheError(f"there is no outbox entry {record_id}")
        if row.status == target and target != "pending":
            return None
        if row.status != "pending":
            raise CacheError(
                f"outbox entry {record_id} is {row.status}; only a pending entry can be {what}"
            )
        return str(row.incident_id), row.base_version

    def _finish_attempt(
        self, record_id: int, status: str, last_error: str | None, what: str
    ) -> None:
        with self._writing(what) as conn:
            if self._pending_entry(conn, record_id, status, what) is None:
                return
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == record_id)
                .values(status=status, last_error=last_error, attempts=OUTBOX.c.attempts + 1)
            )

    def mark_outbox_sent(self, record_id: int, *, new_version: int | None = None) -> None:
        """The backend accepted the entry: it will not be sent again (a repeat is harmless).

        ``new_version``, the incident's version after the backend applied the
        entry, rebases the later pending entries for the same incident that
        started from the same version: they were made on top of this edit, so
        their ``If-Match`` must name the version it produced, or the backend
        would refuse the operator's own second edit as a conflict.

        In the same transaction, up to ``SENT_PURGE_BATCH`` entries sent
        more than ``SENT_RETENTION`` ago are deleted, so the outbox does not
        grow for ever (an entry sent before the cache recorded send times
        counts from when it was queued); this entry itself stays until a later
        send.
        """
        with self._writing("marked sent") as conn:
            entry = self._pending_entry(conn, record_id, "sent", "marked sent")
            if entry is None:
                return
            self._purge_sent(conn, before=utc_now() - SENT_RETENTION)
            incident_id, base_version = entry
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == record_id)
                .values(
                    status="sent",
                    last_error=None,
                    attempts=OUTBOX.c.attempts + 1,
                    sent_at=ts_text(utc_now()),
                )
            )
            if new_version is not None:
                conn.execute(
                    update(OUTBOX)
                    .where(
                        OUTBOX.c.incident_id == incident_id,
                        OUTBOX.c.status == "pending",
                        OUTBOX.c.id > record_id,
                        OUTBOX.c.base_version.is_not_distinct_from(base_version),
                    )
                    .values(base_version=new_version)
                )

    @staticmethod
    def _purge_sent(conn: Connection, *, before: datetime) -> None:
        """Delete the oldest entries sent before ``before``, a batch at most."""
        oldest = (
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.status == "sent",
                func.coalesce(OUTBOX.c.sent_at, OUTBOX.c.created_at) < ts_text(before),
            )
            .order_by(OUTBOX.c.id)
            .limit(SENT_PURGE_BATCH)
        )
        conn.execute(delete(OUTBOX).where(OUTBOX.c.id.in_(oldest)))

    def mark_outbox_failed(self, record_id: int, error: str, *, permanent: bool) -> None:
        """Sending failed. ``permanent``: the backend refused it (status ``rejected``,
        kept for the operator to see, never retried); otherwise it stays pending
        with ``attempts`` counted and ``error`` kept as ``last_error``."""
        status = "rejected" if permanent else "pending"
        self._finish_attempt(record_id, status, error, "marked failed")

    def mark_outbox_conflict(self, record_id: int, detail: str) -> None:
        """Someone changed the same fields first; the operator must decide (not retried)."""
        self._finish_attempt(record_id, "conflict", detail, "marked conflict")

    def discard_outbox(self, record_id: int) -> None:
        """Drop an entry (the operator gave up a rejected or conflicting edit)."""
        with self._writing("discarding the outbox entry") as conn:
            result = conn.execute(delete(OUTBOX).where(OUTBOX.c.id == record_id))
            if result.rowcount == 0:
                raise CacheError(f"there is no outbox entry {record_id}")

    # --------------------------------------------------------------------- meta

    def meta(self, key: str) -> str | None:
        """A small stored setting, or None."""
        with self._reading() as conn:
            value = conn.execute(select(META.c.value).where(META.c.key == key)).scalar_one_or_none()
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        """Store a small setting (replacing any earlier value)."""
        if not isinstance(value, str):
            raise CacheError(f"meta value for {key!r} must be text, got {type(value).__name__}")
        stmt = sqlite.insert(META).values(key=key, value=value)
        with self._writing(f"storing {key}") as conn:
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[META.c.key], set_={"value": stmt.excluded.value}
                )
            )
