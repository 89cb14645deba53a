"""The server's tables (SQLAlchemy 2.0 typed ORM), the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite's INTEGER PRIMARY KEY is a 64-bit rowid; PostgreSQL needs BIGINT for
# the same range. The variant keeps SQLite's rowid alias (and its speed).
SeqInteger = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back time-zone aware.

    SQLite has no time-zone type and returns naive values; this gives both
    databases the same behaviour, so the domain's "every instant has a zone"
    rule holds after a round trip.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite stores the text form; drop the zone so every value sorts alike.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Bumped whenever a table changes. An older database is upgraded in place
# when a server opens it (``console.server.core.migrations``); a newer one is
# refused with a clear message instead of failing on a missing column.
SCHEMA_VERSION = 2


def table_of(entity: type[Base]) -> Table:
    """The Core table of a mapped class (for prebuilt Core statements)."""
    table = entity.__table__
    assert isinstance(table, Table)
    return table


class Base(DeclarativeBase):
    """Declarative base of the server's tables."""

    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


class IncidentRow(Base):
    """One incident; the domain ``Incident`` plus the server's bookkeeping."""

    __tablename__ = "incidents"
    # For the metrics window (``opened_at`` in [from, to)).
    __table_args__ = (Index("ix_incidents_opened_at", "opened_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(120), index=True)
    impact: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    severity: Mapped[int] = mapped_column(Integer, index=True)
    severity_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(120))
    subcategory: Mapped[str | None] = mapped_column(String(120))
    assignee: Mapped[str | None] = mapped_column(String(120))
    assignment_group: Mapped[str | None] = mapped_column(String(120))
    reporter: Mapped[str | None] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(16))
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str | None] = mapped_column(String(32))
    # [[started, ended-or-null], ...] as ISO strings: read and written as a whole.
    holds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    # What the metrics read (schema version 2), kept by every write that changes
    # them so ``GET /v1/metrics`` reads this table alone: whole UTC seconds of
    # opened_at, and from it to acknowledged_at / resolved_at (null if not);
    # whether it was acknowledged / resolved by its due time (1 or 0; null if
    # not acknowledged / resolved or no due time); and from the timeline
    # (``domain.metrics.entry_marks``) whether it was ever escalated or
    # reopened and its last CSAT score with that entry's time.
    opened_s: Mapped[int | None] = mapped_column(BigInteger)
    ack_s: Mapped[int | None] = mapped_column(BigInteger)
    fix_s: Mapped[int | None] = mapped_column(BigInteger)
    response_met: Mapped[int | None] = mapped_column(Integer)
    resolution_met: Mapped[int | None] = mapped_column(Integer)
    escalated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reopened: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    csat: Mapped[int | None] = mapped_column(Integer)
    csat_at: Mapped[datetime | None]
    # The alert intake record that opened it (None for incidents people logged);
    # loaded with the incident, in the same query.
    alert: Mapped[IntakeAlertRow | None] = relationship(lazy="joined", viewonly=True, uselist=False)


class TimelineRow(Base):
    """One timeline entry of an incident."""

    __tablename__ = "timeline"
    __table_args__ = (
        Index("ix_timeline_incident_at", "incident_id", "at"),
        # The metrics' escalation, reopen and CSAT look-ups per incident.
        Index("ix_timeline_incident_kind", "incident_id", "kind"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The seq of the entry's change-log row: orders entries written at the same
    # instant (a state change and an assignment in one PATCH) as they were made.
    feed_seq: Mapped[int | None] = mapped_column(SeqInteger)


class ReferenceRow(Base):
    """One reference item (team, service, contact, category, policy, shift).

    The item is kept as its wire JSON: the schema lives in ``console.wire`` and
    the server only needs to find items by kind and id.
    """

    __tablename__ = "reference_items"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class ChangeRow(Base):
    """The change log: one row per committed write, in commit order.

    ``data`` is the entity's wire JSON as text (null for a delete), so the feed
    can be served without decoding and re-encoding it.
    """

    __tablename__ = "changes"

    seq: Mapped[int] = mapped_column(SeqInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(8))
    data: Mapped[str | None] = mapped_column(Text)
    # When the write happened (the server clock inside the transaction).
    written_at: Mapped[datetime]


class TokenRow(Base):
    """An API token: only the SHA-256 of the secret is kept."""

    __tablename__ = "api_tokens"
    # A name belongs to one live token at a time; a revoked token's name can be
    # given to its replacement.
    __table_args__ = (
        Index(
            "uq_api_tokens_active_name",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class IdempotencyRow(Base):
    """A remembered response to a request sent with an ``Idempotency-Key``.

    Keys are per token name (the client), so two consoles cannot collide by
    choosing the same key, and a console whose token was replaced keeps its keys.
    """

    __tablename__ = "idempotency_keys"
    # The purge finds expired keys by age without reading the whole table.
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    client: Mapped[str] = mapped_column(String(120), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


class MetaRow(Base):
    """Facts about the database itself (the schema version)."""

    __tablename__ = "server_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class WebhookRow(Base):
    """An outgoing webhook: where to POST which events, and the secret that signs them.

    The secret is kept as given (it must be, to sign each body); the API never
    returns it, only a hint of its last characters. A table added after schema
    version 1 was fixed: ``create_all`` adds it to older databases on start,
    and no existing table changed, so the version stays.
    """

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    # The event names this hook receives, e.g. ["escalation"].
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDeliveryRow(Base):
    """One event queued for one webhook, and what happened when it was sent.

    Written in the same transaction as the event (so a rolled-back escalation
    never pages anyone); the sender then claims it, POSTs it, and records each
    attempt. ``status``: pending → sending → delivered, or back to pending
    with a later ``next_attempt_at``, or failed after the last attempt.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_hook", "webhook_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    # The exact body that is signed and sent, so every retry sends the same bytes.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]


class IntakeAlertRow(Base):
    """One alert (or alert group, or event) as alert intake tracks it, for deduplication.

    ``(integration, dedup_key)`` finds the alert's newest record: while its
    incident is open, every further notification only counts a repeat. When
    the incident is closed (or was resolved and the alert is not flapping) a
    new firing opens a new incident with a new record. ``incident_id`` is None
    while the alert is silenced (recorded, nothing opened). ``intake_version``
    is the incident's version after intake's own last write: a different
    version means a person changed the incident. A table added after schema
    version 1 was fixed, like the webhook tables: ``create_all`` adds it.
    """

    __tablename__ = "intake_alerts"
    __table_args__ = (Index("ix_intake_alerts_key", "integration", "dedup_key", "first_seen"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    integration: Mapped[str] = mapped_column(String(16))
    # The key as sent, or ``sha256:<hex>`` of it when longer than 200 characters.
    dedup_key: Mapped[str] = mapped_column(String(200))
    incident_id: Mapped[str | None] = mapped_column(
        ForeignKey("incidents.id"), unique=True, default=None
    )
    status: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    generator_url: Mapped[str | None] = mapped_column(String(2000))
    monitor: Mapped[str | None] = mapped_column(String(200))
    repeat_count: Mapped[int] = mapped_column(Integer, default=1)
    # The repeat count the change feed last carried (repeats are coalesced).
    published_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the alert last changed between firing and resolved (ISO text, newest last).
    transitions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    silenced_by: Mapped[str | None] = mapped_column(String(200))
    intake_version: Mapped[int | None] = mapped_column(Integer)


class PirRow(Base):
    """One post-incident review; the body is its wire JSON (``console.wire.pir.Pir``).

    ``status`` and ``due_at`` are columns so the reminder sweep and the list can
    filter without reading every document.
    """

    __tablename__ = "pirs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    due_at: Mapped[datetime]
    # When pir.due was sent (once per review).
    due_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class ProblemRow(Base):
    """One problem record; the body is its wire JSON (``console.wire.pir.Problem``)."""

    __tablename__ = "problems"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class ProblemLinkRow(Base):
    """An incident's link to its problem: an incident links at most one problem."""

    __tablename__ = "problem_links"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"), index=True)
