"""Incidents in the cache: exact round trip, the version rule, change reports, atomic batches."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, timedelta, timezone
from pathlib import Path

import pytest

from console.domain.incident import HoldPeriod, Incident, Source
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Impact, Severity, Urgency
from console.store import Cache, CacheError, ChangeSet
from console.store.codec import INCIDENT_COLUMNS, METRIC_COLUMNS
from console.store.tables import INCIDENTS
from tests.helpers.factories import CACHE_T0 as T0
from tests.helpers.factories import cached_incident as make_incident
from tests.helpers.factories import make_event, minutes

# A zone that is not UTC, with an odd offset, to prove instants survive the trip.
KATHMANDU = timezone(timedelta(hours=5, minutes=45))


def full_incident() -> Incident:
    """Every field set to a non-default value."""
    return Incident(
        id="inc-full",
        number="INC-004242",
        title="Core router flapping — BGP sessions drop every 5 min",
        service="wan-core",
        impact=Impact.HIGH,
        urgency=Urgency.HIGH,
        severity=Severity.SEV1,
        state=State.ON_HOLD,
        opened_at=T0.astimezone(KATHMANDU),
        updated_at=T0 + minutes(42),
        version=7,
        description="Line 1\nLine 2 with ünïcödé and a 'quote'",
        category="network",
        subcategory="routing",
        assignee="chen",
        assignment_group="network",
        reporter="dee",
        source=Source.MONITORING,
        major=True,
        hold_reason=HoldReason.AWAITING_VENDOR,
        holds=(
            HoldPeriod(T0 + minutes(10), T0 + minutes(20)),
            HoldPeriod((T0 + minutes(30)).astimezone(KATHMANDU)),
        ),
        acknowledged_at=T0 + timedelta(seconds=1, microseconds=1),
        resolved_at=T0 + minutes(50),
        closed_at=T0 + minutes(55),
        response_due=T0 + minutes(15),
        resolution_due=T0 + timedelta(hours=4),
    )


def test_every_field_round_trips_exactly(cache: Cache, cache_path: Path) -> None:
    original = full_incident()
    cache.upsert_incidents([original])
    cache.close()

    with Cache.open(cache_path) as reopened:
        loaded = reopened.incident("inc-full")
        assert loaded == original
        assert reopened.incidents() == [original]
    # Field by field as well, so a failure names the field that drifted.
    assert loaded is not None
    for field in dataclasses.fields(Incident):
        assert getattr(loaded, field.name) == getattr(original, field.name), field.name


def test_timestamps_come_back_as_aware_utc(cache: Cache) -> None:
    cache.upsert_incidents([full_incident()])
    loaded = cache.incident("inc-full")
    assert loaded is not None
    stamps = [loaded.opened_at, loaded.updated_at, loaded.acknowledged_at, loaded.closed_at]
    stamps += [loaded.holds[0].started, loaded.holds[1].started]
    for stamp in stamps:
        assert stamp is not None
        assert stamp.utcoffset() == timedelta(0)
    assert loaded.opened_at == T0  # the same instant, though it went in as +05:45
    assert loaded.acknowledged_at == T0 + timedelta(seconds=1, microseconds=1)


def test_minimal_incident_round_trips_with_its_empty_fields(cache: Cache) -> None:
    minimal = make_incident("inc-min")
    cache.upsert_incidents([minimal])
    loaded = cache.incident("inc-min")
    assert loaded == minimal
    assert loaded is not None
    assert loaded.holds == ()
    assert loaded.category is None
    assert loaded.hold_reason is None


def test_table_columns_follow_the_incident_fields() -> None:
    # A new Incident field must get a column (and a migration step), or it would
    # silently vanish on the way through the cache.
    assert [f.name for f in dataclasses.fields(Incident)] == list(INCIDENT_COLUMNS)
    # Then what the metrics read: derived by every write, the durations and SLA
    # flags from the record's times, the marks from the timeline.
    marks = ["escalated", "reopened", "csat"]
    assert [c.name for c in INCIDENTS.columns] == [*INCIDENT_COLUMNS, *METRIC_COLUMNS, *marks]


def test_unknown_incident_is_none(cache: Cache) -> None:
    assert cache.incident("nope") is None
    assert cache.incident_count() == 0


def test_new_incidents_are_reported_inserted(cache: Cache) -> None:
    changes = cache.upsert_incidents([make_incident("a"), make_incident("b")])
    assert changes == ChangeSet(inserted=frozenset({"a", "b"}))
    assert cache.incident_count() == 2


def test_incident_ids_lists_every_cached_id_without_reading_the_incidents(cache: Cache) -> None:
    assert cache.incident_ids() == []
    cache.upsert_incidents([make_incident("b"), make_incident("a"), make_incident("c")])
    cache.delete_incidents(["c"])
    assert cache.incident_ids() == ["a", "b"]


def test_older_or_equal_version_is_skipped_and_not_reported(cache: Cache) -> None:
    current = make_incident("a", version=3, title="current title")
    cache.upsert_incidents([current])

    same = replace(current, title="a late repeat of version 3")
    older = replace(current, version=2, title="an out-of-order version 2")
    assert not cache.upsert_incidents([same])
    assert not cache.upsert_incidents([older])

    assert cache.incident("a") == current


def test_newer_version_replaces_and_is_reported_updated(cache: Cache) -> None:
    current_b = make_incident("b", version=5)
    cache.upsert_incidents([make_incident("a", version=1), current_b])
    newer = make_incident("a", version=2, state=State.IN_PROGRESS, assignee="bo")
    stale = make_incident("b", version=4)
    brand_new = make_incident("c")

    changes = cache.upsert_incidents([newer, stale, brand_new])

    assert changes.inserted == {"c"}
    assert changes.updated == {"a"}
    assert changes.removed == frozenset()
    assert cache.incident("a") == newer
    assert cache.incident("b") == current_b


def test_the_newest_version_of_an_id_repeated_in_one_batch_wins(cache: Cache) -> None:
    v2 = make_incident("a", version=2, title="second")
    v3 = make_incident("a", version=3, title="third")
    v1 = make_incident("a", version=1, title="first")

    changes = cache.upsert_incidents([v2, v3, v1])

    assert changes == ChangeSet(inserted=frozenset({"a"}))
    assert cache.incident("a") == v3


def test_large_batches_span_chunks_and_still_report_correctly(cache: Cache) -> None:
    # More than one 900-id chunk, with an id repeated across the chunk boundary.
    cache.upsert_incidents([make_incident(f"old-{k}", version=2) for k in range(1000)])
    batch = [make_incident(f"new-{k}") for k in range(1500)]
    batch += [make_incident(f"old-{k}", version=3) for k in range(0, 1000, 2)]  # newer
    batch += [make_incident(f"old-{k}", version=1) for k in range(1, 1000, 2)]  # stale
    batch += [make_incident("new-0", version=4, title="again, newer")]

    changes = cache.upsert_incidents(batch)

    assert changes.inserted == {f"new-{k}" for k in range(1500)}
    assert changes.updated == {f"old-{k}" for k in range(0, 1000, 2)}
    assert cache.incident_count() == 2500
    loaded = cache.incident("new-0")
    assert loaded is not None
    assert loaded.title == "again, newer"
    assert {i.id: i.version for i in cache.incidents()}["old-1"] == 2


def test_a_bad_record_in_the_middle_leaves_nothing_half_written(cache: Cache) -> None:
    before = make_incident("keep", version=1, title="before the failed batch")
    cache.upsert_incidents([before])
    good = [make_incident(f"g-{k}") for k in range(1000)]  # the bad row lands in chunk 2
    bad = replace(make_incident("bad"), holds=("not a hold period",))  # type: ignore[arg-type]
    batch = [*good[:950], bad, *good[950:], make_incident("keep", version=2, title="changed")]

    with pytest.raises(CacheError, match="bad"):
        cache.upsert_incidents(batch)

    assert cache.incident_count() == 1
    assert cache.incident("keep") == before


def test_storing_something_that_is_not_an_incident_is_a_clear_error(cache: Cache) -> None:
    with pytest.raises(CacheError, match="expected an Incident"):
        cache.upsert_incidents([{"id": "x"}])  # type: ignore[list-item]


def test_delete_reports_only_ids_that_were_there_and_drops_their_timeline(cache: Cache) -> None:
    cache.upsert_incidents([make_incident("a"), make_incident("b")])
    cache.upsert_timeline([make_event("a", "e1"), make_event("b", "e2")])

    changes = cache.delete_incidents(["a", "never-cached"])

    assert changes == ChangeSet(removed=frozenset({"a"}))
    assert cache.incident("a") is None
    assert cache.timeline("a") == []
    assert [e.id for e in cache.timeline("b")] == ["e2"]
    assert not cache.delete_incidents(["a"])


def test_open_only_leaves_out_resolved_closed_and_cancelled(cache: Cache) -> None:
    for state in State:
        cache.upsert_incidents([make_incident(f"in-{state.value}", state=state)])
    open_ids = {i.id for i in cache.incidents(open_only=True)}
    assert open_ids == {f"in-{s.value}" for s in State if s.is_open}
    assert len(cache.incidents()) == len(State)


def test_reads_see_utc_even_for_records_written_in_other_zones(cache: Cache) -> None:
    local = make_incident("z", opened_at=T0.astimezone(KATHMANDU))
    cache.upsert_incidents([local])
    loaded = cache.incident("z")
    assert loaded is not None
    assert loaded.opened_at.tzinfo == UTC
