"""The cache's incidents and timelines: bulk upserts by version, reads for the views."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, func, select

from console.domain.incident import Incident, TimelineEvent
from console.domain.metrics import MARKING_KINDS
from console.store.cache_base import (
    _INCIDENT_UPSERT,
    _SELECT_INCIDENTS,
    _TIMELINE_UPSERT,
    _CacheBase,
    _chunks,
    _remark,
)
from console.store.changes import ChangeSet
from console.store.codec import (
    INCIDENT_COLUMNS,
    OPEN_STATE_VALUES,
    TIMELINE_COLUMNS,
    incident_from_row,
    incident_row,
    timeline_from_row,
    timeline_row,
)
from console.store.errors import CacheError
from console.store.tables import INCIDENTS, TIMELINE


class _Incidents(_CacheBase):
    """Incidents and their timelines."""

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
        if inserted:
            # Events that came before their incident (a later page of the feed).
            _remark(conn, inserted, arrived=True)
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
        marked: set[str] = set()  # incidents whose metrics marks may change
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
                if row[2] in MARKING_KINDS:
                    marked.add(row[1])
                if old is not None and old[2] in MARKING_KINDS:
                    marked.add(old[1])
                if old is None:
                    inserted.add(key)
                else:
                    incidents.add(old[1])  # an event moved to another incident
                    if key not in inserted:
                        updated.add(key)
            if writes:
                conn.exec_driver_sql(_TIMELINE_UPSERT, writes)
        _remark(conn, marked)
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
