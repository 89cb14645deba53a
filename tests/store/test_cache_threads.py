"""One cache shared by a sync worker thread and the GUI thread."""

from __future__ import annotations

import threading
from pathlib import Path

from console.store import Cache, OutboxEntry
from tests.helpers.factories import cached_incident as make_incident

BACKEND = "http://127.0.0.1:8765"


def test_a_worker_writing_while_the_gui_reads_and_queues_loses_nothing(cache: Cache) -> None:
    pages = 20
    per_page = 200
    errors: list[BaseException] = []
    seen_counts: list[int] = []
    done = threading.Event()

    def sync_worker() -> None:
        try:
            for page in range(pages):
                batch = [make_incident(f"p{page}-{k}") for k in range(per_page)]
                cache.apply_changes(BACKEND, incidents=batch, cursor=page + 1)
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=sync_worker, name="sync")
    worker.start()
    queued: list[int] = []
    # The "GUI thread": reads whole snapshots and queues edits while the worker writes.
    while not done.is_set() or len(queued) < 50:
        seen_counts.append(len(cache.incidents()))
        if len(queued) < 50:
            queued.append(
                cache.enqueue(OutboxEntry("patch", f"local-{len(queued)}", {"n": 1}, 1)).id
            )
    worker.join(timeout=60)

    assert errors == []
    assert cache.incident_count() == pages * per_page
    assert cache.cursor(BACKEND) == pages
    assert [r.id for r in cache.pending_outbox()] == queued
    # Every read saw whole pages: a transaction is all or nothing to readers too.
    assert all(count % per_page == 0 for count in seen_counts)
    assert seen_counts == sorted(seen_counts)


def test_two_caches_on_one_file_see_each_others_commits(cache_path: Path) -> None:
    with Cache.open(cache_path) as first, Cache.open(cache_path) as second:
        first.upsert_incidents([make_incident("a")])
        assert second.incident("a") is not None
        second.apply_changes(BACKEND, cursor=9)
        assert first.cursor(BACKEND) == 9
