"""The sync engine against our real server on loopback, with real cache files.

The server runs in this process (``EmbeddedServer``) but is reached over HTTP
exactly like a remote one; the tests in ``tests/e2e`` use a server subprocess
for the cases that kill it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from console.connectors.base import RateLimited
from console.connectors.noc import NocBackend
from console.server.core import auth
from console.server.core.auth import Role
from console.server.embedded import EmbeddedServer
from console.server.main import context_of
from console.sync.edits import LocalEdits, is_local_id
from console.sync.engine import SyncState, SyncStatus
from tests.helpers.sync import NEW, Console, Running


def _create_on_server(other: NocBackend, n: int, **fields: object) -> list[str]:
    return [
        other.create_incident(
            {**NEW, **fields, "title": f"Incident {k}"}, idempotency_key=uuid.uuid4().hex
        ).id
        for k in range(n)
    ]


def test_a_first_sync_pages_through_the_feed_with_progress(
    console_factory: Callable[..., Console], other: NocBackend
) -> None:
    ids = _create_on_server(other, 7)
    console = console_factory(page_size=2)
    console.engine.sync_once()
    assert {i.id for i in console.cache.incidents()} == set(ids)
    progress = console.recorder.progress_log
    assert len(progress) == 4  # pages of 2
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert progress[-1][0] == progress[-1][1] == 7
    assert all(total == 7 for _, total in progress)  # known from the first moment
    assert console.cache.cursor(console.backend.key) == other.changes(0, 100).cursor


def test_a_new_engine_resumes_from_the_stored_cursor(
    console_factory: Callable[..., Console], other: NocBackend
) -> None:
    _create_on_server(other, 3)
    first = console_factory()
    first.engine.sync_once()
    cursor = first.cache.cursor(first.backend.key)
    more = _create_on_server(other, 2, service="dns")
    fetched: list[int] = []
    original = first.backend.changes

    def counting(after: int, limit: int) -> object:
        fetched.append(after)
        return original(after, limit)

    first.backend.changes = counting  # type: ignore[method-assign, assignment]
    first.engine.sync_once()
    assert fetched[0] == cursor  # not from 0
    assert {i.id for i in first.cache.incidents() if i.service == "dns"} == set(more)
    assert first.cache.incident_count() == 5


def test_edits_show_at_once_and_reach_the_server_once(console: Console, other: NocBackend) -> None:
    (incident_id,) = _create_on_server(other, 1)
    console.engine.sync_once()
    edits = LocalEdits(console.cache, author="ana", on_queued=console.engine.wake)
    edits.patch(incident_id, {"assignee": "ana", "state": "in_progress"})
    placeholder = edits.create(title="DNS down", service="dns", impact="high", urgency="high")
    edits.patch(placeholder.id, {"assignee": "bo"})
    note = edits.add_note(placeholder.id, "Resolvers restarted")
    assert console.cache.incident(placeholder.id) is not None
    assert [e.body for e in console.cache.timeline(placeholder.id)] == ["Resolvers restarted"]

    console.engine.sync_once()

    assert console.cache.pending_outbox() == []
    server = {i.title: i for i in (other.get_incident(x.id) for x in console.cache.incidents())}
    assert server["Incident 0"].assignee == "ana"
    dns = server["DNS down"]
    assert dns.assignee == "bo"
    assert dns.number.startswith("INC-")
    # The placeholder was replaced (same transaction), not left beside the real one.
    assert console.cache.incident(placeholder.id) is None
    assert not [i for i in console.cache.incidents() if is_local_id(i.id)]
    renames = [u.renamed for u in console.recorder.updates if u.renamed]
    assert renames == [{placeholder.id: dns.id}]
    # The note shows once: the server's entry, not also the local stand-in.
    bodies = [e.body for e in console.cache.timeline(dns.id)]
    assert bodies.count("Resolvers restarted") == 1
    assert all(e.id != note.id for e in console.cache.timeline(dns.id))
    # Sending again sends nothing more.
    console.engine.sync_once()
    notes = [e for b in [other.changes(0, 1000)] for e in b.timeline if e.body == note.body]
    assert len(notes) == 1


def test_edits_to_different_fields_merge_after_a_412(console: Console, other: NocBackend) -> None:
    (incident_id,) = _create_on_server(other, 1)
    console.engine.sync_once()
    LocalEdits(console.cache).patch(incident_id, {"title": "Mine"})
    other.update_incident(incident_id, {"assignee": "bo"}, version=1, idempotency_key="o1")
    console.engine.sync_once()
    merged = other.get_incident(incident_id)
    assert (merged.title, merged.assignee, merged.version) == ("Mine", "bo", 3)
    assert console.recorder.conflicts == []
    local = console.cache.incident(incident_id)
    assert local is not None
    assert (local.title, local.assignee, local.version) == ("Mine", "bo", 3)


def test_the_same_field_changed_on_both_sides_is_a_conflict_with_both_values(
    console: Console, other: NocBackend
) -> None:
    (incident_id,) = _create_on_server(other, 1)
    console.engine.sync_once()
    LocalEdits(console.cache).patch(incident_id, {"title": "Mine", "assignee": "ana"})
    other.update_incident(incident_id, {"title": "Theirs"}, version=1, idempotency_key="o1")
    console.engine.sync_once()

    (conflict,) = console.recorder.conflicts
    assert set(conflict.fields) == {"title"}
    clash = conflict.fields["title"]
    assert (clash.mine, clash.theirs, clash.base) == ("Mine", "Theirs", "Incident 0")
    assert other.get_incident(incident_id).title == "Theirs"  # nothing overwritten
    assert other.get_incident(incident_id).assignee is None  # nothing half-sent either
    (kept,) = console.cache.outbox_records(status="conflict")
    assert kept.payload["fields"] == {"title": "Mine", "assignee": "ana"}
    assert [c.record_id for c in console.engine.conflicts()] == [conflict.record_id]

    shown = console.engine.resolve_conflict(conflict.record_id, {"title": "mine"})
    assert shown is not None
    assert shown.title == "Mine"
    console.engine.sync_once()
    final = other.get_incident(incident_id)
    assert (final.title, final.assignee) == ("Mine", "ana")
    assert console.engine.conflicts() == []


def test_choosing_theirs_keeps_their_value_and_sends_the_rest(
    console: Console, other: NocBackend
) -> None:
    (incident_id,) = _create_on_server(other, 1)
    console.engine.sync_once()
    LocalEdits(console.cache).patch(incident_id, {"title": "Mine", "assignee": "ana"})
    other.update_incident(incident_id, {"title": "Theirs"}, version=1, idempotency_key="o1")
    console.engine.sync_once()
    (conflict,) = console.recorder.conflicts
    with pytest.raises(ValueError, match="title"):
        console.engine.resolve_conflict(conflict.record_id, {})
    console.engine.resolve_conflict(conflict.record_id, {"title": "theirs"})
    console.engine.sync_once()
    final = other.get_incident(incident_id)
    assert (final.title, final.assignee) == ("Theirs", "ana")
    local = console.cache.incident(incident_id)
    assert local is not None
    assert local.title == "Theirs"


def test_a_refused_edit_is_shown_with_the_servers_message_and_never_retried(
    console: Console, other: NocBackend
) -> None:
    (incident_id,) = _create_on_server(other, 1)
    console.engine.sync_once()
    edits = LocalEdits(console.cache)
    edits.patch(incident_id, {"severity": "SEV-1", "severity_reason": "CEO is watching"})
    edits.patch(incident_id, {"assignee": "ana"})  # queued behind it: must still go
    console.engine.sync_once()

    (refusal,) = console.recorder.rejections
    assert refusal.status == 403
    assert "commander" in refusal.message
    (kept,) = console.cache.outbox_records(status="rejected")
    assert "commander" in (kept.last_error or "")
    local = console.cache.incident(incident_id)
    assert local is not None
    assert local.severity.code != "SEV-1"  # the refused value is no longer shown
    assert local.assignee == "ana"
    assert other.get_incident(incident_id).assignee == "ana"
    console.engine.sync_once()
    assert len(console.recorder.rejections) == 1  # not sent again
    assert [r.record_id for r in console.engine.rejections()] == [refusal.record_id]


def test_a_revoked_token_shows_auth_failed_and_keeps_the_outbox(
    console: Console, other: NocBackend, server: EmbeddedServer
) -> None:
    (incident_id,) = _create_on_server(other, 1)
    console.engine.sync_once()
    with Running(console.engine):
        assert console.recorder.wait_for(lambda r: r.state is SyncState.LIVE)
        db = context_of(server.app).db
        with db.write_session() as session:
            auth.revoke_token(session=session, name_or_id="console-a", now=_now())
            session.commit()
        edits = LocalEdits(console.cache, on_queued=console.engine.wake)
        edits.patch(incident_id, {"title": "Written while signed out"})
        assert console.recorder.wait_for(lambda r: r.state is SyncState.AUTH_FAILED)
        status = console.recorder.statuses[-1]
        assert "unknown or revoked" in status.reason
        assert "Enter a new token" in status.text()
        (waiting,) = console.cache.pending_outbox()  # kept, not refused
        assert waiting.last_error is None

        console.engine.set_token(server.issue_token("console-a2", Role.DISPATCHER))
        assert console.recorder.wait_for(
            lambda r: r.state is SyncState.LIVE and not console.cache.pending_outbox()
        )
    assert other.get_incident(incident_id).title == "Written while signed out"


class _ThrottledOnce:
    """Our connector, but the first feed read answers 429 with Retry-After.

    Our server never throttles (a proxy in front of it would), so this wraps
    the real connector and raises the connector's own RateLimited once.
    """

    def __init__(self, backend: NocBackend, retry_after: float) -> None:
        self._backend = backend
        self._retry_after = retry_after
        self.throttled_at: float | None = None
        self.next_read_at: float | None = None

    def __getattr__(self, name: str) -> object:
        return getattr(self._backend, name)

    @property
    def key(self) -> str:
        return self._backend.key

    @property
    def url(self) -> str:
        return self._backend.url

    @property
    def supports_events(self) -> bool:
        return False

    def changes(self, after: int, limit: int) -> object:
        import time

        if self.throttled_at is None:
            self.throttled_at = time.monotonic()
            raise RateLimited("slow down", self._retry_after)
        if self.next_read_at is None:
            self.next_read_at = time.monotonic()
        return self._backend.changes(after, limit)


def test_429_waits_for_retry_after_then_syncs(
    console_factory: Callable[..., Console], other: NocBackend
) -> None:
    _create_on_server(other, 2)
    console = console_factory()
    throttled = _ThrottledOnce(console.backend, retry_after=1.0)
    console.engine.backend = throttled  # type: ignore[assignment]
    console.engine._use_events = False
    with Running(console.engine):
        assert console.recorder.wait_for(lambda r: r.state is SyncState.LIVE)
    assert throttled.throttled_at is not None
    assert throttled.next_read_at is not None
    assert throttled.next_read_at - throttled.throttled_at >= 1.0
    waiting = [s for s in console.recorder.statuses if s.state is SyncState.RECONNECTING]
    assert waiting
    assert "slow down" in waiting[0].reason
    assert console.cache.incident_count() == 2


def test_live_changes_arrive_through_the_event_stream_and_stop_is_prompt(
    console: Console, other: NocBackend
) -> None:
    import time

    console.engine.poll_interval = 60  # only the stream can bring the change in time
    with Running(console.engine) as running:
        assert console.recorder.wait_for(lambda r: r.state is SyncState.LIVE)
        (incident_id,) = _create_on_server(other, 1)
        assert console.recorder.wait_for(
            lambda r: any(incident_id in u.incidents for u in r.updates), timeout=10
        )
        started = time.monotonic()
        console.engine.stop()
        running.thread.join(5)
        assert not running.thread.is_alive()
        assert time.monotonic() - started < 2
    assert console.recorder.state is SyncState.STOPPED


def test_a_lost_backend_shows_reconnecting_then_offline_and_comes_back(
    console: Console, other: NocBackend, server: EmbeddedServer
) -> None:
    _create_on_server(other, 1)
    with Running(console.engine):
        assert console.recorder.wait_for(lambda r: r.state is SyncState.LIVE)
        port = server.port
        server.stop()
        assert console.recorder.wait_for(lambda r: r.state is SyncState.OFFLINE, timeout=30)
        states = console.recorder.states()
        assert SyncState.RECONNECTING in states[states.index(SyncState.LIVE) :]
        offline: SyncStatus = console.recorder.statuses[-1]
        assert offline.data_as_of is not None
        assert offline.next_try_at is not None
        assert "data as of" in offline.text()
        three_before = offline.next_try_at - timedelta(seconds=3)
        assert "next try in 3 s" in offline.text(three_before)
        # Edits made meanwhile wait in the outbox.
        LocalEdits(console.cache).add_note(console.cache.incidents()[0].id, "Still down?")
        restarted = EmbeddedServer(server.settings.with_overrides(port=port)).start()
        try:
            console.engine.retry_now()
            assert console.recorder.wait_for(
                lambda r: r.state is SyncState.LIVE and not console.cache.pending_outbox(),
                timeout=30,
            )
        finally:
            restarted.stop()


def test_stop_while_waiting_for_a_token_is_prompt(console: Console) -> None:
    console.backend.set_token("wrong")
    with Running(console.engine):
        assert console.recorder.wait_for(lambda r: r.state is SyncState.AUTH_FAILED)
    assert console.recorder.state is SyncState.STOPPED


def _now() -> datetime:
    return datetime.now(UTC)


def test_the_state_names_are_the_signal_strings() -> None:
    assert [s.value for s in SyncState] == [
        "syncing",
        "live",
        "reconnecting",
        "offline",
        "auth_failed",
        "stopped",
    ]
    status = SyncStatus(SyncState.SYNCING, "http://x", done=12_400, total=100_000)
    assert status.text() == "Syncing 12 400 / 100 000"
