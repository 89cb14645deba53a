"""Conversions between the domain records and the cache's row tuples.

The bulk paths hand plain tuples to SQLite's ``executemany`` and build records
straight from selected columns: going through ORM instances or per-row dicts
costs more than the SQLite work itself at 100k rows (``python -m bench store``).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from console.domain.incident import (
    AlertInfo,
    HoldPeriod,
    Incident,
    Source,
    TimelineEvent,
    TimelineKind,
)
from console.domain.lifecycle import HoldReason, State
from console.domain.metrics import MARKING_KINDS
from console.domain.severity import Impact, Severity, Urgency
from console.store.errors import CacheError

# Column order of the incidents table and of the row tuples, spelled out
# rather than read from the dataclass: a field added to Incident must not
# change the storage format behind the store's back. A test checks that every
# Incident field has its column here (and in the table, through a migration).
INCIDENT_COLUMNS: tuple[str, ...] = (
    "id",
    "number",
    "title",
    "service",
    "impact",
    "urgency",
    "severity",
    "state",
    "opened_at",
    "updated_at",
    "version",
    "description",
    "category",
    "subcategory",
    "assignee",
    "assignment_group",
    "reporter",
    "source",
    "major",
    "hold_reason",
    "holds",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "response_due",
    "resolution_due",
    "alert",
    "roles",
    "next_update_due",
)

# What the metrics read, derived from a row's own times by SQLite as the row is
# written (the upserts compute them from the same parameters, see
# ``cache_base._upsert_sql``): whole UTC seconds of opened_at and from it to
# the acknowledgement and the resolution (each text cut to its second), and
# whether each was by its due time (1/0; null without both). UTC text of one
# format compares in time order.
_EPOCH_SQL = (
    "unixepoch(substr({}, 1, 19))"
    if sqlite3.sqlite_version_info >= (3, 38)
    else "CAST(strftime('%s', substr({}, 1, 19)) AS INTEGER)"
)


def _met_sql(done: str, due: str) -> str:
    return f"CASE WHEN {done} IS NULL OR {due} IS NULL THEN NULL ELSE {done} <= {due} END"


def metric_sql(column: Callable[[str], str]) -> dict[str, str]:
    """The metrics columns as SQL over the row's columns (``column(name)`` names one)."""
    opened = _EPOCH_SQL.format(column("opened_at"))
    return {
        "opened_s": opened,
        "ack_s": f"{_EPOCH_SQL.format(column('acknowledged_at'))} - {opened}",
        "fix_s": f"{_EPOCH_SQL.format(column('resolved_at'))} - {opened}",
        "response_met": _met_sql(column("acknowledged_at"), column("response_due")),
        "resolution_met": _met_sql(column("resolved_at"), column("resolution_due")),
    }


METRIC_COLUMNS: tuple[str, ...] = tuple(metric_sql(str))
TIMELINE_COLUMNS: tuple[str, ...] = ("id", "incident_id", "kind", "at", "author", "body", "data")

# The timeline kinds that mark an incident for the metrics, as a SQL list.
MARKING_KINDS_SQL = ", ".join(f"'{kind}'" for kind in MARKING_KINDS)
# The timeline marks the metrics read (``domain.metrics.entry_marks``), derived
# again from an incident's whole cached timeline: an event may arrive before its
# incident, or be replaced. The last CSAT score is the greatest "at || score"
# (UTC text in time order, a one-digit score).
MARKS_SQL = f"""
    SELECT
        COALESCE(MAX(kind = 'escalation' OR (
            kind = 'assignment'
            AND json_extract(data, '$.assignment_group.from') IS NOT NULL
        )), 0),
        COALESCE(MAX(kind = 'state_change' AND json_extract(data, '$.to') = 'reopened'), 0),
        CAST(substr(MAX(CASE WHEN kind = 'csat'
            THEN at || json_extract(data, '$.score') END), -1) AS INTEGER)
    FROM timeline
    WHERE incident_id = incidents.id AND kind IN ({MARKING_KINDS_SQL})
"""


# Dictionary lookups: several times faster than ``Enum(value)`` per row.
_IMPACTS = {m.value: m for m in Impact}
_URGENCIES = {m.value: m for m in Urgency}
_SEVERITIES = {m.value: m for m in Severity}
_STATES = {m.value: m for m in State}
_SOURCES = {m.value: m for m in Source}
_HOLD_REASONS = {m.value: m for m in HoldReason}
_KINDS = {m.value: m for m in TimelineKind}

# State values that count as open, for ``WHERE state IN (...)``.
OPEN_STATE_VALUES: tuple[str, ...] = tuple(s.value for s in State if s.is_open)

_parse_ts = datetime.fromisoformat


def ts_text(value: datetime) -> str:
    """An aware datetime as UTC ISO-8601 text, ``2026-11-23 09:15:00.123456+00:00``.

    ``str()`` rather than ``isoformat(timespec=...)``: about a third of the
    cost, which shows at five timestamps per row and 100k rows. It writes a
    space for the ``T`` and leaves the fraction out when it is zero. Text
    order stays time order: every value ends in ``+00:00``, and where one has
    no fraction, its ``+`` sorts before the other's ``.``, as the whole second
    comes first.
    """
    return str(value.astimezone(UTC))


def ts_or_none(value: datetime | None) -> str | None:
    return None if value is None else ts_text(value)


def parse_ts(text: str) -> datetime:
    """The inverse of :func:`ts_text`: an aware datetime in UTC."""
    return _parse_ts(text)


def json_text(value: object, what: str) -> str:
    """``value`` as canonical JSON text (sorted keys, so equal documents compare equal as text)."""
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise CacheError(f"{what} cannot be stored as JSON: {exc}") from exc


def incident_row(incident: Incident) -> tuple[Any, ...]:
    """The row tuple for ``incident``, in :data:`INCIDENT_COLUMNS` order.

    This runs once per row on every bulk sync, so it is written for speed:
    timestamps are converted inline (as :func:`ts_text` does) rather than
    through a call each, and enum values are read as ``_value_`` (the
    attribute behind ``.value``, part of the enum API), because ``.value`` is
    a descriptor call about ten times slower.
    """
    if not isinstance(incident, Incident):
        raise CacheError(f"expected an Incident to store, got {type(incident).__name__}")
    i = incident
    try:
        holds = (
            json.dumps([[ts_text(h.started), ts_or_none(h.ended)] for h in i.holds])
            if i.holds
            else "[]"
        )
        hold_reason = i.hold_reason
        acknowledged_at = i.acknowledged_at
        resolved_at = i.resolved_at
        closed_at = i.closed_at
        response_due = i.response_due
        resolution_due = i.resolution_due
        alert = i.alert
        return (
            i.id,
            i.number,
            i.title,
            i.service,
            i.impact._value_,
            i.urgency._value_,
            int(i.severity),
            i.state._value_,
            str(i.opened_at.astimezone(UTC)),
            str(i.updated_at.astimezone(UTC)),
            i.version,
            i.description,
            i.category,
            i.subcategory,
            i.assignee,
            i.assignment_group,
            i.reporter,
            i.source._value_,
            1 if i.major else 0,
            None if hold_reason is None else hold_reason._value_,
            holds,
            None if acknowledged_at is None else str(acknowledged_at.astimezone(UTC)),
            None if resolved_at is None else str(resolved_at.astimezone(UTC)),
            None if closed_at is None else str(closed_at.astimezone(UTC)),
            None if response_due is None else str(response_due.astimezone(UTC)),
            None if resolution_due is None else str(resolution_due.astimezone(UTC)),
            None if alert is None else alert_text(alert),
            roles_text(i.roles) if i.roles else None,
            due_text(i.next_update_due) if i.next_update_due else None,
        )
    except (AttributeError, TypeError, ValueError) as exc:
        # The record's constructor checks timestamps but not every type; a
        # field of the wrong type would otherwise surface as a bare AttributeError.
        raise CacheError(f"incident {i.id!r} cannot be stored: {exc}") from exc


def _shared(value: str | None) -> str | None:
    """One copy of a short, often repeated string (service ids, team names).

    With 100k incidents the same few hundred values would otherwise be held
    100k times over; interning saves tens of megabytes on a big board.
    """
    return None if value is None else sys.intern(value)


def incident_from_row(row: Sequence[Any]) -> Incident:
    """The Incident for a row selected in :data:`INCIDENT_COLUMNS` order."""
    try:
        (
            id_,
            number,
            title,
            service,
            impact,
            urgency,
            severity,
            state,
            opened_at,
            updated_at,
            version,
            description,
            category,
            subcategory,
            assignee,
            assignment_group,
            reporter,
            source,
            major,
            hold_reason,
            holds,
            acknowledged_at,
            resolved_at,
            closed_at,
            response_due,
            resolution_due,
            alert,
            roles,
            next_update_due,
        ) = row
        return Incident(
            id=id_,
            number=number,
            title=title,
            service=sys.intern(service),
            impact=_IMPACTS[impact],
            urgency=_URGENCIES[urgency],
            severity=_SEVERITIES[severity],
            state=_STATES[state],
            opened_at=_parse_ts(opened_at),
            updated_at=_parse_ts(updated_at),
            version=version,
            description=description,
            category=_shared(category),
            subcategory=_shared(subcategory),
            assignee=_shared(assignee),
            assignment_group=_shared(assignment_group),
            reporter=_shared(reporter),
            source=_SOURCES[source],
            major=bool(major),
            hold_reason=None if hold_reason is None else _HOLD_REASONS[hold_reason],
            holds=_holds(holds) if holds != "[]" else (),
            acknowledged_at=None if acknowledged_at is None else _parse_ts(acknowledged_at),
            resolved_at=None if resolved_at is None else _parse_ts(resolved_at),
            closed_at=None if closed_at is None else _parse_ts(closed_at),
            response_due=None if response_due is None else _parse_ts(response_due),
            resolution_due=None if resolution_due is None else _parse_ts(resolution_due),
            alert=None if alert is None else alert_from_text(alert),
            roles=() if roles is None else roles_from_text(roles),
            next_update_due=() if next_update_due is None else due_from_text(next_update_due),
        )
    except (KeyError, TypeError, ValueError) as exc:
        # Only a file changed behind the console's back gets here.
        raise CacheError(
            f"the cached incident {row[0]!r} cannot be read ({exc!r}); "
            "the cache file was changed outside NOC Console; move it aside to rebuild "
            "it from the backend"
        ) from exc


def alert_text(alert: AlertInfo) -> str:
    """An incident's alert facts as the JSON text of the ``alert`` column."""
    return json.dumps(
        {
            "integration": alert.integration,
            "key": alert.key,
            "status": alert.status,
            "first_seen": ts_text(alert.first_seen),
            "last_seen": ts_text(alert.last_seen),
            "repeat_count": alert.repeat_count,
            "labels": dict(alert.labels),
            "generator_url": alert.generator_url,
            "monitor": alert.monitor,
            "flapping": alert.flapping,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def alert_from_text(text: str) -> AlertInfo:
    """The inverse of :func:`alert_text`."""
    doc = json.loads(text)
    return AlertInfo(
        integration=doc["integration"],
        key=doc["key"],
        status=doc["status"],
        first_seen=_parse_ts(doc["first_seen"]),
        last_seen=_parse_ts(doc["last_seen"]),
        repeat_count=int(doc["repeat_count"]),
        labels=tuple(sorted((str(k), str(v)) for k, v in doc.get("labels", {}).items())),
        generator_url=doc.get("generator_url"),
        monitor=doc.get("monitor"),
        flapping=bool(doc.get("flapping", False)),
    )


def roles_text(roles: Sequence[tuple[str, str]]) -> str:
    """A major incident's role holders as the JSON text of the ``roles`` column (in order)."""
    return json.dumps([[role, person] for role, person in roles], ensure_ascii=False)


def roles_from_text(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(role), str(person)) for role, person in json.loads(text))


def due_text(due: Sequence[tuple[str, datetime | None]]) -> str:
    """Each audience's next update due as the JSON text of the ``next_update_due`` column."""
    return json.dumps([[audience, ts_or_none(at)] for audience, at in due])


def due_from_text(text: str) -> tuple[tuple[str, datetime | None], ...]:
    return tuple(
        (str(audience), None if at is None else _parse_ts(at)) for audience, at in json.loads(text)
    )


def _holds(text: str) -> tuple[HoldPeriod, ...]:
    return tuple(
        HoldPeriod(_parse_ts(started), None if ended is None else _parse_ts(ended))
        for started, ended in json.loads(text)
    )


def timeline_row(event: TimelineEvent) -> tuple[Any, ...]:
    """The row tuple for ``event``, in :data:`TIMELINE_COLUMNS` order."""
    if not isinstance(event, TimelineEvent):
        raise CacheError(f"expected a TimelineEvent to store, got {type(event).__name__}")
    try:
        return (
            event.id,
            event.incident_id,
            event.kind._value_,
            ts_text(event.at),
            event.author,
            event.body,
            json_text(event.data, f"the data of timeline event {event.id!r}"),
        )
    except (AttributeError, TypeError) as exc:
        raise CacheError(f"timeline event {event.id!r} cannot be stored: {exc}") from exc


def timeline_from_row(row: Sequence[Any]) -> TimelineEvent:
    """The TimelineEvent for a row selected in :data:`TIMELINE_COLUMNS` order."""
    try:
        id_, incident_id, kind, at, author, body, data = row
        return TimelineEvent(
            id=id_,
            incident_id=incident_id,
            kind=_KINDS[kind],
            at=_parse_ts(at),
            author=author,
            body=body,
            data=json.loads(data),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CacheError(
            f"the cached timeline event {row[0]!r} cannot be read ({exc!r}); "
            "the cache file was changed outside NOC Console; move it aside to rebuild "
            "it from the backend"
        ) from exc


def reference_key(kind: str, item: Mapping[str, object]) -> str:
    """The id of one reference item, or :class:`CacheError` naming what is wrong."""
    if not isinstance(item, Mapping):
        raise CacheError(f"{kind} item must be a mapping with an 'id', got {type(item).__name__}")
    key = item.get("id")
    if isinstance(key, bool) or not isinstance(key, str | int) or key == "":
        raise CacheError(
            f"{kind} item has no usable 'id' (got {key!r}); every item needs a non-empty "
            "string or integer id"
        )
    return str(key)
