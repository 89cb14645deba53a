"""Problem records and the known errors they publish: a real server on loopback."""

from __future__ import annotations

from typing import Any

from console.domain.triage import KnownError, search_known_errors
from tests.helpers.reviews import draft, patch, resolved_incident
from tests.helpers.servers import Api


def _problem(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.request("POST", "/v1/problems", role="dispatcher", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _move(api: Api, problem: dict[str, Any], **fields: Any) -> Any:
    return api.request(
        "PATCH",
        f"/v1/problems/{problem['id']}",
        role="dispatcher",
        json=fields,
        headers={"If-Match": f'"{problem["version"]}"'},
    )


def test_a_known_error_problem_publishes_its_workaround_for_the_wizard(api: Api) -> None:
    incident = resolved_incident(api, category="Network")
    problem = _problem(
        api,
        statement="Checkout 502 after load balancer config pushes",
        incidents=[incident["number"]],
        workaround="Roll back the last load balancer config push",
    )
    assert problem["number"] == "PRB-000001"
    assert problem["incidents"] == [incident["number"]]
    assert problem["service"] == "checkout"
    problem = _move(api, problem, state="investigating").json()
    known = _move(api, problem, state="known_error")
    assert known.status_code == 200, known.text
    problem = known.json()
    assert problem["known_error_id"] == "problem-1"
    published = api.request("GET", "/v1/known-errors/problem-1", role="viewer")
    assert published.status_code == 200, published.text
    # What the triage wizard does with the cache's known_errors rows.
    entry = KnownError.from_mapping(published.json())
    [match] = search_known_errors([entry], text="checkout 502", service="checkout")
    assert "PRB-000001" in (match.known_error.article or "")
    assert "Roll back" in match.known_error.workaround
    feed = {(c["kind"], c["id"]) for c in api.all_changes()}
    assert ("known_error", "problem-1") in feed
    assert ("problem", problem["id"]) in feed
    # Applying the workaround is recorded on the incident, naming the problem.
    applied = api.request(
        "POST",
        f"/v1/incidents/{incident['id']}/workaround",
        role="dispatcher",
        json={"known_error_id": "problem-1"},
    )
    assert applied.status_code == 201, applied.text
    assert applied.json()["data"] == {"workaround": "problem-1", "problem": "PRB-000001"}
    # Resolving the problem withdraws the known error.
    assert (
        _move(api, problem, state="resolved", permanent_fix="Canary", change_ref="CHG-7").json()[
            "known_error_id"
        ]
        is None
    )
    assert api.request("GET", "/v1/known-errors/problem-1").status_code == 404


def test_bad_links_and_moves_are_refused_and_lose_nothing(api: Api) -> None:
    incident = resolved_incident(api)
    missing = api.request(
        "POST",
        "/v1/problems",
        role="dispatcher",
        json={"statement": "x", "incidents": ["INC-999999"]},
    )
    assert missing.status_code == 422
    assert "does not exist" in missing.json()["error"]["message"]
    assert api.request("GET", "/v1/problems").json()["items"] == []
    nowhere = api.request(
        "PATCH",
        "/v1/problems/PRB-000042",
        role="dispatcher",
        json={"link_incidents": [incident["id"]]},
        headers={"If-Match": '"1"'},
    )
    assert nowhere.status_code == 404
    first = _problem(api, statement="one", incidents=[incident["id"]])
    second = api.request(
        "POST",
        "/v1/problems",
        role="dispatcher",
        json={"statement": "two", "incidents": [incident["id"]]},
    )
    assert second.status_code == 409
    assert "PRB-000001" in second.json()["error"]["message"]
    no_workaround = _move(api, first, state="known_error")
    assert no_workaround.status_code == 409
    closed = _move(api, first, state="closed").json()
    reopen = _move(api, closed, state="open")
    assert reopen.status_code == 409
    viewer = api.request("POST", "/v1/problems", role="viewer", json={"statement": "x"})
    assert viewer.status_code == 403


def test_an_unknown_root_cause_or_recurrence_suggests_a_problem(api: Api) -> None:
    incidents = [resolved_incident(api, category="Network") for _ in range(3)]
    pir = draft(api, incidents[0])
    patch(api, pir, root_cause_known=False, root_cause="not found yet")
    suggestion = api.request(
        "GET", f"/v1/incidents/{incidents[0]['id']}/problem-suggestion", role="viewer"
    ).json()
    assert suggestion["suggest"] is True
    assert any("unknown root cause" in r for r in suggestion["reasons"])
    assert any("3 incidents of checkout / Network" in r for r in suggestion["reasons"])
    other = resolved_incident(api, service="payroll", category="Software")
    quiet = api.request("GET", f"/v1/incidents/{other['id']}/problem-suggestion").json()
    assert quiet["suggest"] is False
