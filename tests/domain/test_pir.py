"""The review rules: who needs one, when, the reconstructed timeline, action-item checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.domain.errors import InvalidValue
from console.domain.incident import TimelineEvent, TimelineKind
from console.domain.pir import (
    ItemState,
    PirPolicy,
    PirStatus,
    check_action_item,
    check_item_state,
    draft_document,
    draft_timeline,
    format_duration,
    item_overdue,
    pir_overdue,
    pir_required,
    schedule,
)
from console.domain.severity import Severity
from tests.helpers.factories import cached_incident as make_incident

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _event(n: int, minutes: int, kind: TimelineKind, body: str = "x") -> TimelineEvent:
    return TimelineEvent(
        id=f"e{n}",
        incident_id="i",
        kind=kind,
        at=T0 + timedelta(minutes=minutes),
        author="ana",
        body=body,
    )


def test_sev1_sev2_and_majors_need_a_review_and_sev3_only_by_setting() -> None:
    assert pir_required(make_incident(severity=Severity.SEV1))
    assert pir_required(make_incident(severity=Severity.SEV4, major=True))
    assert not pir_required(make_incident(severity=Severity.SEV3))
    assert pir_required(make_incident(severity=Severity.SEV3), PirPolicy(sev3_required=True))
    assert not pir_required(make_incident(severity=Severity.SEV4), PirPolicy(sev3_required=True))


def test_scheduled_at_48h_due_at_72h_and_configurable() -> None:
    assert schedule(T0) == (T0 + timedelta(hours=48), T0 + timedelta(hours=72))
    policy = PirPolicy(scheduled_after=timedelta(hours=24), due_after=timedelta(hours=36))
    assert schedule(T0, policy) == (T0 + timedelta(hours=24), T0 + timedelta(hours=36))


def test_the_timeline_is_ordered_with_gaps_and_milestones_marked_key() -> None:
    incident = make_incident(opened_at=T0, updated_at=T0, acknowledged_at=T0 + timedelta(minutes=3))
    events = [
        _event(2, 10, TimelineKind.STATE_CHANGE, "State: triaged → in progress"),
        _event(1, 1, TimelineKind.WORK_NOTE, "first line\nsecond line"),
    ]
    entries = draft_timeline(incident, events)
    assert [e.source_id for e in entries] == ["detected", "e1", "acknowledged", "e2"]
    assert [e.since_previous_s for e in entries] == [None, 60, 120, 420]
    assert [e.key for e in entries] == [True, False, True, True]
    assert entries[1].summary == "first line"
    doc = draft_document(incident, events, T0)
    assert doc["status"] == "draft"
    assert len(doc["timeline"]) == 4
    assert "ana" in doc["participants"]


def test_action_items_refuse_a_past_date_and_a_stranger() -> None:
    with pytest.raises(InvalidValue, match="passed"):
        check_action_item(owner="jo", due=T0 - timedelta(days=1), now=T0, directory=None)
    with pytest.raises(InvalidValue, match="directory"):
        check_action_item(owner="zed", due=T0, now=T0, directory=frozenset({"jo"}))
    check_action_item(owner="jo", due=T0, now=T0, directory=frozenset({"jo"}))
    with pytest.raises(InvalidValue, match="why"):
        check_item_state(ItemState.DROPPED, "  ")
    check_item_state(ItemState.DROPPED, "superseded")


def test_overdue_is_a_draft_past_due_or_an_open_item_past_due() -> None:
    later = T0 + timedelta(hours=1)
    assert pir_overdue(PirStatus.DRAFT, T0, later)
    assert not pir_overdue(PirStatus.HELD, T0, later)
    assert item_overdue(ItemState.OPEN, T0, later)
    assert not item_overdue(ItemState.DONE, T0, later)
    assert [format_duration(s) for s in (None, 30, 240, 3900, 90000)] == [
        "",
        "30 s",
        "4 min",
        "1 h 05 min",
        "1 d 1 h 00 min",
    ]
