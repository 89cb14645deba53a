"""#19: a major incident's overdue stakeholder update alarms once, under the alert rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from console.domain.alerts import AlertReason, AlertRules, AlertTracker, late_audiences
from console.domain.incident import Incident
from console.domain.severity import Severity
from tests.helpers.factories import NOW, desk_incident


def _major(due_in_min: float, severity: Severity = Severity.SEV3) -> Incident:
    # SEV-3 so no new-incident or SLA alarm gets in the way of the one under test.
    return replace(
        desk_incident(1, severity),
        major=True,
        next_update_due=(
            ("internal", NOW + timedelta(minutes=due_in_min)),
            ("executive", None),
            ("customer", None),
        ),
    )


def test_late_audiences_only_for_open_majors() -> None:
    late = _major(-1)
    assert late_audiences(late, NOW) == frozenset({"internal"})
    assert late_audiences(replace(late, major=False), NOW) == frozenset()
    assert late_audiences(_major(1), NOW) == frozenset()


def test_alarms_once_when_it_falls_overdue_not_every_check() -> None:
    tracker = AlertTracker(AlertRules(repeat_every={}))  # alarm once per condition
    incident = _major(2)
    tracker.prime([incident], {}, NOW)
    assert tracker.evaluate([incident], {}, NOW + timedelta(minutes=1)) == []
    (alert,) = tracker.evaluate([incident], {}, NOW + timedelta(minutes=3))
    assert alert.reason is AlertReason.UPDATE_OVERDUE
    assert alert.text == "Stakeholder update overdue (internal 1 min)"
    assert alert.headline.endswith("· Update overdue")
    assert alert.sound
    for minute in range(4, 10):
        assert tracker.evaluate([incident], {}, NOW + timedelta(minutes=minute)) == []


def test_re_alarms_under_the_repeat_policy_until_acknowledged_and_ends_on_publish() -> None:
    tracker = AlertTracker(AlertRules(repeat_every={Severity.SEV3: timedelta(minutes=1)}))
    incident = _major(-1)
    tracker.prime([], {}, NOW)
    (first,) = tracker.evaluate([incident], {}, NOW)
    assert not first.repeat
    assert tracker.evaluate([incident], {}, NOW + timedelta(seconds=30)) == []
    (again,) = tracker.evaluate([incident], {}, NOW + timedelta(seconds=61))
    assert again.repeat
    # The update is published: the countdown restarts, the alarm ends.
    published = replace(
        incident, next_update_due=(("internal", NOW + timedelta(minutes=15)),), version=2
    )
    assert tracker.evaluate([published], {}, NOW + timedelta(minutes=2)) == []
    assert tracker.alarms() == []


def test_already_overdue_at_start_does_not_alarm_and_muted_is_silent() -> None:
    tracker = AlertTracker()
    incident = _major(-10)
    tracker.prime([incident], {}, NOW)
    assert tracker.evaluate([incident], {}, NOW + timedelta(seconds=5)) == []

    muted = AlertTracker(AlertRules(muted=frozenset({Severity.SEV3})))
    muted.prime([], {}, NOW)
    (alert,) = muted.evaluate([_major(-1)], {}, NOW)
    assert not alert.sound  # shown, never heard
    snoozed = AlertTracker()
    snoozed.snooze(Severity.SEV3, NOW + timedelta(minutes=5))
    snoozed.prime([], {}, NOW)
    assert snoozed.evaluate([_major(-1)], {}, NOW) == []


def test_a_second_audience_falling_late_is_news_again() -> None:
    tracker = AlertTracker(AlertRules(repeat_every={}))
    incident = replace(
        _major(-1),
        next_update_due=(
            ("internal", NOW - timedelta(minutes=1)),
            ("customer", NOW + timedelta(minutes=2)),
        ),
    )
    tracker.prime([], {}, NOW)
    assert len(tracker.evaluate([incident], {}, NOW)) == 1
    tracker.acknowledge(incident.id)
    (second,) = tracker.evaluate([incident], {}, NOW + timedelta(minutes=3))
    assert "customer" in second.text
