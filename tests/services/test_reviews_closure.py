"""At closure the console suggests opening or linking a problem (from the cache, offline)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from console.domain.incident import Incident
from console.domain.lifecycle import State
from console.services.reviews import closure_suggestion, closures_to_suggest
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


def _closures(
    arrived: list[Incident],
    before: dict[str, Incident],
    *,
    mine: frozenset[str] = frozenset(),
    watching: str | None = None,
) -> list[str]:
    found = closures_to_suggest(
        arrived, before.get, mine=lambda i: i.id in mine, watching=watching, now=NOW
    )
    return [i.id for i in found]


def test_a_closure_from_the_feed_prompts_the_owner_or_the_one_looking_at_it() -> None:
    was_open = make_incident(1)
    closed = replace(was_open, state=State.CLOSED, closed_at=NOW - timedelta(minutes=2))
    assert _closures([closed], {closed.id: was_open}, mine=frozenset({closed.id})) == [closed.id]
    assert _closures([closed], {closed.id: was_open}, watching=closed.id) == [closed.id]
    # Someone else's, not on screen: their console prompts them, not this one.
    assert _closures([closed], {closed.id: was_open}, watching="inc-9") == []


def test_old_closures_and_closures_never_seen_open_do_not_prompt() -> None:
    was_open = make_incident(1)
    closed = replace(was_open, state=State.CLOSED, closed_at=NOW - timedelta(minutes=2))
    # A first sync or a start-up: nothing was open here to compare with.
    assert _closures([closed], {}, mine=frozenset({closed.id})) == []
    # Already closed here (this console closed it, or saw it before): no second prompt.
    assert _closures([closed], {closed.id: closed}, mine=frozenset({closed.id})) == []
    # Back from a night offline: yesterday's closures stay quiet.
    stale = replace(closed, closed_at=NOW - timedelta(hours=10))
    assert _closures([stale], {closed.id: was_open}, mine=frozenset({closed.id})) == []
    # Only closures: a resolution is not a closure.
    resolved = replace(was_open, state=State.RESOLVED, resolved_at=NOW)
    assert _closures([resolved], {closed.id: was_open}, mine=frozenset({closed.id})) == []
