"""What the metrics read on each cached incident row, kept by every write (#21).

The durations and SLA flags come from the record itself; the escalated,
reopened and CSAT marks from the cached timeline, whichever arrives first, and
again when an event is replaced or the operator records a score offline. A
version 7 file gets all of them from what it already holds.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from console.domain.incident import TimelineKind
from console.domain.lifecycle import State
from console.store import Cache, OutboxEntry
from console.store.codec import INCIDENT_COLUMNS, incident_row, timeline_row
from tests.helpers.factories import CACHE_T0 as T0
from tests.helpers.factories import cached_incident as make_incident
from tests.helpers.factories import make_event, minutes
from tests.helpers.store import old_cache

_MARKS = "SELECT escalated, reopened, csat FROM incidents WHERE id = :id"
_DERIVED = (
    "SELECT opened_s, ack_s, fix_s, response_met, resolution_met FROM incidents WHERE id = :id"
)


def _row(cache: Cache, sql: str, incident_id: str) -> tuple[Any, ...]:
    [row] = cache.read_rows(sql, {"id": incident_id})
    return tuple(row)


def _escalation(incident_id: str, event_id: str, at: Any = T0) -> Any:
    return make_event(incident_id, event_id, at, kind=TimelineKind.ESCALATION, data={"tier": 2})


def _csat(incident_id: str, event_id: str, at: Any, score: int) -> Any:
    return make_event(incident_id, event_id, at, kind=TimelineKind.CSAT, data={"score": score})


def test_durations_and_sla_flags_follow_each_version_of_the_record(cache: Cache) -> None:
    incident = make_incident(
        "a",
        acknowledged_at=T0 + timedelta(seconds=59, microseconds=999_999),
        response_due=T0 + minutes(1),
        resolution_due=T0 + minutes(30),
    )
    cache.upsert_incidents([incident])
    opened_s = int(T0.timestamp())
    # T0 has a fraction; each time is cut to its second before subtracting.
    assert _row(cache, _DERIVED, "a") == (opened_s, 60, None, 1, None)
    resolved = replace(incident, version=2, state=State.RESOLVED, resolved_at=T0 + minutes(31))
    cache.upsert_incidents([resolved])
    assert _row(cache, _DERIVED, "a") == (opened_s, 60, 31 * 60, 1, 0)


def test_marks_come_from_the_timeline_whichever_arrives_first(cache: Cache) -> None:
    # A later page of the feed carries the incident after its events.
    cache.upsert_timeline([_escalation("early", "e1"), _csat("early", "c1", T0, 4)])
    cache.upsert_incidents([make_incident("early"), make_incident("plain")])
    assert _row(cache, _MARKS, "early") == (1, 0, 4)
    assert _row(cache, _MARKS, "plain") == (0, 0, None)
    # Routing a new incident is no escalation; moving it away from a group is.
    routed = {"assignment_group": {"from": None, "to": "Network"}}
    cache.upsert_timeline([make_event("plain", "r1", kind=TimelineKind.ASSIGNMENT, data=routed)])
    assert _row(cache, _MARKS, "plain") == (0, 0, None)
    moved = {"assignment_group": {"from": "Network", "to": "Database"}}
    reopen = {"from": "resolved", "to": "reopened", "hold_reason": None}
    cache.upsert_timeline(
        [
            make_event("plain", "r2", kind=TimelineKind.ASSIGNMENT, data=moved),
            make_event("plain", "s1", kind=TimelineKind.STATE_CHANGE, data=reopen),
        ]
    )
    assert _row(cache, _MARKS, "plain") == (1, 1, None)


def test_the_last_score_counts_and_a_replaced_event_is_read_again(cache: Cache) -> None:
    cache.upsert_incidents([make_incident("a")])
    cache.upsert_timeline([_csat("a", "c2", T0 + minutes(5), 2), _csat("a", "c1", T0, 5)])
    assert _row(cache, _MARKS, "a")[2] == 2
    # Two at the same instant: the higher.
    cache.upsert_timeline([_csat("a", "c3", T0 + minutes(5), 3)])
    assert _row(cache, _MARKS, "a")[2] == 3
    # The escalation entry replaced by a note (a corrected event): no longer escalated.
    cache.upsert_timeline([_escalation("a", "e1")])
    assert _row(cache, _MARKS, "a")[0] == 1
    cache.upsert_timeline([make_event("a", "e1")])
    assert _row(cache, _MARKS, "a")[0] == 0


def test_a_score_recorded_offline_marks_the_incident_at_once(cache: Cache) -> None:
    cache.upsert_incidents([make_incident("a", state=State.RESOLVED, resolved_at=T0)])
    entry = OutboxEntry("timeline", "a", {"kind": "csat", "body": "CSAT 5/5", "score": 5}, None)
    cache.enqueue(entry, local_event=_csat("a", "local-1", T0 + minutes(1), 5))
    assert _row(cache, _MARKS, "a")[2] == 5


def test_a_version_7_cache_gets_the_columns_from_what_it_holds(tmp_path: Path) -> None:
    path = old_cache(tmp_path / "cache.db", 7)
    incidents = [
        make_incident("a", acknowledged_at=T0 + minutes(2), response_due=T0 + minutes(1)),
        make_incident(
            "b",
            state=State.RESOLVED,
            acknowledged_at=T0 + minutes(1),
            resolved_at=T0 + timedelta(hours=3, seconds=0.5),
            response_due=T0 + minutes(15),
            resolution_due=T0 + timedelta(hours=4),
        ),
    ]
    events = [_escalation("a", "e1"), _csat("b", "c1", T0, 1), _csat("b", "c2", T0 + minutes(9), 4)]
    with sqlite3.connect(path) as db:
        marks = ", ".join("?" * len(INCIDENT_COLUMNS))
        for incident in incidents:
            db.execute(f"INSERT INTO incidents VALUES ({marks})", incident_row(incident))
        for event in events:
            db.execute("INSERT INTO timeline VALUES (?, ?, ?, ?, ?, ?, ?)", timeline_row(event))
    db.close()
    with Cache.open(path) as cache:
        upgraded = {i.id: _row(cache, _DERIVED, i.id) for i in incidents}
        assert _row(cache, _MARKS, "a") == (1, 0, None)
        assert _row(cache, _MARKS, "b") == (0, 0, 4)
    # What the writes of this version store for the same records.
    with Cache.open(tmp_path / "new.db") as fresh:
        fresh.upsert_incidents(incidents)
        assert upgraded == {i.id: _row(fresh, _DERIVED, i.id) for i in incidents}
    opened_s = int(T0.timestamp())
    assert upgraded["a"] == (opened_s, 120, None, 0, None)
    assert upgraded["b"] == (opened_s, 60, 3 * 3600, 1, 1)
