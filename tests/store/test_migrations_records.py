"""Step 6: the outbox accepts review and problem edits; a version 5 file keeps its queue."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from console.store import Cache, OutboxEntry
from tests.helpers.store import old_cache


def test_a_version_5_cache_upgrades_keeping_its_queue_and_takes_review_edits(
    tmp_path: Path,
) -> None:
    path = old_cache(tmp_path / "cache.db", 5)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO outbox (operation, incident_id, payload, base_version, idempotency_key, "
            "created_at, status, attempts) VALUES ('status_update', 'inc-1', '{}', NULL, 'k1', "
            "'2026-01-01T00:00:00+00:00', 'pending', 0)"
        )
    db.close()
    with Cache.open(path) as cache:
        [kept] = cache.pending_outbox()
        assert (kept.operation, kept.idempotency_key) == ("status_update", "k1")
        cache.enqueue(OutboxEntry("record", "inc-1", {"action": "pir_draft"}, None))
        cache.enqueue(OutboxEntry("workaround", "inc-1", {"known_error_id": "ke"}, None))
        operations = [r.operation for r in cache.pending_outbox()]
        assert operations == ["status_update", "record", "workaround"]
        assert [r.id for r in cache.pending_outbox()] == sorted(
            r.id for r in cache.pending_outbox()
        )
