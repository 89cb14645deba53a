"""Sent outbox entries are kept a week, then purged; nothing still waiting is ever purged.

A real cache file; entry ages are set by writing ``created_at`` in that file
with the sqlite3 module, as if the edits had been made days ago.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.store import Cache, OutboxEntry
from console.store.codec import ts_text
from console.store.outbox import SENT_PURGE_BATCH, SENT_RETENTION

DAY = timedelta(days=1)


def patch(incident_id: str) -> OutboxEntry:
    return OutboxEntry("patch", incident_id, {"state": "in_progress"}, 3)


def make_older(path: Path, ages: dict[int, timedelta], *, sent_too: bool = True) -> None:
    """Backdate outbox entries (by id) as if they had been queued (and, with
    ``sent_too``, sent if they were) that long ago."""
    now = datetime.now(UTC)
    with sqlite3.connect(path) as db:
        db.executemany(
            "UPDATE outbox SET created_at = ?, "
            "sent_at = CASE WHEN ? AND sent_at IS NOT NULL THEN ? ELSE sent_at END WHERE id = ?",
            [
                (ts_text(now - age), sent_too, ts_text(now - age), record_id)
                for record_id, age in ages.items()
            ],
        )
    db.close()


def statuses(cache: Cache) -> dict[str, str]:
    return {r.incident_id: r.status for r in cache.outbox_records()}


def test_old_sent_entries_go_and_everything_else_stays(cache: Cache, cache_path: Path) -> None:
    assert SENT_RETENTION == 7 * DAY
    ids = {
        name: cache.enqueue(patch(name)).id
        for name in (
            "old-sent",
            "week-old-sent",
            "recent-sent",
            "old-pending",
            "old-rejected",
            "old-conflict",
            "now-sent",
        )
    }
    for name in ("old-sent", "week-old-sent", "recent-sent"):
        cache.mark_outbox_sent(ids[name])
    cache.mark_outbox_failed(ids["old-pending"], "503: try later", permanent=False)
    cache.mark_outbox_failed(ids["old-rejected"], "422: closed", permanent=True)
    cache.mark_outbox_conflict(ids["old-conflict"], "assignee was changed by bo")
    make_older(
        cache_path,
        {
            ids["old-sent"]: 30 * DAY,
            ids["week-old-sent"]: 7 * DAY + timedelta(minutes=5),
            ids["recent-sent"]: 6 * DAY,
            ids["old-pending"]: 30 * DAY,
            ids["old-rejected"]: 30 * DAY,
            ids["old-conflict"]: 30 * DAY,
        },
    )

    cache.mark_outbox_sent(ids["now-sent"])
    cache.close()

    with Cache.open(cache_path) as reopened:
        assert statuses(reopened) == {
            "recent-sent": "sent",
            "old-pending": "pending",
            "old-rejected": "rejected",
            "old-conflict": "conflict",
            "now-sent": "sent",
        }
        (conflict,) = reopened.outbox_records(status="conflict")
        assert conflict.last_error == "assignee was changed by bo"
        assert [r.incident_id for r in reopened.pending_outbox()] == ["old-pending"]


def test_an_old_edit_sent_at_last_is_kept_until_a_later_send(
    cache: Cache, cache_path: Path
) -> None:
    """An edit queued before a long outage is kept a week after it was sent, not purged
    at the next send because it was queued long ago."""
    waited = cache.enqueue(patch("inc-1"))
    make_older(cache_path, {waited.id: 10 * DAY})
    cache.mark_outbox_sent(waited.id)
    assert statuses(cache) == {"inc-1": "sent"}

    cache.mark_outbox_sent(cache.enqueue(patch("inc-2")).id)
    assert statuses(cache) == {"inc-1": "sent", "inc-2": "sent"}

    # A week after it was sent, it goes.
    make_older(cache_path, {waited.id: 8 * DAY})
    cache.mark_outbox_sent(cache.enqueue(patch("inc-3")).id)
    assert statuses(cache) == {"inc-2": "sent", "inc-3": "sent"}


def test_an_entry_sent_before_send_times_were_kept_counts_from_when_it_was_queued(
    cache: Cache, cache_path: Path
) -> None:
    old = cache.enqueue(patch("inc-1"))
    cache.mark_outbox_sent(old.id)
    with sqlite3.connect(cache_path) as db:  # as a version-2 cache left it
        db.execute("UPDATE outbox SET sent_at = NULL WHERE id = ?", (old.id,))
    db.close()
    make_older(cache_path, {old.id: 10 * DAY}, sent_too=False)
    cache.mark_outbox_sent(cache.enqueue(patch("inc-2")).id)
    assert statuses(cache) == {"inc-2": "sent"}


def test_a_repeated_mark_sent_purges_nothing(cache: Cache, cache_path: Path) -> None:
    old = cache.enqueue(patch("inc-1"))
    cache.mark_outbox_sent(old.id)
    latest = cache.enqueue(patch("inc-2"))
    cache.mark_outbox_sent(latest.id)
    make_older(cache_path, {old.id: 10 * DAY})
    cache.mark_outbox_sent(latest.id)  # a repeat after a lost reply changes nothing
    assert statuses(cache) == {"inc-1": "sent", "inc-2": "sent"}


def test_a_large_backlog_is_purged_a_batch_per_send(cache: Cache, cache_path: Path) -> None:
    backlog = 2 * SENT_PURGE_BATCH + 20
    now = datetime.now(UTC)
    with sqlite3.connect(cache_path) as db:
        db.executemany(
            "INSERT INTO outbox (operation, incident_id, payload, base_version, "
            "idempotency_key, created_at, status, attempts, last_error) "
            "VALUES ('patch', ?, '{}', 1, ?, ?, 'sent', 1, NULL)",
            [(f"old-{n}", f"key-{n}", ts_text(now - 30 * DAY)) for n in range(backlog)],
        )
    db.close()

    def old_left() -> int:
        return sum(
            1 for r in cache.outbox_records(status="sent") if r.incident_id.startswith("old-")
        )

    cache.mark_outbox_sent(cache.enqueue(patch("inc-1")).id)
    assert old_left() == backlog - SENT_PURGE_BATCH
    cache.mark_outbox_sent(cache.enqueue(patch("inc-2")).id)
    cache.mark_outbox_sent(cache.enqueue(patch("inc-3")).id)
    assert old_left() == 0
    assert statuses(cache) == {"inc-1": "sent", "inc-2": "sent", "inc-3": "sent"}
