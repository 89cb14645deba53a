"""#19: the overdue badge, the earliest due, the local due after a publish, the declare criteria."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from console.domain.lifecycle import State
from console.domain.major import (
    countdown_text,
    declare_criteria,
    due_after_publish,
    earliest_due,
    overdue_badge,
)
from console.domain.severity import Severity
from tests.helpers.factories import NOW, desk_incident

DUE = (
    ("internal", NOW + timedelta(minutes=5)),
    ("executive", NOW),
    ("customer", None),
)


def test_no_badge_before_anything_is_late() -> None:
    assert overdue_badge(DUE, NOW) is None
    # The executives' update is late only after the five-minute grace.
    assert overdue_badge(DUE, NOW + timedelta(minutes=4)) is None


def test_badge_names_each_late_audience_and_by_how_long_longest_first() -> None:
    # The executives' lateness counts from the end of their grace, as their countdown does.
    owed = (("internal", NOW + timedelta(minutes=5)), ("executive", NOW - timedelta(minutes=3)))
    assert overdue_badge(owed, NOW + timedelta(minutes=5, seconds=30)) == (
        "◷ update overdue (executive 3 min, internal 1 min)"
    )
    assert overdue_badge(owed, NOW + timedelta(minutes=9)) == (
        "◷ update overdue (executive 7 min, internal 4 min)"
    )
    assert countdown_text(NOW - timedelta(minutes=3), NOW + timedelta(minutes=9), "executive") == (
        "OVERDUE 7:00"
    )
    # Just past due reads as one minute, never "0 min".
    assert overdue_badge((("internal", NOW),), NOW + timedelta(seconds=5)) == (
        "◷ update overdue (internal 1 min)"
    )


def test_earliest_due_counts_the_executive_grace() -> None:
    assert earliest_due(DUE) == NOW + timedelta(minutes=5)
    assert earliest_due((("customer", None),)) is None


def test_publishing_restarts_the_countdown_and_milestones_owe_the_executives() -> None:
    at = NOW + timedelta(minutes=20)
    moved = dict(
        due_after_publish(DUE, audience="internal", status="investigating", at=at, severity=1)
    )
    assert moved["internal"] == at + timedelta(minutes=15)
    assert moved["executive"] == NOW  # still owed
    milestone = dict(
        due_after_publish(DUE, audience="internal", status="identified", at=at, severity=1)
    )
    assert milestone["executive"] == at
    heard = dict(
        due_after_publish(DUE, audience="executive", status="investigating", at=at, severity=1)
    )
    assert heard["executive"] is None
    done = dict(due_after_publish(DUE, audience="internal", status="resolved", at=at, severity=1))
    assert done["internal"] is None
    # A customer audience that owes nothing stays so.
    assert (
        dict(
            due_after_publish(DUE, audience="customer", status="investigating", at=at, severity=1)
        )["customer"]
        is None
    )


def test_declare_criteria_name_sev1_and_security_only_for_open_incidents_not_major() -> None:
    sev1 = desk_incident(1, Severity.SEV1)
    assert declare_criteria(sev1) == ["SEV-1: every critical incident is run as a major incident"]
    security = desk_incident(2, Severity.SEV3, category="Security")
    assert declare_criteria(security) == ["A security incident: treat it as a possible breach"]
    assert declare_criteria(desk_incident(3, Severity.SEV3)) == []
    assert declare_criteria(replace(sev1, major=True)) == []
    assert declare_criteria(replace(sev1, state=State.RESOLVED, resolved_at=NOW)) == []
