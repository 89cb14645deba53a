"""Incidents over HTTP against a real server: create, read, list, PATCH rules, timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.helpers.servers import INCIDENT, Api


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_create_computes_number_severity_state_version_and_sla(api: Api) -> None:
    response = api.request("POST", "/v1/incidents", role="dispatcher", json=INCIDENT)
    assert response.status_code == 201
    body = response.json()
    assert body["number"] == "INC-000001"
    assert body["severity"] == "SEV-2"  # high impact x medium urgency
    assert body["state"] == "new"
    assert body["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/incidents/{body['id']}"
    opened = _at(body["opened_at"])
    # SEV-2: respond within 30 min, resolve within 8 h (round the clock).
    assert _at(body["response_due"]) - opened == timedelta(minutes=30)
    assert _at(body["resolution_due"]) - opened == timedelta(hours=8)
    assert api.create()["number"] == "INC-000002"


def test_create_refuses_fields_the_server_computes(api: Api) -> None:
    response = api.request(
        "POST", "/v1/incidents", json={**INCIDENT, "number": "INC-000009", "state": "closed"}
    )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "number: is not a field of this request" in message
    assert "state: is not a field of this request" in message


def test_get_by_id_and_by_number_with_etag(api: Api) -> None:
    created = api.create()
    by_id = api.request("GET", f"/v1/incidents/{created['id']}", role="viewer")
    by_number = api.request("GET", "/v1/incidents/INC-000001", role="viewer")
    assert by_id.json() == by_number.json() == created
    assert by_id.headers["ETag"] == '"1"'
    not_modified = api.request(
        "GET", f"/v1/incidents/{created['id']}", role="viewer", headers={"If-None-Match": '"1"'}
    )
    assert not_modified.status_code == 304
    missing = api.request("GET", "/v1/incidents/INC-000099", role="viewer")
    assert missing.status_code == 404
    assert "INC-000099" in missing.json()["error"]["message"]
    garbage = api.request("GET", "/v1/incidents/not-an-id", role="viewer")
    assert garbage.status_code == 404
    assert "INC-000042" in garbage.json()["error"]["message"]


def test_list_filters_and_pages(api: Api) -> None:
    api.create(title="VPN flapping", service="corporate-vpn", impact="low", urgency="low")
    api.create(title="Payments failing", service="payments-api", impact="high", urgency="high")
    third = api.create(title="Slow reports", service="reporting", impact="medium", urgency="medium")
    api.patch(third, state="in_progress")

    def numbers(query: str) -> list[str]:
        response = api.request("GET", f"/v1/incidents?{query}", role="viewer")
        assert response.status_code == 200, response.text
        return [item["number"] for item in response.json()["items"]]

    assert numbers("") == ["INC-000003", "INC-000002", "INC-000001"]  # newest first
    assert numbers("severity=SEV-1") == ["INC-000002"]
    assert numbers("severity=SEV-1&severity=SEV-4") == ["INC-000002", "INC-000001"]
    assert numbers("state=in_progress") == ["INC-000003"]
    assert numbers("service=corporate-vpn") == ["INC-000001"]
    assert numbers("q=PAYMENTS") == ["INC-000002"]
    assert numbers("q=100%25") == []  # a literal %, not a wildcard
    page = api.request("GET", "/v1/incidents?limit=2&offset=2", role="viewer").json()
    assert page["total"] == 3
    assert [i["number"] for i in page["items"]] == ["INC-000001"]


def test_idempotency_key_returns_the_same_incident_never_a_second(api: Api) -> None:
    headers = {"Idempotency-Key": "outbox-7f1c"}
    first = api.request("POST", "/v1/incidents", role="dispatcher", json=INCIDENT, headers=headers)
    again = api.request("POST", "/v1/incidents", role="dispatcher", json=INCIDENT, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = api.request("GET", "/v1/incidents", role="viewer").json()
    assert listed["total"] == 1
    incident_changes = [c for c in api.all_changes() if c["kind"] == "incident"]
    assert len(incident_changes) == 1

    reused = api.request(
        "POST",
        "/v1/incidents",
        role="dispatcher",
        json={**INCIDENT, "title": "Something else"},
        headers=headers,
    )
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"

    # Keys belong to one client: another token may use the same key.
    other = api.request("POST", "/v1/incidents", role="commander", json=INCIDENT, headers=headers)
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]


def test_patch_needs_if_match_and_refuses_stale_versions(api: Api) -> None:
    incident = api.create()
    path = f"/v1/incidents/{incident['id']}"
    missing = api.request("PATCH", path, json={"title": "New title"})
    assert missing.status_code == 428
    assert "If-Match" in missing.json()["error"]["message"]
    bad = api.request("PATCH", path, json={"title": "x"}, headers={"If-Match": "yesterday"})
    assert bad.status_code == 400

    first = api.patch(incident, title="Checkout returns 502 for EU shoppers")
    assert first.status_code == 200
    assert first.json()["version"] == 2
    assert first.headers["ETag"] == '"2"'

    stale = api.patch(incident, title="A stale edit")  # still sends If-Match "1"
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "stale_version"
    assert stale.headers["ETag"] == '"2"'
    current = api.request("GET", path).json()
    assert current["title"] == "Checkout returns 502 for EU shoppers"


def test_patch_that_changes_nothing_keeps_the_version(api: Api) -> None:
    incident = api.create()
    same = api.patch(incident, title=incident["title"], impact=incident["impact"])
    assert same.status_code == 200
    assert same.json()["version"] == 1


def test_illegal_transition_is_409_naming_the_allowed_moves(api: Api) -> None:
    incident = api.create()
    response = api.patch(incident, state="closed")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "illegal_transition"
    assert "triaged, in_progress, resolved, cancelled" in error["message"]
    unknown = api.patch(incident, state="done")
    assert unknown.status_code == 422
    assert "in_progress" in unknown.json()["error"]["message"]


def test_state_changes_write_timeline_entries_and_holds_pause(api: Api) -> None:
    incident = api.create()
    moved = api.patch(incident, state="in_progress", assignee="Ana Ruiz")
    assert moved.status_code == 200
    body = moved.json()
    assert body["acknowledged_at"] is not None  # leaving new counts as acknowledgement
    no_reason = api.patch(body, state="on_hold")
    assert no_reason.status_code == 422
    assert "awaiting_caller" in no_reason.json()["error"]["message"]
    held = api.patch(body, state="on_hold", hold_reason="awaiting_vendor")
    assert held.status_code == 200
    held_body = held.json()
    assert held_body["hold_reason"] == "awaiting_vendor"
    assert len(held_body["holds"]) == 1
    assert held_body["holds"][0]["ended"] is None

    timeline = api.request("GET", f"/v1/incidents/{incident['id']}/timeline", role="viewer")
    kinds = [(e["kind"], e["data"].get("to")) for e in timeline.json()["items"]]
    assert kinds == [
        ("assignment", None),
        ("state_change", "in_progress"),
        ("state_change", "on_hold"),
    ]
    assignment = timeline.json()["items"][0]
    assert assignment["data"]["assignee"] == {"from": None, "to": "Ana Ruiz"}
    assert assignment["author"].startswith("dispatcher-")


def test_severity_override_is_for_commanders_with_a_reason_in_the_timeline(api: Api) -> None:
    incident = api.create()  # SEV-2
    by_dispatcher = api.patch(incident, severity="SEV-1", severity_reason="CEO is affected")
    assert by_dispatcher.status_code == 403
    assert "commander role" in by_dispatcher.json()["error"]["message"]
    without_reason = api.patch(incident, role="commander", severity="SEV-1")
    assert without_reason.status_code == 422
    assert "severity_reason" in without_reason.json()["error"]["message"]

    overridden = api.patch(
        incident, role="commander", severity="SEV-1", severity_reason="all EU payments fail"
    )
    assert overridden.status_code == 200
    body = overridden.json()
    assert body["severity"] == "SEV-1"
    assert body["severity_overridden"] is True
    # SEV-1 targets now apply: respond within 15 min of opening.
    assert _at(body["response_due"]) - _at(body["opened_at"]) == timedelta(minutes=15)
    entries = api.request("GET", f"/v1/incidents/{incident['id']}/timeline").json()["items"]
    assert entries[-1]["kind"] == "severity_change"
    assert entries[-1]["body"] == "Severity SEV-2 → SEV-1: all EU payments fail"
    assert entries[-1]["data"]["reason"] == "all EU payments fail"

    # An override sticks when impact or urgency change later.
    later = api.patch(body, impact="low", urgency="low")
    assert later.json()["severity"] == "SEV-1"


def test_impact_and_urgency_changes_recompute_severity(api: Api) -> None:
    incident = api.create(impact="low", urgency="low")
    assert incident["severity"] == "SEV-4"
    raised = api.patch(incident, impact="high", urgency="high").json()
    assert raised["severity"] == "SEV-1"
    entries = api.request("GET", f"/v1/incidents/{incident['id']}/timeline").json()["items"]
    assert [e["kind"] for e in entries] == ["severity_change"]
    assert entries[0]["data"] == {
        "from": "SEV-4",
        "to": "SEV-1",
        "reason": "impact high, urgency high",
        "override": False,
    }


def test_acknowledge_and_major_incident(api: Api) -> None:
    incident = api.create()
    acked = api.patch(incident, acknowledged=True).json()
    assert acked["acknowledged_at"] is not None
    withdraw = api.patch(acked, acknowledged=False)
    assert withdraw.status_code == 422
    major = api.patch(acked, major=True).json()
    assert major["major"] is True
    entries = api.request("GET", f"/v1/incidents/{incident['id']}/timeline").json()["items"]
    assert entries[-1]["kind"] == "escalation"
    assert entries[-1]["body"] == "Declared a major incident"


def test_null_is_refused_for_required_fields_but_clears_optional_ones(api: Api) -> None:
    incident = api.create(category="software")
    refused = api.patch(incident, title=None)
    assert refused.status_code == 422
    assert "title cannot be null" in refused.json()["error"]["message"]
    cleared = api.patch(incident, category=None)
    assert cleared.status_code == 200
    assert cleared.json()["category"] is None


def test_timeline_notes_and_status_updates(api: Api) -> None:
    incident = api.create()
    path = f"/v1/incidents/{incident['number']}/timeline"
    note = api.request(
        "POST", path, role="dispatcher", json={"kind": "work_note", "body": "Restarted pods"}
    )
    assert note.status_code == 201
    assert note.json()["kind"] == "work_note"
    update = api.request(
        "POST",
        path,
        role="dispatcher",
        json={"kind": "status_update", "body": "Investigating"},
        headers={"Idempotency-Key": "note-1"},
    )
    resent = api.request(
        "POST",
        path,
        role="dispatcher",
        json={"kind": "status_update", "body": "Investigating"},
        headers={"Idempotency-Key": "note-1"},
    )
    assert resent.json() == update.json()
    system_kind = api.request(
        "POST", path, role="dispatcher", json={"kind": "state_change", "body": "sneaky"}
    )
    assert system_kind.status_code == 422
    empty = api.request("POST", path, role="dispatcher", json={"kind": "work_note", "body": "  "})
    assert empty.status_code == 422
    items = api.request("GET", path, role="viewer").json()["items"]
    assert [e["body"] for e in items] == ["Restarted pods", "Investigating"]


def test_every_write_appends_to_the_change_feed(api: Api) -> None:
    incident = api.create()
    patched = api.patch(incident, state="in_progress").json()
    api.request(
        "POST",
        f"/v1/incidents/{incident['id']}/timeline",
        json={"kind": "work_note", "body": "on it"},
    )
    changes = api.all_changes()
    assert [(c["kind"], c["op"]) for c in changes] == [
        ("incident", "upsert"),
        ("incident", "upsert"),
        ("timeline", "upsert"),
        ("timeline", "upsert"),
    ]
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(seqs)
    assert changes[1]["data"] == patched  # the entity's full state after the change
    assert changes[3]["data"]["body"] == "on it"
