"""The v1 wire's incidents and timelines: create, patch, the record, its alert and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from console.wire.types import (
    AlertStatusWire,
    HoldReasonWire,
    ImpactWire,
    IntegrationWire,
    LongText,
    Name,
    NoteBody,
    Reason,
    SeverityWire,
    SourceWire,
    StateWire,
    TimelineKindWire,
    Title,
    UrgencyWire,
    UserTimelineKindWire,
    WireIn,
    WireOut,
)

# --------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------


class IncidentCreate(WireIn):
    """``POST /v1/incidents``: what the reporter knows at intake.

    The server computes number, severity, state, version, SLA due times and
    timestamps; a client cannot set them.
    """

    title: Title
    service: Name = Field(description="the affected service (its name or reference id)")
    impact: ImpactWire
    urgency: UrgencyWire
    category: Name | None = None
    subcategory: Name | None = None
    description: LongText = ""
    reporter: Name | None = None
    source: SourceWire = "phone"
    assignment_group: Name | None = Field(
        default=None, description="the team the incident routes to (a team id)"
    )
    severity: SeverityWire | None = Field(
        default=None,
        description="override the impact × urgency matrix (commander and up); "
        "needs severity_reason, which goes into the timeline",
    )
    severity_reason: Reason | None = None
    major: bool = Field(default=False, description="declare a major incident at once")
    commander: Name | None = Field(
        default=None, description="the Incident Commander's name (with major: true)"
    )
    major_reason: Reason | None = Field(
        default=None,
        description="why it is declared at once (with major: true), e.g. the criteria the "
        "triage found; written on the declaration entry",
    )

    @model_validator(mode="after")
    def _consistent(self) -> IncidentCreate:
        if self.severity is not None and self.severity_reason is None:
            raise ValueError("severity_reason is required with severity: say why you override it")
        if self.severity_reason is not None and self.severity is None:
            raise ValueError("severity_reason goes only with severity")
        if self.commander is not None and not self.major:
            raise ValueError("commander goes only with major: true (the Incident Commander)")
        if self.major_reason is not None and not self.major:
            raise ValueError("major_reason goes only with major: true (why it is declared)")
        return self


# Fields a PATCH may set to null (clearing them). Every other field must hold a
# value when given.
PATCH_NULLABLE = frozenset(
    {
        "category",
        "subcategory",
        "assignee",
        "assignment_group",
        "hold_reason",
        "severity_reason",
        "major_reason",
    }
)


class IncidentPatch(WireIn):
    """``PATCH /v1/incidents/{id}``: only the fields present are changed.

    ``state`` moves the incident through the lifecycle (``hold_reason`` is
    required with ``on_hold``). ``severity`` overrides the matrix and needs a
    commander (or admin) and a ``severity_reason``. ``acknowledged: true``
    records the acknowledgement.
    """

    title: Title | None = None
    description: LongText | None = None
    category: Name | None = None
    subcategory: Name | None = None
    impact: ImpactWire | None = None
    urgency: UrgencyWire | None = None
    assignee: Name | None = None
    assignment_group: Name | None = None
    state: StateWire | None = None
    hold_reason: HoldReasonWire | None = None
    severity: SeverityWire | None = None
    severity_reason: Reason | None = None
    major: bool | None = Field(
        default=None,
        description="true declares a major incident, false stands it down; either is an "
        "escalation entry on the timeline with who (the caller) and why (major_reason)",
    )
    major_reason: Reason | None = Field(
        default=None,
        description="why it is declared or stood down, e.g. the criterion that holds "
        '("SEV-1", "category security"); goes only with major',
    )
    acknowledged: bool | None = None

    @model_validator(mode="after")
    def _consistent(self) -> IncidentPatch:
        nulled = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in PATCH_NULLABLE
        )
        if nulled:
            raise ValueError(
                f"{', '.join(nulled)} cannot be null; leave the field out to keep its value"
            )
        if self.hold_reason is not None and self.state != "on_hold":
            raise ValueError('hold_reason goes only with state "on_hold"')
        if self.severity is not None and self.severity_reason is None:
            raise ValueError("severity_reason is required with severity: say why you override it")
        if self.severity_reason is not None and self.severity is None:
            raise ValueError("severity_reason goes only with severity")
        if self.major_reason is not None and self.major is None:
            raise ValueError(
                "major_reason goes only with major (true to declare, false to stand down)"
            )
        return self


class HoldPeriod(WireOut):
    """A stretch on hold that paused the SLA clocks (``ended`` null: still on hold)."""

    started: datetime
    ended: datetime | None = None


class IncidentAlert(WireOut):
    """What monitoring said about an incident opened by alert intake (``source: monitoring``).

    Read-only: the server keeps it up to date as notifications arrive.
    """

    integration: IntegrationWire = Field(description="the intake endpoint that opened it")
    key: str = Field(
        description="what deduplicates notifications: the alert fingerprint, the group key, "
        "or the event's dedup_key"
    )
    status: AlertStatusWire = Field(description="the alert's state at the last notification")
    first_seen: datetime
    last_seen: datetime = Field(description="when the last notification arrived")
    repeat_count: int = Field(
        default=1, ge=1, description="notifications folded into this incident, the first included"
    )
    labels: dict[str, str] = Field(default_factory=dict)
    generator_url: str | None = Field(
        default=None, description="the monitor's page for the alert (e.g. the Prometheus graph)"
    )
    monitor: str | None = Field(
        default=None, description="who sent it: the Alertmanager receiver or the event source"
    )
    flapping: bool = Field(
        default=False, description="fired and resolved too often; folded into this incident"
    )


class Incident(WireOut):
    """An incident as the server holds it; ``version`` is also sent as the ETag."""

    id: str
    number: str = Field(examples=["INC-000042"])
    title: str
    service: str
    impact: ImpactWire
    urgency: UrgencyWire
    severity: SeverityWire
    severity_overridden: bool = Field(
        default=False,
        description="true when a commander set the severity; impact/urgency changes then keep it",
    )
    state: StateWire
    version: int = Field(ge=1)
    opened_at: datetime
    updated_at: datetime
    description: str = ""
    category: str | None = None
    subcategory: str | None = None
    assignee: str | None = None
    assignment_group: str | None = None
    reporter: str | None = None
    source: SourceWire = "phone"
    major: bool = False
    hold_reason: HoldReasonWire | None = None
    holds: list[HoldPeriod] = Field(default_factory=list)
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    response_due: datetime | None = None
    resolution_due: datetime | None = None
    alert: IncidentAlert | None = Field(
        default=None, description="set when alert intake opened the incident"
    )
    roles: dict[str, str] = Field(
        default_factory=dict,
        description="major incidents: who holds each role now (role → person), e.g. "
        '{"Incident Commander": "dana"}; empty for an incident not major',
        examples=[{"Incident Commander": "dana", "Communications Lead": "lee"}],
    )
    next_update_due: dict[str, datetime | None] = Field(
        default_factory=dict,
        description="major incidents: when each audience (internal, executive, customer) is "
        "next owed a status update; null when nothing is owed (e.g. customer for a service "
        "that is not customer-facing); empty for an incident not major. An internal or "
        "customer update is overdue once the time has passed, an executive one five minutes "
        "after it",
    )


class IncidentPage(WireOut):
    """``GET /v1/incidents``: one page of the queue, newest first."""

    items: list[Incident]
    total: int = Field(description="how many incidents match the filters in all")
    limit: int
    offset: int


class TimelineEntryCreate(WireIn):
    """``POST /v1/incidents/{id}/timeline``: a work note, a status update or a CSAT score."""

    kind: UserTimelineKindWire
    body: NoteBody
    score: int | None = Field(
        default=None,
        ge=1,
        le=5,
        description="kind csat only: the caller's satisfaction, 1 (poor) to 5 (excellent)",
    )

    @model_validator(mode="after")
    def _score_with_csat(self) -> TimelineEntryCreate:
        if (self.kind == "csat") != (self.score is not None):
            raise ValueError("score: give a score 1–5 with kind csat, and only with it")
        return self


class TimelineEntry(WireOut):
    """One entry on an incident's timeline (written by a person or by the server)."""

    id: str
    incident_id: str
    kind: TimelineKindWire
    at: datetime
    author: str
    body: str
    data: dict[str, Any] = Field(default_factory=dict)


class TimelinePage(WireOut):
    """``GET /v1/incidents/{id}/timeline``: the entries, oldest first."""

    items: list[TimelineEntry]
