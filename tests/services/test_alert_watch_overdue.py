"""#19: the queue's alert feed raises a major incident's overdue update once, incrementally."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from console.domain.alerts import AlertReason, AlertRules, AlertTracker
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.services.alert_watch import QueueAlertWatch
from console.services.queue import IncidentQueue
from tests.helpers.factories import NOW, desk_incident


def test_overdue_update_alarms_once_and_ends_when_published(policy: SlaPolicy) -> None:
    # A SEV-3 major (not a new-incident severity), so only the overdue update can alarm.
    major = replace(
        desk_incident(1, Severity.SEV3, age_min=1),
        major=True,
        next_update_due=(("internal", NOW + timedelta(minutes=2)),),
    )
    queue = IncidentQueue(policy, NOW)
    queue.load([major, *(desk_incident(n, Severity.SEV4, age_min=1) for n in range(2, 50))])
    tracker = AlertTracker(AlertRules(repeat_every={}))
    watch = QueueAlertWatch(queue, tracker)
    watch.prime(NOW)
    assert watch.check(NOW + timedelta(seconds=5)) == []

    later = NOW + timedelta(minutes=3)
    queue.tick(later)
    (alert,) = watch.check(later)
    assert alert.reason is AlertReason.UPDATE_OVERDUE
    assert alert.incident_id == "inc-1"
    assert watch.last_checked <= 2  # the overdue major, not the whole queue
    for seconds in (5, 10, 15):
        queue.tick(later + timedelta(seconds=seconds))
        assert watch.check(later + timedelta(seconds=seconds)) == []  # once, not every check

    published = replace(major, next_update_due=(("internal", later + timedelta(minutes=15)),))
    queue.upsert([replace(published, version=2)])
    assert watch.check(later + timedelta(seconds=20)) == []
    assert tracker.alarms() == []
    watch.close()


def test_overdue_at_start_is_primed_not_alarmed(policy: SlaPolicy) -> None:
    major = replace(
        desk_incident(1, Severity.SEV3, age_min=1),
        major=True,
        next_update_due=(("internal", NOW - timedelta(minutes=10)),),
    )
    queue = IncidentQueue(policy, NOW)
    queue.load([major])
    watch = QueueAlertWatch(queue, AlertTracker())
    watch.prime(NOW)
    queue.tick(NOW + timedelta(seconds=5))
    assert watch.check(NOW + timedelta(seconds=5)) == []
    watch.close()
