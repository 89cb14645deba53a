"""The major-incident rules in plain Python (console/domain/major.py): no pydantic needed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from console.domain.incident import TimelineEvent, TimelineKind
from console.domain.limits import STATUS_UPDATE_CHARS
from console.domain.major import (
    MAX_UPDATE_CHARS,
    bridge_tel,
    countdown_text,
    declared_from_timeline,
    next_update_due,
    overdue,
    roles_from_timeline,
    running_major,
    war_room_from_timeline,
)

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Published:
    """A published update as any plain record: the cadence reads audience, status, at."""

    audience: str
    status: str
    at: datetime


def _event(kind: TimelineKind, minutes: int, **data: object) -> TimelineEvent:
    return TimelineEvent(
        id=f"e{minutes}",
        incident_id="i1",
        kind=kind,
        at=T0 + timedelta(minutes=minutes),
        author="lfernandez",
        body="-",
        data=dict(data),
    )


def test_the_cadence_reads_plain_records() -> None:
    due = next_update_due(
        severity=1,
        declared_at=T0,
        updates=[Published("internal", "identified", T0 + timedelta(minutes=5))],
        customer_facing=False,
        resolved=False,
    )
    assert due == {
        "internal": T0 + timedelta(minutes=20),
        "executive": T0 + timedelta(minutes=5),
        "customer": None,
    }


def test_the_timeline_readers_rebuild_roles_declaration_and_war_room() -> None:
    events = [
        _event(TimelineKind.ESCALATION, 0, major=True, commander="lfernandez"),
        _event(TimelineKind.ASSIGNMENT, 1, role="Technical Lead", to="okafor"),
        _event(TimelineKind.ASSIGNMENT, 2, role="Technical Lead", to=None),
        _event(TimelineKind.WORK_NOTE, 3, bridge={"dial_in": "+44 20 7946 0000", "pin": "48#"}),
        _event(TimelineKind.WORK_NOTE, 4, responder="okafor", action="joined"),
    ]
    assert roles_from_timeline(events) == {"Incident Commander": "lfernandez"}
    assert declared_from_timeline(events, T0 - timedelta(hours=1)) == T0
    bridge, responders = war_room_from_timeline(events)
    assert bridge_tel(bridge) == "tel:+442079460000,,48#"
    assert responders == {"okafor": ("joined", T0 + timedelta(minutes=4))}


def test_the_update_limit_is_the_limits_table() -> None:
    assert MAX_UPDATE_CHARS == STATUS_UPDATE_CHARS == 10_000


def test_countdown_text_ticks_under_an_hour_and_reads_hours_past_it() -> None:
    # Under an hour the wall and the workspace show it ticking in mm:ss.
    assert countdown_text(T0 + timedelta(minutes=59, seconds=59), T0) == "59:59"
    assert countdown_text(T0, T0 + timedelta(minutes=59, seconds=59)) == "OVERDUE 59:59"
    assert countdown_text(T0, T0) == "0:00"
    # From an hour on: hours and minutes, the console's one formatter (not "355:00").
    assert countdown_text(T0, T0 + timedelta(minutes=355)) == "OVERDUE 5 h 55 min"
    assert countdown_text(T0, T0 + timedelta(hours=1)) == "OVERDUE 1 h 00 min"
    assert countdown_text(T0 + timedelta(minutes=65), T0) == "1 h 05 min"
    # Time left rounds up (never shows less than there is), time overdue rounds down.
    assert countdown_text(T0 + timedelta(minutes=64, seconds=1), T0) == "1 h 05 min"
    assert countdown_text(T0, T0 + timedelta(minutes=65, seconds=59)) == "OVERDUE 1 h 05 min"
    assert countdown_text(T0, T0 + timedelta(days=2, hours=4)) == "OVERDUE 2 d 4 h"


def test_an_executive_countdown_runs_through_its_grace_as_overdue_does() -> None:
    """Owed at the declaration itself: not shown OVERDUE while the queue and alerts wait."""
    declared = T0
    for seconds in (0, 26, 299, 300, 301, 420):
        now = T0 + timedelta(seconds=seconds)
        shown = countdown_text(declared, now, "executive")
        assert shown.startswith("OVERDUE") == ("executive" in overdue({"executive": declared}, now))
    assert countdown_text(declared, T0 + timedelta(seconds=26), "executive") == "4:34"
    assert countdown_text(declared, T0 + timedelta(minutes=7), "executive") == "OVERDUE 2:00"
    # The other audiences have no grace.
    assert countdown_text(declared, T0 + timedelta(seconds=26), "internal") == "OVERDUE 0:26"


def test_the_running_major_is_the_most_severe_open_one_then_the_oldest() -> None:
    from console.domain.lifecycle import State
    from console.domain.severity import Severity
    from tests.helpers.factories import desk_incident

    top = desk_incident(1, Severity.SEV1, age_min=600)  # not major
    old_sev2 = desk_incident(2, Severity.SEV2, age_min=900, major=True)
    new_sev1 = desk_incident(3, Severity.SEV1, age_min=30, major=True)
    run = desk_incident(4, Severity.SEV1, age_min=90, major=True)
    closed = desk_incident(5, Severity.SEV1, age_min=800, major=True, state=State.RESOLVED)
    assert running_major([top, old_sev2, new_sev1, run, closed]) == run
    assert running_major([top, old_sev2]) == old_sev2
    assert running_major([top, closed]) is None
    assert running_major([]) is None
