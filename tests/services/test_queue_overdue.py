"""#19 item 4: the queue knows which major incidents owe an overdue update, cheaply."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from console.domain.incident import Incident
from console.domain.lifecycle import State
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.services.queue import IncidentQueue
from tests.helpers.factories import NOW, desk_incident


def _major(n: int, due_in_min: float) -> Incident:
    return replace(
        desk_incident(n, Severity.SEV1),
        major=True,
        next_update_due=(("internal", NOW + timedelta(minutes=due_in_min)), ("executive", None)),
    )


def test_the_tick_turns_a_major_overdue_and_reports_the_rows_that_moved(
    policy: SlaPolicy,
) -> None:
    queue = IncidentQueue(policy, NOW)
    queue.load([_major(1, 2), _major(2, -3), desk_incident(3)])
    assert queue.update_overdue("inc-2") == "◷ update overdue (internal 3 min)"
    assert queue.update_overdue("inc-1") is None
    assert queue.update_overdue("inc-3") is None

    queue.tick(NOW + timedelta(seconds=1))
    assert queue.overdue_moved() == frozenset()  # nothing new: no repaint needed
    queue.tick(NOW + timedelta(minutes=2, seconds=30))
    assert sorted(queue.overdue_ids()) == ["inc-1", "inc-2"]
    assert queue.overdue_moved() == frozenset({"inc-1", "inc-2"})  # new, and a minute on


def test_publishing_resolving_or_removing_ends_it(policy: SlaPolicy) -> None:
    queue = IncidentQueue(policy, NOW)
    late = _major(1, -3)
    queue.load([late, _major(2, -1), _major(3, -1)])
    published = replace(late, next_update_due=(("internal", NOW + timedelta(minutes=15)),))
    queue.upsert([published])
    assert queue.update_overdue("inc-1") is None
    queue.upsert([replace(_major(2, -1), state=State.RESOLVED, resolved_at=NOW)])
    assert queue.update_overdue("inc-2") is None
    queue.remove(["inc-3"])
    assert queue.overdue_ids() == []
    queue.tick(NOW + timedelta(hours=1))
    assert queue.overdue_ids() == ["inc-1"]  # its fresh countdown ran out in turn


def test_stood_down_is_no_longer_overdue(policy: SlaPolicy) -> None:
    queue = IncidentQueue(policy, NOW)
    queue.load([_major(1, -3)])
    queue.upsert([replace(_major(1, -3), major=False, next_update_due=())])
    assert queue.overdue_ids() == []
