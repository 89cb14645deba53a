"""Tokens and roles: 401 without a valid token, 403 below the route's role, on every write."""

from __future__ import annotations

from typing import Any

import pytest

from console.server.core.auth import hash_token
from tests.helpers.servers import INCIDENT, Api

ROLES = ["viewer", "dispatcher", "commander", "admin"]
TEAM = {"name": "Network Engineering", "tier": "L2"}


def _write_routes(api: Api) -> list[tuple[str, str, dict[str, Any], dict[str, str], str]]:
    """(method, path, body, headers, lowest role allowed) for every write route."""
    incident = api.create()
    path = f"/v1/incidents/{incident['id']}"
    api.request("PUT", "/v1/teams/network", json=TEAM)
    if_match = {"If-Match": '"1"'}
    return [
        ("POST", "/v1/incidents", INCIDENT, {}, "dispatcher"),
        ("PATCH", path, {"title": "Renamed"}, if_match, "dispatcher"),
        ("PATCH", path, {"severity": "SEV-1", "severity_reason": "x"}, if_match, "commander"),
        ("POST", f"{path}/timeline", {"kind": "work_note", "body": "n"}, {}, "dispatcher"),
        ("PUT", "/v1/teams/noc", {"name": "NOC", "tier": "L1"}, {}, "admin"),
        ("PUT", "/v1/services/vpn", {"name": "VPN", "owner_team": "network"}, {}, "admin"),
        ("DELETE", "/v1/categories/none", {}, {}, "admin"),
    ]


def test_health_needs_no_token(api: Api) -> None:
    response = api.client.get("/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "sqlite"


@pytest.mark.parametrize(
    "path", ["/v1/incidents", "/v1/changes", "/v1/teams", "/v1/events", "/v1/policies"]
)
def test_no_or_unknown_token_is_401(api: Api, path: str) -> None:
    missing = api.client.get(path)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert "token create" in missing.json()["error"]["message"]
    unknown = api.client.get(path, headers={"Authorization": "Bearer noc_not-a-real-token"})
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "invalid_token"
    basic = api.client.get(path, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


def test_every_write_route_checks_the_role(api: Api) -> None:
    for method, path, body, headers, lowest in _write_routes(api):
        anonymous = api.client.request(method, path, json=body, headers=headers)
        assert anonymous.status_code == 401, (method, path)
        for role in ROLES[: ROLES.index(lowest)]:
            response = api.request(method, path, role=role, json=body, headers=headers)
            assert response.status_code == 403, (method, path, role, response.text)
            message = response.json()["error"]["message"]
            assert f"is {role}" in message
            assert "role or higher" in message
        allowed = api.request(method, path, role=lowest, json=body, headers=headers)
        assert allowed.status_code not in (401, 403), (method, path, allowed.text)


def test_viewer_reads_everything(api: Api) -> None:
    incident = api.create()
    for path in (
        "/v1/incidents",
        f"/v1/incidents/{incident['id']}",
        f"/v1/incidents/{incident['id']}/timeline",
        "/v1/changes",
        "/v1/teams",
        "/v1/services",
        "/v1/contacts",
        "/v1/categories",
        "/v1/policies",
        "/v1/shifts",
    ):
        assert api.request("GET", path, role="viewer").status_code == 200, path


def test_revoked_token_stops_working_at_once(api: Api) -> None:
    from datetime import UTC, datetime

    from console.server.core import auth

    assert api.request("GET", "/v1/incidents", role="viewer").status_code == 200
    context = api.server.app.state.context
    with context.db.write_session() as session:
        row = auth.authenticate(session=session, secret=api.tokens["viewer"])
        assert row is not None
        auth.revoke_token(session=session, name_or_id=row.name, now=datetime.now(UTC))
        session.commit()
    assert api.request("GET", "/v1/incidents", role="viewer").status_code == 401


def test_only_the_hash_of_a_token_is_stored(api: Api) -> None:
    from sqlalchemy import select

    from console.server.core.tables import TokenRow

    context = api.server.app.state.context
    with context.db.read_session() as session:
        stored = set(session.scalars(select(TokenRow.token_hash)).all())
    for secret in api.tokens.values():
        assert secret not in stored
        assert hash_token(secret) in stored
