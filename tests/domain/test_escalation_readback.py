"""Reading back what is already engaged from an incident's escalation entries.

The server's timer (what is still due) and the console's detail pane (who is
engaged) both rebuild an :class:`Engagement` from the same timeline marks, so
they must read them the same way: these tests pin that one reading.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.domain.escalation import (
    NOTHING_ENGAGED,
    Engagement,
    EscalationPolicy,
    EscalationTier,
    due_escalations,
    engagement_from_marks,
    engagement_from_timeline,
)
from console.domain.incident import TimelineEvent, TimelineKind
from tests.helpers.factories import make_incident

T0 = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)


def entry(kind: TimelineKind, data: dict[str, object], n: int = 0) -> TimelineEvent:
    return TimelineEvent(
        id=f"e{n}",
        incident_id="inc-1",
        kind=kind,
        at=T0 + timedelta(minutes=n),
        author="escalation-timer",
        body="Escalated" if kind is TimelineKind.ESCALATION else "a note",
        data=data,
    )


def test_tier_and_rule_marks_say_what_is_engaged_and_who_is_told() -> None:
    marks: list[dict[str, object]] = [
        {"tier": 1, "label": "L1 Service Desk", "auto": True},
        {"tier": 2, "swarm": True, "reason": "database down"},
        {"rule_id": "duty manager@SEV-1,SEV-2", "label": "duty manager"},
        {"tier": 2},  # engaged twice (the timer, then a swarm): still one tier
    ]
    assert engagement_from_marks(marks) == Engagement(
        frozenset({1, 2}), frozenset({"duty manager@SEV-1,SEV-2"})
    )


@pytest.mark.parametrize(
    "mark",
    [
        {},  # a major incident declared: an escalation entry that engages nobody
        {"commander": "Ana"},
        {"tier": True},  # a bool is not a tier level
        {"tier": "2"},
        {"tier": 2.0},
        {"tier": None},
        {"rule_id": ""},
        {"rule_id": 7},
    ],
)
def test_entries_without_a_valid_mark_engage_nothing(mark: dict[str, object]) -> None:
    assert engagement_from_marks([mark]) == NOTHING_ENGAGED


def test_only_escalation_entries_of_the_timeline_count() -> None:
    timeline = [
        entry(TimelineKind.WORK_NOTE, {"tier": 3}, 0),  # a note's data is not a mark
        entry(TimelineKind.ESCALATION, {"tier": 1}, 1),
        entry(TimelineKind.ASSIGNMENT, {"rule_id": "cio"}, 2),
        entry(TimelineKind.ESCALATION, {"rule_id": "duty"}, 3),
    ]
    assert engagement_from_timeline(timeline) == Engagement(frozenset({1}), frozenset({"duty"}))
    assert engagement_from_timeline([]) == NOTHING_ENGAGED


def test_a_tier_read_back_as_engaged_is_not_due_again() -> None:
    policy = EscalationPolicy(
        service="payments",
        tiers=(
            EscalationTier(1, "L1 Service Desk", "Service Desk", "sd", timedelta(0)),
            EscalationTier(2, "L2 Network", "Network", "net", timedelta(minutes=10)),
        ),
    )
    incident = make_incident(service="payments", opened_at=T0, updated_at=T0)
    at = T0 + timedelta(minutes=20)
    timeline = [entry(TimelineKind.ESCALATION, {"tier": 1}, 0)]

    due = due_escalations(
        policy,
        incident,
        at,
        response_fraction=0.1,
        sla_fraction=0.1,
        engagement=engagement_from_timeline(timeline),
    )
    assert [step.level for step in due] == [2]
