"""The durable outbox: edits are shown and queued together, kept in order, never lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console.domain.lifecycle import State
from console.store import Cache, CacheError, OutboxEntry
from tests.helpers.factories import cached_incident as make_incident
from tests.helpers.factories import make_event

REPO_ROOT = Path(__file__).resolve().parents[2]


def patch(incident_id: str = "inc-1", **payload: object) -> OutboxEntry:
    return OutboxEntry("patch", incident_id, dict(payload) or {"state": "in_progress"}, 3)


def test_enqueue_shows_the_local_edit_at_once_whatever_its_version(cache: Cache) -> None:
    server_copy = make_incident("inc-1", version=3, state=State.NEW)
    cache.upsert_incidents([server_copy])
    edited = make_incident("inc-1", version=3, state=State.IN_PROGRESS, assignee="ana")
    note = make_event("inc-1", "n1", body="taking this")

    record = cache.enqueue(
        OutboxEntry("patch", "inc-1", {"state": "in_progress", "assignee": "ana"}, 3),
        local_incident=edited,
        local_event=note,
    )

    assert cache.incident("inc-1") == edited  # same version as stored, still shown
    assert cache.timeline("inc-1") == [note]
    assert record.status == "pending"
    assert record.attempts == 0
    assert record.last_error is None
    assert cache.pending_outbox() == [record]


def test_the_backends_next_version_replaces_the_local_edit(cache: Cache) -> None:
    cache.upsert_incidents([make_incident("inc-1", version=3)])
    cache.enqueue(patch(), local_incident=make_incident("inc-1", version=3, assignee="ana"))
    accepted = make_incident("inc-1", version=4, assignee="ana", state=State.IN_PROGRESS)
    assert cache.upsert_incidents([accepted]).updated == {"inc-1"}
    assert cache.incident("inc-1") == accepted


def test_pending_entries_come_back_in_the_order_they_were_queued(cache: Cache) -> None:
    ids = [cache.enqueue(patch(f"inc-{k}")).id for k in range(5)]
    cache.mark_outbox_sent(ids[1])
    pending = cache.pending_outbox()
    assert [r.id for r in pending] == [ids[0], ids[2], ids[3], ids[4]]
    assert [r.incident_id for r in pending] == ["inc-0", "inc-2", "inc-3", "inc-4"]


def test_a_record_keeps_everything_the_engine_needs_to_resend(
    cache: Cache, cache_path: Path
) -> None:
    entry = OutboxEntry(
        "create", "inc-new", {"title": "Printer on fire", "tags": ["floor-3"]}, None
    )
    cache.enqueue(entry, local_incident=make_incident("inc-new"))
    cache.close()

    with Cache.open(cache_path) as reopened:
        (record,) = reopened.pending_outbox()
        assert record.entry == entry
        assert len(record.idempotency_key) == 32  # a uuid4 hex
        assert record.created_at.utcoffset() is not None
        assert reopened.incident("inc-new") is not None


def test_queued_edits_survive_the_app_being_killed(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from console.store import Cache, OutboxEntry
        from tests.helpers.factories import cached_incident as make_incident

        cache = Cache.open(Path(sys.argv[1]))
        for k in range(3):
            cache.enqueue(
                OutboxEntry("patch", "inc-1", {"step": k}, 3, idempotency_key=f"key-{k}"),
                local_incident=make_incident("inc-1", version=3, title=f"edit {k}"),
            )
        print("queued", flush=True)
        time.sleep(120)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "queued"
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # Killed before it could checkpoint: the commits live only in the WAL.
    assert Path(f"{path}-wal").stat().st_size > 0

    with Cache.open(path) as reopened:
        assert reopened.notices == []
        pending = reopened.pending_outbox()
        assert [r.idempotency_key for r in pending] == ["key-0", "key-1", "key-2"]
        assert [r.payload for r in pending] == [{"step": 0}, {"step": 1}, {"step": 2}]
        shown = reopened.incident("inc-1")
        assert shown is not None
        assert shown.title == "edit 2"


def test_a_transient_failure_keeps_the_entry_pending_and_counts_it(cache: Cache) -> None:
    record = cache.enqueue(patch())
    cache.mark_outbox_failed(record.id, "connection refused", permanent=False)
    cache.mark_outbox_failed(record.id, "timed out after 10 s", permanent=False)

    (again,) = cache.pending_outbox()
    assert again.id == record.id
    assert again.attempts == 2
    assert again.last_error == "timed out after 10 s"


def test_a_permanent_failure_is_kept_for_the_operator_but_never_retried(cache: Cache) -> None:
    refused = cache.enqueue(patch("inc-1"))
    later = cache.enqueue(patch("inc-2"))
    cache.mark_outbox_failed(refused.id, "422: state 'closed' cannot be reopened", permanent=True)

    assert [r.id for r in cache.pending_outbox()] == [later.id]
    (rejected,) = cache.outbox_records(status="rejected")
    assert rejected.id == refused.id
    assert rejected.last_error == "422: state 'closed' cannot be reopened"
    with pytest.raises(CacheError, match="rejected"):
        cache.mark_outbox_failed(refused.id, "retry", permanent=False)


def test_sent_and_conflicting_entries_leave_the_queue(cache: Cache) -> None:
    sent = cache.enqueue(patch("inc-1"))
    clash = cache.enqueue(patch("inc-2"))
    cache.mark_outbox_sent(sent.id)
    cache.mark_outbox_sent(sent.id)  # a repeat after a lost reply changes nothing
    cache.mark_outbox_conflict(clash.id, "assignee was changed by bo")

    assert cache.pending_outbox() == []
    statuses = {r.id: r.status for r in cache.outbox_records()}
    assert statuses == {sent.id: "sent", clash.id: "conflict"}
    assert cache.outbox_records(status="conflict")[0].last_error == "assignee was changed by bo"

    cache.discard_outbox(clash.id)
    assert [r.id for r in cache.outbox_records()] == [sent.id]


def test_marking_an_entry_that_does_not_exist_is_an_error(cache: Cache) -> None:
    with pytest.raises(CacheError, match="no outbox entry 42"):
        cache.mark_outbox_sent(42)
    with pytest.raises(CacheError, match="no outbox entry 42"):
        cache.discard_outbox(42)


def test_the_same_edit_cannot_be_queued_twice(cache: Cache) -> None:
    entry = patch()
    cache.enqueue(entry)
    with pytest.raises(CacheError, match="already queued"):
        cache.enqueue(entry, local_incident=make_incident("inc-1", title="should not show"))
    assert len(cache.outbox_records()) == 1
    assert cache.incident("inc-1") is None  # the refused enqueue wrote nothing


def test_a_local_change_for_another_incident_is_refused(cache: Cache) -> None:
    with pytest.raises(CacheError, match="inc-2"):
        cache.enqueue(patch("inc-1"), local_incident=make_incident("inc-2"))
    assert cache.outbox_records() == []
    assert cache.incident("inc-2") is None


def test_a_failing_local_write_leaves_no_outbox_entry(cache: Cache) -> None:
    bad_note = make_event("inc-1", "n1", data={"x": object()})
    with pytest.raises(CacheError):
        cache.enqueue(patch("inc-1"), local_event=bad_note)
    assert cache.outbox_records() == []


def test_an_unknown_operation_names_the_allowed_ones() -> None:
    with pytest.raises(CacheError, match=r"'delete'.*create, patch, timeline"):
        OutboxEntry("delete", "inc-1", {}, 1)


@pytest.mark.parametrize(
    ("incident_id", "payload", "base_version", "message"),
    [
        ("", {}, 1, "incident id"),
        ("inc-1", {"when": object()}, 1, "JSON"),
        ("inc-1", ["not", "a", "dict"], 1, "dict"),
        ("inc-1", {}, 0, "base_version"),
    ],
)
def test_other_bad_entries_are_refused(
    incident_id: str, payload: object, base_version: int, message: str
) -> None:
    with pytest.raises(CacheError, match=message):
        OutboxEntry("patch", incident_id, payload, base_version)  # type: ignore[arg-type]


def test_each_entry_gets_its_own_idempotency_key() -> None:
    assert patch().idempotency_key != patch().idempotency_key


def test_an_unknown_status_filter_is_refused(cache: Cache) -> None:
    with pytest.raises(CacheError, match="pending, sent, rejected, conflict"):
        cache.outbox_records(status="done")


def test_sending_an_edit_rebases_the_operators_next_edits_on_the_new_version(
    cache: Cache,
) -> None:
    first = cache.enqueue(OutboxEntry("patch", "inc-1", {"assignee": "ana"}, 3))
    second = cache.enqueue(OutboxEntry("patch", "inc-1", {"state": "in_progress"}, 3))
    other = cache.enqueue(OutboxEntry("patch", "inc-2", {"assignee": "bo"}, 3))

    cache.mark_outbox_sent(first.id, new_version=4)

    bases = {r.id: r.base_version for r in cache.pending_outbox()}
    assert bases == {second.id: 4, other.id: 3}


def test_a_created_incident_gives_its_queued_edits_their_first_version(cache: Cache) -> None:
    create = cache.enqueue(OutboxEntry("create", "inc-new", {"title": "Printer on fire"}, None))
    note = cache.enqueue(OutboxEntry("timeline", "inc-new", {"body": "smoke seen"}, None))

    cache.mark_outbox_sent(create.id, new_version=1)

    (pending,) = cache.pending_outbox()
    assert pending.id == note.id
    assert pending.base_version == 1
