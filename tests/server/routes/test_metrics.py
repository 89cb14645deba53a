"""``GET /v1/metrics`` on a real server: roles, bad input, warnings, CSAT recorded over the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


@pytest.fixture
def api(api_factory: Any) -> Any:
    return api_factory()


def _window() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, "from must be before to"),
        ({"from": "2026-11-01", "to": "2026-11-30", "group_by": "colour"}, "group_by"),
        ({"from": "1990-01-01", "to": "2090-01-01"}, "at most 366 days"),
        ({"from": "last tuesday", "to": "2026-11-30"}, "is not a date"),
        ({"from": "2026-11-01", "to": "2026-11-30", "period": "fortnight"}, "period"),
        ({"to": "2026-11-30"}, "from"),
        ({"from": "0001-01-01", "to": "0001-06-01"}, "between 1971 and 9998"),
    ],
)
def test_bad_input_is_a_422(api: Any, params: dict[str, str], message: str) -> None:
    response = api.request("GET", "/v1/metrics", role="viewer", params=params)
    assert response.status_code == 422, response.text
    assert message in response.text


def test_viewers_read_and_the_anonymous_do_not(api: Any) -> None:
    assert api.request("GET", "/v1/metrics", role=None, params=_window()).status_code == 401
    response = api.request("GET", "/v1/metrics", role="viewer", params=_window())
    assert response.status_code == 200
    body = response.json()
    assert body["groups"] == []
    assert body["total"]["count"] == 0
    assert body["total"]["mtta_s"] == {"mean": None, "median": None, "p90": None}
    assert body["total"]["fcr"] is None


def test_lifecycle_csat_and_the_sev1_warning(api: Any) -> None:
    sev1 = api.create(impact="high", urgency="high")
    other = api.create(impact="low", urgency="low")
    api.patch(sev1, state="in_progress")
    resolved = api.request("GET", f"/v1/incidents/{sev1['id']}").json()
    done = api.patch(resolved, state="resolved")
    assert done.status_code == 200, done.text
    path = f"/v1/incidents/{sev1['id']}/timeline"
    # A viewer may not record a score; a score outside 1–5 or without kind csat is refused.
    score = {"kind": "csat", "body": "Caller: quick and clear", "score": 4}
    assert api.request("POST", path, role="viewer", json=score).status_code == 403
    assert api.request("POST", path, json={**score, "score": 6}).status_code == 422
    assert (
        api.request("POST", path, json={"kind": "work_note", "body": "x", "score": 3}).status_code
        == 422
    )
    assert (
        api.request("POST", f"/v1/incidents/{other['id']}/timeline", json=score).status_code == 422
    )
    assert api.request("POST", path, role="dispatcher", json=score).status_code == 201
    body = api.request("GET", "/v1/metrics", role="viewer", params=_window()).json()
    by_key = {g["key"]: g for g in body["groups"]}
    assert by_key["SEV-1"]["resolved"] == 1
    assert by_key["SEV-1"]["csat"] == 4
    assert by_key["SEV-1"]["fcr"] == 1
    assert by_key["SEV-1"]["reopen_rate"] == 0
    assert by_key["SEV-1"]["mttr_s"]["median"] is not None
    # The business-hours figure beside it: the working time of the same span, never more.
    business = by_key["SEV-1"]["mttr_business_s"]
    assert set(business) == {"mean", "median", "p90"}
    assert 0 <= business["median"] <= by_key["SEV-1"]["mttr_s"]["median"]
    assert body["total"]["count"] == 2
    # Half the incidents are SEV-1: above the 10 % threshold.
    assert [w["code"] for w in body["warnings"]] == ["sev1_share"]
    assert sum(b["count"] for b in body["backlog"]) == 1
    relaxed = {**_window(), "sev1_threshold": "0.6"}
    assert api.request("GET", "/v1/metrics", role="viewer", params=relaxed).json()["warnings"] == []


def test_openapi_documents_the_endpoint(api: Any) -> None:
    spec = api.request("GET", "/openapi.json", role=None).json()
    operation = spec["paths"]["/v1/metrics"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"from", "to", "group_by", "period", "sev1_threshold"} <= names
    assert "422" in operation["responses"]
    figures = spec["components"]["schemas"]["MetricsFigures"]["properties"]
    assert "business hours" in figures["mttr_business_s"]["description"]


def test_escalations_reopens_and_the_last_csat_are_kept_by_the_writes(api: Any) -> None:
    # The metrics read marks the writes keep on the incident row (schema 2): an
    # incident routed at creation is not escalated, one reassigned away from its
    # group is; reopening marks it for good; the later of two scores counts.
    def fresh(incident: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = api.request("GET", f"/v1/incidents/{incident['id']}").json()
        return found

    def step(incident: dict[str, Any], **fields: Any) -> None:
        response = api.patch(fresh(incident), **fields)
        assert response.status_code == 200, response.text

    moved = api.create(impact="high", urgency="high", assignment_group="Service Desk")
    kept = api.create(impact="high", urgency="high", assignment_group="Service Desk")
    for incident in (moved, kept):
        step(incident, state="in_progress")
    step(moved, assignment_group="Network")
    for state in ("resolved", "reopened", "resolved"):
        step(moved, state=state)
    step(kept, state="resolved")
    for score in (2, 5):
        entry = {"kind": "csat", "body": f"CSAT {score}/5", "score": score}
        posted = api.request("POST", f"/v1/incidents/{moved['id']}/timeline", json=entry)
        assert posted.status_code == 201, posted.text
    body = api.request("GET", "/v1/metrics", role="viewer", params=_window()).json()
    [sev1] = body["groups"]
    assert (sev1["key"], sev1["resolved"]) == ("SEV-1", 2)
    assert sev1["fcr"] == 0.5
    assert sev1["reopen_rate"] == 0.5
    assert sev1["csat"] == 5
