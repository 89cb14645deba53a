"""Reference data (services, teams, ...) stored as JSON documents keyed by kind and id."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from console.store import REFERENCE_KINDS, Cache, CacheError, ChangeSet


def test_documents_round_trip_per_kind_ordered_by_id(cache: Cache) -> None:
    teams: list[dict[str, object]] = [
        {"id": "t2", "name": "Network", "members": ["chen"], "on_call": {"tier": 1}},
        {"id": "t1", "name": "Database", "members": [], "on_call": None},
    ]
    cache.upsert_reference("teams", teams)
    cache.upsert_reference("services", [{"id": "s1", "name": "Checkout"}])

    assert cache.reference("teams") == [teams[1], teams[0]]
    assert cache.reference("services") == [{"id": "s1", "name": "Checkout"}]
    assert cache.reference("shifts") == []


def test_change_report_for_reference_data(cache: Cache) -> None:
    first = cache.upsert_reference("teams", [{"id": "t1", "name": "A"}, {"id": "t2"}])
    assert first == ChangeSet(
        inserted=frozenset({"t1", "t2"}), reference_kinds=frozenset({"teams"})
    )
    # Same content with keys in another order: nothing changed.
    assert not cache.upsert_reference("teams", [{"name": "A", "id": "t1"}])

    renamed = cache.upsert_reference("teams", [{"id": "t1", "name": "B"}])
    assert renamed == ChangeSet(updated=frozenset({"t1"}), reference_kinds=frozenset({"teams"}))

    removed = cache.delete_reference("teams", ["t2", "never-there"])
    assert removed == ChangeSet(removed=frozenset({"t2"}), reference_kinds=frozenset({"teams"}))
    assert cache.reference("teams") == [{"id": "t1", "name": "B"}]


def test_same_id_in_two_kinds_are_two_documents(cache: Cache) -> None:
    cache.upsert_reference("teams", [{"id": "x", "name": "team x"}])
    cache.upsert_reference("services", [{"id": "x", "name": "service x"}])
    cache.delete_reference("teams", ["x"])
    assert cache.reference("services") == [{"id": "x", "name": "service x"}]


def test_integer_ids_are_accepted(cache: Cache) -> None:
    cache.upsert_reference("categories", [{"id": 7, "name": "Network"}])
    assert cache.reference("categories") == [{"id": 7, "name": "Network"}]
    assert cache.delete_reference("categories", ["7"]).removed == {"7"}


UNKNOWN_KIND_CALLS: dict[str, Callable[[Cache], object]] = {
    "upsert": lambda cache: cache.upsert_reference("team", [{"id": "t1"}]),
    "delete": lambda cache: cache.delete_reference("team", ["t1"]),
    "read": lambda cache: cache.reference("team"),
}


@pytest.mark.parametrize("call", UNKNOWN_KIND_CALLS)
def test_unknown_kind_names_the_allowed_kinds(cache: Cache, call: str) -> None:
    with pytest.raises(CacheError) as caught:
        UNKNOWN_KIND_CALLS[call](cache)
    message = str(caught.value)
    assert "'team'" in message
    assert all(kind in message for kind in REFERENCE_KINDS)


@pytest.mark.parametrize(
    "item",
    [{"name": "no id"}, {"id": ""}, {"id": None}, {"id": True}, {"id": ["t1"]}],
)
def test_an_item_without_a_usable_id_is_refused_and_nothing_is_stored(
    cache: Cache, item: dict[str, object]
) -> None:
    with pytest.raises(CacheError, match="id"):
        cache.upsert_reference("teams", [{"id": "ok"}, item])
    assert cache.reference("teams") == []


def test_a_value_that_is_not_json_is_refused(cache: Cache) -> None:
    with pytest.raises(CacheError, match="teams item 't1'"):
        cache.upsert_reference("teams", [{"id": "t1", "members": {"a", "b"}}])
    assert cache.reference("teams") == []


def test_known_errors_are_a_reference_kind(cache: Cache) -> None:
    """The triage's known errors live in the cache like any other reference data."""
    assert "known_errors" in REFERENCE_KINDS
    known = {
        "id": "ke-0001",
        "title": "VPN client fails the MFA prompt",
        "symptoms": "The prompt closes at once",
        "workaround": "Use the system browser for sign-in",
        "services": ["corporate-vpn"],
        "category": "access",
        "article": "KB-2107",
    }
    changes = cache.upsert_reference("known_errors", [known])
    assert changes.reference_kinds == frozenset({"known_errors"})
    assert cache.reference("known_errors") == [known]
    cache.delete_reference("known_errors", ["ke-0001"])
    assert cache.reference("known_errors") == []
