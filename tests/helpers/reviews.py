"""Post-incident review helpers: a resolved incident, a draft, a PATCH; two consoles that clash."""

from __future__ import annotations

from typing import Any

import httpx

from console.server.core.auth import Role
from console.server.embedded import EmbeddedServer
from console.sync.edits import LocalEdits
from tests.helpers.escalation import CONTACTS, TEAMS
from tests.helpers.servers import Api
from tests.helpers.sync import NEW, Console

SEV1 = {"impact": "high", "urgency": "high"}


def resolved_incident(api: Api, **fields: Any) -> dict[str, Any]:
    incident = api.create(**{**SEV1, **fields})
    moves = [
        {"state": "triaged"},
        {"state": "in_progress", "assignee": "Jo Kim"},
        {"state": "resolved"},
    ]
    for move in moves:
        response = api.patch(incident, **move)
        assert response.status_code == 200, response.text
        incident = response.json()
    note = api.request(
        "POST",
        f"/v1/incidents/{incident['id']}/timeline",
        role="dispatcher",
        json={"kind": "work_note", "body": "Rolled back the load balancer config"},
    )
    assert note.status_code == 201, note.text
    return incident


def draft(api: Api, incident: dict[str, Any], role: str = "dispatcher") -> dict[str, Any]:
    response = api.request("POST", "/v1/pirs", role=role, json={"incident_id": incident["id"]})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def patch(api: Api, pir: dict[str, Any], role: str = "dispatcher", **fields: Any) -> Any:
    return api.request(
        "PATCH",
        f"/v1/pirs/{pir['id']}",
        role=role,
        json=fields,
        headers={"If-Match": f'"{pir["version"]}"'},
    )


def drafted(server: EmbeddedServer) -> dict[str, Any]:
    token = server.issue_token("lead", Role.ADMIN)
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        incident = client.post("/v1/incidents", json={**NEW, "impact": "high"}).json()
        for state in ("triaged", "in_progress", "resolved"):
            incident = client.patch(
                f"/v1/incidents/{incident['id']}",
                json={"state": state},
                headers={"If-Match": f'"{incident["version"]}"'},
            ).json()
        for team_id, team in TEAMS.items():
            client.put(f"/v1/teams/{team_id}", json=team).raise_for_status()
        client.put("/v1/contacts/ana", json=CONTACTS["ana"]).raise_for_status()
        pir: dict[str, Any] = client.post("/v1/pirs", json={"incident_id": incident["id"]}).json()
        return pir


def stored(server: EmbeddedServer, path: str) -> dict[str, Any]:
    token = server.issue_token("reader", Role.VIEWER)
    response = httpx.get(
        f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def clash_on_root_cause(server: EmbeddedServer, a: Console, b: Console) -> dict[str, Any]:
    """Both consoles edit the review's root cause; B's reaches the server first."""
    pir = drafted(server)
    a.engine.sync_once()
    b.engine.sync_once()
    LocalEdits(a.cache, author="Anja Vogel").edit_review(
        pir["incident_id"], root_cause="Config pushes skip the canary stage", went_well="Paged fast"
    )
    LocalEdits(b.cache, author="Ben Ode").edit_review(
        pir["incident_id"], root_cause="A vendor firmware bug"
    )
    b.engine.sync_once()
    a.engine.sync_once()
    return pir
