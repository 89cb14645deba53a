"""Where an incident goes and who it engages: the escalation path of its service, read now.

Qt-free working out shared by the detail pane's escalation line
(:func:`escalation_line`) and the triage wizard's result page
(:func:`routing_for`, :func:`who_can_override`, :func:`local_time`): the
service's escalation policy from the :class:`Directory`, who holds each
rotation at the moment asked about, and their names and numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from console.domain.escalation import (
    NOTHING_ENGAGED,
    Engagement,
    EscalationPolicy,
    EscalationStep,
    StepKind,
    StepStatus,
    engagement_from_timeline,
    escalation_path,
    format_duration,
    render_path,
)
from console.domain.incident import Incident, TimelineEvent
from console.domain.phones import format_phone
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy, SlaStatus
from console.services.directory import Directory


# --------------------------------------------------------------------------
# The escalation path of a service
# --------------------------------------------------------------------------
def escalation_line(
    directory: Directory,
    incident: Incident,
    at: datetime,
    *,
    sla: SlaPolicy,
    timeline: Iterable[TimelineEvent] = (),
    viewer_region: str | None = None,
) -> str | None:
    """The incident's escalation path now, as one line; None when its service has no policy.

    E.g. ``L1 Service Desk — Ana Ruiz +34 … (engaged) → L2 Network — in 6 min
    → duty manager at 30 min``: who is engaged (from the timeline), who is due,
    and when the rest will be, with names and numbers from the directory.
    Qt-free: the app builds the pane's ``escalation_source`` from it.
    """
    found = service_escalation_path(
        directory,
        incident,
        at,
        response_fraction=sla.reading(incident, "response", at).fraction,
        sla_fraction=sla.current(incident, at).fraction,
        engagement=engagement_from_timeline(timeline),
        sla=sla,
    )
    if found is None:
        return None
    return render_path(found[1], directory.describer(viewer_region))


def service_escalation_path(
    directory: Directory,
    incident: Incident,
    at: datetime,
    *,
    response_fraction: float | None,
    sla_fraction: float | None,
    engagement: Engagement = NOTHING_ENGAGED,
    sla: SlaPolicy | None = None,
) -> tuple[EscalationPolicy, list[EscalationStep]] | None:
    """The escalation policy of the incident's service and its path at ``at``.

    Who holds each rotation is read from the directory as of ``at`` (each
    rotation once). None when the service has no escalation policy. The
    detail pane's line and the triage wizard's "who is engaged now" share it.
    With ``sla``, the next tier's wait is the sooner of its delay and the time
    until the response clock reaches the policy's trigger (75 %), when the
    escalation timer brings it forward for an unacknowledged incident.
    """
    entry = directory.policies.get(incident.service)
    if entry is None:
        return None
    trigger_in = None if sla is None else _time_to_trigger(sla, entry.policy, incident, at)
    memo: dict[str, str | None] = {}

    def on_call(rotation_id: str) -> str | None:
        if rotation_id not in memo:
            memo[rotation_id] = directory.on_call(rotation_id, at).contact_id
        return memo[rotation_id]

    steps = escalation_path(
        entry.policy,
        incident,
        at,
        response_fraction=response_fraction,
        sla_fraction=sla_fraction,
        on_call=on_call,
        engagement=engagement,
        trigger_in=trigger_in,
    )
    return entry.policy, steps


def _time_to_trigger(
    sla: SlaPolicy, policy: EscalationPolicy, incident: Incident, at: datetime
) -> timedelta | None:
    """Wall time until the response clock has used the policy's trigger share of its target.

    None when that clock does not run (acknowledged, on hold) or is already past it.
    """
    if incident.acknowledged_at is not None:
        return None
    reading = sla.reading(incident, "response", at)
    if reading.status is not SlaStatus.OK and reading.status is not SlaStatus.WARNING:
        return None
    left = reading.target * policy.response_trigger - reading.elapsed
    if left <= timedelta(0):
        return None
    target = sla.target(incident.severity, "response")
    return sla.calendar_for(target).add_working_time(at, left) - at


# --------------------------------------------------------------------------
# A new incident's routing, and who may override its severity
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Engaged:
    """One line of "who is engaged": the step, the person and their number."""

    step: str
    person: str
    phone: str = ""
    when: str = "now"  # "now", or "in 15 min"


@dataclass(frozen=True)
class Routing:
    """Where a new incident on a service goes, and who is engaged when it is logged."""

    team_id: str | None
    team_name: str
    engaged: tuple[Engaged, ...] = ()
    problem: str = ""


def _person(directory: Directory, who: str | None, region: str | None) -> tuple[str, str]:
    if who is None:
        return "nobody on call", ""
    contact = directory.contact(who)
    if contact is None:
        return who, ""
    phone = format_phone(contact.primary_phone, region) if contact.primary_phone else ""
    return contact.name, phone


def routing_for(
    directory: Directory,
    incident: Incident,
    at: datetime,
    *,
    region: str | None = None,
    sla: SlaPolicy | None = None,
) -> Routing:
    """The owning team of the incident's service and who its escalation policy engages.

    Everyone due the moment the incident is logged (the tiers and managers
    with no delay at this severity) is "now"; the first tier is always shown,
    and the next tier with the time until the clock engages it: its delay, or
    with ``sla`` sooner when the policy's share of the response target
    (75 %) passes first, as the escalation timer brings the next tier forward
    for an incident nobody has acknowledged.
    """
    service = directory.service(incident.service)
    team_id = service.owner_team if service is not None else None
    team_name = directory.team_name(team_id) if team_id else "no owning team on file"
    found = service_escalation_path(
        directory, incident, at, response_fraction=0.0, sla_fraction=0.0, sla=sla
    )
    if found is None:
        return Routing(team_id, team_name, problem="no escalation policy for this service")
    policy, steps = found
    engaged: list[Engaged] = []
    shown_next = False
    first_level = min((t.level for t in policy.tiers), default=None)
    for step in steps:
        due = step.status is StepStatus.DUE
        if step.kind is StepKind.FUNCTIONAL:
            wait = step.in_
            if due or step.level == first_level:
                name, phone = _person(directory, step.who, region)
                when = "now" if due else _in(wait)
                engaged.append(Engaged(step.label, name, phone, when))
            elif not shown_next and wait is not None:
                shown_next = True
                name, phone = _person(directory, step.who, region)
                engaged.append(Engaged(step.label, name, phone, _in(wait)))
        elif due:
            name, phone = _person(directory, step.who, region)
            label = step.label if step.label != step.who else "Manager"
            engaged.append(Engaged(label, name, phone, "now"))
    # The team it is routed to is named with its tier and who holds its pager,
    # even when the timer engages it later (or only on request).
    owning = [t.level for t in policy.tiers if team_id and t.team == team_id]
    problem = ""
    if team_id and not owning:
        problem = (
            f"{team_name} (the owning team) has no tier in this service's escalation policy: "
            "it is not paged; call its lead or assign it by hand"
        )
    for step in steps:
        if step.kind is not StepKind.FUNCTIONAL or step.level not in owning:
            continue
        if any(e.step == step.label for e in engaged):
            engaged[:] = [
                replace(e, when=f"{e.when} · the owning team") if e.step == step.label else e
                for e in engaged
            ]
            continue
        name, phone = _person(directory, step.who, region)
        engaged.append(Engaged(step.label, name, phone, f"{_in(step.in_)} · the owning team"))
    return Routing(team_id, team_name, tuple(engaged), problem)


def _in(span: timedelta | None) -> str:
    return "on request" if span is None else f"in {format_duration(span)}"


def who_can_override(
    directory: Directory, service_id: str, at: datetime, *, region: str | None = None
) -> list[str]:
    """The managers a dispatcher can ask to override, on call now for this service.

    They are the people the service's policy tells about a SEV-1 (the duty
    manager, a named manager): "Duty manager: Carla Ruiz +34 …".
    """
    entry = directory.policies.get(service_id)
    if entry is None:
        return []
    people: list[str] = []
    for rule in entry.policy.management_for(Severity.SEV1):
        who: str | None
        if rule.rotation_id is not None:
            who = directory.on_call(rule.rotation_id, at).contact_id
        elif rule.who in directory.contacts:
            who = rule.who
        else:
            continue
        if who is None:
            continue
        name, phone = _person(directory, who, region)
        named = directory.contact(rule.who)
        label = rule.who if named is None else (named.role or "Manager")
        line = f"{label}: {name}" + (f" {phone}" if phone else "")
        if line not in people:
            people.append(line)
    return people


def local_time(when: datetime, now: datetime) -> str:
    """``14:30`` today, ``Thu 19 Nov 09:00`` another day (the viewer's local time)."""
    local, today = when.astimezone(), now.astimezone()
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%a %d %b %H:%M")
