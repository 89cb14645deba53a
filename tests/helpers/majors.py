"""Major-incident helpers for the server tests: a SEV-1 major, a service, a published update."""

from __future__ import annotations

from typing import Any

from tests.helpers.servers import Api

SEV1 = {"impact": "high", "urgency": "high", "major": True, "commander": "Iris Commander"}


def _seed_service(api: Api, *, customer_facing: bool) -> None:
    team = api.request("PUT", "/v1/teams/web", json={"name": "Web", "tier": "L2"})
    assert team.status_code in (200, 201), team.text
    service = {"name": "Checkout", "owner_team": "web", "customer_facing": customer_facing}
    response = api.request("PUT", "/v1/services/checkout", json=service)
    assert response.status_code in (200, 201), response.text


def _publish(
    api: Api, incident: dict[str, Any], role: str = "commander", key: str | None = None, **body: Any
) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    payload = {"audience": "internal", "status": "investigating", "text": "Looking.", **body}
    return api.request(
        "POST",
        f"/v1/incidents/{incident['id']}/status-updates",
        role=role,
        json=payload,
        headers=headers,
    )
