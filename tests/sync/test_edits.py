"""The operator's edits: checked by the ITIL rules, shown at once, queued in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.connectors.base import field_value
from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import Incident, TimelineKind
from console.domain.lifecycle import HoldReason, IllegalTransition, State
from console.domain.severity import Impact, Severity
from console.store import Cache
from console.sync.edits import (
    LocalEdits,
    apply_fields,
    is_local_id,
    merge,
    normalise_fields,
)
from tests.helpers.processes import make_incidents

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    opened = Cache.open(tmp_path / "cache.db")
    yield opened
    opened.close()


@pytest.fixture
def incident(cache: Cache) -> Incident:
    record = replace(make_incidents(1)[0], state=State.NEW, acknowledged_at=None, holds=())
    record = replace(record, hold_reason=None, resolved_at=None, closed_at=None)
    cache.upsert_incidents([record])
    return record


def test_fields_are_checked_and_given_their_wire_values() -> None:
    assert normalise_fields({"impact": "HIGH", "severity": 2, "severity_reason": " exec "}) == {
        "impact": "high",
        "severity": "SEV-2",
        "severity_reason": "exec",
    }
    assert normalise_fields({"assignee": "  "}) == {"assignee": None}
    with pytest.raises(InvalidValue, match="hold_reason"):
        normalise_fields({"state": "on_hold"})
    with pytest.raises(InvalidValue, match="severity_reason"):
        normalise_fields({"severity": "SEV-1"})
    with pytest.raises(InvalidValue, match="field"):
        normalise_fields({"number": "INC-000001"})
    with pytest.raises(InvalidValue, match="title"):
        normalise_fields({"title": " "})
    with pytest.raises(InvalidValue, match="withdrawn"):
        normalise_fields({"acknowledged": False})


def test_applying_an_edit_follows_the_lifecycle_and_the_matrix(incident: Incident) -> None:
    edited = apply_fields(incident, {"impact": "high", "urgency": "high", "state": "triaged"}, NOW)
    assert edited.severity is Severity.SEV1
    assert edited.state is State.TRIAGED
    assert edited.acknowledged_at == NOW  # leaving "new" is the acknowledgement
    assert edited.version == incident.version
    held = apply_fields(edited, {"state": "on_hold", "hold_reason": "awaiting_vendor"}, NOW)
    assert held.state is State.ON_HOLD
    assert held.hold_reason is HoldReason.AWAITING_VENDOR
    assert len(held.holds) == 1  # waiting on a vendor pauses the SLA clocks
    with pytest.raises(IllegalTransition):
        apply_fields(incident, {"state": "closed"}, NOW)
    assert apply_fields(incident, {"state": "closed"}, NOW, lenient=True).state is State.NEW


def test_merge_sends_untouched_fields_and_keeps_real_conflicts(incident: Incident) -> None:
    base = {"title": incident.title, "assignee": incident.assignee, "impact": "low"}
    theirs = replace(incident, assignee="bo", impact=Impact.LOW, version=incident.version + 1)
    mine = {"title": "Mine", "assignee": "ana", "impact": "low"}
    result = merge(mine, base, theirs)
    assert result.resend == {"title": "Mine"}
    assert set(result.conflicts) == {"assignee"}
    clash = result.conflicts["assignee"]
    assert (clash.base, clash.mine, clash.theirs) == (incident.assignee, "ana", "bo")
    # Both changed it to the same value: nothing to send, nothing to decide.
    same = merge({"assignee": "bo"}, {"assignee": incident.assignee}, theirs)
    assert same.resend == {}
    assert same.conflicts == {}


def test_a_new_incident_shows_at_once_as_pending_and_is_queued(cache: Cache) -> None:
    woken: list[bool] = []
    edits = LocalEdits(cache, author="ana", on_queued=lambda: woken.append(True))
    shown = edits.create(title=" VPN down ", service="vpn", impact="high", urgency="high")
    assert is_local_id(shown.id)
    assert shown.number.startswith("(pending) ")
    assert shown.severity is Severity.SEV1
    assert cache.incident(shown.id) == shown
    (queued,) = cache.pending_outbox()
    assert queued.operation == "create"
    assert queued.incident_id == shown.id
    assert queued.payload["fields"]["title"] == "VPN down"  # type: ignore[index]
    assert woken == [True]


def test_an_edit_records_the_values_it_started_from(cache: Cache, incident: Incident) -> None:
    edits = LocalEdits(cache, author="ana")
    shown = edits.patch(incident.id, {"title": "New title", "assignee": incident.assignee})
    assert shown.title == "New title"
    assert cache.incident(incident.id) == shown
    (queued,) = cache.pending_outbox()
    assert queued.base_version == incident.version
    assert queued.payload == {
        "fields": {"title": "New title"},  # the unchanged assignee is left out
        "base": {"title": incident.title},
    }
    # An edit that changes nothing queues nothing.
    edits.patch(incident.id, {"title": "New title"})
    assert len(cache.pending_outbox()) == 1


def test_an_edit_the_rules_refuse_is_neither_shown_nor_queued(
    cache: Cache, incident: Incident
) -> None:
    edits = LocalEdits(cache)
    with pytest.raises(DomainError, match="allowed from new"):
        edits.patch(incident.id, {"state": "closed"})
    assert cache.pending_outbox() == []
    assert cache.incident(incident.id) == incident
    with pytest.raises(DomainError, match="not in the local cache"):
        edits.patch("no-such-id", {"title": "x"})


def test_a_note_shows_at_once_and_is_queued(cache: Cache, incident: Incident) -> None:
    edits = LocalEdits(cache, author="ana")
    note = edits.add_note(incident.id, "Called the vendor", kind="status_update")
    assert note.kind is TimelineKind.STATUS_UPDATE
    assert cache.timeline(incident.id) == [note]
    (queued,) = cache.pending_outbox()
    assert queued.payload["body"] == "Called the vendor"
    with pytest.raises(InvalidValue):
        edits.add_note(incident.id, "x", kind="state_change")
    assert field_value(incident, "severity") == incident.severity.code
