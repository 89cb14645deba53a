"""The cache's durable outbox: the operator's edits, queued with the local change they make."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from console.domain.clock import utc_now
from console.domain.incident import Incident, TimelineEvent
from console.domain.metrics import MARKING_KINDS
from console.store.cache_base import _INCIDENT_WRITE, _TIMELINE_UPSERT, _CacheBase, _remark
from console.store.codec import incident_row, json_text, parse_ts, timeline_row, ts_text
from console.store.errors import CacheError
from console.store.outbox import (
    SENT_PURGE_BATCH,
    SENT_RETENTION,
    STATUSES,
    OutboxEntry,
    OutboxRecord,
)
from console.store.tables import OUTBOX


class _Outbox(_CacheBase):
    """The outbox of edits waiting to be sent."""

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
                if local_event.kind.value in MARKING_KINDS:
                    _remark(conn, [local_event.incident_id])
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
