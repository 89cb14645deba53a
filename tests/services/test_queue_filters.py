"""The queue filter's ``review:overdue`` term: typed like a word, matched as a criterion."""

from __future__ import annotations

from datetime import timedelta

from console.domain.lifecycle import State
from console.domain.sla import SlaPolicy
from console.services.queue import BUILT_IN_VIEWS, IncidentQueue, QueueFilter
from console.services.reviews import review_standings
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident


def test_review_overdue_keeps_resolved_incidents_whose_review_or_items_are_late(
    policy: SlaPolicy,
) -> None:
    queue = IncidentQueue(policy, NOW)
    resolved = {"state": State.RESOLVED, "resolved_at": NOW - timedelta(days=5)}
    queue.load(
        [
            make_incident(1, **resolved),
            make_incident(2, **resolved),
            make_incident(3, **resolved),
            make_incident(4),
        ]
    )
    docs = [
        {
            "incident_id": "inc-1",
            "status": "draft",
            "due_at": (NOW - timedelta(days=2)).isoformat(),
        },
        {
            "incident_id": "inc-2",
            "status": "held",
            "due_at": (NOW - timedelta(days=2)).isoformat(),
            "action_items": [{"state": "open", "due": (NOW - timedelta(hours=1)).isoformat()}],
        },
        {
            "incident_id": "inc-3",
            "status": "draft",
            "due_at": (NOW + timedelta(days=1)).isoformat(),
        },
    ]
    standings = review_standings(docs, NOW)
    assert standings["inc-1"].text().startswith("Review overdue since")
    assert standings["inc-2"].text() == "Review held · 1 open action item, 1 overdue"
    assert standings["inc-3"].text().startswith("Review due")
    queue.set_review_overdue(i for i, s in standings.items() if s.late)

    wanted = QueueFilter(text="review:overdue")
    assert wanted.words == ()
    assert sorted(r.incident.id for r in queue.matching(wanted)) == ["inc-1", "inc-2"]
    predicate = queue.predicate(QueueFilter(text="pir:overdue number 2"))
    kept = [i for i in ("inc-1", "inc-2", "inc-3", "inc-4") if predicate(queue._rows[i])]
    assert kept == ["inc-2"]
    typed = QueueFilter(text="review:overdue", open_only=True)
    assert not typed.narrows(QueueFilter(open_only=True))  # a term: widens past open_only
    assert BUILT_IN_VIEWS["Review overdue"] == wanted
    assert QueueFilter.from_json(wanted.to_json()) == wanted
