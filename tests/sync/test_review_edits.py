"""Review and problem edits from the console: checked, queued, sent once through the outbox.

Real server on loopback (``EmbeddedServer`` over HTTP), a real cache file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from console.domain.errors import DomainError, InvalidValue
from console.server.core.auth import Role
from console.server.embedded import EmbeddedServer
from console.sync.edits import LocalEdits
from tests.helpers.escalation import CONTACTS, TEAMS
from tests.helpers.sync import NEW, Console


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[httpx.Client]:
    token = server.issue_token("lead", Role.ADMIN)
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as http:
        for kind, items in (("teams", TEAMS), ("contacts", CONTACTS)):
            for item_id, item in items.items():
                assert http.put(f"/v1/{kind}/{item_id}", json=item).status_code == 201
        yield http


def resolved(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    incident = client.post("/v1/incidents", json={**NEW, "impact": "high", **fields}).json()
    for state in ("triaged", "in_progress", "resolved"):
        response = client.patch(
            f"/v1/incidents/{incident['id']}",
            json={"state": state},
            headers={"If-Match": f'"{incident["version"]}"'},
        )
        assert response.status_code == 200, response.text
        incident = response.json()
    return incident


def server_pir(client: httpx.Client, incident: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/v1/pirs/{incident['id']}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_a_review_drafted_edited_and_itemised_offline_is_sent_once(
    console: Console, client: httpx.Client
) -> None:
    incident = resolved(client)
    console.engine.sync_once()
    edits = LocalEdits(console.cache)
    shown = edits.draft_review(incident["id"])
    assert shown["pending"] is True
    edits.edit_review(incident["id"], root_cause="No canary stage for config pushes")
    due = datetime.now(UTC) + timedelta(days=7)
    edits.add_action_item(incident["id"], title="Add a canary stage", owner="jo", due=due)
    [cached] = console.cache.reference("pirs")
    assert cached["root_cause"] == "No canary stage for config pushes"
    assert [i["title"] for i in cached["action_items"]] == ["Add a canary stage"]

    console.engine.sync_once()
    console.engine.sync_once()  # a second round sends nothing twice
    pir = server_pir(client, incident)
    assert pir["root_cause"] == "No canary stage for config pushes"
    assert [i["owner"] for i in pir["action_items"]] == ["jo"]
    assert pir["version"] == 3
    [cached] = console.cache.reference("pirs")
    assert cached["id"] == pir["id"]
    assert not cached.get("pending")
    assert len(cached["timeline"]) > 0
    assert console.cache.pending_outbox() == []

    [item] = cached["action_items"]
    edits.set_item_state(incident["id"], item["id"], "dropped", "superseded by the LB rebuild")
    edits.mark_timeline(incident["id"], cached["timeline"][0]["source_id"], key=True, note="pager")
    console.engine.sync_once()
    pir = server_pir(client, incident)
    assert pir["action_items"][0]["state"] == "dropped"
    assert pir["action_items"][0]["reason"] == "superseded by the LB rebuild"
    assert pir["timeline"][0]["note"] == "pager"


def test_bad_input_is_refused_before_anything_is_queued(
    console: Console, client: httpx.Client
) -> None:
    incident = resolved(client)
    console.engine.sync_once()
    edits = LocalEdits(console.cache)
    edits.draft_review(incident["id"])
    console.engine.sync_once()
    past = datetime.now(UTC) - timedelta(days=1)
    later = datetime.now(UTC) + timedelta(days=3)
    with pytest.raises(InvalidValue, match="due date from now on"):
        edits.add_action_item(incident["id"], title="x", owner="jo", due=past)
    with pytest.raises(InvalidValue, match="in the directory"):
        edits.add_action_item(incident["id"], title="x", owner="zed", due=later)
    with pytest.raises(InvalidValue, match="at most 20,000 characters"):
        edits.edit_review(incident["id"], root_cause="x" * 1_000_000)
    with pytest.raises(InvalidValue, match="a problem that exists"):
        edits.link_problem("PRB-999999", incident["id"])
    with pytest.raises(DomainError, match="commander"):
        edits.approve_review(incident["id"])  # a dispatcher, and no root cause yet
    with pytest.raises(InvalidValue, match="reason"):
        edits.set_item_state(incident["id"], "whatever", "dropped", "")
    assert console.cache.pending_outbox() == []
    before = server_pir(client, incident)
    assert before["version"] == 1


def test_a_dispatcher_approving_is_refused_by_the_server_and_the_edit_kept(
    console_factory: Any, client: httpx.Client
) -> None:
    console = console_factory("console-b", Role.DISPATCHER)
    incident = resolved(client)
    console.engine.sync_once()
    edits = LocalEdits(console.cache)
    edits.draft_review(incident["id"])
    edits.edit_review(incident["id"], root_cause="Config pushes skip the canary")
    console.engine.sync_once()
    console.cache.set_meta("sync.caller", "")  # the console cannot tell: the server decides
    edits.approve_review(incident["id"])
    console.engine.sync_once()
    assert server_pir(client, incident)["status"] == "draft"
    [refusal] = console.recorder.rejections
    assert "commander" in refusal.message
    assert refusal.payload["body"] == {"status": "approved"}
    [cached] = console.cache.reference("pirs")
    assert cached["status"] == "draft"  # the backend's document shown again


def test_a_problem_opened_offline_is_linked_moved_and_published_as_a_known_error(
    console: Console, client: httpx.Client
) -> None:
    first, second = resolved(client), resolved(client, title="Checkout 502s again")
    console.engine.sync_once()
    edits = LocalEdits(console.cache)
    problem = edits.open_problem("LB config pushes break checkout", [first["id"]])
    edits.edit_problem(problem["id"], workaround="Roll back the LB config (runbook LB-7)")
    edits.link_problem(problem["id"], second["id"])
    edits.move_problem(problem["id"], "known_error")
    console.engine.sync_once()
    assert console.recorder.rejections == []
    [stored] = client.get("/v1/problems").json()["items"]
    assert stored["state"] == "known_error"
    assert sorted(stored["incidents"]) == sorted([first["number"], second["number"]])
    assert stored["known_error_id"]
    console.engine.sync_once()
    [cached] = console.cache.reference("problems")
    assert cached["id"] == stored["id"]
    known = [k["id"] for k in console.cache.reference("known_errors")]
    assert stored["known_error_id"] in known

    with pytest.raises(InvalidValue, match="from known_error"):
        edits.move_problem(stored["number"], "open")
    event = edits.apply_workaround(first["id"], stored["known_error_id"], problem=stored["number"])
    assert stored["number"] in event.body
    console.engine.sync_once()
    notes = client.get(f"/v1/incidents/{first['id']}/timeline").json()["items"]
    applied = [n for n in notes if (n.get("data") or {}).get("workaround")]
    assert len(applied) == 1
    assert applied[0]["data"]["problem"] == stored["number"]
