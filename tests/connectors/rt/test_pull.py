"""Polling Request Tracker without missing or repeating a change, against a real RT 5.

The cases here are the hard ones for a poll by ``LastUpdated``: a queue whose
ticket order by ``LastUpdated`` disagrees with the order of RT's transaction
ids (imported or migrated tickets), and an RT account whose time zone changes
its offset (daylight saving) while the console follows the queue. Tickets are
dated in the past by writing RT's own tables, as an import would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.connectors.base import Unreachable
from console.connectors.rt import RtBackend
from console.connectors.rt.mapping import RtMapping, incident_id
from console.store import Cache
from console.sync.edits import LocalEdits
from console.sync.engine import SyncEngine
from tests.helpers.rt import lossy_proxy
from tests.helpers.rtserver import RtInstance

pytestmark = pytest.mark.slow


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db") as opened:
        yield opened


def connector(rt: RtInstance, url: str | None = None, **options: Any) -> RtBackend:
    return RtBackend(f"rt+{url or rt.url}", rt.token, mapping=RtMapping(queue=rt.queue), **options)


def redate(rt: RtInstance, ticket: int, when: datetime) -> None:
    """Move a ticket and its transactions to ``when`` in RT's tables (as an import dates them)."""
    stamp = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    with contextlib.closing(rt.server.connect()) as db, db:
        db.execute(
            "UPDATE Tickets SET Created = ?, LastUpdated = ? WHERE id = ?", (stamp, stamp, ticket)
        )
        db.execute(
            "UPDATE Transactions SET Created = ? WHERE ObjectType = 'RT::Ticket' AND ObjectId = ?",
            (stamp, ticket),
        )


def test_a_first_sync_ends_when_the_last_updated_order_disagrees_with_transaction_ids(
    rt: RtInstance, cache: Cache
) -> None:
    """Seeded tickets have random LastUpdated dates and transaction ids in creation order,
    as after an import: many pages in a row bring no newer transaction id. The sync still
    moves on page by page and gets every ticket exactly once."""
    ids = rt.bulk_seed(400, seed=7)
    with connector(rt, overlap=1) as backend:
        engine = SyncEngine(cache, backend, poll_interval=1, page_size=4)
        engine.sync_once()
    assert sorted(i.id for i in cache.incidents()) == sorted(incident_id(t) for t in ids)


def test_no_change_is_missed_when_the_rt_users_zone_leaves_daylight_saving(
    rt: RtInstance, cache: Cache
) -> None:
    """Europe/Berlin left summer time at 2025-10-26 01:00 UTC. RT converts a date in a
    query with the zone's offset at that date read as UTC, so its reading of the
    console's dates changes an hour earlier, at 2025-10-25 23:00 UTC. A console whose
    position moves across that instant must measure the offset again, or it reads
    from an hour too late and never sees the tickets updated in that hour."""
    rt.api("PUT", "user/noc-console", json={"Timezone": "Europe/Berlin"})
    try:
        with connector(rt, overlap=1) as backend:
            before = rt.create_ticket("Before the change", CustomFields={"Service": "a"})
            redate(rt, before, datetime(2025, 10, 25, 22, 50, tzinfo=UTC))
            batch = backend.changes(0, 100)
            assert [i.id for i in batch.incidents] == [incident_id(before)]

            across = rt.create_ticket("Across the change", CustomFields={"Service": "b"})
            redate(rt, across, datetime(2025, 10, 25, 23, 4, tzinfo=UTC))
            batch = backend.changes(batch.cursor, 100)
            assert [i.id for i in batch.incidents] == [incident_id(across)]

            after = rt.create_ticket("After the change", CustomFields={"Service": "c"})
            redate(rt, after, datetime(2025, 10, 25, 23, 40, tzinfo=UTC))
            batch = backend.changes(batch.cursor, 100)
            assert [i.id for i in batch.incidents] == [incident_id(after)]
    finally:
        rt.api("PUT", "user/noc-console", json={"Timezone": ""})


def test_a_catch_up_through_the_hour_rt_cannot_name_gets_every_ticket_once(
    rt: RtInstance, cache: Cache
) -> None:
    """In Europe/Berlin, no date in a query names an instant of 2025-10-25 23:00-24:00
    UTC (see above): a page ending there is continued from a date RT reads up to an
    hour earlier, whose first tickets were read already. The catch-up drops those and
    reads on, instead of going back and forth between the same pages."""
    rt.api("PUT", "user/noc-console", json={"Timezone": "Europe/Berlin"})
    try:
        minutes = (10, 20, 30, 40, 50, 70, 80, 90, 100)
        made = []
        for minute in minutes:
            ticket = rt.create_ticket(f"Flap {minute}", CustomFields={"Service": "wan"})
            redate(rt, ticket, datetime(2025, 10, 25, 22, tzinfo=UTC) + timedelta(minutes=minute))
            made.append(ticket)
        with connector(rt, overlap=1) as backend:
            SyncEngine(cache, backend, poll_interval=1, page_size=2).sync_once()
        assert sorted(i.id for i in cache.incidents()) == sorted(incident_id(t) for t in made)
    finally:
        rt.api("PUT", "user/noc-console", json={"Timezone": ""})


def test_a_server_error_is_rt_being_unavailable_and_the_edit_waits(
    rt: RtInstance, cache: Cache
) -> None:
    """RT answers 500 when it fails inside (its database locked or restarting): the
    console keeps the edit and sends it when RT works again, it never sets it aside."""
    ticket = rt.create_ticket("Switch fan alarm", CustomFields={"Service": "dc"})
    with lossy_proxy(rt.url) as proxy, connector(rt, proxy.url, overlap=1) as backend:
        engine = SyncEngine(cache, backend, poll_interval=1)
        engine.sync_once()
        LocalEdits(cache, author="noc-console").patch(incident_id(ticket), {"urgency": "high"})
        proxy.fail("PUT", f"/ticket/{ticket}", status=500, times=20)
        for _attempt in range(12):  # more than the engine's attempts for other failures
            with pytest.raises(Unreachable):
                engine.sync_once()
        proxy.heal()
        engine.sync_once()
        assert engine.rejections() == []
    values = {cf["name"]: cf["values"] for cf in rt.ticket(ticket)["CustomFields"]}
    assert values["Urgency"] == ["high"]
