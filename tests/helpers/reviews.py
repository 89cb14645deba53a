"""Post-incident review helpers for the server tests: a resolved incident, a draft, a PATCH."""

from __future__ import annotations

from typing import Any

from tests.helpers.servers import Api

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
