"""What should alarm the NOC floor, and when to alarm again: the Qt-free alert rules.

Four things raise an alert (ITIL-NOTES.md: a SEV-1 is a major incident, and
SLA breach risk is a reason to escalate):

* a **new incident** of a severity in ``AlertRules.new_incident`` (SEV-1 and
  SEV-2 by default);
* an open incident whose **severity was raised** into one of those severities
  (for the floor, a SEV-3 that becomes a SEV-1 is a new SEV-1);
* an SLA clock **entering warning** (75 % of its target by default) or
  **breaching**, for the severities in ``sla_warning`` / ``sla_breach``;
* a major incident's stakeholder **update falling overdue** (#19): an
  audience of its ``next_update_due`` is past due (executives after a
  five-minute grace). Each audience falling late is news once; the alarm
  ends when no audience is late any more (the update was published).

Each incident has at most one *alarm*: the most serious condition it is in
(breach > warning > new). An alarm **re-alarms** every ``repeat_every`` of its
severity (SEV-1 every 60 s, SEV-2 every 5 min by default; other severities
alarm once) until it is *acknowledged* by the operator
(:meth:`AlertTracker.acknowledge`) or its condition ends: the incident is
acknowledged (for a new-incident alarm), its SLA clock is no longer at risk
(for an SLA alarm), or it is resolved, closed, cancelled or gone.

A **muted** severity still shows notifications but never makes a sound (the
operator turned the noise down, not the information). A **snoozed** severity
raises nothing at all until the snooze ends; alarms that came up meanwhile and
are still unacknowledged then sound once at the next evaluation, so a snooze
postpones news instead of losing it.

The tracker is a pure state machine: callers pass the incidents, their current
SLA readings and the instant. Nothing here reads a clock, plays a sound or
shows a window (that is :mod:`console.views.alerts`).

Configuration (``[alerts]`` in ``settings.toml``, read by
:meth:`console.domain.alert_rules.AlertRules.from_mapping`)::

    [alerts]
    enabled = true                        # false: never alert
    sound = true                          # false: notifications only, never a sound
    notify = true                         # false: sound only, no desktop notifications
    new_incident = ["SEV-1", "SEV-2"]     # new incidents of these severities alarm
    sla_warning = ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    sla_breach = ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    muted = []                            # these severities never make a sound

    [alerts.repeat_seconds]               # re-alarm until acknowledged; 0 = alarm once
    SEV-1 = 60
    SEV-2 = 300
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from console.domain.alert_rules import AlertRules
from console.domain.incident import Incident, TimelineEvent, TimelineKind, require_aware
from console.domain.major import overdue, overdue_badge
from console.domain.severity import Severity
from console.domain.sla import SlaClock, SlaKind, SlaReading, SlaStatus, duration_text

_AT_RISK = (SlaStatus.WARNING, SlaStatus.BREACHED)


class AlertReason(enum.Enum):
    """Why an alert was raised. Values are stable names for logs and settings."""

    NEW_INCIDENT = "new_incident"
    SEVERITY_RAISED = "severity_raised"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    ESCALATED = "escalated"
    # #19: a major incident's audience is owed a status update (console/domain/major.py).
    UPDATE_OVERDUE = "update_overdue"

    @property
    def rank(self) -> int:
        """How serious the condition is; an incident's alarm keeps the most serious one."""
        return _RANKS[self]

    @property
    def is_sla(self) -> bool:
        return self in (AlertReason.SLA_WARNING, AlertReason.SLA_BREACHED)

    @property
    def label(self) -> str:
        """Short operator text, e.g. ``SLA breached``."""
        return _REASON_LABELS[self]


_RANKS = {
    AlertReason.NEW_INCIDENT: 1,
    AlertReason.SEVERITY_RAISED: 1,
    AlertReason.SLA_WARNING: 2,
    AlertReason.SLA_BREACHED: 3,
    AlertReason.ESCALATED: 1,
    AlertReason.UPDATE_OVERDUE: 2,
}
_REASON_LABELS = {
    AlertReason.NEW_INCIDENT: "New incident",
    AlertReason.SEVERITY_RAISED: "Severity raised",
    AlertReason.SLA_WARNING: "SLA at risk",
    AlertReason.SLA_BREACHED: "SLA breached",
    AlertReason.ESCALATED: "Escalated",
    AlertReason.UPDATE_OVERDUE: "Update overdue",
}


@dataclass(frozen=True)
class Alert:
    """One alert to deliver now: a notification and, when ``sound``, a sound.

    ``repeat`` marks a re-alarm of an alarm already raised and not yet
    acknowledged. ``text`` says what happened in operator words
    (``Response target breached — overdue 4 min``).
    """

    incident_id: str
    number: str
    title: str
    service: str
    severity: Severity
    reason: AlertReason
    text: str
    at: datetime
    repeat: bool = False
    sound: bool = True

    @property
    def headline(self) -> str:
        """The notification's title: ``SEV-1 INC-004282 · SLA breached``."""
        prefix = "Still unacknowledged: " if self.repeat else ""
        return f"{prefix}{self.severity.code} {self.number} · {self.reason.label}"

    @property
    def body(self) -> str:
        """The notification's text: the incident's title and what happened."""
        return f"{self.title}\n{self.text}"


@dataclass(frozen=True)
class Alarm:
    """An incident's standing alarm, as :meth:`AlertTracker.alarms` reports it."""

    incident_id: str
    number: str
    title: str
    severity: Severity
    reason: AlertReason
    text: str
    raised_at: datetime
    last_sounded: datetime | None
    acknowledged: bool
    sla_kind: SlaKind | None = None


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the tracker knew about an incident at the last evaluation."""

    severity: Severity
    sla: tuple[SlaKind, SlaStatus] | None
    late: frozenset[str] = frozenset()  # #19: the audiences whose update was overdue


def late_audiences(incident: Incident, now: datetime) -> frozenset[str]:
    """The audiences an open major incident owes an overdue update at ``now`` (#19)."""
    if not incident.next_update_due or not incident.major or not incident.is_open:
        return frozenset()
    return frozenset(overdue(dict(incident.next_update_due), now))


def readings_for(
    incidents: Iterable[Incident], clock: SlaClock, at: datetime
) -> dict[str, SlaReading]:
    """The current SLA reading of every open incident, keyed by incident id."""
    return {i.id: clock.current(i, at) for i in incidents if i.is_open}


class AlertTracker:
    """Diffs what it is shown against what it saw last time and says what should alarm.

    Call :meth:`evaluate` on every data change and on a timer (every few
    seconds, so re-alarms and SLA transitions are noticed on time). Call
    :meth:`prime` once at start-up with the data already in the cache, so the
    history the console opens onto does not set off a burst of alarms.
    """

    def __init__(self, rules: AlertRules | None = None) -> None:
        self._rules = rules or AlertRules()
        self._muted: set[Severity] = set(self._rules.muted)
        self._snoozed: dict[Severity, datetime] = {}
        self._seen: dict[str, _Seen] = {}
        self._alarms: dict[str, Alarm] = {}

    # -------------------------------------------------------------- settings

    @property
    def rules(self) -> AlertRules:
        return self._rules

    def set_rules(self, rules: AlertRules) -> None:
        """Use new rules (after the settings changed); the operator's mutes are reset to them."""
        self._rules = rules
        self._muted = set(rules.muted)

    def mute(self, severity: Severity) -> None:
        """Alarms of ``severity`` still notify, but make no sound until :meth:`unmute`."""
        self._muted.add(Severity.of(severity))

    def unmute(self, severity: Severity) -> None:
        self._muted.discard(Severity.of(severity))

    def is_muted(self, severity: Severity) -> bool:
        return Severity.of(severity) in self._muted

    def snooze(self, severity: Severity, until: datetime) -> None:
        """Raise nothing for ``severity`` before ``until``; what is still pending sounds after."""
        self._snoozed[Severity.of(severity)] = require_aware("until", until)

    def unsnooze(self, severity: Severity) -> None:
        self._snoozed.pop(Severity.of(severity), None)

    def snoozed_until(self, severity: Severity, now: datetime) -> datetime | None:
        """When the snooze of ``severity`` ends, or None when it is not snoozed at ``now``."""
        severity = Severity.of(severity)
        until = self._snoozed.get(severity)
        if until is not None and until <= now:
            del self._snoozed[severity]
            return None
        return until

    # ------------------------------------------------------------- the alarms

    def alarms(self, *, include_acknowledged: bool = False) -> list[Alarm]:
        """Standing alarms, most severe first, then oldest first."""
        alarms = [a for a in self._alarms.values() if include_acknowledged or not a.acknowledged]
        return sorted(alarms, key=lambda a: (a.severity.value, a.raised_at, a.number))

    def acknowledge(self, incident_id: str) -> bool:
        """The operator has seen the incident's alarm: stop re-alarming. False if there was none."""
        alarm = self._alarms.get(incident_id)
        if alarm is None or alarm.acknowledged:
            return False
        self._alarms[incident_id] = replace(alarm, acknowledged=True)
        return True

    def acknowledge_all(self, severity: Severity | None = None) -> int:
        """Acknowledge every standing alarm (of one severity); returns how many."""
        count = 0
        for alarm in list(self._alarms.values()):
            if severity is None or alarm.severity is severity:
                count += self.acknowledge(alarm.incident_id)
        return count

    # ------------------------------------------------------------- evaluating

    def prime(
        self, incidents: Iterable[Incident], readings: Mapping[str, SlaReading], now: datetime
    ) -> None:
        """Take in the current state without alarming: what is already there counts as seen."""
        self.evaluate(incidents, readings, now)
        for incident_id, alarm in self._alarms.items():
            self._alarms[incident_id] = replace(alarm, acknowledged=True, last_sounded=now)

    def evaluate(
        self, incidents: Iterable[Incident], readings: Mapping[str, SlaReading], now: datetime
    ) -> list[Alert]:
        """The alerts to deliver at ``now``, most severe first.

        ``incidents`` is every incident the console knows (closed ones may be
        left out); an incident missing from it is forgotten, with its alarm.
        ``readings`` holds each open incident's current SLA reading
        (:func:`readings_for`); an incident without one raises no SLA alerts.
        """
        require_aware("now", now)
        seen: dict[str, _Seen] = {}
        alerts = self._evaluate(incidents, readings, now, seen)
        for gone in self._alarms.keys() - seen.keys():
            del self._alarms[gone]
        self._seen = seen
        return self._sorted(alerts)

    def update(
        self,
        incidents: Iterable[Incident],
        readings: Mapping[str, SlaReading],
        now: datetime,
        *,
        gone: Iterable[str] = (),
    ) -> list[Alert]:
        """Like :meth:`evaluate`, for only the incidents that may have news.

        The incidents not given keep what was seen of them; those in ``gone``
        (removed, finished, or no longer able to alarm) are forgotten with
        their alarms. A caller that knows which incidents changed, whose
        clocks crossed a threshold and which alarms stand (:meth:`standing`)
        gets the same alerts as a full :meth:`evaluate`, at a fraction of the
        cost when few of many incidents change.
        """
        require_aware("now", now)
        for incident_id in gone:
            self._seen.pop(incident_id, None)
            self._alarms.pop(incident_id, None)
        return self._sorted(self._evaluate(incidents, readings, now, self._seen))

    def remember(
        self,
        incident_id: str,
        severity: Severity,
        sla: tuple[SlaKind, SlaStatus] | None,
        late: frozenset[str] = frozenset(),
    ) -> None:
        """Take in one incident as already seen, raising nothing (priming without readings).

        ``sla`` is its clock's kind and status when at warning or beyond, else
        None, and ``late`` the audiences whose update is overdue
        (:func:`late_audiences`), as :meth:`evaluate` would have recorded them.
        """
        self._seen[incident_id] = _Seen(severity, sla, late)

    def standing(self) -> list[str]:
        """The incidents whose alarm stands unacknowledged: they may re-alarm at any check."""
        return [key for key, alarm in self._alarms.items() if not alarm.acknowledged]

    def _evaluate(
        self,
        incidents: Iterable[Incident],
        readings: Mapping[str, SlaReading],
        now: datetime,
        seen: dict[str, _Seen],
    ) -> list[Alert]:
        alerts: list[Alert] = []
        for incident in incidents:
            if not incident.is_open:
                seen.pop(incident.id, None)
                self._alarms.pop(incident.id, None)
                continue
            reading = readings.get(incident.id)
            sla = None if reading is None else (reading.kind, reading.status)
            previous = self._seen.get(incident.id)
            late = late_audiences(incident, now)
            seen[incident.id] = _Seen(incident.severity, sla, late)
            alert = self._step(incident, reading, previous, now, late)
            if alert is not None:
                alerts.append(alert)
        return alerts

    def _sorted(self, alerts: list[Alert]) -> list[Alert]:
        if not self._rules.enabled:
            return []
        return sorted(alerts, key=lambda a: (a.severity.value, -a.reason.rank, a.number))

    def _step(
        self,
        incident: Incident,
        reading: SlaReading | None,
        previous: _Seen | None,
        now: datetime,
        late: frozenset[str] = frozenset(),
    ) -> Alert | None:
        """Update one incident's alarm; the alert to deliver now, if any."""
        condition = self._new_condition(incident, reading, previous)
        newly_late = late - (previous.late if previous is not None else frozenset())
        if newly_late and AlertReason.UPDATE_OVERDUE.rank >= (
            _RANKS[condition[0]] if condition is not None else 0
        ):
            badge = overdue_badge(incident.next_update_due, now) or "◷ update overdue"
            condition = (AlertReason.UPDATE_OVERDUE, "Stakeholder " + badge.removeprefix("◷ "))
        alarm = self._alarms.get(incident.id)
        fresh = False
        if condition is not None:
            reason, text = condition
            if alarm is None or alarm.acknowledged or reason.rank >= alarm.reason.rank:
                alarm = Alarm(
                    incident_id=incident.id,
                    number=incident.number,
                    title=incident.title,
                    severity=incident.severity,
                    reason=reason,
                    text=text,
                    raised_at=now,
                    last_sounded=None,
                    acknowledged=False,
                    sla_kind=reading.kind if reason.is_sla and reading is not None else None,
                )
                fresh = True
            else:
                # A lesser piece of news while a graver alarm stands: tell it
                # once, but let the graver alarm keep re-alarming.
                return self._deliver(incident, reason, text, now, repeat=False)
        if alarm is None:
            return None
        if _condition_ended(alarm, incident, reading, late):
            self._alarms.pop(incident.id, None)
            if not fresh:
                return None
            # E.g. a new SEV-1 that arrives already acknowledged: the floor
            # hears of it once, but nothing is left to re-alarm.
            return self._deliver(incident, alarm.reason, alarm.text, now, repeat=False)
        alarm = replace(alarm, severity=incident.severity, title=incident.title)
        self._alarms[incident.id] = alarm
        if alarm.acknowledged or self.snoozed_until(incident.severity, now) is not None:
            return None
        if alarm.last_sounded is not None:
            every = self._rules.repeat_interval(incident.severity)
            if every is None or now - alarm.last_sounded < every:
                return None
        self._alarms[incident.id] = replace(alarm, last_sounded=now)
        return self._deliver(incident, alarm.reason, alarm.text, now, repeat=not fresh)

    def _deliver(
        self, incident: Incident, reason: AlertReason, text: str, now: datetime, *, repeat: bool
    ) -> Alert | None:
        if self.snoozed_until(incident.severity, now) is not None:
            return None
        return Alert(
            incident_id=incident.id,
            number=incident.number,
            title=incident.title,
            service=incident.service,
            severity=incident.severity,
            reason=reason,
            text=text,
            at=now,
            repeat=repeat,
            sound=self._rules.sound and incident.severity not in self._muted,
        )

    def _new_condition(
        self, incident: Incident, reading: SlaReading | None, previous: _Seen | None
    ) -> tuple[AlertReason, str] | None:
        """The most serious condition the incident entered since the last evaluation."""
        rules = self._rules
        severity = incident.severity
        found: list[tuple[AlertReason, str]] = []
        if severity in rules.new_incident:
            if previous is None:
                state = "" if incident.acknowledged else " — not acknowledged yet"
                found.append(
                    (AlertReason.NEW_INCIDENT, f"New {severity.code} {severity.label}{state}")
                )
            elif severity < previous.severity:
                found.append(
                    (
                        AlertReason.SEVERITY_RAISED,
                        f"Severity raised from {previous.severity.code} to {severity.code}",
                    )
                )
        if reading is not None:
            before = previous.sla if previous is not None else None
            kind, status = reading.kind, reading.status
            # Breach after breach of the same clock is no news; warning is news
            # unless that clock was already at warning or beyond.
            breached_now = status is SlaStatus.BREACHED and before != (kind, status)
            warned_now = status is SlaStatus.WARNING and before not in (
                (kind, SlaStatus.WARNING),
                (kind, SlaStatus.BREACHED),
            )
            if breached_now and severity in rules.sla_breach:
                overdue = duration_text(-reading.remaining)
                found.append(
                    (
                        AlertReason.SLA_BREACHED,
                        f"{kind.capitalize()} target breached — overdue {overdue}",
                    )
                )
            elif warned_now and severity in rules.sla_warning:
                left = duration_text(reading.remaining)
                found.append(
                    (
                        AlertReason.SLA_WARNING,
                        f"{kind.capitalize()} target at {reading.percent} % — due in {left}",
                    )
                )
        if not found:
            return None
        return max(found, key=lambda item: item[0].rank)


def _condition_ended(
    alarm: Alarm, incident: Incident, reading: SlaReading | None, late: frozenset[str]
) -> bool:
    """Whether what the alarm is about is over (so it stops, acknowledged or not)."""
    if alarm.reason is AlertReason.UPDATE_OVERDUE:
        return not late  # every late audience has heard (or the incident is no longer major)
    if alarm.reason.is_sla:
        return reading is None or reading.kind != alarm.sla_kind or reading.status not in _AT_RISK
    # A new or raised incident needs someone to pick it up: acknowledgement ends it.
    return incident.acknowledged


LOCAL_EVENT_PREFIX = "local-"
"""Timeline entries this console wrote and has not sent yet (see ``console.sync.edits``)."""


class EscalationWatch:
    """Alerts once per NEW escalation entry on an open incident's timeline.

    A sync update may bring escalation entries: the backend's escalation timer
    engaged the next tier, or someone swarmed. Each entry alerts once
    (``Escalated: INC-… — <body>``); an entry seen before, one written at this
    console (a ``local-…`` stand-in, or by one of ``own_authors``), one older
    than ``since`` (history arriving on the first sync), and one on an incident
    that is not open (or not known) never alert. Qt-free: callers pass the
    entries and a way to look up their incidents.
    """

    def __init__(self, *, since: datetime | None = None, own_authors: Iterable[str] = ()) -> None:
        self._since = require_aware("since", since) if since is not None else None
        self._own = {a for a in own_authors if a}
        self._seen: set[str] = set()

    def also_own(self, author: str) -> None:
        """Entries by ``author`` were made at this console too (the backend account it
        uses, once known): a commander's own swarm does not alarm their own console."""
        if author:
            self._own.add(author)

    def prime(self, events: Iterable[TimelineEvent]) -> None:
        """Remember ``events`` as seen without alerting (what was already on screen)."""
        self._seen.update(event.id for event in events)

    def new_entries(
        self,
        events: Iterable[TimelineEvent],
        incident_of: Callable[[str], Incident | None],
    ) -> list[Alert]:
        """One alert per escalation entry in ``events`` not seen before (see the class)."""
        alerts: list[Alert] = []
        for event in events:
            if event.kind is not TimelineKind.ESCALATION or event.id in self._seen:
                continue
            self._seen.add(event.id)
            if event.id.startswith(LOCAL_EVENT_PREFIX) or event.author in self._own:
                continue
            if self._since is not None and event.at < self._since:
                continue
            incident = incident_of(event.incident_id)
            if incident is None or not incident.is_open:
                continue
            alerts.append(
                Alert(
                    incident_id=incident.id,
                    number=incident.number,
                    title=incident.title,
                    service=incident.service,
                    severity=incident.severity,
                    reason=AlertReason.ESCALATED,
                    text=f"Escalated: {incident.number} — {event.body}",
                    at=event.at,
                )
            )
        return alerts
