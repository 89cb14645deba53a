"""The cache's tables, as SQLAlchemy 2.0 typed declarative classes.

Columns hold what SQLite stores, and :mod:`console.store.codec` converts to and
from the domain records. Timestamps are UTC ISO-8601 text
(``2026-11-23 09:15:00.123456+00:00``, see :func:`console.store.codec.ts_text`):
text order is time order and the file reads plainly in the ``sqlite3`` shell.
Enums are stored as their ``.value`` (the wire names), JSON documents as text.

These classes describe the *current* schema. Existing files reach it through
the ordered steps in :mod:`console.store.migrations`; change both together.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The cache's declarative base (its own metadata, separate from the server's)."""

    metadata = MetaData()


class IncidentRow(Base):
    """One cached incident: a column per :class:`~console.domain.incident.Incident` field."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_state", "state"),
        Index("ix_incidents_severity", "severity"),
        Index("ix_incidents_service", "service"),
    )

    id: Mapped[str] = mapped_column(String, primary_key=True)
    number: Mapped[str] = mapped_column(String)
    title: Mapped[str] = mapped_column(Text)
    service: Mapped[str] = mapped_column(String)
    impact: Mapped[str] = mapped_column(String)
    urgency: Mapped[str] = mapped_column(String)
    severity: Mapped[int] = mapped_column(Integer)  # 1 (SEV-1) to 4
    state: Mapped[str] = mapped_column(String)
    opened_at: Mapped[str] = mapped_column(String)
    updated_at: Mapped[str] = mapped_column(String)
    version: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String)
    subcategory: Mapped[str | None] = mapped_column(String)
    assignee: Mapped[str | None] = mapped_column(String)
    assignment_group: Mapped[str | None] = mapped_column(String)
    reporter: Mapped[str | None] = mapped_column(String)
    source: Mapped[str] = mapped_column(String)
    major: Mapped[int] = mapped_column(Integer)  # 0 or 1
    hold_reason: Mapped[str | None] = mapped_column(String)
    holds: Mapped[str] = mapped_column(Text)  # JSON: [[started, ended or null], ...]
    acknowledged_at: Mapped[str | None] = mapped_column(String)
    resolved_at: Mapped[str | None] = mapped_column(String)
    closed_at: Mapped[str | None] = mapped_column(String)
    response_due: Mapped[str | None] = mapped_column(String)
    resolution_due: Mapped[str | None] = mapped_column(String)
    # JSON: what monitoring said (alert intake), or null for incidents people logged.
    alert: Mapped[str | None] = mapped_column(Text)
    # #19, JSON: a major incident's [[role, person], ...] and [[audience, due or null], ...].
    roles: Mapped[str | None] = mapped_column(Text)
    next_update_due: Mapped[str | None] = mapped_column(Text)
    # #21, what the metrics read (``console.store.metrics``), so they read this
    # table alone. Derived from the columns above by every write (whole UTC
    # seconds; 1/0 SLA met, null when not acknowledged / resolved or no due
    # time; see ``codec.METRIC_COLUMNS``) ...
    opened_s: Mapped[int | None] = mapped_column(Integer)
    ack_s: Mapped[int | None] = mapped_column(Integer)
    fix_s: Mapped[int | None] = mapped_column(Integer)
    response_met: Mapped[int | None] = mapped_column(Integer)
    resolution_met: Mapped[int | None] = mapped_column(Integer)
    # ... and from the cached timeline whenever events or a new incident are
    # stored (``domain.metrics.entry_marks``: escalated, reopened, last CSAT).
    escalated: Mapped[int] = mapped_column(Integer, server_default="0")
    reopened: Mapped[int] = mapped_column(Integer, server_default="0")
    csat: Mapped[int | None] = mapped_column(Integer)


class TimelineRow(Base):
    """One cached timeline entry.

    No foreign key to ``incidents``: the change feed sends the newest state of
    each entity in change order, so a page can carry an event whose incident
    row only arrives on a later page. Deleting an incident deletes its events
    explicitly instead.
    """

    __tablename__ = "timeline"
    __table_args__ = (Index("ix_timeline_incident_at", "incident_id", "at"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    incident_id: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    at: Mapped[str] = mapped_column(String)
    author: Mapped[str] = mapped_column(String)
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)  # JSON object


class ReferenceRow(Base):
    """One reference document (a service, team, contact, policy, shift or category)."""

    __tablename__ = "reference"

    kind: Mapped[str] = mapped_column(String, primary_key=True)
    id: Mapped[str] = mapped_column(String, primary_key=True)
    doc: Mapped[str] = mapped_column(Text)  # JSON object, as the wire layer defines it


class SyncStateRow(Base):
    """How far the cache has read each backend's change feed."""

    __tablename__ = "sync_state"

    backend: Mapped[str] = mapped_column(String, primary_key=True)
    cursor: Mapped[int] = mapped_column(Integer)
    last_synced_at: Mapped[str | None] = mapped_column(String)


class OutboxRow(Base):
    """One queued edit. AUTOINCREMENT so ids never repeat and id order is queue order."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_id", "status", "id"),
        CheckConstraint(
            "operation IN ('create', 'patch', 'timeline', 'engage', 'status_update', "
            "'record', 'workaround')",
            name="ck_outbox_operation",
        ),
        CheckConstraint(
            "status IN ('pending', 'sent', 'rejected', 'conflict')", name="ck_outbox_status"
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation: Mapped[str] = mapped_column(String)
    incident_id: Mapped[str] = mapped_column(String)
    payload: Mapped[str] = mapped_column(Text)  # JSON object
    base_version: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String, unique=True)
    created_at: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[str | None] = mapped_column(String)  # when the backend accepted it


class MetaRow(Base):
    """Small settings the console keeps with its cache (key → text)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def table(row_class: type[Base]) -> Table:
    """The Core table behind a row class (typed, for Core statements)."""
    found = row_class.__table__
    assert isinstance(found, Table)
    return found


INCIDENTS = table(IncidentRow)
TIMELINE = table(TimelineRow)
REFERENCE = table(ReferenceRow)
SYNC_STATE = table(SyncStateRow)
OUTBOX = table(OutboxRow)
META = table(MetaRow)
