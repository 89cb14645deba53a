"""Timeline events in the cache: order, change reports, JSON data."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from console.domain.incident import TimelineEvent, TimelineKind
from console.store import Cache, CacheError, ChangeSet
from console.store.codec import TIMELINE_COLUMNS
from console.store.tables import TIMELINE
from tests.helpers.factories import CACHE_T0 as T0
from tests.helpers.factories import cached_incident as make_incident
from tests.helpers.factories import make_event, minutes


def test_timeline_is_oldest_first_whatever_the_arrival_order(cache: Cache) -> None:
    cache.upsert_incidents([make_incident("a")])
    late = make_event("a", "e-late", T0 + minutes(30))
    early = make_event("a", "e-early", T0 - minutes(5))
    middle = make_event("a", "e-mid", T0 + minutes(1))
    other = make_event("b", "e-other", T0)

    cache.upsert_timeline([late, other, early, middle])

    assert [e.id for e in cache.timeline("a")] == ["e-early", "e-mid", "e-late"]
    assert cache.timeline("b") == [other]


def test_events_round_trip_with_their_data(cache: Cache, cache_path: Path) -> None:
    event = make_event(
        "a",
        "e1",
        kind=TimelineKind.ESCALATION,
        body="",
        data={"tier": 2, "notified": ["chen", "dee"], "ack": None, "ratio": 0.5, "ok": True},
    )
    cache.upsert_timeline([event])
    cache.close()
    with Cache.open(cache_path) as reopened:
        assert reopened.timeline("a") == [event]


def test_change_report_names_events_and_their_incidents(cache: Cache) -> None:
    first = cache.upsert_timeline([make_event("a", "e1"), make_event("b", "e2")])
    assert first == ChangeSet(inserted=frozenset({"e1", "e2"}), timeline_of=frozenset({"a", "b"}))

    assert not cache.upsert_timeline([make_event("a", "e1")])  # identical: nothing to redraw

    edited = cache.upsert_timeline([make_event("a", "e1", body="corrected note")])
    assert edited == ChangeSet(updated=frozenset({"e1"}), timeline_of=frozenset({"a"}))
    assert cache.timeline("a")[0].body == "corrected note"


def test_data_that_is_not_json_is_refused_and_nothing_is_stored(cache: Cache) -> None:
    good = make_event("a", "e1")
    bad = make_event("a", "e2", data={"when": T0})  # a datetime is not a JSON value
    with pytest.raises(CacheError, match="e2"):
        cache.upsert_timeline([good, bad])
    assert cache.timeline("a") == []


def test_order_holds_when_one_timestamp_has_no_fraction_of_a_second(cache: Cache) -> None:
    # Timestamps are stored as text; a whole second is written without a
    # fraction, and must still sort before the microsecond after it.
    whole = T0.replace(microsecond=0)
    events = [
        make_event("a", "e3", whole + timedelta(seconds=1)),
        make_event("a", "e2", whole + timedelta(microseconds=1)),
        make_event("a", "e1", whole),
        make_event("a", "e0", whole - timedelta(microseconds=1)),
    ]
    cache.upsert_timeline(events)
    assert [e.id for e in cache.timeline("a")] == ["e0", "e1", "e2", "e3"]
    assert cache.timeline("a")[1].at == whole


def test_table_columns_follow_the_event_fields() -> None:
    assert [f.name for f in dataclasses.fields(TimelineEvent)] == list(TIMELINE_COLUMNS)
    assert [c.name for c in TIMELINE.columns] == list(TIMELINE_COLUMNS)
