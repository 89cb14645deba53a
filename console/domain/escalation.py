"""The escalation matrix: who must be engaged or told about an incident, and when.

Three dimensions, as ITIL-NOTES.md describes them:

* **Functional** tiers (L1 service desk → L2 specialist team → L3 engineering
  or vendor). Each tier names its team, the on-call rotation that says who
  answers, and how long after the incident opened it is engaged.
* **Hierarchical** rules: which manager is told at which severity, after how
  long or at what share of the running SLA clock, whichever comes first.
* **Communication** rules: which stakeholder group gets status updates, how
  often, per severity (SEV-1 every 15 min … SEV-3 only at resolution).

Functional escalation is automatic only while nobody has acknowledged the
incident: a tier is due when its delay has passed, and when the response clock
has used 75 % of its target the next tier the clock would engage is brought
forward. Once someone acknowledges, the tiers left wait for a commander, who
can swarm (engage several tiers at once, :func:`engage_teams`). Management
rules keep applying while the incident is open, acknowledged or not, because
they are about business risk, not about whether someone picked it up.

The evaluator is pure: callers pass the instant (``at``), the SLA fractions
(from :mod:`console.domain.sla`: ``policy.reading(incident, "response", at).fraction``
and ``policy.current(incident, at).fraction``), who is on call (from
:func:`console.domain.oncall.on_call_now`) and what has already been done
(:class:`Engagement`). Nothing here reads a clock.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import Incident, TimelineEvent, TimelineKind, require_aware
from console.domain.lifecycle import State
from console.domain.severity import Severity
from console.domain.text import duration_text

#: The share of the response target after which the next tier is brought forward.
RESPONSE_TRIGGER = 0.75

OnCallLookup = Mapping[str, str | None] | Callable[[str], str | None]
"""Rotation id → contact id on call now (None: nobody), as a mapping or a function."""


class StepKind(enum.Enum):
    """Which dimension of the matrix a step belongs to."""

    FUNCTIONAL = "functional"
    HIERARCHICAL = "hierarchical"


class StepStatus(enum.Enum):
    """Where a step of the escalation path stands for one incident now."""

    ENGAGED = "engaged"  # engaged (a tier) or informed (a manager) already
    DUE = "due"  # its time has come and it has not been done yet: do it now
    PENDING = "pending"  # not yet; ``in_`` says how long, when the clock will do it


def _check_delay(field_name: str, value: object) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InvalidValue(field_name, value, "a duration of zero or more")


def _require_text(field_name: str, value: object, hint: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field_name, value, hint)


@dataclass(frozen=True)
class EscalationTier:
    """One functional tier: a team engaged ``engage_after`` the incident opened.

    Who answers comes from ``rotation_id`` (the team's on-call rotation) or,
    for a tier without a rota such as a vendor hotline, a fixed ``contact_id``.
    """

    level: int
    name: str
    team: str
    rotation_id: str | None
    engage_after: timedelta
    contact_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.level, int) or isinstance(self.level, bool) or self.level < 1:
            raise InvalidValue("level", self.level, "a whole number from 1 (L1)")
        _require_text("name", self.name, "a name such as 'L2 Network'")
        _require_text("team", self.team, "the team engaged at this tier")
        _check_delay("engage_after", self.engage_after)
        if self.rotation_id is not None and self.contact_id is not None:
            raise InvalidValue(
                "contact_id",
                self.contact_id,
                "None when the tier has a rotation (one source of who)",
            )

    @property
    def kind(self) -> StepKind:
        """Tiers are always functional escalation; managers are :class:`ManagementRule`."""
        return StepKind.FUNCTIONAL


@dataclass(frozen=True)
class ManagementRule:
    """Tell ``who`` about incidents of ``severities`` once ``after`` has elapsed
    since opening or the running SLA clock reaches ``at_sla_fraction``,
    whichever comes first.

    ``who`` is a role ("duty manager") or a contact id. With ``rotation_id``
    the person is whoever holds that rotation (e.g. the duty-manager rota).
    ``id`` identifies the rule in :class:`Engagement`; by default it is built
    from ``who`` and the severities.
    """

    who: str
    severities: frozenset[Severity]
    after: timedelta | None = None
    at_sla_fraction: float | None = None
    id: str = ""
    rotation_id: str | None = None

    def __post_init__(self) -> None:
        _require_text("who", self.who, "a role such as 'duty manager' or a contact id")
        # Config hands over lists of "SEV-1" strings; normalise once here.
        severities = frozenset(Severity.of(s) for s in self.severities)
        object.__setattr__(self, "severities", severities)
        if not severities:
            raise InvalidValue("severities", "none", [s.code for s in Severity])
        if self.after is None and self.at_sla_fraction is None:
            raise InvalidValue("after", None, "a delay, an SLA fraction (at_sla_fraction) or both")
        if self.after is not None:
            _check_delay("after", self.after)
        if self.at_sla_fraction is not None and (
            isinstance(self.at_sla_fraction, bool)
            or not isinstance(self.at_sla_fraction, int | float)
            or not math.isfinite(self.at_sla_fraction)
            or self.at_sla_fraction <= 0
        ):
            raise InvalidValue(
                "at_sla_fraction", self.at_sla_fraction, "a share above 0, e.g. 0.8 for 80 %"
            )
        if not self.id:
            codes = ",".join(s.code for s in sorted(severities))
            object.__setattr__(self, "id", f"{self.who}@{codes}")


@dataclass(frozen=True)
class CommunicationRule:
    """Send ``stakeholder_group`` a status update ``every`` so often for ``severity``.

    ``every`` None means only at resolution.
    """

    stakeholder_group: str
    severity: Severity
    every: timedelta | None = None

    def __post_init__(self) -> None:
        _require_text("stakeholder_group", self.stakeholder_group, "a stakeholder group name")
        object.__setattr__(self, "severity", Severity.of(self.severity))
        if self.every is not None and (
            not isinstance(self.every, timedelta) or self.every <= timedelta(0)
        ):
            raise InvalidValue(
                "every", self.every, "a duration above zero, or None (at resolution)"
            )


@dataclass(frozen=True)
class EscalationPolicy:
    """A service's escalation matrix: tiers, management rules, communication rules.

    Tiers are kept sorted by level; levels are unique and delays never shrink
    from one level to the next. Equal delays are allowed: engaging two tiers
    at the same moment is swarming by policy.
    """

    service: str
    tiers: tuple[EscalationTier, ...]
    management: tuple[ManagementRule, ...] = ()
    communication: tuple[CommunicationRule, ...] = ()
    response_trigger: float = RESPONSE_TRIGGER

    def __post_init__(self) -> None:
        _require_text("service", self.service, "the service this policy covers")
        tiers = tuple(sorted(self.tiers, key=lambda t: t.level))
        object.__setattr__(self, "tiers", tiers)
        object.__setattr__(self, "management", tuple(self.management))
        object.__setattr__(self, "communication", tuple(self.communication))
        if not tiers:
            raise InvalidValue("tiers", "none", "at least one tier (L1)")
        for lower, higher in itertools.pairwise(tiers):
            if lower.level == higher.level:
                raise InvalidValue(
                    "tiers",
                    f"level {lower.level} twice ({lower.name}, {higher.name})",
                    "one tier per level",
                )
            if higher.engage_after < lower.engage_after:
                raise InvalidValue(
                    "engage_after",
                    f"{higher.name} after {format_duration(higher.engage_after)}",
                    f"no earlier than {lower.name} ({format_duration(lower.engage_after)})",
                )
        ids = [rule.id for rule in self.management]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise InvalidValue("management", duplicates, "rules with distinct ids")
        seen: set[tuple[str, Severity]] = set()
        for rule in self.communication:
            key = (rule.stakeholder_group, rule.severity)
            if key in seen:
                raise InvalidValue(
                    "communication",
                    f"{rule.stakeholder_group} at {rule.severity.code} twice",
                    "one cadence per stakeholder group and severity",
                )
            seen.add(key)
        if (
            isinstance(self.response_trigger, bool)
            or not isinstance(self.response_trigger, int | float)
            or not 0 < self.response_trigger <= 1
        ):
            raise InvalidValue("response_trigger", self.response_trigger, "a share in (0, 1]")

    def tier(self, level: int) -> EscalationTier:
        """The tier at ``level``; the error lists the levels this policy has."""
        for tier in self.tiers:
            if tier.level == level:
                return tier
        raise InvalidValue("level", level, [t.level for t in self.tiers])

    def management_for(self, severity: Severity) -> tuple[ManagementRule, ...]:
        """The hierarchical rules that apply at ``severity``."""
        return tuple(r for r in self.management if severity in r.severities)

    def communication_for(self, severity: Severity) -> tuple[CommunicationRule, ...]:
        """The stakeholder groups kept informed at ``severity``, and how often."""
        return tuple(r for r in self.communication if r.severity is severity)


@dataclass(frozen=True)
class Engagement:
    """What has already been done for one incident.

    ``tiers``: levels engaged (by the timer, by hand, or swarmed together).
    ``informed``: ids of management rules whose people have been told.
    The server and the console rebuild it from the incident's escalation
    timeline entries (:func:`engagement_from_timeline`).
    """

    tiers: frozenset[int] = frozenset()
    informed: frozenset[str] = frozenset()

    def record(self, steps: Iterable[EscalationStep]) -> Engagement:
        """This engagement plus the given steps, done (e.g. the due list after paging)."""
        tiers = set(self.tiers)
        informed = set(self.informed)
        for step in steps:
            if step.level is not None:
                tiers.add(step.level)
            if step.rule_id is not None:
                informed.add(step.rule_id)
        return Engagement(frozenset(tiers), frozenset(informed))


NOTHING_ENGAGED = Engagement()


def engagement_from_marks(marks: Iterable[Mapping[str, object]]) -> Engagement:
    """What has been done for an incident, from the ``data`` of its escalation entries.

    The server's timer and swarming write ``{"tier": n}`` for a tier engaged
    and ``{"rule_id": id}`` for a manager told; other escalation entries (a
    major incident declared) mark nothing, and a malformed mark (a tier that
    is not a whole number, an empty rule id) is ignored. The timer and the
    console's detail pane both read what is done this way, so they agree.
    """
    tiers: set[int] = set()
    informed: set[str] = set()
    for data in marks:
        tier = data.get("tier")
        if isinstance(tier, int) and not isinstance(tier, bool):
            tiers.add(tier)
        rule_id = data.get("rule_id")
        if isinstance(rule_id, str) and rule_id:
            informed.add(rule_id)
    return Engagement(frozenset(tiers), frozenset(informed))


def engagement_from_timeline(events: Iterable[TimelineEvent]) -> Engagement:
    """What has been done for an incident, read from its timeline (escalation entries only)."""
    return engagement_from_marks(
        event.data for event in events if event.kind is TimelineKind.ESCALATION
    )


@dataclass(frozen=True)
class EscalationStep:
    """One line of an incident's escalation path.

    ``level`` is set for a tier, ``rule_id`` for a management rule. ``who`` is
    the contact id on call for the tier's or rule's rotation (None when nobody
    is), a tier's fixed contact, or, for a rule without a rotation, the rule's
    ``who`` as written (a contact id or a role name). ``in_`` is the time
    until a pending step's clock engages it; None when no clock will
    (acknowledged, closed, or an SLA-share rule). ``due_at`` is when its delay
    is or was reached. ``reason`` says in words why a due step is due.
    """

    kind: StepKind
    label: str
    who: str | None
    status: StepStatus
    level: int | None = None
    rule_id: str | None = None
    in_: timedelta | None = None
    due_at: datetime | None = None
    reason: str = ""
    after: timedelta | None = None
    at_sla_fraction: float | None = None


def _who(on_call: OnCallLookup | None, rotation_id: str | None) -> str | None:
    if on_call is None or rotation_id is None:
        return None
    if callable(on_call):
        return on_call(rotation_id)
    return on_call.get(rotation_id)


def _evaluate(
    policy: EscalationPolicy,
    incident: Incident,
    at: datetime,
    response_fraction: float | None,
    sla_fraction: float | None,
    engagement: Engagement,
    on_call: OnCallLookup | None,
    trigger_in: timedelta | None = None,
) -> list[EscalationStep]:
    require_aware("at", at)
    elapsed = at - incident.opened_at
    # The timer escalates only an open incident nobody has picked up: once
    # acknowledged, the owner (or a commander, by swarming) decides. An
    # acknowledgement after ``at`` does not count yet, as in SlaPolicy.current,
    # so replaying a timeline for a review gives what the timer saw then.
    acknowledged = incident.acknowledged_at is not None and incident.acknowledged_at <= at
    automatic = incident.is_open and not acknowledged
    reached = {t.level for t in policy.tiers if t.engage_after <= elapsed}
    # The next tier the clock would engage (defined by the delays, not by what
    # is engaged, so engaging it does not make the tier after it due next tick).
    upcoming = [t.level for t in policy.tiers if t.level not in reached]
    next_level = upcoming[0] if upcoming else None
    brought_forward: int | None = None
    if automatic and response_fraction is not None and response_fraction >= policy.response_trigger:
        brought_forward = next_level

    steps: list[EscalationStep] = []
    for tier in policy.tiers:
        due_at = incident.opened_at + tier.engage_after
        step = EscalationStep(
            kind=StepKind.FUNCTIONAL,
            label=tier.name,
            who=tier.contact_id if tier.rotation_id is None else _who(on_call, tier.rotation_id),
            status=StepStatus.PENDING,
            level=tier.level,
            due_at=due_at,
            after=tier.engage_after,
        )
        if tier.level in engagement.tiers:
            step = replace(step, status=StepStatus.ENGAGED)
        elif automatic and tier.level in reached:
            reason = f"unacknowledged after {format_duration(tier.engage_after)}"
            step = replace(step, status=StepStatus.DUE, reason=reason)
        elif automatic and tier.level == brought_forward:
            reason = (
                f"unacknowledged with {_percent(policy.response_trigger)} "
                "of the response target used"
            )
            step = replace(step, status=StepStatus.DUE, reason=reason)
        elif automatic:
            wait = due_at - at
            if trigger_in is not None and tier.level == next_level:
                wait = min(wait, trigger_in)
            step = replace(step, in_=wait)
        steps.append(step)

    for rule in policy.management_for(incident.severity):
        rule_due_at = None if rule.after is None else incident.opened_at + rule.after
        step = EscalationStep(
            kind=StepKind.HIERARCHICAL,
            label=rule.who,
            who=rule.who if rule.rotation_id is None else _who(on_call, rule.rotation_id),
            status=StepStatus.PENDING,
            rule_id=rule.id,
            due_at=rule_due_at,
            after=rule.after,
            at_sla_fraction=rule.at_sla_fraction,
        )
        time_hit = rule.after is not None and elapsed >= rule.after
        sla_hit = (
            rule.at_sla_fraction is not None
            and sla_fraction is not None
            and sla_fraction >= rule.at_sla_fraction
        )
        if rule.id in engagement.informed:
            step = replace(step, status=StepStatus.ENGAGED)
        elif incident.is_open and (time_hit or sla_hit):
            if time_hit and rule.after is not None:
                reason = f"{incident.severity.code} open for {format_duration(rule.after)}"
            else:
                reason = f"{incident.severity.code} at {_percent(sla_fraction)} of its SLA"
            step = replace(step, status=StepStatus.DUE, reason=reason)
        elif incident.is_open and rule_due_at is not None:
            step = replace(step, in_=rule_due_at - at)
        steps.append(step)
    return steps


def escalation_path(
    policy: EscalationPolicy,
    incident: Incident,
    at: datetime,
    *,
    response_fraction: float | None,
    sla_fraction: float | None,
    on_call: OnCallLookup,
    engagement: Engagement = NOTHING_ENGAGED,
    trigger_in: timedelta | None = None,
) -> list[EscalationStep]:
    """The incident's whole escalation path as of ``at``: tiers by level, then managers.

    ``response_fraction``: share of the response target used (SlaReading.fraction
    of the response clock). ``sla_fraction``: share of the clock now running
    (``SlaPolicy.current(...).fraction``), for management rules. None for
    either means unknown (no SLA), and the rules that need it do not fire.
    ``trigger_in``: how long until the response clock reaches the policy's
    ``response_trigger`` (from the SLA policy, in wall time); the next tier's
    ``in_`` is then the sooner of its own delay and that, as the timer will
    bring it forward. None: show the tiers' delays only.
    """
    return _evaluate(
        policy, incident, at, response_fraction, sla_fraction, engagement, on_call, trigger_in
    )


def due_escalations(
    policy: EscalationPolicy,
    incident: Incident,
    at: datetime,
    *,
    response_fraction: float | None,
    sla_fraction: float | None,
    engagement: Engagement = NOTHING_ENGAGED,
    on_call: OnCallLookup | None = None,
) -> list[EscalationStep]:
    """What must be done NOW: the tiers to engage and the managers to tell.

    A tier is due while the incident is open and unacknowledged, is not yet
    engaged, and either its ``engage_after`` has passed or the response clock
    has reached the policy's trigger (75 %), which brings forward the next
    tier the delays would engage. A management rule is due while the incident
    is open, at its severity, once its delay has passed or ``sla_fraction``
    reached its share. After acting, record the steps with
    :meth:`Engagement.record` so they are not due again.
    """
    steps = _evaluate(policy, incident, at, response_fraction, sla_fraction, engagement, on_call)
    return [s for s in steps if s.status is StepStatus.DUE]


def engage_teams(
    policy: EscalationPolicy, engagement: Engagement, levels: Iterable[int]
) -> Engagement:
    """Swarming: a commander engages several tiers at once, skipping the tier-by-tier wait.

    The evaluator then treats those tiers as engaged (they are never due, and
    the 75 % rule does not pick them). Unknown levels are refused.
    """
    wanted = list(levels)
    if not wanted:
        raise InvalidValue("levels", "none", [t.level for t in policy.tiers])
    for level in wanted:
        policy.tier(level)  # raises, naming the levels the policy has
    return Engagement(engagement.tiers | frozenset(wanted), engagement.informed)


def next_status_update_due(
    policy: EscalationPolicy, incident: Incident, last_update_at: datetime | None
) -> datetime | None:
    """When the next stakeholder status update is due (it may already be past).

    While open: the last update (or the opening, if none yet) plus the
    shortest cadence among the communication rules for the incident's current
    severity; None if those groups hear only at resolution. Once resolved or
    closed: the resolution time, unless an update has been sent since. A
    cancelled incident, or a severity nobody is kept informed of, gives None.
    """
    if last_update_at is not None:
        require_aware("last_update_at", last_update_at)
    rules = policy.communication_for(incident.severity)
    if not rules or incident.state is State.CANCELLED:
        return None
    if not incident.is_open:
        resolved = incident.resolved_at or incident.closed_at or incident.updated_at
        if last_update_at is None or last_update_at < resolved:
            return resolved
        return None
    cadences = [r.every for r in rules if r.every is not None]
    if not cadences:
        return None
    since = incident.opened_at
    if last_update_at is not None and last_update_at > since:
        since = last_update_at
    return since + min(cadences)


def format_duration(span: timedelta) -> str:
    """A wait as an operator reads it: ``45 s``, ``6 min``, ``1 h 30 min``, ``2 d 3 h``.

    Rounded up to the minute from one minute on, so a countdown never shows
    "in 0 min" for something not yet due.
    """
    return duration_text(span, form="terse", rounding="up")


def _percent(fraction: float | None) -> str:
    return "?" if fraction is None else f"{round(fraction * 100)} %"


def render_path(steps: Iterable[EscalationStep], describe: Callable[[str], str | None]) -> str:
    """The path as one plain-text line for the detail pane, a chat message or a pager.

    E.g. ``L1 Service Desk — Ana Ruiz +34 600 000 001 (engaged) → L2 Network —
    Ben Okafor +34 600 000 002 (in 6 min) → duty manager at 30 min``: every
    tier names who is on call for it now, engaged or not. ``describe`` turns a contact id into
    "Name +34 …" (phone formatting lives outside the domain); it returns None
    for something that is not a contact (a role name), which is then shown as
    it is.
    """

    def name(who: str | None) -> str:
        if who is None:
            return "nobody on call"
        return describe(who) or who

    parts: list[str] = []
    for step in steps:
        if step.kind is StepKind.FUNCTIONAL:
            if step.status is StepStatus.ENGAGED:
                parts.append(f"{step.label} — {name(step.who)} (engaged)")
            elif step.status is StepStatus.DUE:
                parts.append(f"{step.label} — {name(step.who)} (due now)")
            elif step.in_ is not None:
                parts.append(f"{step.label} — {name(step.who)} (in {format_duration(step.in_)})")
            else:
                # Acknowledged: nobody is paged by the timer, but the phone stays in reach.
                parts.append(f"{step.label} — {name(step.who)} (on request)")
            continue
        # A manager: "duty manager — Carla Ruiz +34 … (informed)", or just the
        # person when the rule names a contact rather than a role.
        if step.who is not None and step.who != step.label:
            who_text = f"{step.label} — {name(step.who)}"
        else:
            who_text = name(step.who or step.label)
        if step.status is StepStatus.ENGAGED:
            parts.append(f"{who_text} (informed)")
        elif step.status is StepStatus.DUE:
            parts.append(f"{who_text} (due now)")
        else:
            when = []
            if step.after is not None:
                when.append(format_duration(step.after))
            if step.at_sla_fraction is not None:
                when.append(f"{_percent(step.at_sla_fraction)} of SLA")
            # Like a pending tier, a pending rota role names today's holder and number.
            parts.append(f"{who_text} at {' or '.join(when)}")
    return " → ".join(parts)


def check_service(policy: EscalationPolicy, incident: Incident) -> None:
    """Refuse to evaluate one service's policy against another service's incident."""
    if policy.service != incident.service:
        raise DomainError(
            f"{incident.number} is on service {incident.service!r}; "
            f"this escalation policy is for {policy.service!r}"
        )
