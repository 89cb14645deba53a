"""Wire models of post-incident reviews (``/v1/pirs``) and problems (``/v1/problems``).

Kept beside :mod:`console.wire`, whose text types they reuse. A PIR and a
problem are each sent whole: the body of ``GET`` is also the change feed's
``data`` for the kinds ``pir`` and ``problem``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, HttpUrl

from console.wire import Instant, LongText, Name, NoteBody, Reason, ShortText, WireIn, WireOut

PirStatusWire = Literal["draft", "held", "approved"]
ItemStateWire = Literal["open", "done", "dropped"]
ProblemStateWire = Literal["open", "investigating", "known_error", "resolved", "closed"]


class PirTimelineEntry(WireOut):
    """One line of the review's timeline, reconstructed from the incident's."""

    source_id: str = Field(description='the incident timeline entry, or "detected"/"acknowledged"')
    at: datetime
    kind: str
    summary: str
    author: str
    key: bool = False
    hidden: bool = False
    note: str = ""
    since_previous_s: int | None = Field(default=None, description="seconds since the entry before")


class PirImpact(WireOut):
    """What the incident cost (prefilled from the incident, editable)."""

    duration_s: int = Field(ge=0)
    services: list[str]
    users_affected: str
    customer_facing: bool
    sla_breached: bool


class ImpactPatch(WireIn):
    """Corrections to the prefilled impact; fields left out stay as they are."""

    duration_s: int | None = Field(default=None, ge=0, le=10 * 365 * 86400)
    services: list[Name] | None = Field(default=None, max_length=50)
    users_affected: ShortText | None = None
    customer_facing: bool | None = None
    sla_breached: bool | None = None


class ActionItem(WireOut):
    """A follow-up with an owner and a due date."""

    id: str
    title: str
    owner: str
    due: datetime
    state: ItemStateWire
    reason: str | None = None
    tracker_url: str | None = None
    overdue: bool = False


class ActionItemCreate(WireIn):
    """``POST /v1/pirs/{id}/action-items``: the owner must be in the directory."""

    title: Name
    owner: Name = Field(description="a contact's id or name from the directory")
    due: Instant = Field(description="from now on; a date in the past is refused")
    tracker_url: HttpUrl | None = Field(default=None, description="optional external tracker link")


class ActionItemUpdate(WireIn):
    """A state change of one action item inside ``PATCH /v1/pirs/{id}``."""

    id: str = Field(max_length=36)
    state: ItemStateWire
    reason: Reason | None = Field(default=None, description="required when dropping")


class TimelineMark(WireIn):
    """Mark one entry of the review's timeline key or hidden, or add a note to it."""

    source_id: str = Field(max_length=64)
    key: bool | None = None
    hidden: bool | None = None
    note: LongText | None = None


class PirCreate(WireIn):
    """``POST /v1/pirs``: draft the review of a resolved incident."""

    incident_id: str = Field(max_length=36, description="the incident's id or INC number")


class PirPatch(WireIn):
    """``PATCH /v1/pirs/{id}``: fields left out stay as they are.

    ``status: approved`` needs a commander; the narrative fields are bounded
    (20,000 characters): a longer text is refused, not cut.
    """

    root_cause: LongText | None = None
    root_cause_known: bool | None = None
    contributing_factors: list[ShortText] | None = Field(default=None, max_length=50)
    went_well: LongText | None = None
    could_improve: LongText | None = None
    participants: list[Name] | None = Field(default=None, max_length=100)
    impact: ImpactPatch | None = None
    timeline_marks: list[TimelineMark] | None = Field(default=None, max_length=5_000)
    action_items: list[ActionItemUpdate] | None = Field(default=None, max_length=200)
    status: PirStatusWire | None = None
    held_at: Instant | None = None


class Pir(WireOut):
    """A post-incident review, as stored; ``version`` is its ETag."""

    id: str
    incident_id: str
    incident_number: str
    title: str
    service: str
    severity: str
    major: bool
    required: bool = Field(
        default=True, description="SEV-1, SEV-2 and majors (SEV-3 per the server's settings)"
    )
    version: int = Field(ge=1)
    status: PirStatusWire
    scheduled_at: datetime
    due_at: datetime
    held_at: datetime | None = None
    approved_by: str | None = None
    overdue: bool = False
    created_at: datetime
    updated_at: datetime
    timeline: list[PirTimelineEntry]
    impact: PirImpact
    root_cause: str = ""
    root_cause_known: bool = True
    contributing_factors: list[str] = Field(default_factory=list)
    went_well: str = ""
    could_improve: str = ""
    participants: list[str] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)
    blameless_prompt: str = ""


class PirSummary(WireOut):
    """One line of ``GET /v1/pirs``."""

    id: str
    incident_id: str
    incident_number: str
    title: str
    status: PirStatusWire
    due_at: datetime
    overdue: bool
    open_items: int
    overdue_items: int
    version: int


class PirPage(WireOut):
    """``GET /v1/pirs``."""

    items: list[PirSummary]


class ProblemCreate(WireIn):
    """``POST /v1/problems``: a problem with the incidents it explains."""

    statement: NoteBody
    incidents: list[str] = Field(default_factory=list, max_length=500)
    root_cause: LongText = ""
    workaround: LongText = ""


class ProblemPatch(WireIn):
    """``PATCH /v1/problems/{id}``: fields left out stay as they are."""

    statement: NoteBody | None = None
    state: ProblemStateWire | None = None
    root_cause: LongText | None = None
    workaround: LongText | None = None
    permanent_fix: LongText | None = None
    change_ref: ShortText | None = None
    link_incidents: list[str] | None = Field(default=None, max_length=500)


class Problem(WireOut):
    """A problem record; in state ``known_error`` it publishes its workaround."""

    id: str
    number: str
    version: int = Field(ge=1)
    statement: str
    state: ProblemStateWire
    incidents: list[str]
    service: str | None = None
    category: str | None = None
    root_cause: str = ""
    workaround: str = ""
    permanent_fix: str = ""
    change_ref: str = ""
    known_error_id: str | None = None
    created_at: datetime
    updated_at: datetime


class ProblemPage(WireOut):
    """``GET /v1/problems``."""

    items: list[Problem]


class WorkaroundApplied(WireIn):
    """``POST /v1/incidents/{id}/workaround``: record that a known error's workaround was used."""

    known_error_id: str = Field(max_length=64)
    note: LongText = ""
