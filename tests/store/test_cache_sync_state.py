"""The sync cursor and apply_changes: rows and cursor commit together or not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.store import Cache, CacheError, ChangeSet
from tests.helpers.factories import cached_incident as make_incident
from tests.helpers.factories import make_event

BACKEND = "https://noc.example.net"


def test_a_backend_never_synced_has_cursor_zero_and_no_sync_time(cache: Cache) -> None:
    assert cache.cursor(BACKEND) == 0
    assert cache.last_synced_at(BACKEND) is None


def test_apply_changes_stores_rows_moves_the_cursor_and_reports(cache: Cache) -> None:
    cache.upsert_incidents([make_incident("old", version=1), make_incident("gone")])
    cache.upsert_reference("teams", [{"id": "t-old"}])
    before = datetime.now(UTC)

    changes = cache.apply_changes(
        BACKEND,
        incidents=[make_incident("new"), make_incident("old", version=2)],
        deleted_incidents=["gone"],
        timeline=[make_event("new", "e1")],
        reference={"services": [{"id": "s1", "name": "Checkout"}]},
        deleted_reference={"teams": ["t-old"]},
        cursor=41,
    )

    assert changes == ChangeSet(
        inserted=frozenset({"new"}),
        updated=frozenset({"old"}),
        removed=frozenset({"gone"}),
        timeline_of=frozenset({"new"}),
        reference_kinds=frozenset({"services", "teams"}),
    )
    assert cache.cursor(BACKEND) == 41
    synced = cache.last_synced_at(BACKEND)
    assert synced is not None
    assert before - timedelta(seconds=1) <= synced <= datetime.now(UTC) + timedelta(seconds=1)
    assert synced.utcoffset() == timedelta(0)
    assert cache.incident("gone") is None
    assert [e.id for e in cache.timeline("new")] == ["e1"]
    assert cache.reference("teams") == []
    assert cache.reference("services") == [{"id": "s1", "name": "Checkout"}]


def test_a_page_with_nothing_new_still_moves_the_cursor(cache: Cache) -> None:
    changes = cache.apply_changes(BACKEND, cursor=7)
    assert not changes
    assert cache.cursor(BACKEND) == 7
    assert cache.last_synced_at(BACKEND) is not None


def test_each_backend_keeps_its_own_cursor(cache: Cache, cache_path: Path) -> None:
    cache.apply_changes(BACKEND, cursor=10)
    cache.apply_changes("http://127.0.0.1:8765", cursor=3)
    cache.apply_changes(BACKEND, cursor=12)
    cache.close()
    with Cache.open(cache_path) as reopened:
        assert reopened.cursor(BACKEND) == 12
        assert reopened.cursor("http://127.0.0.1:8765") == 3


def test_a_failure_late_in_the_page_rolls_back_rows_and_cursor(cache: Cache) -> None:
    cache.apply_changes(BACKEND, incidents=[make_incident("a", version=1)], cursor=5)
    first_sync = cache.last_synced_at(BACKEND)

    # The incidents and the first reference kind are written before the bad
    # timeline event is reached, inside the same transaction.
    with pytest.raises(CacheError, match="e-bad"):
        cache.apply_changes(
            BACKEND,
            incidents=[
                make_incident("a", version=2),
                *(make_incident(f"n{k}") for k in range(1200)),
            ],
            deleted_incidents=["a"],
            reference={"teams": [{"id": "t1"}]},
            timeline=[make_event("n1", "e-ok"), make_event("n1", "e-bad", data={"x": {1, 2}})],
            cursor=99,
        )

    assert cache.cursor(BACKEND) == 5
    assert cache.last_synced_at(BACKEND) == first_sync
    assert cache.incident_count() == 1
    loaded = cache.incident("a")
    assert loaded is not None
    assert loaded.version == 1
    assert cache.timeline("n1") == []
    assert cache.reference("teams") == []


def test_a_bad_reference_item_after_rows_were_written_rolls_everything_back(
    cache: Cache,
) -> None:
    with pytest.raises(CacheError, match="id"):
        cache.apply_changes(
            BACKEND,
            incidents=[make_incident("a")],
            reference={"services": [{"id": "s1"}], "teams": [{"name": "no id"}]},
            cursor=3,
        )
    assert cache.cursor(BACKEND) == 0
    assert cache.incident_count() == 0
    assert cache.reference("services") == []


def test_an_unknown_reference_kind_is_refused_before_anything_is_written(cache: Cache) -> None:
    with pytest.raises(CacheError, match="unknown reference data kind 'staff'"):
        cache.apply_changes(
            BACKEND, incidents=[make_incident("a")], reference={"staff": []}, cursor=3
        )
    assert cache.cursor(BACKEND) == 0
    assert cache.incident_count() == 0


@pytest.mark.parametrize("cursor", [-1, True, 2.5, "7"])
def test_a_cursor_that_is_not_a_whole_number_from_zero_is_refused(
    cache: Cache, cursor: object
) -> None:
    with pytest.raises(CacheError, match="cursor"):
        cache.apply_changes(BACKEND, cursor=cursor)  # type: ignore[arg-type]
    assert cache.cursor(BACKEND) == 0
