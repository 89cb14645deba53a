"""Alert intake: monitoring notifications become incidents, deduplicated.

The request bodies and their conversion to :class:`Notification` values are
in :mod:`console.server.services.intake_payloads`.

Two doors share one path. ``POST /v1/intake/alertmanager`` takes
Alertmanager's webhook (version 4); ``POST /v1/intake/events`` takes a generic
event (``dedup_key``, ``action`` trigger/acknowledge/resolve, the shape that
PagerDuty's Events API made common). Both are turned into
:class:`Notification` values and handled by :func:`handle`, inside the
route's one write transaction, so a notification is applied whole or not at
all.

Deduplication: ``(integration, key)`` finds the alert's record
(:class:`~console.server.core.tables.IntakeAlertRow`). While its incident is open,
a notification only counts a repeat and moves ``last_seen``; a resolved (not
yet closed) incident is reopened when the alert fires again; a closed one
makes way for a new incident. Incidents are written through the incident
service's public functions (``create_incident``, ``patch_incident``,
``add_timeline_entry``), so lifecycle rules, SLA clocks and the change feed
are the same as for incidents people log.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import (
    ValidationError,
)
from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from console.domain.incident import format_number
from console.domain.lifecycle import State
from console.server.core.errors import ApiError
from console.server.core.tables import IncidentRow, IntakeAlertRow, ReferenceRow, TimelineRow
from console.server.jobs.escalation_timer import TIMER_AUTHOR
from console.server.services import incidents as incident_service
from console.server.services.incidents import WriteScope
from console.server.services.intake_payloads import (
    Notification,
    stored_key,
)
from console.server.services.intake_rules import (
    DirectoryNames,
    IntakeConfig,
    render,
)
from console.wire import IncidentCreate, IncidentPatch, TimelineEntryCreate

log = logging.getLogger(__name__)

# -- outcomes ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one request did, by incident number (the response body)."""

    opened: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    silenced: int = 0
    ignored: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "opened": self.opened,
            "updated": self.updated,
            "reopened": self.reopened,
            "resolved": self.resolved,
            "acknowledged": self.acknowledged,
            "silenced": self.silenced,
            "ignored": self.ignored,
        }


@dataclass
class IntakeScope:
    """A write scope plus what intake decides by.

    The directory's names are read only when a notification opens an incident
    (a repeat needs none), once per request.
    """

    write: WriteScope
    config: IntakeConfig
    session: Session
    _names: DirectoryNames | None = None

    @property
    def names(self) -> DirectoryNames:
        if self._names is None:
            self._names = load_names(session=self.session)
        return self._names


def load_names(*, session: Session) -> DirectoryNames:
    """The directory's services (by id and by name) and teams."""
    services: dict[str, str] = {}
    service_teams: dict[str, str] = {}
    teams: set[str] = set()
    rows = session.execute(
        select(ReferenceRow.kind, ReferenceRow.id, ReferenceRow.data).where(
            ReferenceRow.kind.in_(("service", "team"))
        )
    )
    for kind, item_id, data in rows:
        if kind == "team":
            teams.add(item_id)
            continue
        services[item_id.lower()] = item_id
        name = (data or {}).get("name")
        if isinstance(name, str) and name.strip():
            services.setdefault(name.strip().lower(), item_id)
        team = (data or {}).get("owner_team")
        if isinstance(team, str):
            service_teams[item_id] = team
    return DirectoryNames(services=services, service_teams=service_teams, teams=frozenset(teams))


# -- mapping ----------------------------------------------------------------------------


def _render(source: str, n: Notification, limit: int, fallback: str) -> str:
    context = {
        "labels": dict(n.labels),
        "annotations": dict(n.annotations),
        "integration": n.integration,
        "status": "resolved" if n.action == "resolve" else "firing",
        "summary": n.summary or "",
        "key": n.key,
    }
    try:
        text = render(source, context)
    except ValueError as exc:
        log.warning("intake: a template failed for %s %s: %s", n.integration, n.key[:80], exc)
        text = fallback
    text = text.replace("\x00", "").strip()
    return text[:limit].strip() or fallback


def incident_for(n: Notification, scope: IntakeScope) -> IncidentCreate:
    """The new incident a firing notification opens, by the mapping rules; 422 if unmapped."""
    config, names = scope.config, scope.names
    rule = config.rule_for(n.labels)
    service = names.service_id(rule.service) if rule and rule.service else None
    if service is None:
        service = names.service_id(n.service_hint)
    if service is None:
        for label in config.service_labels:
            service = names.service_id(n.labels.get(label))
            if service is not None:
                break
    if service is None:
        service = names.service_id(config.default_service)
    if service is None:
        shown = ", ".join(f"{k}={v[:40]}" for k, v in sorted(n.labels.items())[:6]) or "no labels"
        raise ApiError(
            422,
            "unmapped_service",
            f"no mapping rule names a known service for the alert ({shown}); add a rule, give "
            f"it one of the labels {', '.join(config.service_labels)} naming a service, or set "
            "default_service in the intake settings (docs/intake.md)",
        )
    impact, urgency = config.impact_urgency(n.labels, rule)
    category = (rule.category if rule else None) or (
        n.labels.get(config.category_label) if config.category_label else None
    )
    category = category or config.default_category
    team = (rule.team if rule else None) or names.service_teams.get(service)
    fallback = n.summary or n.labels.get("alertname") or f"Monitoring alert {n.key[:40]}"
    title_source = rule.title if rule and rule.title else None
    if title_source is None and n.summary is not None:
        title = n.summary[:200]
    else:
        title = _render(title_source or config.title, n, 200, fallback[:200])
    description_source = rule.description if rule and rule.description else config.description
    description = _render(description_source, n, 20_000, "")
    if n.integration == "events" and n.annotations and description_source == config.description:
        details = "\n".join(f"{k}: {v}" for k, v in n.annotations.items())
        description = (description + "\n" + details).strip()[:20_000]
    try:
        return IncidentCreate(
            title=title,
            service=service,
            impact=impact,
            urgency=urgency,
            category=category[:120] if category else None,
            subcategory=rule.subcategory if rule else None,
            description=description,
            reporter=(n.monitor or scope.write.principal.name)[:120],
            source="monitoring",
            assignment_group=team,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "incident"
        raise ApiError(
            422,
            "invalid_mapping",
            f"the mapped incident is invalid ({where}: {first.get('msg')}); fix the intake "
            "rule or template that produced it",
        ) from None


# -- applying one notification ----------------------------------------------------------


def _latest_record(
    session: Session, integration: str, key: str
) -> tuple[IntakeAlertRow | None, IncidentRow | None]:
    """The key's newest record and its incident (None while silenced), in one query."""
    found = session.execute(
        select(IntakeAlertRow, IncidentRow)
        .outerjoin(IncidentRow, IncidentRow.id == IntakeAlertRow.incident_id)
        .where(IntakeAlertRow.integration == integration, IntakeAlertRow.dedup_key == key)
        .order_by(IntakeAlertRow.first_seen.desc(), IntakeAlertRow.id.desc())
        .limit(1)
    ).first()
    if found is None:
        return None, None
    return found[0], found[1]


def _transition(record: IntakeAlertRow, now: datetime, config: IntakeConfig) -> int:
    """Note a firing↔resolved change; return how many fell within the flapping window."""
    horizon = now - timedelta(seconds=config.flap_window_s)
    kept = [t for t in (record.transitions or []) if datetime.fromisoformat(t) >= horizon]
    kept.append(now.isoformat())
    record.transitions = kept[-(config.flap_threshold + 5) :]
    return len(kept)


def _flapping(
    session: Session, row: IncidentRow, record: IntakeAlertRow, n: Notification, scope: IntakeScope
) -> bool:
    """Count a firing↔resolved change; mark (and say once) when the alert is flapping."""
    config = scope.config
    if _transition(record, scope.write.now, config) > config.flap_threshold and not record.flapping:
        record.flapping = True
        _note(
            session,
            row,
            f"Flapping: {_describe(n)} fired and resolved more than {config.flap_threshold} "
            f"times in {config.flap_window_s / 60:g} minutes; folded into this incident and "
            "left open for a person",
            scope.write,
        )
    return record.flapping


def _human_acted(session: Session, row: IncidentRow, record: IntakeAlertRow, me: str) -> bool:
    """Whether anyone but intake (and the escalation timer) changed or annotated the incident."""
    if record.intake_version is not None and row.version != record.intake_version:
        return True
    return bool(
        session.scalar(
            select(
                exists().where(
                    TimelineRow.incident_id == row.id,
                    TimelineRow.author.not_in((me, TIMER_AUTHOR)),
                )
            )
        )
    )


def _after_write(record: IntakeAlertRow, row: IncidentRow, before: int | None) -> None:
    """Intake wrote ``row``: its version is intake's own unless a person wrote in between."""
    if record.intake_version is None or record.intake_version == before:
        record.intake_version = row.version
    record.published_count = record.repeat_count


def _publish(session: Session, row: IncidentRow, record: IntakeAlertRow, scope: WriteScope) -> None:
    before = row.version
    incident_service.record_incident_touch(session=session, row=row, scope=scope)
    _after_write(record, row, before)


def _note(session: Session, row: IncidentRow, text: str, scope: WriteScope) -> None:
    incident_service.add_timeline_entry(
        session=session,
        row=row,
        body=TimelineEntryCreate(kind="work_note", body=text[:20_000]),
        scope=scope,
    )


def _patch(
    session: Session, row: IncidentRow, record: IntakeAlertRow, patch: IncidentPatch, s: WriteScope
) -> None:
    before = row.version
    incident_service.patch_incident(session=session, row=row, body=patch, scope=s)
    if row.version == before:
        incident_service.record_incident_touch(session=session, row=row, scope=s)
    _after_write(record, row, before)


def _num(row: IncidentRow) -> str:
    return format_number(row.number)


def _describe(n: Notification) -> str:
    name = n.labels.get("alertname") or n.summary or n.key
    where = n.monitor or n.integration
    return f"{name[:120]} ({where[:80]})"


def _open(
    session: Session, n: Notification, scope: IntakeScope, record: IntakeAlertRow | None
) -> IncidentRow:
    now = scope.write.now
    body = incident_for(n, scope)
    if record is None:
        record = IntakeAlertRow(
            id=str(uuid.uuid4()),
            integration=n.integration,
            dedup_key=stored_key(n.key),
            first_seen=now,
            repeat_count=0,
            transitions=[],
        )
        session.add(record)
    record.status = "firing"
    record.labels = dict(n.labels)
    record.annotations = dict(n.annotations)
    record.generator_url = n.generator_url
    record.monitor = n.monitor
    record.repeat_count += 1
    record.last_seen = now
    record.silenced_by = None
    created = incident_service.create_incident(session=session, body=body, scope=scope.write)
    record.incident_id = created.id
    session.flush()
    # create_incident writes with a Core insert and returns a row the session does
    # not track; the version bump below must reach the database, so load it.
    row = session.get(IncidentRow, created.id)
    if row is None:  # pragma: no cover - inserted just above, in this transaction
        raise RuntimeError(f"incident {created.id} vanished inside its own transaction")
    set_committed_value(row, "alert", record)
    # The create recorded the incident before its alert record existed; this
    # version carries it (both land in the same commit).
    _publish(session, row, record, scope.write)
    return row


_OPEN_STATES = tuple(state.value for state in State if state.is_open)


# The plain repeat's two statements, built once: executing the same statement
# object reuses its cache key and compiled form, where building it per
# notification cost a third of a repeat's CPU (operator overloading, coercion,
# cache-key generation). Run on the session's connection, off the ORM.
_LATEST_ALERT = (
    select(
        IntakeAlertRow.id,
        IntakeAlertRow.status,
        IncidentRow.state,
        IncidentRow.updated_at,
        IncidentRow.number,
    )
    .join(IncidentRow, IncidentRow.id == IntakeAlertRow.incident_id)
    .where(
        IntakeAlertRow.integration == bindparam("p_integration"),
        IntakeAlertRow.dedup_key == bindparam("p_key"),
    )
    .order_by(IntakeAlertRow.first_seen.desc(), IntakeAlertRow.id.desc())
    .limit(1)
)
_COUNT_REPEAT = {
    with_url: update(IntakeAlertRow)
    .where(IntakeAlertRow.id == bindparam("p_id"))
    .values(
        repeat_count=IntakeAlertRow.repeat_count + 1,
        last_seen=bindparam("p_now", type_=IntakeAlertRow.__table__.c.last_seen.type),
        labels=bindparam("p_labels", type_=IntakeAlertRow.__table__.c.labels.type),
        **(
            {
                "generator_url": bindparam(
                    "p_url", type_=IntakeAlertRow.__table__.c.generator_url.type
                )
            }
            if with_url
            else {}
        ),
    )
    for with_url in (False, True)
}


def _quick_repeat(session: Session, n: Notification, scope: IntakeScope) -> str | None:
    """Count a plain repeat (still firing, incident open, feed not due) in two statements.

    The common case of a storm or of Alertmanager's resends, kept off the ORM:
    returns the incident number, or None when the full path must decide.
    """
    if n.action != "trigger":
        return None
    session.flush()  # as the ORM's autoflush would: what this request changed is seen
    connection = session.connection()
    found = connection.execute(
        _LATEST_ALERT, {"p_integration": n.integration, "p_key": stored_key(n.key)}
    ).first()
    if found is None or found.status != "firing" or found.state not in _OPEN_STATES:
        return None
    publish_s = scope.config.repeat_publish_s
    if publish_s <= 0 or (scope.write.now - found.updated_at).total_seconds() >= publish_s:
        return None
    if identity_key(IntakeAlertRow, found.id) in session.identity_map:
        return None  # loaded by an earlier alert of this request: keep one writer of it
    values: dict[str, Any] = {
        "p_id": found.id,
        "p_now": scope.write.now,
        "p_labels": dict(n.labels),
    }
    if n.generator_url:
        values["p_url"] = n.generator_url
    connection.execute(_COUNT_REPEAT[bool(n.generator_url)], values)
    return format_number(found.number)


def handle(session: Session, n: Notification, scope: IntakeScope, outcome: Outcome) -> None:
    """Apply one notification inside the caller's write transaction."""
    now = scope.write.now
    config = scope.config
    quick = _quick_repeat(session, n, scope)
    if quick is not None:
        outcome.updated.append(quick)
        return
    record, row = _latest_record(session, n.integration, stored_key(n.key))
    state = State.of(row.state) if row is not None else None

    if n.action == "trigger":
        if record is not None and row is not None and state is not None and state.is_open:
            record.repeat_count += 1
            record.last_seen = now
            record.labels = dict(n.labels)
            if n.generator_url:
                record.generator_url = n.generator_url
            if record.status == "resolved":
                record.status = "firing"
                if not _flapping(session, row, record, n, scope):
                    _note(session, row, f"Alert firing again: {_describe(n)}", scope.write)
                _publish(session, row, record, scope.write)
            else:
                _publish_repeat(session, row, record, scope.write, config)
            outcome.updated.append(_num(row))
            return
        if record is not None and row is not None and state is State.RESOLVED:
            record.repeat_count += 1
            record.last_seen = now
            record.status = "firing"
            flapping = _flapping(session, row, record, n, scope)
            _patch(session, row, record, IncidentPatch(state="reopened"), scope.write)
            if not flapping:
                _note(session, row, f"Reopened: the alert fired again: {_describe(n)}", scope.write)
            outcome.reopened.append(_num(row))
            return
        silence = config.silenced_by(n.labels, now)
        if silence is not None:
            if record is None or record.incident_id is not None:
                record = IntakeAlertRow(
                    id=str(uuid.uuid4()),
                    integration=n.integration,
                    dedup_key=stored_key(n.key),
                    first_seen=now,
                    repeat_count=0,
                    transitions=[],
                    labels=dict(n.labels),
                    annotations=dict(n.annotations),
                    generator_url=n.generator_url,
                    monitor=n.monitor,
                )
                session.add(record)
            record.status = "firing"
            record.repeat_count += 1
            record.last_seen = now
            record.silenced_by = silence.name[:200]
            outcome.silenced += 1
            return
        reuse = record if record is not None and record.incident_id is None else None
        opened = _open(session, n, scope, reuse)
        outcome.opened.append(_num(opened))
        return

    if record is None:
        outcome.ignored += 1  # acknowledge/resolve of an alert never seen (or long gone)
        return
    record.last_seen = now
    if row is None:
        record.status = "resolved" if n.action == "resolve" else record.status
        outcome.silenced += 1
        return
    if state is None or not state.is_open:
        record.status = "resolved" if n.action == "resolve" else record.status
        outcome.ignored += 1
        return

    if n.action == "acknowledge":
        record.status = "acknowledged"
        if row.acknowledged_at is None:
            _patch(session, row, record, IncidentPatch(acknowledged=True), scope.write)
            _note(session, row, f"Acknowledged by the monitor: {_describe(n)}", scope.write)
            outcome.acknowledged.append(_num(row))
        else:
            _publish_repeat(session, row, record, scope.write, config)
            outcome.updated.append(_num(row))
        return

    # resolve
    if record.status == "resolved":
        _publish_repeat(session, row, record, scope.write, config)
        outcome.updated.append(_num(row))
        return
    record.status = "resolved"
    if _flapping(session, row, record, n, scope):
        _publish(session, row, record, scope.write)
        outcome.updated.append(_num(row))
        return
    me = scope.write.principal.name
    acted = _human_acted(session, row, record, me)
    _note(session, row, f"Alert resolved: {_describe(n)}", scope.write)
    if config.auto_resolve and not acted:
        _patch(session, row, record, IncidentPatch(state="resolved"), scope.write)
        _note(
            session,
            row,
            "Resolved automatically: the alert resolved and nobody had worked on the incident",
            scope.write,
        )
        outcome.resolved.append(_num(row))
        return
    if config.auto_resolve:
        _note(
            session,
            row,
            "Left open: the alert resolved, but a person has worked on this incident; "
            "resolve it when the work is done",
            scope.write,
        )
    _publish(session, row, record, scope.write)
    outcome.updated.append(_num(row))


def _publish_repeat(
    session: Session,
    row: IncidentRow,
    record: IntakeAlertRow,
    scope: WriteScope,
    config: IntakeConfig,
) -> None:
    """Put a repeat on the change feed, at most every ``repeat_publish_s`` per incident.

    A repeat not published now stays counted; :func:`publish_pending` puts it
    out on the next timer run, so a burst costs one feed entry per window.
    """
    last = row.updated_at
    if config.repeat_publish_s <= 0 or (scope.now - last).total_seconds() >= (
        config.repeat_publish_s
    ):
        _publish(session, row, record, scope)


def has_pending(*, session: Session) -> bool:
    """Whether some open alert has repeats the change feed has not carried yet."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    IntakeAlertRow.incident_id.is_not(None),
                    IntakeAlertRow.published_count < IntakeAlertRow.repeat_count,
                )
            )
        )
    )


# Incidents the repeat publisher writes per transaction. The publisher holds the
# writer for each of its transactions, and a storm leaves hundreds of incidents
# with repeats to publish at once: 500 in one transaction kept every interactive
# write (a new alert, an acknowledgement) waiting about a quarter of a second.
PUBLISH_CHUNK = 25


def publish_pending(
    *, session: Session, scope: WriteScope, config: IntakeConfig, limit: int = PUBLISH_CHUNK
) -> tuple[int, bool]:
    """Publish up to ``limit`` coalesced repeats that are due now.

    Returns how many incidents were published and whether more may be due
    (the caller runs another transaction for them).
    """
    cutoff = scope.now - timedelta(seconds=config.repeat_publish_s)
    rows = session.execute(
        select(IntakeAlertRow, IncidentRow)
        .join(IncidentRow, IncidentRow.id == IntakeAlertRow.incident_id)
        .where(
            IntakeAlertRow.published_count < IntakeAlertRow.repeat_count,
            IncidentRow.updated_at <= cutoff,
        )
        .order_by(IncidentRow.updated_at)
        .limit(limit)
    ).all()
    for record, row in rows:
        _publish(session, row, record, scope)
    return len(rows), len(rows) == limit


def apply(*, session: Session, notifications: list[Notification], scope: IntakeScope) -> Outcome:
    """Apply every notification of one request, in order (the route commits once)."""
    outcome = Outcome()
    for n in notifications:
        handle(session, n, scope, outcome)
    return outcome
