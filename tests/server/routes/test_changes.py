"""The change feed: paging, cursors, and the exactly-once-in-order invariant on SQLite."""

from __future__ import annotations

import pytest

from tests.helpers.feed_check import check_feed_invariant
from tests.helpers.servers import Api


def test_paging_with_the_cursor(api: Api) -> None:
    for n in range(5):
        api.create(title=f"incident {n}")
    first = api.request("GET", "/v1/changes?after=0&limit=2", role="viewer").json()
    assert [c["seq"] for c in first["changes"]] == [1, 2]
    assert first["cursor"] == 2
    assert first["more"] is True
    rest = api.request("GET", "/v1/changes?after=2&limit=10", role="viewer").json()
    assert [c["seq"] for c in rest["changes"]] == [3, 4, 5]
    assert rest["more"] is False
    empty = api.request("GET", "/v1/changes?after=5", role="viewer").json()
    assert empty == {"changes": [], "cursor": 5, "more": False}


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "after=-1", "after=abc", "limit=1e9"])
def test_absurd_cursors_and_page_sizes_are_422(api: Api, query: str) -> None:
    response = api.request("GET", f"/v1/changes?{query}", role="viewer")
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("query.")


def test_reader_sees_every_change_once_in_order_with_8_concurrent_writers(api: Api) -> None:
    seen = check_feed_invariant(api, rounds=15)
    assert len(seen) >= 8 * 15 * 5  # create, patch (incident + 2 entries), note


def test_reader_sees_every_change_once_in_order_with_16_concurrent_writers(api: Api) -> None:
    seen = check_feed_invariant(api, rounds=8, writers=16)
    assert len(seen) >= 16 * 8 * 5
    # The writes went through the group writer in shared transactions.
    assert api.server.app.state.context.writer.stats.largest_batch > 1
