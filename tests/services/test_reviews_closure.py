"""At closure the console suggests opening or linking a problem (from the cache, offline)."""

from __future__ import annotations

from datetime import timedelta

from console.domain.lifecycle import State
from console.services.reviews import closure_suggestion
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident


def test_three_of_the_same_service_and_category_in_30_days_suggest_a_problem() -> None:
    same = {"category": "network", "state": State.CLOSED}
    recent = [make_incident(n, age_min=60 * 24 * n, **same) for n in (1, 2, 3)]
    old = make_incident(4, age_min=60 * 24 * 40, **same)
    closing = recent[0]
    reasons = closure_suggestion(closing, [*recent, old], [], [], NOW)
    assert reasons == ["3 incidents of payments-api / network in the last 30 days"]
    assert closure_suggestion(closing, recent[:2], [], [], NOW) == []
    linked = [{"incidents": [closing.number]}]
    assert closure_suggestion(closing, recent, [], linked, NOW) == []


def test_a_review_naming_an_unknown_root_cause_suggests_a_problem() -> None:
    closing = make_incident(1, state=State.CLOSED, resolved_at=NOW - timedelta(hours=1))
    review = {"incident_id": closing.id, "root_cause_known": False}
    assert closure_suggestion(closing, [closing], [review], [], NOW) == [
        "the review names an unknown root cause"
    ]
    known = {"incident_id": closing.id, "root_cause_known": True}
    assert closure_suggestion(closing, [closing], [known], [], NOW) == []
