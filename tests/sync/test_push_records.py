"""Sending review edits: a stale edit is merged field by field (clashes: *_conflicts.py).

Real server on loopback (``EmbeddedServer`` over HTTP), a real cache file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from console.server.core.auth import Role
from console.server.embedded import EmbeddedServer
from console.sync.edits import LocalEdits
from tests.helpers.sync import NEW, Console


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[httpx.Client]:
    token = server.issue_token("lead", Role.ADMIN)
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as http:
        yield http


def drafted(client: httpx.Client) -> dict[str, Any]:
    incident = client.post("/v1/incidents", json={**NEW, "impact": "high"}).json()
    for state in ("triaged", "in_progress", "resolved"):
        incident = client.patch(
            f"/v1/incidents/{incident['id']}",
            json={"state": state},
            headers={"If-Match": f'"{incident["version"]}"'},
        ).json()
    pir: dict[str, Any] = client.post("/v1/pirs", json={"incident_id": incident["id"]}).json()
    return pir


def someone_else(client: httpx.Client, pir: dict[str, Any], **fields: Any) -> None:
    response = client.patch(
        f"/v1/pirs/{pir['id']}", json=fields, headers={"If-Match": f'"{pir["version"]}"'}
    )
    assert response.status_code == 200, response.text


def test_an_edit_of_another_field_is_sent_again_on_the_new_version(
    console: Console, client: httpx.Client
) -> None:
    pir = drafted(client)
    console.engine.sync_once()
    LocalEdits(console.cache).edit_review(pir["incident_id"], went_well="Paged in 2 minutes")
    someone_else(client, pir, root_cause="No canary stage")
    console.engine.sync_once()
    stored = client.get(f"/v1/pirs/{pir['id']}").json()
    assert stored["went_well"] == "Paged in 2 minutes"
    assert stored["root_cause"] == "No canary stage"
    assert console.recorder.rejections == []


def test_a_refused_workaround_leaves_no_waiting_note(
    console: Console, client: httpx.Client
) -> None:
    pir = drafted(client)
    console.engine.sync_once()
    console.cache.upsert_reference(
        "known_errors",
        [{"id": "ke-gone", "title": "Gone", "symptoms": "s", "workaround": "w"}],
    )
    event = LocalEdits(console.cache).apply_workaround(pir["incident_id"], "ke-gone")
    assert event in console.cache.timeline(pir["incident_id"])
    console.engine.sync_once()  # the server has no such known error: 422
    [refusal] = console.recorder.rejections
    assert "no known error" in refusal.message
    assert all(e.id != event.id for e in console.cache.timeline(pir["incident_id"]))
