"""A CSAT score recorded in the console goes through the outbox to a real server, once,
and counts in the metrics on both paths (the cache at once, the server after the send)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from console.connectors.noc import NocBackend
from console.domain import metrics as m
from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import TimelineKind
from console.server.core.auth import Role
from console.server.embedded import EmbeddedServer
from console.store import metrics as cache_metrics
from console.sync.edits import LocalEdits
from tests.helpers.sync import Console


def _window() -> m.Window:
    today = datetime.now(UTC).date()
    return m.make_window(str(today - timedelta(days=1)), str(today + timedelta(days=1)))


def test_csat_reaches_the_server_once_and_counts_on_both_paths(
    console: Console, other: NocBackend, server: EmbeddedServer
) -> None:
    created = other.create_incident(
        {"title": "VPN drops", "service": "vpn", "impact": "low", "urgency": "low"},
        idempotency_key="csat-1",
    )
    console.engine.sync_once()
    edits = LocalEdits(console.cache, author="ana", on_queued=console.engine.wake)
    with pytest.raises(DomainError, match="recorded at resolution or closure"):
        edits.add_csat(created.id, 4)
    edits.patch(created.id, {"state": "in_progress"})
    console.engine.sync_once()
    edits.patch(created.id, {"state": "resolved"})
    console.engine.sync_once()
    with pytest.raises(InvalidValue):
        edits.add_csat(created.id, 6)
    local = edits.add_csat(created.id, 4, "quick and clear")
    assert local.kind is TimelineKind.CSAT
    assert local.body == "CSAT 4/5 — quick and clear"
    # Offline, before the send: the cache path already counts it.
    assert cache_metrics.compute(console.cache, _window())["total"]["csat"] == 4

    console.engine.sync_once()
    assert console.cache.pending_outbox() == []
    entries = [e for e in console.cache.timeline(created.id) if e.kind is TimelineKind.CSAT]
    assert [(e.data, e.id == local.id) for e in entries] == [({"score": 4}, False)]
    console.engine.sync_once()
    token = server.issue_token("metrics-viewer", Role.VIEWER)
    window = _window()
    answer = httpx.get(
        f"{server.url}/v1/metrics",
        params={"from": window.start.date().isoformat(), "to": window.end.date().isoformat()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert answer["total"]["csat"] == 4
    local_answer = cache_metrics.compute(console.cache, window)
    assert {k: v for k, v in answer.items() if k != "backlog"} == {
        k: v for k, v in local_answer.items() if k != "backlog"
    }
