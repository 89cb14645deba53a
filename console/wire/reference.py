"""The v1 wire's reference data: teams, services, contacts, categories, policies, rotations.

``...In`` is the PUT body; the plain name adds the id, the version and the time
of the last change. :func:`policy_to_domain` and :func:`rotation_to_domain`
convert to the domain's records, so the domain's rules apply at the door.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from console.domain.escalation import CommunicationRule as DomainCommunicationRule
from console.domain.escalation import EscalationPolicy as DomainEscalationPolicy
from console.domain.escalation import EscalationTier as DomainEscalationTier
from console.domain.escalation import ManagementRule as DomainManagementRule
from console.domain.oncall import Override as DomainOverride
from console.domain.oncall import OverrideKind, validate_overrides
from console.domain.oncall import Rotation as DomainRotation
from console.domain.severity import Severity
from console.wire.types import (
    HHMM_PATTERN,
    ChannelWire,
    Email,
    Instant,
    LongText,
    Name,
    NoteBody,
    OverrideKindWire,
    Phone,
    RefId,
    SeverityWire,
    ShortText,
    TimeZoneName,
    Title,
    WeekdayWire,
    WireIn,
    WireOut,
)

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
