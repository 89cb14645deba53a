"""#19 item 6: the incident resource itself carries ``roles`` and ``next_update_due``.

Over a real server process: the record, the list, the change feed and the
OpenAPI document agree with ``GET /v1/incidents/{id}/major``; declaring and
standing down record who and why.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.helpers.majors import SEV1, _publish, _seed_service
from tests.helpers.servers import Api, ApiFactory


def _get(api: Api, incident: dict[str, Any]) -> dict[str, Any]:
    response = api.request("GET", f"/v1/incidents/{incident['id']}", role="viewer")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _fed(api: Api, incident_id: str) -> dict[str, Any]:
    """The newest version of the incident the change feed carries."""
    newest: dict[str, Any] = {}
    after = 0
    while True:
        page = api.request("GET", f"/v1/changes?after={after}&limit=500", role="viewer").json()
        for change in page["changes"]:
            if change["kind"] == "incident" and change["id"] == incident_id:
                newest = change["data"]
        if not page["more"]:
            return newest
        after = page["cursor"]


def test_the_record_the_list_and_the_feed_carry_roles_and_due_times(api: Api) -> None:
    _seed_service(api, customer_facing=False)
    incident = api.create(**SEV1)
    record = _get(api, incident)
    major = api.request("GET", f"/v1/incidents/{incident['id']}/major", role="viewer").json()
    assert record["roles"] == {"Incident Commander": "Iris Commander"} == major["roles"]
    assert record["next_update_due"] == major["next_update_due"]
    declared = datetime.fromisoformat(major["declared_at"])
    assert datetime.fromisoformat(record["next_update_due"]["internal"]) == declared + timedelta(
        minutes=15
    )
    assert record["next_update_due"]["customer"] is None  # not customer-facing
    # The create response and the feed carry them from the start.
    assert incident["roles"] == record["roles"]
    assert _fed(api, incident["id"])["next_update_due"] == record["next_update_due"]

    # Publishing moves the countdown: a new version, in the record, the list and the feed.
    published = _publish(api, incident).json()
    after = _get(api, incident)
    assert after["version"] > record["version"]
    moved = datetime.fromisoformat(after["next_update_due"]["internal"])
    assert moved == datetime.fromisoformat(published["at"]) + timedelta(minutes=15)
    listed = api.request("GET", "/v1/incidents?limit=50", role="viewer").json()["items"]
    assert [i["next_update_due"] for i in listed if i["id"] == incident["id"]] == [
        after["next_update_due"]
    ]
    assert _fed(api, incident["id"])["next_update_due"] == after["next_update_due"]

    # A role given: the resource's roles follow, through the feed too.
    response = api.request(
        "PUT",
        f"/v1/incidents/{incident['id']}/roles/Communications Lead",
        role="commander",
        json={"person": "Bo Lee"},
    )
    assert response.status_code == 200, response.text
    assert _get(api, incident)["roles"]["Communications Lead"] == "Bo Lee"
    assert _fed(api, incident["id"])["roles"]["Communications Lead"] == "Bo Lee"


def test_an_incident_not_major_has_neither(api: Api) -> None:
    record = api.create(impact="low", urgency="low")
    assert record["roles"] == {}
    assert record["next_update_due"] == {}


def test_declaring_and_standing_down_record_who_and_why(api: Api) -> None:
    incident = api.create(impact="medium", urgency="high")
    declared = api.request(
        "PATCH",
        f"/v1/incidents/{incident['id']}",
        role="commander",
        json={"major": True, "major_reason": "SEV-1 criterion: affected share 40 %"},
        headers={"If-Match": str(incident["version"])},
    )
    assert declared.status_code == 200, declared.text
    assert set(declared.json()["next_update_due"]) == {"internal", "executive", "customer"}
    down = api.request(
        "PATCH",
        f"/v1/incidents/{incident['id']}",
        role="commander",
        json={"major": False, "major_reason": "contained to one tenant"},
        headers={"If-Match": str(declared.json()["version"])},
    )
    assert down.status_code == 200, down.text
    assert down.json()["next_update_due"] == {}
    assert down.json()["roles"] == {}
    timeline = api.request("GET", f"/v1/incidents/{incident['id']}/timeline").json()["items"]
    escalations = [e for e in timeline if e["kind"] == "escalation"]
    assert [e["data"]["reason"] for e in escalations] == [
        "SEV-1 criterion: affected share 40 %",
        "contained to one tenant",
    ]
    assert escalations[-1]["body"] == "Major incident stood down: contained to one tenant"
    assert all(e["author"] for e in escalations)  # who
    # A reason without the flag is refused with what to do.
    refused = api.request(
        "PATCH",
        f"/v1/incidents/{incident['id']}",
        role="commander",
        json={"major_reason": "just because"},
        headers={"If-Match": str(down.json()["version"])},
    )
    assert refused.status_code == 422
    assert "major_reason goes only with major" in refused.text


def test_declared_at_creation_with_the_triage_criteria_as_why(api: Api) -> None:
    incident = api.create(
        impact="high",
        urgency="high",
        major=True,
        commander="Iris Commander",
        major_reason="SEV-1: every critical incident is run as a major incident",
    )
    timeline = api.request("GET", f"/v1/incidents/{incident['id']}/timeline").json()["items"]
    (declared,) = [e for e in timeline if e["kind"] == "escalation"]
    assert declared["body"] == (
        "Declared a major incident: SEV-1: every critical incident is run as a major incident; "
        "Incident Commander: Iris Commander"
    )
    assert declared["data"]["reason"].startswith("SEV-1")
    refused = api.request(
        "POST",
        "/v1/incidents",
        role="dispatcher",
        json={
            "title": "x",
            "service": "checkout",
            "impact": "low",
            "urgency": "low",
            "major_reason": "no",
        },
    )
    assert refused.status_code == 422
    assert "major_reason goes only with major" in refused.text


def test_openapi_documents_the_fields(api: Api) -> None:
    schema = api.request("GET", "/openapi.json").json()["components"]["schemas"]
    props = schema["Incident"]["properties"]
    assert "roles" in props
    assert "next_update_due" in props
    assert "overdue" in props["next_update_due"]["description"]
    assert "major_reason" in schema["IncidentPatch"]["properties"]


def test_the_servers_update_cadence_sets_every_countdown(api_factory: ApiFactory) -> None:
    """``Settings.update_cadence_min`` (``serve --update-cadence``), not the built-in 15/30."""
    api = api_factory(update_cadence_min={1: 5, 2: 30})
    _seed_service(api, customer_facing=True)
    incident = api.create(**SEV1)
    major = api.request("GET", f"/v1/incidents/{incident['id']}/major", role="viewer").json()
    declared = datetime.fromisoformat(major["declared_at"])
    record = _get(api, incident)
    for audience in ("internal", "customer"):
        due = datetime.fromisoformat(record["next_update_due"][audience])
        assert due == declared + timedelta(minutes=5), audience
    assert record["next_update_due"] == major["next_update_due"] == incident["next_update_due"]
    published = _publish(api, incident).json()
    after = _get(api, incident)
    assert datetime.fromisoformat(after["next_update_due"]["internal"]) == datetime.fromisoformat(
        published["at"]
    ) + timedelta(minutes=5)
    assert _fed(api, incident["id"])["next_update_due"] == after["next_update_due"]


def test_a_severity_without_a_cadence_owes_no_routine_update(api_factory: ApiFactory) -> None:
    api = api_factory(update_cadence_min={})
    _seed_service(api, customer_facing=False)
    incident = api.create(**SEV1)
    due = _get(api, incident)["next_update_due"]
    assert due["internal"] is None
    assert due["executive"] is not None  # the declaration itself is still owed to executives
