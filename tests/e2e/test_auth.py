"""A revoked token: the console says sign-in is needed, keeps every edit, and resumes."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from console.sync.edits import LocalEdits
from console.sync.engine import SyncState
from tests.helpers.e2e import E2EConsole
from tests.helpers.processes import ServerProcess, make_token, revoke_token
from tests.helpers.sync import NEW, Running

pytestmark = pytest.mark.slow  # real server processes, several seconds each


@pytest.mark.timeout(120)
def test_a_revoked_token_shows_auth_failed_keeps_the_outbox_and_resumes_with_a_new_one(
    server_factory: Callable[..., ServerProcess],
    console_for: Callable[..., E2EConsole],
) -> None:
    server = server_factory()
    console = console_for(server, "wall-1")
    incident = console.backend.create_incident(NEW, idempotency_key=uuid.uuid4().hex)
    recorder = console.recorder
    with Running(console.engine):
        assert recorder.wait_for(lambda r: r.state is SyncState.LIVE)
        revoke_token(server.db_path, "wall-1")  # `noc-console token revoke`, another process
        edits = LocalEdits(console.cache, on_queued=console.engine.wake)
        edits.patch(incident.id, {"title": "Edited after the token was revoked"})
        edits.add_note(incident.id, "Still investigating")
        assert recorder.wait_for(lambda r: r.state is SyncState.AUTH_FAILED, timeout=30)
        status = recorder.statuses[-1]
        assert "revoked" in status.reason
        assert "Enter a new token" in status.text()
        pending = console.cache.pending_outbox()
        assert [p.operation for p in pending] == ["patch", "timeline"]
        assert all(p.attempts == 0 and p.last_error is None for p in pending)
        assert console.cache.outbox_records(status="rejected") == []

        console.engine.set_token(make_token(server.db_path, "wall-1", "dispatcher"))
        assert recorder.wait_for(
            lambda r: r.state is SyncState.LIVE and not console.cache.pending_outbox(),
            timeout=30,
        )
    current = console.backend.get_incident(incident.id)
    assert current.title == "Edited after the token was revoked"
    notes = [e.body for e in console.cache.timeline(incident.id)]
    assert notes.count("Still investigating") == 1
