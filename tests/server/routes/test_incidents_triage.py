"""The server side of the triage: create with an override, a major incident and routing,
``/v1/me``, and the known errors admins maintain. Real server on loopback, real SQLite."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.helpers.servers import INCIDENT, Api


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _timeline(api: Api, incident: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.request("GET", f"/v1/incidents/{incident['id']}/timeline", role="viewer")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


OVERRIDE = {"severity": "SEV-1", "severity_reason": "all EU card payments fail"}

# ------------------------------------------------------------ severity override


def test_a_dispatcher_may_not_override_severity_at_create_and_is_told_who_may(api: Api) -> None:
    response = api.request(
        "POST", "/v1/incidents", role="dispatcher", json={**INCIDENT, **OVERRIDE}
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert "commander or admin" in error["message"]
    assert "is dispatcher" in error["message"]
    assert "ask a commander" in error["message"]
    # Nothing was logged: no incident, nothing in the feed.
    assert api.request("GET", "/v1/incidents").json()["total"] == 0
    assert api.all_changes() == []


@pytest.mark.parametrize("role", ["commander", "admin"])
def test_a_commander_overrides_at_create_with_the_reason_in_the_timeline(
    api: Api, role: str
) -> None:
    response = api.request("POST", "/v1/incidents", role=role, json={**INCIDENT, **OVERRIDE})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["severity"] == "SEV-1"  # the matrix says SEV-2 for high x medium
    assert body["severity_overridden"] is True
    # SEV-1 targets apply from the start: respond within 15 minutes.
    assert _at(body["response_due"]) - _at(body["opened_at"]) == timedelta(minutes=15)
    entries = _timeline(api, body)
    assert [e["kind"] for e in entries] == ["severity_change"]
    assert entries[0]["body"] == "Severity SEV-2 → SEV-1 by override: all EU card payments fail"
    assert entries[0]["data"] == {
        "from": "SEV-2",
        "to": "SEV-1",
        "reason": "all EU card payments fail",
        "override": True,
    }
    assert entries[0]["author"].startswith(f"{role}-")
    # The override sticks when impact or urgency change later, as with a PATCH override.
    later = api.patch(body, impact="low", urgency="low")
    assert later.json()["severity"] == "SEV-1"


def test_an_override_to_the_computed_severity_is_still_recorded(api: Api) -> None:
    body = api.create(
        role="commander", severity="SEV-2", severity_reason="checked with the duty manager"
    )
    assert body["severity"] == "SEV-2"
    assert body["severity_overridden"] is True
    assert _timeline(api, body)[0]["body"] == (
        "Severity kept at SEV-2 by override: checked with the duty manager"
    )


def test_without_an_override_the_matrix_decides_and_nothing_extra_is_written(api: Api) -> None:
    body = api.create()
    assert (body["severity"], body["severity_overridden"], body["major"]) == ("SEV-2", False, False)
    assert body["assignment_group"] is None
    assert _timeline(api, body) == []


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"severity": "SEV-1"}, "severity_reason is required with severity"),
        ({"severity": "SEV-1", "severity_reason": "   "}, "severity_reason"),
        ({"severity_reason": "because"}, "severity_reason goes only with severity"),
        ({"severity": "SEV-9", "severity_reason": "x"}, "SEV-1"),
        ({"commander": "Lucía Fernández"}, "commander goes only with major: true"),
        ({"major": "yes please"}, "major"),
    ],
)
def test_inconsistent_triage_fields_are_refused_with_what_to_do(
    api: Api, extra: dict[str, Any], words: str
) -> None:
    response = api.request("POST", "/v1/incidents", role="commander", json={**INCIDENT, **extra})
    assert response.status_code == 422, response.text
    assert words in response.json()["error"]["message"]


# ------------------------------------------------------------ major and routing


def test_declaring_a_major_incident_at_create_names_the_incident_commander(api: Api) -> None:
    body = api.create(major=True, commander="Lucía Fernández", assignment_group="payments-eng")
    assert body["major"] is True
    assert body["assignment_group"] == "payments-eng"
    entries = _timeline(api, body)
    assert [(e["kind"], e["body"]) for e in entries] == [
        ("assignment", "Routed to payments-eng"),
        ("escalation", "Declared a major incident; Incident Commander: Lucía Fernández"),
    ]
    assert entries[1]["data"] == {"major": True, "commander": "Lucía Fernández"}
    assert entries[0]["data"] == {"assignment_group": {"from": None, "to": "payments-eng"}}
    # The feed carries the incident first, then its entries, in commit order.
    kinds = [(c["kind"], c["op"]) for c in api.all_changes()]
    assert kinds == [("incident", "upsert"), ("timeline", "upsert"), ("timeline", "upsert")]


def test_a_major_incident_without_a_commander_yet(api: Api) -> None:
    body = api.create(major=True)
    assert [e["body"] for e in _timeline(api, body)] == ["Declared a major incident"]


def test_a_resent_triage_create_is_not_a_second_incident_nor_second_entries(api: Api) -> None:
    fields = {**INCIDENT, **OVERRIDE, "major": True, "commander": "Ana Ruiz"}
    headers = {"Idempotency-Key": "triage-0001"}
    first = api.request("POST", "/v1/incidents", role="commander", json=fields, headers=headers)
    again = api.request("POST", "/v1/incidents", role="commander", json=fields, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert len(_timeline(api, first.json())) == 2
    assert api.request("GET", "/v1/incidents").json()["total"] == 1


# --------------------------------------------------------------------- /v1/me


@pytest.mark.parametrize("role", ["viewer", "dispatcher", "commander", "admin"])
def test_me_names_the_token_and_its_role(api: Api, role: str) -> None:
    response = api.request("GET", "/v1/me", role=role)
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == role
    assert body["name"].startswith(f"{role}-")
    assert set(body) == {"name", "role"}


def test_me_needs_a_token(api: Api) -> None:
    response = api.request("GET", "/v1/me", role=None)
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]


# ---------------------------------------------------------------- known errors

KNOWN_ERROR = {
    "title": "Payments API 502s during PSP gateway failover",
    "symptoms": "Card payments fail with 502 for 1-3 minutes in one region.",
    "workaround": "Pin the region to the secondary PSP route in the payments console.",
    "services": ["payments"],
    "category": "software",
    "article": "KB-1042",
}


def _seed_refs(api: Api) -> None:
    team = {"name": "Payments Engineering", "tier": "L2"}
    assert api.request("PUT", "/v1/teams/payments-eng", json=team).status_code == 201
    service = {"name": "Payments API", "owner_team": "payments-eng", "criticality": "critical"}
    assert api.request("PUT", "/v1/services/payments", json=service).status_code == 201
    category = {"name": "Software", "subcategories": [{"id": "application", "name": "App"}]}
    assert api.request("PUT", "/v1/categories/software", json=category).status_code == 201


def test_admins_maintain_known_errors_and_every_role_reads_them(api: Api) -> None:
    _seed_refs(api)
    created = api.request("PUT", "/v1/known-errors/ke-0001", json=KNOWN_ERROR)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    for role in ("commander", "dispatcher", "viewer"):
        refused = api.request("PUT", "/v1/known-errors/ke-0002", role=role, json=KNOWN_ERROR)
        assert refused.status_code == 403
        assert "admin role" in refused.json()["error"]["message"]
        assert api.request("DELETE", "/v1/known-errors/ke-0001", role=role).status_code == 403
    listed = api.request("GET", "/v1/known-errors", role="viewer")
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [i["id"] for i in items] == ["ke-0001"]
    assert items[0]["workaround"] == KNOWN_ERROR["workaround"]
    one = api.request("GET", "/v1/known-errors/ke-0001", role="dispatcher")
    assert one.json()["services"] == ["payments"]
    assert one.headers["ETag"] == '"1"'

    changed = api.request(
        "PUT", "/v1/known-errors/ke-0001", json={**KNOWN_ERROR, "workaround": "Retry by wallet."}
    )
    assert changed.status_code == 200
    assert changed.json()["version"] == 2

    feed = [c for c in api.all_changes() if c["kind"] == "known_error"]
    assert [(c["id"], c["op"], c["data"]["version"]) for c in feed] == [
        ("ke-0001", "upsert", 1),
        ("ke-0001", "upsert", 2),
    ]
    assert api.request("DELETE", "/v1/known-errors/ke-0001").status_code == 204
    assert api.request("GET", "/v1/known-errors/ke-0001").status_code == 404
    last = api.all_changes()[-1]
    assert (last["kind"], last["id"], last["op"], last["data"]) == (
        "known_error",
        "ke-0001",
        "delete",
        None,
    )


def test_a_known_error_names_existing_services_and_keeps_them_from_deletion(api: Api) -> None:
    _seed_refs(api)
    unknown = api.request(
        "PUT", "/v1/known-errors/ke-0001", json={**KNOWN_ERROR, "services": ["payment"]}
    )
    assert unknown.status_code == 422
    assert "service 'payment'" in unknown.json()["error"]["message"]
    assert api.request("PUT", "/v1/known-errors/ke-0001", json=KNOWN_ERROR).status_code == 201
    refused = api.request("DELETE", "/v1/services/payments")
    assert refused.status_code == 409
    assert "known error 'ke-0001'" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"workaround": "  "}, "workaround"),
        ({"title": ""}, "title"),
        ({"services": ["payments", "payments"]}, "listed twice"),
        ({"severity": "SEV-1"}, "severity: is not a field of this request"),
    ],
)
def test_a_bad_known_error_is_refused_with_the_field(
    api: Api, change: dict[str, Any], words: str
) -> None:
    _seed_refs(api)
    response = api.request("PUT", "/v1/known-errors/ke-0001", json={**KNOWN_ERROR, **change})
    assert response.status_code == 422
    assert words in response.json()["error"]["message"]


def test_the_api_description_lists_known_errors_and_me(api: Api) -> None:
    schema = api.request("GET", "/openapi.json", role=None).json()
    assert "/v1/known-errors" in schema["paths"]
    assert "/v1/me" in schema["paths"]
    assert schema["paths"]["/v1/known-errors"]["get"]["operationId"] == "list_known_errors"
    create = schema["components"]["schemas"]["IncidentCreate"]["properties"]
    assert {"assignment_group", "severity", "severity_reason", "major", "commander"} <= set(create)
