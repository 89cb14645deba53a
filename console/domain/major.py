"""Major incident command as plain rules: audiences, milestones, the update cadence, the war room.

Shared by the server (which holds the contract, :mod:`console.wire.major`) and
the console (which shows the countdowns). Plain Python, no third-party package.

* **Audiences**: ``internal`` (stakeholders inside the company, every 15 min
  for SEV-1 and 30 min for SEV-2 by default), ``executive`` (due at the
  declaration and again after each milestone), ``customer`` (only when the
  service is customer-facing, on the internal cadence).
* **Roles**: Incident Commander, Technical Lead, Communications Lead, plus
  any extra role a site names (e.g. Scribe). One person may hold several.
* The ``*_from_timeline`` readers rebuild the roles, the declaration and the
  war room from timeline events (the cache's records or the server's rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from console.domain import text
from console.domain.incident import Incident
from console.domain.limits import STATUS_UPDATE_CHARS
from console.domain.sla import duration_text
from console.domain.triage import major_incident_trigger

AUDIENCES: tuple[str, ...] = ("internal", "executive", "customer")
UPDATE_STATUSES: tuple[str, ...] = ("investigating", "identified", "monitoring", "resolved")
# The milestones after which the executives are owed an update.
MILESTONES = ("identified", "monitoring", "resolved")

STANDARD_ROLES: tuple[str, ...] = ("Incident Commander", "Technical Lead", "Communications Lead")
# Internal (and customer) cadence in minutes per severity number; SEV-3/4 have none.
DEFAULT_CADENCE_MIN: dict[int, int] = {1: 15, 2: 30}
MAX_UPDATE_CHARS = STATUS_UPDATE_CHARS
# Updates of an incident resolved longer ago than this leave the public page.
PUBLIC_RECENT = timedelta(hours=24)
# An executive update falls due at the milestone; it is late after this grace.
EXECUTIVE_GRACE = timedelta(minutes=5)


class PublishedUpdate(Protocol):
    """What the cadence reads of a published update (the wire's ``StatusUpdate`` has it)."""

    @property
    def audience(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def at(self) -> datetime: ...


def bridge_tel(bridge: Mapping[str, Any]) -> str | None:
    """The dial-in as a ``tel:`` URI with the PIN after pauses (``tel:+442079460000,,482913#``)."""
    dial = bridge.get("dial_in")
    if not dial:
        return None
    number = "".join(ch for ch in str(dial) if ch.isdigit() or ch == "+")
    pin = bridge.get("pin")
    return f"tel:{number}" + (f",,{pin}" if pin else "")


def war_room_from_timeline(events: list[Any]) -> tuple[dict[str, Any], dict[str, tuple[str, Any]]]:
    """The newest bridge and each responder's last action with its time."""
    bridge: dict[str, Any] = {}
    responders: dict[str, tuple[str, Any]] = {}
    for event in events:
        data = _get(event, "data") or {}
        if isinstance(data.get("bridge"), dict):
            bridge = dict(data["bridge"])
        if data.get("responder") and data.get("action") in ("joined", "left"):
            responders[str(data["responder"])] = (str(data["action"]), _get(event, "at"))
    return bridge, responders


def cadence_with(changes: Mapping[int, int]) -> dict[int, int]:
    """The default cadence with ``changes`` (severity number → minutes) applied; 0 owes none.

    A severity left out keeps its default: how ``[major.cadence_minutes]`` and
    ``serve --update-cadence`` are read.
    """
    cadence = dict(DEFAULT_CADENCE_MIN)
    for severity, minutes in changes.items():
        if minutes:
            cadence[severity] = minutes
        else:
            cadence.pop(severity, None)
    return cadence


def cadence_minutes(severity: int, cadence: Mapping[int, int] | None = None) -> int | None:
    """Minutes between internal (and customer) updates for this severity, None if none.

    ``cadence`` None means the defaults; an empty mapping means no severity owes any.
    """
    return (DEFAULT_CADENCE_MIN if cadence is None else cadence).get(severity)


def next_update_due(
    *,
    severity: int,
    declared_at: datetime,
    updates: Sequence[PublishedUpdate],
    customer_facing: bool,
    resolved: bool,
    cadence: Mapping[int, int] | None = None,
) -> dict[str, datetime | None]:
    """When each audience is next owed an update (None: nothing owed).

    Internal and customer: the last update to that audience (or the
    declaration) plus the cadence. Executive: at once after the declaration
    and after each milestone status published to anyone, until an executive
    update newer than it. A resolved incident owes nothing more once each
    audience has heard ``resolved``.
    """
    minutes = cadence_minutes(severity, cadence)
    last: dict[str, PublishedUpdate] = {}
    milestone_at = declared_at
    reached: set[str] = set()
    for update in sorted(updates, key=lambda u: u.at):
        last[update.audience] = update
        # A milestone is reached once: the first update that says it, to anyone.
        if update.status in MILESTONES and update.status not in reached:
            reached.add(update.status)
            milestone_at = max(milestone_at, update.at)
    due: dict[str, datetime | None] = {}
    for audience in AUDIENCES:
        heard = last.get(audience)
        silent = audience == "customer" and not customer_facing
        if silent or (resolved and heard is not None and heard.status == "resolved"):
            due[audience] = None
        elif audience == "executive":
            due[audience] = None if heard is not None and heard.at >= milestone_at else milestone_at
        elif minutes is None:
            due[audience] = None
        else:
            due[audience] = (heard.at if heard else declared_at) + timedelta(minutes=minutes)
    return due


def overdue(due: Mapping[str, datetime | None], now: datetime) -> list[str]:
    """The audiences whose update is past due at ``now``.

    An executive update falls due at the milestone itself; it counts as
    overdue after a five-minute grace, the time to write it.
    """
    return [a for a, at in due.items() if at is not None and now > late_from(a, at)]


def late_from(audience: str, due: datetime) -> datetime:
    """When an update due at ``due`` becomes late: after the grace for an executive one."""
    return due + EXECUTIVE_GRACE if audience == "executive" else due


def countdown_text(due: datetime | None, now: datetime, audience: str | None = None) -> str:
    """``12:04`` left, ``OVERDUE 3:10`` past, or ``—`` when nothing is owed.

    Under an hour the countdown ticks in minutes and seconds; from an hour
    on it reads in hours and minutes (``1 h 05 min``, ``OVERDUE 5 h 55 min``,
    :func:`~console.domain.text.duration_text`): time left rounds up, so it
    never shows less than there is, time overdue rounds down. An
    ``executive`` update counts down through its grace (the time to write
    it), so the countdown says OVERDUE exactly when :func:`overdue` does.
    """
    if due is None:
        return "—"
    if audience is not None:
        due = late_from(audience, due)
    seconds = int((due - now).total_seconds())
    sign = "" if seconds >= 0 else "OVERDUE "
    seconds = abs(seconds)
    if seconds >= 3600:
        span = timedelta(seconds=seconds)
        return sign + text.duration_text(span, rounding="up" if not sign else "down")
    return f"{sign}{seconds // 60}:{seconds % 60:02d}"


# -- the same state, from cached incidents and timelines --


def _get(event: Any, name: str) -> Any:
    return getattr(event, name)


def roles_from_timeline(events: list[Any]) -> dict[str, str]:
    """Who holds each role (the newest ``assignment`` entry with a ``role`` wins)."""
    roles: dict[str, str] = {}
    for event in events:
        data = _get(event, "data") or {}
        kind = _get(event, "kind")
        if getattr(kind, "value", kind) == "escalation" and data.get("commander"):
            roles["Incident Commander"] = str(data["commander"])  # named at the declaration
        if getattr(kind, "value", kind) == "assignment" and data.get("role"):
            if data.get("to"):
                roles[str(data["role"])] = str(data["to"])
            else:
                roles.pop(str(data["role"]), None)
    return roles


def declared_from_timeline(events: list[Any], opened_at: datetime) -> datetime:
    """When the incident was last declared major (its opening when no entry says)."""
    found = opened_at
    for event in events:
        kind = _get(event, "kind")
        if getattr(kind, "value", kind) == "escalation" and (_get(event, "data") or {}).get(
            "major"
        ):
            found = _get(event, "at")
    return found


# -- role, bridge and responder edits (checked on the console before queueing) --

# A role's name as the API takes it in ``PUT /v1/incidents/{id}/roles/{role}``.
ROLE_NAME_RE = r"^[A-Za-z][A-Za-z ]{0,59}$"
PERSON_MAX_CHARS = 120
BRIDGE_URL_RE = r"^https://\S+$"
BRIDGE_DIAL_IN_RE = r"^\+[0-9 ]{6,30}$"
BRIDGE_PIN_RE = r"^[0-9]{1,16}#?$"
RESPONDER_ACTIONS: tuple[str, ...] = ("joined", "left")


def role_problem(role: str) -> str | None:
    """Why ``role`` cannot name a role (None: it can)."""
    import re

    if not isinstance(role, str) or not re.match(ROLE_NAME_RE, role.strip()):
        return "letters and spaces, up to 60, starting with a letter (e.g. Scribe)"
    return None


def bridge_problems(url: str | None, dial_in: str | None, pin: str | None) -> dict[str, str]:
    """Each bridge field that is not acceptable, with what is allowed (empty: all fine)."""
    import re

    problems: dict[str, str] = {}
    if not url and not dial_in:
        problems["url"] = "a conference URL (https://…), or a dial-in number (with its PIN)"
    if url and (len(url) > 500 or not re.match(BRIDGE_URL_RE, url)):
        problems["url"] = "an https:// address without spaces, up to 500 characters"
    if dial_in and not re.match(BRIDGE_DIAL_IN_RE, dial_in):
        problems["dial_in"] = "an international number such as +44 20 7946 0000"
    if pin and not re.match(BRIDGE_PIN_RE, pin):
        problems["pin"] = "up to 16 digits, optionally ending in #"
    if pin and not dial_in:
        problems["pin"] = "only with a dial-in number"
    return problems


# -- the overdue state of a queue row, from the incident's own fields (#19 item 4) --


def earliest_due(due: Sequence[tuple[str, datetime | None]]) -> datetime | None:
    """When the first audience becomes overdue (the executive grace included), None if none.

    The queue keeps this one instant per major incident, so its one-second
    tick compares a single datetime instead of re-reading the cadence.
    """
    found: datetime | None = None
    for audience, at in due:
        if at is None:
            continue
        limit = late_from(audience, at)
        if found is None or limit < found:
            found = limit
    return found


def overdue_badge(due: Sequence[tuple[str, datetime | None]], now: datetime) -> str | None:
    """``◷ update overdue (internal 4 min)`` when an audience is late, else None.

    Words and a shape, not colour alone: the queue's title column and the
    detail view show it as it is. With several late audiences the one late
    longest comes first (``internal 12 min, executive 3 min``).
    """
    late: list[tuple[timedelta, str]] = []
    for audience, at in due:
        if at is None:
            continue
        # Late since the grace ended, as the countdown says (``countdown_text``).
        by = now - late_from(audience, at)
        if by > timedelta(0):
            late.append((by, audience))
    if not late:
        return None
    late.sort(reverse=True)
    parts = ", ".join(
        f"{audience} {duration_text(max(by, timedelta(minutes=1)))}" for by, audience in late
    )
    return f"◷ update overdue ({parts})"


def due_after_publish(
    due: Sequence[tuple[str, datetime | None]],
    *,
    audience: str,
    status: str,
    at: datetime,
    severity: int,
    cadence: Mapping[int, int] | None = None,
) -> tuple[tuple[str, datetime | None], ...]:
    """The incident's ``next_update_due`` as it reads once an update is published at ``at``.

    What the console shows at once, before the backend's own reckoning
    arrives through the feed: that audience's countdown restarts (an
    executive one is met); a milestone status makes the executives owed at
    once; ``resolved`` to an audience owes it nothing more.
    """
    minutes = cadence_minutes(severity, cadence)
    out: dict[str, datetime | None] = dict(due)
    if status == "resolved" or audience == "executive":
        out[audience] = None
    elif audience in out and out[audience] is not None and minutes is not None:
        out[audience] = at + timedelta(minutes=minutes)
    if status in MILESTONES and audience != "executive" and "executive" in out:
        out["executive"] = at
    return tuple(out.items())


def declare_criteria(incident: Incident) -> list[str]:
    """The major-incident criteria an open incident not yet major meets (SEV-1, security).

    The triage's other criteria (the share of users, a regulatory
    notification) are answers of the call, not fields of the record; the
    wizard names them when it is asked.
    """
    if incident.major or not incident.is_open:
        return []
    trigger = major_incident_trigger(
        severity=incident.severity, category=incident.category, impact=None, urgency=None
    )
    return list(trigger.reasons)


def command_order(incident: Incident) -> tuple[int, datetime, str]:
    """How open major incidents are ranked: the most severe first, then the oldest.

    One rule for the console's first selection and the workspace's list, so the
    major the console opens on is the one on top of the workspace.
    """
    return (int(incident.severity), incident.opened_at, incident.number)


def running_major(incidents: Iterable[Incident]) -> Incident | None:
    """The major incident being run: the first open one in :func:`command_order`; None if none.

    What the console opens on (the queue selects it) while a major incident is open.
    """
    majors = [i for i in incidents if i.major and i.is_open]
    return min(majors, key=command_order, default=None)
