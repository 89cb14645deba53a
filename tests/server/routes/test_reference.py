"""Reference data: admin writes, every role reads, phones and time zones checked, links kept."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.servers import Api

TEAMS = {
    "service-desk": {"name": "Service Desk", "tier": "L1"},
    "network": {"name": "Network Engineering", "tier": "L2", "email": "net@example.com"},
}
CONTACTS = {
    "ana": {
        "name": "Ana Ruiz",
        "role": "Network on-call engineer",
        "team": "network",
        "primary_phone": "+34 612 34 56 78",
        "alternate_phone": "+44 20 7946 0958",
        "email": "ana@example.com",
        "time_zone": "Europe/Madrid",
    },
    "tom": {
        "name": "Tom Whitfield",
        "role": "Duty incident manager",
        "team": "service-desk",
        "primary_phone": "+1 650 253 0000",
        "time_zone": "America/Los_Angeles",
    },
}
ROTATION = {
    "name": "Network weekly",
    "team": "network",
    "time_zone": "Europe/Madrid",
    "handoff_weekday": "monday",
    "handoff_time": "09:00",
    "start": "2026-01-05",
    "members": ["ana", "tom"],
}
POLICY = {
    "service": "vpn",
    "tiers": [
        {"level": 1, "name": "L1 Service desk", "team": "service-desk", "engage_after_minutes": 0},
        {
            "level": 2,
            "name": "L2 Network",
            "team": "network",
            "rotation_id": "network-weekly",
            "engage_after_minutes": 15,
        },
    ],
    "management": [{"who": "tom", "severities": ["SEV-1", "SEV-2"], "after_minutes": 30}],
    "communication": [
        {"stakeholder_group": "Affected customers", "severity": "SEV-1", "every_minutes": 15},
        {"stakeholder_group": "Affected customers", "severity": "SEV-3"},
    ],
}


def _seed(api: Api) -> None:
    for team_id, team in TEAMS.items():
        assert api.request("PUT", f"/v1/teams/{team_id}", json=team).status_code == 201
    for contact_id, contact in CONTACTS.items():
        response = api.request("PUT", f"/v1/contacts/{contact_id}", json=contact)
        assert response.status_code == 201, response.text
    service = {"name": "Corporate VPN", "owner_team": "network", "criticality": "high"}
    assert api.request("PUT", "/v1/services/vpn", json=service).status_code == 201
    response = api.request("PUT", "/v1/shifts/network-weekly", json=ROTATION)
    assert response.status_code == 201, response.text
    response = api.request("PUT", "/v1/policies/vpn", json=POLICY)
    assert response.status_code == 201, response.text
    category = {
        "name": "Network",
        "subcategories": [{"id": "vpn", "name": "VPN"}, {"id": "dns", "name": "DNS"}],
    }
    assert api.request("PUT", "/v1/categories/network", json=category).status_code == 201


def test_admin_writes_every_kind_and_viewers_read_them(api: Api) -> None:
    _seed(api)
    contact = api.request("GET", "/v1/contacts/ana", role="viewer")
    assert contact.status_code == 200
    body = contact.json()
    assert body["primary_phone"] == "+34612345678"  # stored as E.164
    assert body["alternate_phone"] == "+442079460958"
    assert body["version"] == 1
    assert contact.headers["ETag"] == '"1"'
    policies = api.request("GET", "/v1/policies", role="viewer").json()["items"]
    assert [p["id"] for p in policies] == ["vpn"]
    assert policies[0]["tiers"][1]["rotation_id"] == "network-weekly"
    assert policies[0]["auto_escalate"] is True
    kinds = [c["kind"] for c in api.all_changes()]
    assert kinds == [
        "team",
        "team",
        "contact",
        "contact",
        "service",
        "shift",
        "policy",
        "category",
    ]
    forbidden = api.request(
        "PUT", "/v1/teams/dba", role="commander", json={"name": "DBA", "tier": "L2"}
    )
    assert forbidden.status_code == 403


def test_replacing_bumps_the_version_and_unchanged_puts_do_not(api: Api) -> None:
    _seed(api)
    same = api.request("PUT", "/v1/teams/network", json=TEAMS["network"])
    assert same.status_code == 200
    assert same.json()["version"] == 1
    renamed = api.request(
        "PUT", "/v1/teams/network", json={**TEAMS["network"], "name": "Network & DNS"}
    )
    assert renamed.json()["version"] == 2
    stale = api.request(
        "PUT",
        "/v1/teams/network",
        json={**TEAMS["network"], "name": "Stale"},
        headers={"If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert api.request("GET", "/v1/teams/network").json()["name"] == "Network & DNS"


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("612 34 56 78", "international form"),
        ("+1 555", "too short"),
        ("+34 612 34 56 78 90 12 34", "too long"),
        ("+999 123456789", "country code"),
        ("+1 200 555 0100", "not a valid number for +1 (US"),
        ("call Ana", "international form"),
    ],
)
def test_invalid_phone_numbers_are_refused_with_the_reason(
    api: Api, phone: str, reason: str
) -> None:
    api.request("PUT", "/v1/teams/network", json=TEAMS["network"])
    response = api.request(
        "PUT", "/v1/contacts/ana", json={**CONTACTS["ana"], "primary_phone": phone}
    )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert message.startswith("primary_phone: ")
    assert reason in message, message


def test_unknown_time_zone_is_refused(api: Api) -> None:
    api.request("PUT", "/v1/teams/network", json=TEAMS["network"])
    response = api.request(
        "PUT", "/v1/contacts/ana", json={**CONTACTS["ana"], "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 422
    assert "IANA" in response.json()["error"]["message"]


def test_references_must_exist(api: Api) -> None:
    response = api.request(
        "PUT", "/v1/services/vpn", json={"name": "VPN", "owner_team": "no-such-team"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unknown_reference"
    assert "team 'no-such-team'" in error["message"]


def test_delete_is_refused_while_named_and_leaves_a_tombstone(api: Api) -> None:
    _seed(api)
    refused = api.request("DELETE", "/v1/teams/network")
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert "service 'vpn'" in message
    assert "contact 'ana'" in message
    assert api.request("DELETE", "/v1/categories/network").status_code == 204
    assert api.request("GET", "/v1/categories/network").status_code == 404
    last = api.all_changes()[-1]
    assert (last["kind"], last["id"], last["op"], last["data"]) == (
        "category",
        "network",
        "delete",
        None,
    )


def _policy_with(**changes: Any) -> dict[str, Any]:
    return {**POLICY, **changes}


def test_policy_rules_from_the_domain_apply(api: Api) -> None:
    _seed(api)
    backwards = _policy_with(
        tiers=[
            {"level": 1, "name": "L1", "team": "service-desk", "engage_after_minutes": 30},
            {"level": 2, "name": "L2", "team": "network", "engage_after_minutes": 10},
        ]
    )
    response = api.request("PUT", "/v1/policies/vpn", json=backwards)
    assert response.status_code == 422
    assert "engage_after" in response.json()["error"]["message"]
    no_trigger = _policy_with(management=[{"who": "tom", "severities": ["SEV-1"]}])
    response = api.request("PUT", "/v1/policies/vpn", json=no_trigger)
    assert response.status_code == 422
    assert "after_minutes" in response.json()["error"]["message"]
    second = api.request("PUT", "/v1/policies/vpn-2", json=POLICY)
    assert second.status_code == 409
    assert "already has escalation policy 'vpn'" in second.json()["error"]["message"]


def test_rotation_overrides_follow_the_on_call_rules(api: Api) -> None:
    _seed(api)
    cover = {
        "kind": "cover",
        "contact_id": "tom",
        "start": "2026-01-06T10:00:00+01:00",
        "end": "2026-01-06T12:00:00+01:00",
    }
    ok = api.request("PUT", "/v1/shifts/network-weekly", json={**ROTATION, "overrides": [cover]})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2
    half_swap = {
        "kind": "swap",
        "contact_id": "tom",
        "start": "2026-01-05T09:00:00+01:00",
        "end": "2026-01-12T09:00:00+01:00",
    }
    response = api.request(
        "PUT", "/v1/shifts/network-weekly", json={**ROTATION, "overrides": [half_swap]}
    )
    assert response.status_code == 422
    assert "pairs" in response.json()["error"]["message"]
    wrong_day = api.request(
        "PUT", "/v1/shifts/network-weekly", json={**ROTATION, "start": "2026-01-06"}
    )
    assert wrong_day.status_code == 422
    assert "monday" in wrong_day.json()["error"]["message"]


def test_demo_data_set_loads_through_the_api(api: Api) -> None:
    """The shipped demo reference data fits the wire schema (one schema for both)."""
    import json

    from console.config.resources import resource_path

    demo = resource_path("demo")
    for kind, path in (
        ("teams", "teams"),
        ("contacts", "contacts"),
        ("services", "services"),
        ("categories", "categories"),
        ("known_errors", "known-errors"),
    ):
        for record in json.loads((demo / f"{kind}.json").read_text(encoding="utf-8")):
            item_id = record.pop("id")
            response = api.request("PUT", f"/v1/{path}/{item_id}", json=record)
            assert response.status_code == 201, (kind, item_id, response.text)
