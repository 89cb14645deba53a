"""Post-incident reviews: which incidents need one, when, and the draft built from the timeline.

Pure rules, no I/O: the server builds a draft with :func:`draft_timeline` and
:func:`prefill_impact`, checks action items with :func:`check_action_item`, and
asks :func:`pir_overdue` / :func:`item_overdue` for the reminders.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from console.domain.errors import InvalidValue, parse_enum
from console.domain.incident import Incident, TimelineEvent, TimelineKind
from console.domain.severity import Severity
from console.domain.text import duration_text

# Root cause and the other narrative fields: generous, but bounded.
NARRATIVE_MAX = 20_000

BLAMELESS_PROMPT = (
    "Describe the systems and conditions that let this happen (what failed, what was missing, "
    "what made it hard to see), not the people: a blameless review asks 'how did the system "
    "allow this?', never 'who did it?'."
)


class PirStatus(enum.Enum):
    """Where a review stands: drafted by dispatchers, held, approved by a commander."""

    DRAFT = "draft"
    HELD = "held"
    APPROVED = "approved"

    @classmethod
    def of(cls, value: object) -> PirStatus:
        return parse_enum(cls, value, "status")


class ItemState(enum.Enum):
    """An action item's state: dropping one needs a reason."""

    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"

    @classmethod
    def of(cls, value: object) -> ItemState:
        return parse_enum(cls, value, "state")


@dataclass(frozen=True)
class PirPolicy:
    """Which incidents need a review and when (settings; defaults from the practice)."""

    sev3_required: bool = False
    scheduled_after: timedelta = timedelta(hours=48)
    due_after: timedelta = timedelta(hours=72)


def pir_required(incident: Incident, policy: PirPolicy | None = None) -> bool:
    """SEV-1, SEV-2 and every major incident; SEV-3 only when the settings say so."""
    policy = policy or PirPolicy()
    if incident.major or incident.severity in (Severity.SEV1, Severity.SEV2):
        return True
    return policy.sev3_required and incident.severity is Severity.SEV3


def schedule(resolved_at: datetime, policy: PirPolicy | None = None) -> tuple[datetime, datetime]:
    """When the review is scheduled and when it is due, counted from resolution."""
    policy = policy or PirPolicy()
    return resolved_at + policy.scheduled_after, resolved_at + policy.due_after


@dataclass(frozen=True)
class PirEntry:
    """One line of the reconstructed timeline.

    ``source_id`` is the incident timeline entry it came from ("detected" for
    the opening); ``since_previous_s`` is the time since the entry before it.
    """

    source_id: str
    at: datetime
    kind: str
    summary: str
    author: str
    key: bool = False
    hidden: bool = False
    note: str = ""
    since_previous_s: int | None = None


# Entries that are milestones of the response, marked key in the draft.
_KEY_KINDS = frozenset(
    {TimelineKind.STATE_CHANGE, TimelineKind.ESCALATION, TimelineKind.SEVERITY_CHANGE}
)


TimelineRowTuple = tuple[str, str, datetime, str, str]
"""An incident timeline entry as plain values: (id, kind value, at, author, body)."""


def draft_timeline(incident: Incident, events: Iterable[TimelineEvent]) -> list[PirEntry]:
    """The review's timeline: detection, then every entry in time order, with the gaps.

    State changes, escalations and severity changes are marked key; the
    acknowledgement and the resolution come from the incident itself when the
    timeline does not hold them (an alert acknowledged at the source).
    """
    return draft_timeline_rows(
        incident, ((e.id, e.kind.value, e.at, e.author, e.body) for e in events)
    )


_KEY_KIND_VALUES = frozenset(kind.value for kind in _KEY_KINDS)


def draft_timeline_rows(incident: Incident, entries: Iterable[TimelineRowTuple]) -> list[PirEntry]:
    """:func:`draft_timeline` over plain tuples (what a database row gives), for long timelines:
    5,000 entries need not become 5,000 checked :class:`TimelineEvent` records first."""
    # (at, order, source_id, kind, summary, author, key): one PirEntry per row below.
    rows: list[tuple[datetime, int, str, str, str, str, bool]] = [
        (
            incident.opened_at,
            0,
            "detected",
            "detected",
            f"Detected: {incident.title}",
            incident.reporter or "system",
            True,
        )
    ]
    key_kinds = _KEY_KIND_VALUES
    for order, (entry_id, kind, at, author, body) in enumerate(entries, start=1):
        rows.append(
            (
                at,
                order,
                entry_id,
                kind,
                (body or "-").strip().partition("\n")[0][:300],
                author,
                kind in key_kinds,
            )
        )
    if incident.acknowledged_at is not None:
        rows.append(
            (
                incident.acknowledged_at,
                -1,
                "acknowledged",
                "acknowledged",
                "Acknowledged",
                incident.assignee or "system",
                True,
            )
        )
    rows.sort(key=itemgetter(0, 1))  # C-level key: 5,000 rows
    out: list[PirEntry] = []
    previous: datetime | None = None
    for at, _order, source_id, kind, summary, author, key in rows:
        gap = None if previous is None else int((at - previous).total_seconds())
        out.append(PirEntry(source_id, at, kind, summary, author, key, False, "", gap))
        previous = at
    return out


@dataclass(frozen=True)
class PirImpact:
    """What the incident cost: prefilled from the incident, editable in the review."""

    duration_s: int
    services: tuple[str, ...]
    users_affected: str
    customer_facing: bool
    sla_breached: bool


def prefill_impact(incident: Incident) -> PirImpact:
    """Duration open → resolved, the service, customer-facing for SEV-1/2, the SLA verdict."""
    end = incident.resolved_at or incident.updated_at
    duration = max(0, int((end - incident.opened_at).total_seconds()))
    breached = incident.resolution_due is not None and end > incident.resolution_due
    high = incident.severity in (Severity.SEV1, Severity.SEV2)
    return PirImpact(
        duration_s=duration,
        services=(incident.service,),
        users_affected="many" if high or incident.major else "some",
        customer_facing=high or incident.major,
        sla_breached=breached,
    )


def draft_document(
    incident: Incident,
    events: Iterable[TimelineEvent],
    now: datetime,
    policy: PirPolicy | None = None,
) -> dict[str, Any]:
    """A new review as its wire document (the body of ``GET /v1/pirs/{id}`` less its id,
    version and timestamps): the reconstructed timeline, the prefilled impact, and the
    participants (the assignee and everyone who wrote on the timeline)."""
    return draft_document_rows(
        incident, [(e.id, e.kind.value, e.at, e.author, e.body) for e in events], now, policy
    )


def draft_document_rows(
    incident: Incident,
    entries: Iterable[TimelineRowTuple],
    now: datetime,
    policy: PirPolicy | None = None,
) -> dict[str, Any]:
    """:func:`draft_document` over plain tuples (see :func:`draft_timeline_rows`)."""
    policy = policy or PirPolicy()
    events = list(entries)
    resolved = incident.resolved_at or incident.closed_at or now
    scheduled_at, due_at = schedule(resolved, policy)
    impact = prefill_impact(incident)
    participants: list[str] = []
    for name in dict.fromkeys([incident.assignee, *(e[3] for e in events)]):
        if name and name != "system" and name not in participants:
            participants.append(name)
    return {
        "incident_id": incident.id,
        "incident_number": incident.number,
        "title": incident.title,
        "service": incident.service,
        "severity": incident.severity.code,
        "major": incident.major,
        "required": pir_required(incident, policy),
        "status": PirStatus.DRAFT.value,
        "scheduled_at": scheduled_at.isoformat(),
        "due_at": due_at.isoformat(),
        "held_at": None,
        "approved_by": None,
        "timeline": [
            {
                "source_id": e.source_id,
                "at": e.at.isoformat(),
                "kind": e.kind,
                "summary": e.summary,
                "author": e.author,
                "key": e.key,
                "hidden": e.hidden,
                "note": e.note,
                "since_previous_s": e.since_previous_s,
            }
            for e in draft_timeline_rows(incident, events)
        ],
        "impact": {
            "duration_s": impact.duration_s,
            "services": list(impact.services),
            "users_affected": impact.users_affected,
            "customer_facing": impact.customer_facing,
            "sla_breached": impact.sla_breached,
        },
        "root_cause": "",
        "root_cause_known": True,
        "contributing_factors": [],
        "went_well": "",
        "could_improve": "",
        "participants": participants,
        "action_items": [],
        "blameless_prompt": BLAMELESS_PROMPT,
    }


def check_action_item(
    *, owner: str, due: datetime, now: datetime, directory: frozenset[str] | None
) -> None:
    """Refuse a due date in the past or an owner the directory does not know.

    ``directory`` is the set of contact ids and names; None skips the check
    (no directory loaded, e.g. a bare server).
    """
    if due < now:
        raise InvalidValue(
            "due", due.isoformat(), "a due date from now on (this one has passed already)"
        )
    if directory is not None and owner not in directory:
        raise InvalidValue(
            "owner", owner, "a person in the directory (a contact's id or name); add them first"
        )


def check_item_state(state: ItemState, reason: str | None) -> None:
    """A dropped item says why it was dropped."""
    if state is ItemState.DROPPED and not (reason or "").strip():
        raise InvalidValue("reason", reason or "", "why the item is dropped")


def pir_overdue(status: PirStatus, due_at: datetime, now: datetime) -> bool:
    """A review not held (nor approved) by its due time."""
    return status is PirStatus.DRAFT and now > due_at


def item_overdue(state: ItemState, due: datetime, now: datetime) -> bool:
    """An open action item past its due date."""
    return state is ItemState.OPEN and now > due


def format_duration(seconds: int | None) -> str:
    """``2 h 05 min``, ``4 min``, ``30 s``; empty for None."""
    if seconds is None:
        return ""
    return duration_text(timedelta(seconds=seconds), form="full")


# A problem's states and where each may go next; "resolved" may be reopened.
PROBLEM_MOVES: dict[str, tuple[str, ...]] = {
    "open": ("investigating", "known_error", "closed"),
    "investigating": ("known_error", "resolved", "closed"),
    "known_error": ("investigating", "resolved", "closed"),
    "resolved": ("closed", "investigating"),
    "closed": (),
}


def check_problem_move(number: str, current: str, wanted: str, workaround: str) -> None:
    """Refuse a move the problem lifecycle does not allow, or a known error without workaround."""
    if wanted not in PROBLEM_MOVES:
        raise InvalidValue("state", wanted, list(PROBLEM_MOVES))
    if wanted == current:
        return
    if wanted not in PROBLEM_MOVES.get(current, ()):
        allowed = ", ".join(PROBLEM_MOVES.get(current, ())) or "none (closed is final)"
        raise InvalidValue("state", wanted, f"from {current} of {number}: {allowed}")
    if wanted == "known_error" and not workaround.strip():
        raise InvalidValue(
            "workaround", "", "the workaround a known error publishes: write it first"
        )


def check_narrative(name: str, text: str) -> str:
    """A narrative field (root cause, what went well …) stripped; refused past the limit."""
    value = text.strip()
    if len(value) > NARRATIVE_MAX:
        raise InvalidValue(
            name,
            f"{len(value):,} characters",
            f"at most {NARRATIVE_MAX:,} characters: link the long analysis instead",
        )
    return value


# A problem is suggested at closure when the same service and category recur this often.
RECUR_COUNT = 3
RECUR_WINDOW = timedelta(days=30)


def problem_reasons(
    *, root_cause_known: bool | None, service: str, category: str | None, recent: int
) -> list[str]:
    """Why to suggest opening or linking a problem at closure (empty: no reason).

    ``root_cause_known`` is the review's flag (None: no review); ``recent`` is how
    many incidents of this service and category opened in the last :data:`RECUR_WINDOW`.
    """
    reasons = []
    if root_cause_known is False:
        reasons.append("the review names an unknown root cause")
    if category and recent >= RECUR_COUNT:
        days = RECUR_WINDOW.days
        reasons.append(f"{recent} incidents of {service} / {category} in the last {days} days")
    return reasons
