"""The demo's incidents and their timelines: times stored as "minutes ago", checked
against each other (acknowledged after opened, holds inside the incident's life)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import (
    HoldPeriod,
    Incident,
    Source,
    TimelineEvent,
    TimelineKind,
    format_number,
)
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Impact, PriorityMatrix, Severity, Urgency
from console.domain.sla import SlaPolicy
from console.services.demo.records import _Raw, _Record

SYSTEM_AUTHOR = "noc-console"
"""Author of timeline entries the console writes by itself (escalations, auto-close)."""


@dataclass(frozen=True)
class _IncidentContext:
    now: datetime
    policy: SlaPolicy
    matrix: PriorityMatrix
    services: Sequence[str]
    teams: Sequence[str]
    contacts: Sequence[str]
    subcategories: Mapping[str, Sequence[str]]


_INCIDENT_FIELDS = (
    "id",
    "number",
    "title",
    "description",
    "service",
    "category",
    "subcategory",
    "impact",
    "urgency",
    "severity",
    "state",
    "source",
    "major",
    "reporter",
    "assignee",
    "assignment_group",
    "opened_minutes_ago",
    "acknowledged_minutes_ago",
    "resolved_minutes_ago",
    "closed_minutes_ago",
    "updated_minutes_ago",
    "hold_reason",
    "holds",
    "timeline",
)
_INCIDENT_REQUIRED = (
    "id",
    "number",
    "title",
    "service",
    "impact",
    "urgency",
    "state",
    "opened_minutes_ago",
)
_EVENT_FIELDS = ("minutes_ago", "kind", "author", "body", "data")


def _incident(raw: _Raw, ctx: _IncidentContext) -> tuple[Incident, list[TimelineEvent]]:
    r = raw.read(_INCIDENT_FIELDS, _INCIDENT_REQUIRED)
    incident_id = r.text("id")
    number = r.raw.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        r.fail("number", f"{number!r} is not allowed", ["a whole number from 1"])
    impact = r.parsed("impact", Impact.of)
    urgency = r.parsed("urgency", Urgency.of)
    severity = (
        r.parsed("severity", Severity.of)
        if r.has("severity")
        else ctx.matrix.severity(impact, urgency)
    )
    state = r.parsed("state", State.of)
    source = r.parsed("source", Source.of) if r.has("source") else Source.PHONE
    category = r.ref("category", list(ctx.subcategories), required=False)
    subcategory = None
    if r.has("subcategory"):
        if category is None:
            r.fail("subcategory", "given without a category", ["set category as well"])
        else:
            subcategory = r.ref("subcategory", ctx.subcategories[category])

    opened_ago = r.minutes("opened_minutes_ago")
    if opened_ago is None:  # required, so read_demo never gets here; keeps the type exact
        r.fail("opened_minutes_ago", "missing")
    ack_ago = _not_before(r, "acknowledged_minutes_ago", "opened_minutes_ago", opened_ago)
    resolved_ago = _not_before(
        r,
        "resolved_minutes_ago",
        "acknowledged_minutes_ago" if ack_ago is not None else "opened_minutes_ago",
        ack_ago if ack_ago is not None else opened_ago,
    )
    closed_ago = None
    if resolved_ago is not None:
        closed_ago = _not_before(r, "closed_minutes_ago", "resolved_minutes_ago", resolved_ago)
    elif r.has("closed_minutes_ago"):
        r.fail("closed_minutes_ago", "set without resolved_minutes_ago", ["set both, or neither"])
    _check_state_times(r, state, ack_ago, resolved_ago, closed_ago)

    hold_reason = r.parsed("hold_reason", HoldReason.of) if r.has("hold_reason") else None
    if (state is State.ON_HOLD) != (hold_reason is not None):
        r.fail(
            "hold_reason",
            f"{r.raw.get('hold_reason')!r} does not fit state {state.value}",
            [*(h.value for h in HoldReason), "only with state on_hold"],
        )
    holds = tuple(
        _hold(r, position, item, opened_ago) for position, item in enumerate(r.items("holds"))
    )

    latest = min(x for x in (opened_ago, ack_ago, resolved_ago, closed_ago) if x is not None)
    updated_ago = _not_before(r, "updated_minutes_ago", "opened_minutes_ago", opened_ago)
    if updated_ago is None:
        updated_ago = latest

    def at(minutes: int | None) -> datetime | None:
        return None if minutes is None else ctx.now - timedelta(minutes=minutes)

    try:
        incident = Incident(
            id=incident_id,
            number=format_number(number),
            version=1,
            title=r.text("title"),
            description=r.text("description", required=False),
            service=r.ref("service", ctx.services) or "",
            impact=impact,
            urgency=urgency,
            severity=severity,
            state=state,
            source=source,
            major=r.boolean("major"),
            category=category,
            subcategory=subcategory,
            assignee=r.ref("assignee", ctx.contacts, required=False),
            assignment_group=r.ref("assignment_group", ctx.teams, required=False),
            reporter=r.text("reporter", required=False) or None,
            opened_at=ctx.now - timedelta(minutes=opened_ago),
            updated_at=ctx.now - timedelta(minutes=updated_ago),
            acknowledged_at=at(ack_ago),
            resolved_at=at(resolved_ago),
            closed_at=at(closed_ago),
            hold_reason=hold_reason,
            holds=tuple(HoldPeriod(ctx.now - timedelta(minutes=s), at(e)) for s, e in holds),
        )
        incident = replace(
            incident,
            response_due=ctx.policy.response_due(incident, ctx.now),
            resolution_due=ctx.policy.resolution_due(incident, ctx.now),
        )
    except InvalidValue as exc:
        raise r.error(exc.field, str(exc), exc.allowed) from exc
    except DomainError as exc:
        raise r.error("id", str(exc)) from exc

    events = [
        _event(r, position, item, incident, opened_ago, ctx)
        for position, item in enumerate(r.items("timeline"))
    ]
    return incident, events


def _not_before(r: _Record, name: str, earlier_name: str, earlier_ago: int) -> int | None:
    """Read a "minutes ago" that must not lie before an earlier step (a smaller or equal age)."""
    value = r.minutes(name, required=False)
    if value is not None and value > earlier_ago:
        r.fail(
            name,
            f"{value} is before {earlier_name} ({earlier_ago}): impossible order",
            [f"0 to {earlier_ago}"],
        )
    return value


def _check_state_times(
    r: _Record, state: State, ack: int | None, resolved: int | None, closed: int | None
) -> None:
    """Timestamps that must or must not exist for a state (a closed incident was resolved)."""
    if state in (State.RESOLVED, State.CLOSED) and resolved is None:
        r.fail("resolved_minutes_ago", f"missing for state {state.value}", ["minutes before now"])
    if state is State.CLOSED and closed is None:
        r.fail("closed_minutes_ago", "missing for state closed", ["minutes before now"])
    if state not in (State.RESOLVED, State.CLOSED) and resolved is not None:
        r.fail(
            "resolved_minutes_ago",
            f"set, but the state is {state.value}",
            ["only for states resolved and closed"],
        )
    if state is not State.CLOSED and closed is not None:
        r.fail("closed_minutes_ago", f"set, but the state is {state.value}", ["only for closed"])
    if state not in (State.NEW, State.CANCELLED) and ack is None:
        r.fail(
            "acknowledged_minutes_ago",
            f"missing for state {state.value}",
            ["minutes before now (every incident past new was acknowledged)"],
        )


def _hold(r: _Record, position: int, item: object, opened_ago: int) -> tuple[int, int | None]:
    where = f"holds[{position}]"
    allowed = {"started_minutes_ago", "ended_minutes_ago"}
    if not isinstance(item, dict) or not set(item) <= allowed or "started_minutes_ago" not in item:
        r.fail(
            where,
            f"{item!r} is not allowed",
            ['{"started_minutes_ago": n, "ended_minutes_ago": m}'],
        )
    started, ended = item["started_minutes_ago"], item.get("ended_minutes_ago")
    for name, value in (("started_minutes_ago", started), ("ended_minutes_ago", ended)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            r.fail(
                f"{where}.{name}", f"{value!r} is not a number of minutes", ["a whole number ≥ 0"]
            )
    if started > opened_ago:
        r.fail(
            f"{where}.started_minutes_ago",
            f"{started} is before the incident was opened",
            [f"0 to {opened_ago}"],
        )
    if ended is not None and ended > started:
        r.fail(
            f"{where}.ended_minutes_ago", f"{ended} is before the hold started", [f"0 to {started}"]
        )
    return started, ended


def _event(
    r: _Record,
    position: int,
    item: object,
    incident: Incident,
    opened_ago: int,
    ctx: _IncidentContext,
) -> TimelineEvent:
    where = f"timeline[{position}]"
    if not isinstance(item, dict):
        r.fail(where, f"{item!r} is not allowed", ["an object with " + ", ".join(_EVENT_FIELDS)])
    for key in item:
        if key not in _EVENT_FIELDS:
            r.fail(f"{where}.{key}", "unknown field", _EVENT_FIELDS)
    minutes = item.get("minutes_ago")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
        r.fail(
            f"{where}.minutes_ago",
            f"{minutes!r} is not a number of minutes",
            ["a whole number ≥ 0"],
        )
    if minutes > opened_ago:
        r.fail(
            f"{where}.minutes_ago",
            f"{minutes} is before the incident was opened ({opened_ago})",
            [f"0 to {opened_ago}"],
        )
    try:
        kind = TimelineKind.of(item.get("kind"))
    except InvalidValue as exc:
        raise r.error(f"{where}.kind", f"{exc.value!r} is not allowed", exc.allowed) from exc
    author = item.get("author")
    if author != SYSTEM_AUTHOR and author not in ctx.contacts:
        r.fail(
            f"{where}.author",
            f"{author!r} is not a known contact id",
            [SYSTEM_AUTHOR, *ctx.contacts],
        )
    body = item.get("body")
    if not isinstance(body, str):
        r.fail(f"{where}.body", f"{body!r} is not text", ["text"])
    data = item.get("data", {})
    if not isinstance(data, dict):
        r.fail(f"{where}.data", f"{data!r} is not allowed", ["an object"])
    try:
        return TimelineEvent(
            id=f"{incident.id}-t{position + 1:02d}",
            incident_id=incident.id,
            kind=kind,
            at=ctx.now - timedelta(minutes=minutes),
            author=str(author),
            body=str(body),
            data=dict(data),
        )
    except InvalidValue as exc:
        raise r.error(f"{where}.{exc.field}", str(exc), exc.allowed) from exc
