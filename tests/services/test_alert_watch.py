"""The incremental alert feed: the same alerts as a full evaluation, at a fraction of the work.

:class:`QueueAlertWatch` hands the tracker only the incidents that may have
news. The reference here is what the console did before: read every open
incident's clock at every check and evaluate them all. A seeded random run of
arrivals, acknowledgements, severity changes, holds, resolutions, removals and
passing time must raise exactly the same alerts both ways.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from console.domain.alerts import Alert, AlertRules, AlertTracker
from console.domain.incident import Incident
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy, SlaReading, SlaStatus
from console.services.alert_watch import QueueAlertWatch
from console.services.queue import IncidentQueue
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident

NEW_INCIDENT = frozenset({Severity.SEV1, Severity.SEV2})


def full_source(
    queue: IncidentQueue, now: datetime
) -> tuple[list[Incident], dict[str, SlaReading]]:
    """The reference: every open incident that can alarm, with a full SLA reading if at risk."""
    incidents: list[Incident] = []
    readings: dict[str, SlaReading] = {}
    for row in queue.ordered():
        if row.plan is None:
            continue
        if queue.is_at_risk(row):
            readings[row.id] = queue.policy.current(row.incident, now)
            incidents.append(row.incident)
        elif row.incident.severity in NEW_INCIDENT:
            incidents.append(row.incident)
    return incidents, readings


def shape(alerts: list[Alert]) -> list[tuple[str, str, str, bool]]:
    return [(a.incident_id, a.reason.value, a.text, a.repeat) for a in alerts]


def test_incremental_checks_raise_what_a_full_evaluation_raises(policy: SlaPolicy) -> None:
    rng = random.Random(20261123)
    rules = AlertRules(repeat_every={Severity.SEV1: timedelta(minutes=2)})
    start = [
        make_incident(n, rng.choice(list(Severity)), age_min=rng.randrange(1, 600))
        for n in range(1, 120)
    ]
    queue = IncidentQueue(policy, NOW)
    queue.load(start)
    incremental = AlertTracker(rules)
    watch = QueueAlertWatch(queue, incremental, NEW_INCIDENT)
    reference = AlertTracker(rules)
    watch.prime(NOW)
    reference.prime(*full_source(queue, NOW), NOW)

    now = NOW
    next_n = 1000
    raised = 0
    for _step in range(150):
        now += timedelta(seconds=rng.choice([5, 30, 60, 240]))
        queue.tick(now)
        for _ in range(rng.randrange(0, 4)):
            action = rng.random()
            known = [row.incident for row in queue.ordered() if row.plan is not None]
            if action < 0.3 or not known:
                next_n += 1
                severity = rng.choice(list(Severity))
                queue.upsert(
                    [
                        make_incident(
                            next_n, severity, age_min=0, state=State.NEW, acknowledged_at=None
                        )
                    ]
                )
                continue
            target = rng.choice(known)
            if action < 0.45 and target.acknowledged_at is None:
                queue.upsert([replace(target, acknowledged_at=now, updated_at=now)])
            elif action < 0.6:
                raised_to = rng.choice(list(Severity))
                queue.upsert([replace(target, severity=raised_to, updated_at=now)])
            elif action < 0.7 and target.state is State.IN_PROGRESS:
                queue.upsert(
                    [
                        replace(
                            target,
                            state=State.ON_HOLD,
                            hold_reason=HoldReason.AWAITING_CALLER,
                            updated_at=now,
                        )
                    ]
                )
            elif action < 0.8:
                queue.upsert(
                    [replace(target, state=State.RESOLVED, resolved_at=now, updated_at=now)]
                )
            elif action < 0.85:
                queue.remove([target.id])
            elif action < 0.9:
                watch.tracker.acknowledge(target.id)
                reference.acknowledge(target.id)
        got = watch.check(now)
        want = reference.evaluate(*full_source(queue, now), now)
        assert shape(got) == shape(want), f"at {now:%H:%M:%S}"
        raised += len(got)
    assert raised > 20  # the run did exercise the rules
    assert {a.incident_id for a in watch.tracker.alarms()} == {
        a.incident_id for a in reference.alarms()
    }


def test_a_quiet_check_looks_only_at_standing_alarms(policy: SlaPolicy) -> None:
    incidents = [make_incident(n, Severity.SEV3, age_min=n % 500) for n in range(1, 5001)]
    queue = IncidentQueue(policy, NOW)
    queue.load(incidents)
    tracker = AlertTracker()
    watch = QueueAlertWatch(queue, tracker, NEW_INCIDENT)
    watch.prime(NOW)
    later = NOW + timedelta(seconds=5)
    queue.tick(later)
    watch.check(later)
    assert watch.last_checked < 50  # only the clocks that crossed a threshold in 5 s
    queue.upsert([make_incident(9001, Severity.SEV1, age_min=0, acknowledged_at=None)])
    alerts = watch.check(later)
    assert watch.last_checked == 1
    assert [a.number for a in alerts] == ["INC-009001"]


def test_a_clock_falling_due_alarms_without_any_other_change(policy: SlaPolicy) -> None:
    # Acknowledged, SEV-3, at 90 % of its resolution target: at warning, not yet breached.
    target = policy.target(Severity.SEV3, "resolution").amount
    at_90 = int(target.total_seconds() * 0.9 / 60)
    queue = IncidentQueue(policy, NOW)
    queue.load([make_incident(1, Severity.SEV3, age_min=at_90)])
    tracker = AlertTracker()
    watch = QueueAlertWatch(queue, tracker, NEW_INCIDENT)
    watch.prime(NOW)  # at warning already: primed, not news
    assert watch.check(NOW) == []
    past_due = NOW + target * 0.11
    queue.tick(past_due)
    alerts = watch.check(past_due)
    assert [(a.number, a.reason.value) for a in alerts] == [("INC-000001", "sla_breached")]
    reading = policy.current(queue.get("inc-1") or make_incident(1), past_due)
    assert reading.status is SlaStatus.BREACHED


def test_only_what_can_alarm_is_watched(policy: SlaPolicy) -> None:
    target = policy.target(Severity.SEV3, "resolution").amount
    at_risk = make_incident(4, Severity.SEV3, age_min=int(target.total_seconds() * 0.8 / 60))
    quiet = make_incident(2, Severity.SEV3)
    queue = IncidentQueue(policy, NOW)
    queue.load([make_incident(1, Severity.SEV1, age_min=1, acknowledged_at=None), quiet, at_risk])
    tracker = AlertTracker()
    watch = QueueAlertWatch(queue, tracker, NEW_INCIDENT)
    watch.prime(NOW)
    # A change to a quiet SEV-3 raises nothing and leaves nothing remembered.
    queue.upsert([replace(quiet, title="Renamed", updated_at=NOW)])
    assert watch.check(NOW) == []
    # A closed incident is forgotten: reopened later, a new SEV-1 alarms again.
    sev1 = queue.get("inc-1")
    assert sev1 is not None
    queue.upsert([replace(sev1, state=State.CANCELLED, closed_at=NOW, updated_at=NOW)])
    assert watch.check(NOW) == []
    queue.upsert([replace(sev1, number="INC-000001", updated_at=NOW)])
    assert [a.reason.value for a in watch.check(NOW)] == ["new_incident"]
