"""The v1 wire schema: every JSON body the ticket API sends or accepts.

One definition of every field on the wire, shared by the reference server
(``console.server``) and the client's REST connector and sync engine, so the two
sides cannot drift apart. Pydantic v2 models only: no Qt, no SQLAlchemy.

Conventions:

- Request bodies (``...Create``, ``...Patch``, ``...In``) forbid unknown fields,
  so a typo in a field name is an error, not silently ignored.
- Response bodies ignore unknown fields, so an older client keeps working
  against a newer server that adds one.
- Enumerated fields carry the domain's wire values (``"high"``, ``"SEV-1"``,
  ``"in_progress"`` …); :func:`incident_to_wire` and :func:`incident_from_wire`
  convert to and from the domain's :class:`~console.domain.incident.Incident`.
- Every timestamp carries a time zone; the server sends UTC.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from console.domain.escalation import CommunicationRule as DomainCommunicationRule
from console.domain.escalation import EscalationPolicy as DomainEscalationPolicy
from console.domain.escalation import EscalationTier as DomainEscalationTier
from console.domain.escalation import ManagementRule as DomainManagementRule
from console.domain.incident import (
    AlertInfo as DomainAlertInfo,
)
from console.domain.incident import (
    HoldPeriod as DomainHoldPeriod,
)
from console.domain.incident import (
    Incident as DomainIncident,
)
from console.domain.incident import (
    Source,
    TimelineEvent,
    TimelineKind,
)
from console.domain.lifecycle import HoldReason, State
from console.domain.limits import (
    LONG_TEXT_CHARS,
    NAME_CHARS,
    NOTE_CHARS,
    REASON_CHARS,
    SHORT_TEXT_CHARS,
    TITLE_CHARS,
)
from console.domain.oncall import Override as DomainOverride
from console.domain.oncall import OverrideKind, validate_overrides
from console.domain.oncall import Rotation as DomainRotation
from console.domain.phones import parse_phone
from console.domain.roles import Role
from console.domain.severity import Impact, Severity, Urgency

API_VERSION = "v1"

# --------------------------------------------------------------------------
# Enumerations, as their wire values. tests/server/test_wire.py proves each one
# matches its domain enum exactly, so the domain stays the single source.
# --------------------------------------------------------------------------

ImpactWire = Literal["high", "medium", "low"]
UrgencyWire = Literal["high", "medium", "low"]
SeverityWire = Literal["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
StateWire = Literal[
    "new", "triaged", "in_progress", "on_hold", "resolved", "closed", "reopened", "cancelled"
]
HoldReasonWire = Literal["awaiting_caller", "awaiting_vendor", "awaiting_change"]
SourceWire = Literal["phone", "email", "chat", "monitoring", "portal"]
TimelineKindWire = Literal[
    "work_note",
    "status_update",
    "state_change",
    "assignment",
    "escalation",
    "csat",
    "severity_change",
]
# The kinds a person may write by hand; the rest are written by the server.
UserTimelineKindWire = Literal["work_note", "status_update", "csat"]
RoleWire = Role
IntegrationWire = Literal["alertmanager", "events"]
AlertStatusWire = Literal["firing", "acknowledged", "resolved"]
ChangeKindWire = Literal[
    "incident",
    "timeline",
    "service",
    "team",
    "contact",
    "policy",
    "shift",
    "category",
    "known_error",
    "pir",
    "problem",
]
ChangeOpWire = Literal["upsert", "delete"]
WeekdayWire = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ChannelWire = Literal["email", "sms", "phone", "chat", "status_page", "webhook"]
OverrideKindWire = Literal["swap", "cover"]

# Reference-data kinds in the change feed, in the order a fresh client should
# apply them (a service names its team, a policy its service, and so on).
REFERENCE_KINDS: tuple[ChangeKindWire, ...] = (
    "team",
    "contact",
    "shift",
    "service",
    "category",
    "policy",
    "known_error",
)

# --------------------------------------------------------------------------
# Constrained scalar types
# --------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    """Refuse text no database can store: NUL characters and lone surrogates.

    PostgreSQL rejects NUL in text columns and UTF-8 cannot encode a lone
    surrogate; catching both here turns what would be a server error into a
    422 naming the field. Surrounding blanks are dropped.
    """
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it contains a lone surrogate)") from None
    return value.strip()


# Characters that show nothing by themselves: a title of only these looks
# empty on the board (and a bidi override could make it read backwards).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _invisible(char: str) -> bool:
    return char in _INVISIBLE_LETTERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be empty or only blanks")
    if all(_invisible(char) for char in value):
        raise ValueError(
            "must hold visible text, not only blanks, zero-width or direction-control characters"
        )
    return value


# What the OpenAPI document says of these strings, so generated clients (and
# schemathesis) know the rules the validators enforce.
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = r"^[^\x00]*\S[^\x00]*$"


def _text_schema(max_length: int, *, required: bool) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if required:
        schema.update(minLength=1, pattern=NOT_BLANK_PATTERN)
    else:
        schema["pattern"] = NO_NUL_PATTERN
    return WithJsonSchema(schema)


# Free text: bounded, no NUL, surrounding blanks dropped; the required kinds
# must hold more than blanks.
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TITLE_CHARS),
    AfterValidator(_clean_text),
    AfterValidator(_not_blank),
    _text_schema(TITLE_CHARS, required=True),
]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NAME_CHARS),
    AfterValidator(_clean_text),
    AfterValidator(_not_blank),
    _text_schema(NAME_CHARS, required=True),
]
NoteBody = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NOTE_CHARS),
    AfterValidator(_clean_text),
    AfterValidator(_not_blank),
    _text_schema(NOTE_CHARS, required=True),
]
Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REASON_CHARS),
    AfterValidator(_clean_text),
    AfterValidator(_not_blank),
    _text_schema(REASON_CHARS, required=True),
]
ShortText = Annotated[
    str,
    StringConstraints(max_length=SHORT_TEXT_CHARS),
    AfterValidator(_clean_text),
    _text_schema(SHORT_TEXT_CHARS, required=False),
]
LongText = Annotated[
    str,
    StringConstraints(max_length=LONG_TEXT_CHARS),
    AfterValidator(_clean_text),
    _text_schema(LONG_TEXT_CHARS, required=False),
]

REF_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
RefId = Annotated[str, StringConstraints(pattern=REF_ID_PATTERN)]
"""Reference-data id chosen by the admin: lower-case letters, digits, ``.``, ``_``, ``-``."""

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN)]

HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"

# Any instant the wire accepts from a client lies within this range; anything
# outside is a typo (and year 1 or 9999 overflows when converted to UTC).
_EARLIEST = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
_LATEST = datetime.fromisoformat("2200-01-01T00:00:00+00:00")


def _sane_instant(value: datetime) -> datetime:
    if not _EARLIEST <= value <= _LATEST:
        raise ValueError("must lie between 1970 and 2200")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_sane_instant)]


def normalise_phone(value: str) -> str:
    """Parse an international phone number and return it in E.164 (``+442079460958``).

    One set of rules for the server, the CSV import and the demo loader
    (:func:`console.domain.phones.parse_phone`). Raises ``ValueError`` with the reason,
    so the admin knows what to fix.
    """
    return parse_phone(_clean_text(value).strip())


Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(normalise_phone)]
"""A phone number in international form; stored and sent as E.164."""


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def check_time_zone(value: str) -> str:
    """Accept an IANA time zone name (``Europe/Berlin``); the error gives an example."""
    if value not in _known_zones():
        raise ValueError(
            f"{value!r} is not an IANA time zone name; use a name like Europe/Berlin or UTC"
        )
    return value


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(check_time_zone)]

# --------------------------------------------------------------------------
# Base classes
# --------------------------------------------------------------------------


class WireIn(BaseModel):
    """A request body: unknown fields are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class WireOut(BaseModel):
    """A response body: unknown fields are ignored, so newer servers stay readable."""

    model_config = ConfigDict(extra="ignore")


# --------------------------------------------------------------------------
# Errors and health
# --------------------------------------------------------------------------


class ErrorDetail(WireOut):
    """What went wrong, as a stable code and a sentence a person can act on."""

    code: str = Field(description="stable machine code, e.g. `invalid_request`, `stale_version`")
    message: str = Field(description="what happened and what to do about it")


class ErrorBody(WireOut):
    """Every error response: ``{"error": {"code": "...", "message": "..."}}``."""

    error: ErrorDetail


class Health(WireOut):
    """``GET /v1/health``: the server is up and can reach its database."""

    status: Literal["ok"] = "ok"
    version: str
    api: str = API_VERSION
    database: Literal["sqlite", "postgresql"]


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

    @model_validator(mode="after")
    def _consistent(self) -> IncidentCreate:
        if self.severity is not None and self.severity_reason is None:
            raise ValueError("severity_reason is required with severity: say why you override it")
        if self.severity_reason is not None and self.severity is None:
            raise ValueError("severity_reason goes only with severity")
        if self.commander is not None and not self.major:
            raise ValueError("commander goes only with major: true (the Incident Commander)")
        return self


# Fields a PATCH may set to null (clearing them). Every other field must hold a
# value when given.
PATCH_NULLABLE = frozenset(
    {"category", "subcategory", "assignee", "assignment_group", "hold_reason", "severity_reason"}
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
    major: bool | None = None
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


# --------------------------------------------------------------------------
# Reference data: teams, services, contacts, categories, escalation policies,
# on-call rotations. ``...In`` is the PUT body; the plain name adds the id, the
# version and the time of the last change. The shapes follow the domain's
# records (console.domain.escalation, console.domain.oncall) and the demo data
# set (resources/demo), so one JSON document works for all three;
# :func:`policy_to_domain` and :func:`rotation_to_domain` convert, and the
# server runs them on every write so the domain's rules apply at the door.
# --------------------------------------------------------------------------

TeamTierWire = Literal["L1", "L2", "L3"]
CriticalityWire = Literal["critical", "high", "medium", "low"]


class ReferenceMeta(WireOut):
    """Fields the server adds to every reference item."""

    id: str
    version: int = Field(ge=1)
    updated_at: datetime


class TeamIn(WireIn):
    """A resolver group (service desk, network, database, a vendor's support desk)."""

    name: Name
    tier: TeamTierWire = Field(description="L1 service desk, L2 specialist, L3 engineering/vendor")
    email: Email | None = None
    chat_channel: ShortText | None = None
    description: LongText = ""


class Team(ReferenceMeta, TeamIn):
    """A team, as stored."""

    model_config = ConfigDict(extra="ignore")


class ServiceIn(WireIn):
    """A business or technical service incidents are raised against."""

    name: Name
    owner_team: RefId = Field(description="id of the team that owns the service")
    criticality: CriticalityWire = "medium"
    description: LongText = ""
    customer_facing: bool = Field(
        default=False,
        description="customers use it: its major incidents get customer updates and "
        "appear on the public status page",
    )


class Service(ReferenceMeta, ServiceIn):
    """A service, as stored."""

    model_config = ConfigDict(extra="ignore")


class ContactIn(WireIn):
    """A person to call at 2 a.m.: phones in international form, stored as E.164."""

    name: Name
    role: Name = Field(description='what they are, e.g. "Network on-call engineer"')
    team: RefId
    primary_phone: Phone
    alternate_phone: Phone | None = None
    email: Email | None = None
    time_zone: TimeZoneName = Field(description="IANA name, e.g. Europe/Berlin")


class Contact(ReferenceMeta, ContactIn):
    """A contact, as stored."""

    model_config = ConfigDict(extra="ignore")


class Subcategory(WireIn):
    """One subcategory of a category."""

    id: RefId
    name: Name


class CategoryIn(WireIn):
    """One branch of the classification taxonomy: a category and its subcategories."""

    name: Name
    subcategories: list[Subcategory] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _unique(self) -> CategoryIn:
        ids = [sub.id for sub in self.subcategories]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"subcategory id {twice[0]!r} is used twice")
        return self


class Category(ReferenceMeta, CategoryIn):
    """A category, as stored."""

    model_config = ConfigDict(extra="ignore")


class KnownErrorIn(WireIn):
    """A known error: a problem already understood, with the workaround to give callers.

    ``services`` are the service ids it applies to (empty: any service);
    ``category`` is a category id; ``article`` a knowledge-article link or
    reference.
    """

    title: Title
    symptoms: NoteBody
    workaround: NoteBody
    services: list[RefId] = Field(default_factory=list, max_length=200)
    category: RefId | None = None
    article: ShortText | None = None

    @model_validator(mode="after")
    def _unique(self) -> KnownErrorIn:
        twice = sorted({s for s in self.services if self.services.count(s) > 1})
        if twice:
            raise ValueError(f"service {twice[0]!r} is listed twice")
        if self.article is not None and not self.article:
            self.article = None
        return self


class KnownError(ReferenceMeta, KnownErrorIn):
    """A known error, as stored."""

    model_config = ConfigDict(extra="ignore")


class EscalationTier(WireIn):
    """One functional tier: which team is engaged, who answers, and after how long.

    Who answers is the on-call rotation ``rotation_id`` or, for a tier without a
    rota (a vendor hotline), the fixed contact ``contact_id``; not both.
    """

    level: int = Field(ge=1, le=9, description="1 = L1 service desk, 2 = L2 specialist, 3 = L3")
    name: Name = Field(description='e.g. "L1 Service desk", "L2 Database", "L3 Vendor"')
    team: RefId
    rotation_id: RefId | None = Field(default=None, description="the rotation to page")
    contact_id: RefId | None = Field(default=None, description="a fixed contact instead")
    engage_after_minutes: int = Field(
        ge=0, le=10_080, description="minutes after opening when the tier is engaged"
    )

    @model_validator(mode="after")
    def _one_source(self) -> EscalationTier:
        if self.rotation_id is not None and self.contact_id is not None:
            raise ValueError("give rotation_id or contact_id, not both")
        return self


class ManagementRule(WireIn):
    """Hierarchical escalation: tell ``who`` at these severities after a time or SLA share.

    Whichever of ``after_minutes`` and ``at_sla_fraction`` comes first triggers
    it; give at least one. ``who`` is a contact id or a role ("duty manager");
    with ``rotation_id`` it is whoever holds that rota.
    """

    id: Annotated[str, StringConstraints(max_length=120)] = Field(
        default="", description="stable id of the rule (default: who@severities)"
    )
    who: Name
    severities: list[SeverityWire] = Field(min_length=1, max_length=4)
    after_minutes: int | None = Field(default=None, ge=0, le=10_080)
    at_sla_fraction: float | None = Field(
        default=None, gt=0, le=10, description="share of the running SLA target, e.g. 0.8"
    )
    rotation_id: RefId | None = None

    @model_validator(mode="after")
    def _some_trigger(self) -> ManagementRule:
        if self.after_minutes is None and self.at_sla_fraction is None:
            raise ValueError("give after_minutes, at_sla_fraction, or both")
        return self


class CommunicationRule(WireIn):
    """Which stakeholder group hears status updates at a severity, how, and how often.

    ``every_minutes`` null means only at resolution. ``channel`` and ``target``
    tell the (later) notifier where to send them, a webhook URL included.
    """

    stakeholder_group: Name = Field(description='e.g. "Affected customers", "Executives"')
    severity: SeverityWire
    every_minutes: int | None = Field(default=None, ge=1, le=1_440)
    channel: ChannelWire = "email"
    target: ShortText | None = Field(
        default=None, description="address, channel name or URL the updates go to"
    )


class EscalationPolicyIn(WireIn):
    """The escalation matrix of one service: tiers, management and communication rules.

    ``auto_escalate`` lets the server's escalation timer engage a tier when its
    delay has passed; ``response_trigger`` is the share of the response target
    at which the next tier is brought forward.
    """

    service: RefId
    tiers: list[EscalationTier] = Field(min_length=1, max_length=9)
    management: list[ManagementRule] = Field(default_factory=list, max_length=50)
    communication: list[CommunicationRule] = Field(default_factory=list, max_length=50)
    response_trigger: float = Field(default=0.75, gt=0, le=1)
    auto_escalate: bool = True


class EscalationPolicy(ReferenceMeta, EscalationPolicyIn):
    """An escalation policy, as stored."""

    model_config = ConfigDict(extra="ignore")


class RotationOverride(WireIn):
    """A change to who is on call: ``cover`` for a period, or one half of a week ``swap``.

    A swap is two overrides, one per rota week, each from hand-off to hand-off.
    """

    kind: OverrideKindWire
    contact_id: RefId = Field(description="who is on call during the override")
    start: Instant
    end: Instant
    note: ShortText = ""

    @model_validator(mode="after")
    def _span(self) -> RotationOverride:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


WEEKDAYS: tuple[WeekdayWire, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class OnCallRotationIn(WireIn):
    """A weekly on-call rotation (kind ``shift`` in the change feed).

    Members take turns in order, one week each; the pager changes hands on
    ``handoff_weekday`` at ``handoff_time`` on the wall clock of ``time_zone``.
    ``start`` is the first hand-off date (a ``handoff_weekday``), when
    ``members[0]`` takes over.
    """

    name: Name
    team: RefId
    time_zone: TimeZoneName
    handoff_weekday: WeekdayWire = "monday"
    handoff_time: Annotated[str, StringConstraints(pattern=HHMM_PATTERN)] = "09:00"
    start: date
    members: list[RefId] = Field(min_length=1, max_length=50, description="contact ids in turn")
    overrides: list[RotationOverride] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _sane(self) -> OnCallRotationIn:
        if not date(1970, 1, 1) <= self.start <= date(2200, 1, 1):
            raise ValueError("start must lie between 1970 and 2200")
        if WEEKDAYS[self.start.weekday()] != self.handoff_weekday:
            raise ValueError(
                f"start {self.start.isoformat()} is a {WEEKDAYS[self.start.weekday()]}; "
                f"it must be a {self.handoff_weekday}, the hand-off day"
            )
        return self


class OnCallRotation(ReferenceMeta, OnCallRotationIn):
    """An on-call rotation, as stored."""

    model_config = ConfigDict(extra="ignore")


RefT = TypeVar("RefT", bound=ReferenceMeta)


class ReferencePage(WireOut, Generic[RefT]):
    """A list of reference items of one kind, ordered by id."""

    items: list[RefT]


def policy_to_domain(policy: EscalationPolicyIn) -> DomainEscalationPolicy:
    """The wire policy as the domain's; raises ``DomainError`` when the matrix is inconsistent."""
    return DomainEscalationPolicy(
        service=policy.service,
        tiers=tuple(
            DomainEscalationTier(
                level=tier.level,
                name=tier.name,
                team=tier.team,
                rotation_id=tier.rotation_id,
                engage_after=timedelta(minutes=tier.engage_after_minutes),
                contact_id=tier.contact_id,
            )
            for tier in policy.tiers
        ),
        management=tuple(
            DomainManagementRule(
                who=rule.who,
                severities=frozenset(Severity.of(s) for s in rule.severities),
                after=None if rule.after_minutes is None else timedelta(minutes=rule.after_minutes),
                at_sla_fraction=rule.at_sla_fraction,
                id=rule.id,
                rotation_id=rule.rotation_id,
            )
            for rule in policy.management
        ),
        communication=tuple(
            DomainCommunicationRule(
                stakeholder_group=rule.stakeholder_group,
                severity=Severity.of(rule.severity),
                every=None if rule.every_minutes is None else timedelta(minutes=rule.every_minutes),
            )
            for rule in policy.communication
        ),
        response_trigger=policy.response_trigger,
    )


def rotation_to_domain(
    rotation_id: str, rotation: OnCallRotationIn
) -> tuple[DomainRotation, tuple[DomainOverride, ...]]:
    """The wire rotation as the domain's rota and its overrides, checked.

    Raises ``DomainError`` for overlapping overrides, a swap that is not one
    whole rota week, or swaps that do not come in pairs.
    """
    hours, minutes = (int(part) for part in rotation.handoff_time.split(":"))
    domain_rotation = DomainRotation(
        id=rotation_id,
        team=rotation.team,
        time_zone=rotation.time_zone,
        handoff_weekday=WEEKDAYS.index(rotation.handoff_weekday),
        handoff_time=time(hours, minutes),
        members=tuple(rotation.members),
        start=rotation.start,
    )
    overrides = tuple(
        DomainOverride(
            contact_id=o.contact_id,
            start=o.start,
            end=o.end,
            kind=OverrideKind.of(o.kind),
            note=o.note,
        )
        for o in rotation.overrides
    )
    return domain_rotation, validate_overrides(domain_rotation, overrides)


# --------------------------------------------------------------------------
# Change feed
# --------------------------------------------------------------------------


class ChangeEntry(WireOut):
    """One committed change: the entity's full state after it, or a tombstone.

    ``data`` is the body of the entity's own GET (an :class:`Incident`, a
    :class:`TimelineEntry`, a :class:`Service` …) for ``op: upsert`` and null for
    ``op: delete``. :func:`parse_change_data` turns it into the right model.
    """

    seq: int = Field(ge=1)
    kind: ChangeKindWire
    id: str
    op: ChangeOpWire
    data: dict[str, Any] | None = None


class ChangesPage(WireOut):
    """``GET /v1/changes``: changes after the cursor, oldest first.

    Ask again with ``after=cursor`` while ``more`` is true; the feed never skips a
    committed change and never repeats one.
    """

    changes: list[ChangeEntry]
    cursor: int = Field(ge=0, description="pass as `after` next time")
    more: bool


class ChangeWake(WireOut):
    """The ``data`` of an SSE ``change`` event: the newest seq on the server."""

    seq: int = Field(ge=0)


CHANGE_MODELS: dict[str, type[WireOut]] = {
    "incident": Incident,
    "timeline": TimelineEntry,
    "team": Team,
    "service": Service,
    "contact": Contact,
    "category": Category,
    "policy": EscalationPolicy,
    "shift": OnCallRotation,
    "known_error": KnownError,
}


def parse_change_data(entry: ChangeEntry) -> WireOut | None:
    """The change's entity as its wire model (None for a tombstone)."""
    if entry.op == "delete" or entry.data is None:
        return None
    if entry.kind in ("pir", "problem"):
        # Reviews and problems live in console.wire.pir, which builds on this module.
        from console.wire import pir as wire_pir

        model = wire_pir.Pir if entry.kind == "pir" else wire_pir.Problem
        return model.model_validate(entry.data)
    return CHANGE_MODELS[entry.kind].model_validate(entry.data)


# --------------------------------------------------------------------------
# Tokens (for the CLI and admin tooling)
# --------------------------------------------------------------------------


class Me(WireOut):
    """``GET /v1/me``: who the request's token belongs to, and its role."""

    name: str
    role: RoleWire


class TokenInfo(WireOut):
    """An API token's public facts; the secret itself is shown only once, at creation."""

    id: str
    name: str
    role: RoleWire
    created_at: datetime
    revoked_at: datetime | None = None


# --------------------------------------------------------------------------
# Conversions between the wire and the domain
# --------------------------------------------------------------------------


def severity_to_wire(severity: Severity) -> SeverityWire:
    """``Severity.SEV2`` → ``"SEV-2"``."""
    code: SeverityWire = severity.code  # type: ignore[assignment]
    return code


def incident_to_wire(incident: DomainIncident, *, severity_overridden: bool = False) -> Incident:
    """The domain record as the wire model (what ``GET /v1/incidents/{id}`` returns)."""
    return Incident.model_validate(
        {
            "id": incident.id,
            "number": incident.number,
            "title": incident.title,
            "service": incident.service,
            "impact": incident.impact.value,
            "urgency": incident.urgency.value,
            "severity": incident.severity.code,
            "severity_overridden": severity_overridden,
            "state": incident.state.value,
            "version": incident.version,
            "opened_at": incident.opened_at,
            "updated_at": incident.updated_at,
            "description": incident.description,
            "category": incident.category,
            "subcategory": incident.subcategory,
            "assignee": incident.assignee,
            "assignment_group": incident.assignment_group,
            "reporter": incident.reporter,
            "source": incident.source.value,
            "major": incident.major,
            "hold_reason": incident.hold_reason.value if incident.hold_reason else None,
            "holds": [{"started": h.started, "ended": h.ended} for h in incident.holds],
            "acknowledged_at": incident.acknowledged_at,
            "resolved_at": incident.resolved_at,
            "closed_at": incident.closed_at,
            "response_due": incident.response_due,
            "resolution_due": incident.resolution_due,
            "alert": alert_to_wire(incident.alert),
        }
    )


def alert_to_wire(alert: DomainAlertInfo | None) -> dict[str, Any] | None:
    """The domain's alert facts as the ``alert`` object of an incident (None stays None)."""
    if alert is None:
        return None
    return {
        "integration": alert.integration,
        "key": alert.key,
        "status": alert.status,
        "first_seen": alert.first_seen,
        "last_seen": alert.last_seen,
        "repeat_count": alert.repeat_count,
        "labels": dict(alert.labels),
        "generator_url": alert.generator_url,
        "monitor": alert.monitor,
        "flapping": alert.flapping,
    }


def alert_from_wire(alert: IncidentAlert | None) -> DomainAlertInfo | None:
    """The ``alert`` object of a wire incident as the domain's record."""
    if alert is None:
        return None
    return DomainAlertInfo(
        integration=alert.integration,
        key=alert.key,
        status=alert.status,
        first_seen=alert.first_seen,
        last_seen=alert.last_seen,
        repeat_count=alert.repeat_count,
        labels=tuple(sorted(alert.labels.items())),
        generator_url=alert.generator_url,
        monitor=alert.monitor,
        flapping=alert.flapping,
    )


def incident_from_wire(wire: Incident) -> DomainIncident:
    """The wire model as the domain record (raises ``DomainError`` on impossible values)."""
    return DomainIncident(
        id=wire.id,
        number=wire.number,
        title=wire.title,
        service=wire.service,
        impact=Impact.of(wire.impact),
        urgency=Urgency.of(wire.urgency),
        severity=Severity.of(wire.severity),
        state=State.of(wire.state),
        opened_at=wire.opened_at,
        updated_at=wire.updated_at,
        version=wire.version,
        description=wire.description,
        category=wire.category,
        subcategory=wire.subcategory,
        assignee=wire.assignee,
        assignment_group=wire.assignment_group,
        reporter=wire.reporter,
        source=Source.of(wire.source),
        major=wire.major,
        hold_reason=HoldReason.of(wire.hold_reason) if wire.hold_reason else None,
        holds=tuple(DomainHoldPeriod(h.started, h.ended) for h in wire.holds),
        acknowledged_at=wire.acknowledged_at,
        resolved_at=wire.resolved_at,
        closed_at=wire.closed_at,
        response_due=wire.response_due,
        resolution_due=wire.resolution_due,
        alert=alert_from_wire(wire.alert),
    )


def timeline_to_wire(event: TimelineEvent) -> TimelineEntry:
    """A domain timeline event as the wire model."""
    return TimelineEntry(
        id=event.id,
        incident_id=event.incident_id,
        kind=event.kind.value,
        at=event.at,
        author=event.author,
        body=event.body,
        data=dict(event.data),
    )


def timeline_from_wire(entry: TimelineEntry) -> TimelineEvent:
    """A wire timeline entry as the domain event."""
    return TimelineEvent(
        id=entry.id,
        incident_id=entry.incident_id,
        kind=TimelineKind.of(entry.kind),
        at=entry.at,
        author=entry.author,
        body=entry.body,
        data=dict(entry.data),
    )


_ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def etag(version: int) -> str:
    """The ETag header value for a version: ``"7"`` (quotes included)."""
    return f'"{version}"'


def parse_etag(value: str) -> int | None:
    """``"7"``, ``W/"7"`` or ``7`` → 7; anything else → None."""
    match = _ETAG_RE.match(value)
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------
# Escalation: swarming, and outgoing webhooks (admin only)
# --------------------------------------------------------------------------


class EngageRequest(WireIn):
    """``POST /v1/incidents/{id}/engage``: swarming, several tiers at once.

    Each tier gets an escalation entry on the timeline (naming who is on call
    now), and the escalation timer then counts it as engaged.
    """

    tiers: list[int] = Field(
        min_length=1, max_length=9, description="tier levels to engage, e.g. [2, 3]"
    )
    reason: Reason

    @model_validator(mode="after")
    def _distinct(self) -> EngageRequest:
        if len(set(self.tiers)) != len(self.tiers):
            raise ValueError("tiers: name each tier once")
        return self


class EngageResult(WireOut):
    """What ``POST /v1/incidents/{id}/engage`` wrote: one escalation entry per tier."""

    items: list[TimelineEntry]


WebhookEventWire = Literal[
    "escalation", "status_update.published", "pir.due", "action_item.overdue"
]
"""Events a webhook can subscribe to: ``escalation`` (every tier engaged or manager told)."""

WebhookStatusWire = Literal["pending", "sending", "delivered", "failed"]


def _check_webhook_url(value: str) -> str:
    """An absolute http(s) URL with a host: anything else cannot be POSTed to."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(
            "give an absolute http:// or https:// URL, e.g. https://pager.example/hook"
        )
    return value


WebhookUrl = Annotated[
    str,
    StringConstraints(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$"),
    AfterValidator(_check_webhook_url),
]


class WebhookIn(WireIn):
    """``POST /v1/webhooks`` and ``PUT /v1/webhooks/{id}``: where to send which events.

    Every POST carries ``X-NOC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
    of "<t>.<raw body>" keyed with secret>``, so the receiver can tell it came
    from this server, and recently. ``url`` must be ``https://`` to a public
    address unless the server's operator allow-listed it.
    """

    name: Name
    url: WebhookUrl
    secret: Annotated[
        str,
        StringConstraints(min_length=16, max_length=200, pattern=r"^[\x21-\x7e]+$"),
    ] = Field(description="the shared signing secret (16+ printable characters); never returned")
    events: list[WebhookEventWire] = Field(min_length=1, max_length=10)
    active: bool = True


class Webhook(WireOut):
    """A webhook as the API shows it: the secret is replaced by a hint."""

    id: str
    name: str
    url: str
    secret_hint: str = Field(description="the last characters of the secret, e.g. '…a9f2'")
    events: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class WebhookPage(WireOut):
    """``GET /v1/webhooks``: every webhook, by name."""

    items: list[Webhook]


class WebhookDelivery(WireOut):
    """One event sent (or being sent) to one webhook, with its attempts.

    ``status`` ``failed`` means every attempt failed: ``last_error`` and
    ``last_status_code`` say what the receiver (or the network) answered.
    """

    id: str
    webhook_id: str
    event: str
    status: WebhookStatusWire
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class WebhookDeliveryPage(WireOut):
    """``GET /v1/webhooks/{id}/deliveries``: newest first."""

    items: list[WebhookDelivery]
