"""The Reviews view's rows: typing on narrows the last answer and finds exactly the same rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from console.services.reviews import ReviewRows

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def docs(n: int = 60) -> list[dict[str, Any]]:
    return [
        {
            "id": f"pir-{k}",
            "incident_number": f"INC-{k:06d}",
            "title": f"Service {k % 7} degraded",
            "service": f"svc-{k % 5}",
            "status": ("draft", "held", "approved")[k % 3],
            "due_at": (NOW + timedelta(hours=k - 30)).isoformat(),
            "action_items": [
                {
                    "id": f"i-{k}-{j}",
                    "title": f"Follow-up {j} on service {k % 7}",
                    "owner": f"Owner {(k + j) % 11}",
                    "due": (NOW + timedelta(days=j - 1)).isoformat(),
                    "state": ("open", "done")[j % 2],
                }
                for j in range(3)
            ],
        }
        for k in range(n)
    ]


def ids(answer: tuple[list[Any], list[Any]]) -> tuple[list[str], list[str]]:
    reviews, items = answer
    return [r.pir_id for r in reviews], [i.item_id for i in items]


def test_typing_one_character_at_a_time_finds_what_a_fresh_filter_finds() -> None:
    typed = ReviewRows(docs(), NOW)
    for query in ("service 4 follow", "owner 1 overdue", "inc-00001 svc-1", "s s"):
        for bucket in ("all", "due", "held"):
            for end in range(len(query) + 1):
                fresh = ReviewRows(docs(), NOW).filter(query[:end], bucket)
                assert ids(typed.filter(query[:end], bucket)) == ids(fresh), (query[:end], bucket)
            # Backspacing widens again.
            for end in range(len(query), -1, -1):
                fresh = ReviewRows(docs(), NOW).filter(query[:end], bucket)
                assert ids(typed.filter(query[:end], bucket)) == ids(fresh), (query[:end], bucket)


def test_overdue_items_are_found_by_overdue_and_by_open() -> None:
    rows = ReviewRows(docs(), NOW)
    _, late = rows.filter("overdue")
    _, still_open = rows.filter("open")
    assert late
    assert all(i.overdue for i in late)
    assert {i.item_id for i in late} <= {i.item_id for i in still_open}
    assert rows.overdue_counts == (
        sum(r.overdue for r in rows.reviews),
        sum(i.overdue for i in rows.items),
    )
