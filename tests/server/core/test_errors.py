"""Bad input of every sort gets a 4xx with a clear message in the one error shape, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.helpers.servers import INCIDENT, Api

JSON = {"Content-Type": "application/json"}

BAD_CREATES: list[tuple[str, Any, str]] = [
    ("wrong type", {**INCIDENT, "title": 42}, "title: Input should be a valid string"),
    ("unknown field", {**INCIDENT, "priority": 1}, "priority: is not a field"),
    ("unknown enum", {**INCIDENT, "impact": "catastrophic"}, "impact: Input should be"),
    (
        "missing field",
        {k: v for k, v in INCIDENT.items() if k != "service"},
        "service: is required",
    ),
    ("empty title", {**INCIDENT, "title": "   "}, "title: must not be empty or only blanks"),
    ("title too long", {**INCIDENT, "title": "x" * 201}, "at most 200"),
    ("NUL in text", {**INCIDENT, "title": "bad\u0000title"}, "NUL"),
    (
        "lone surrogate",
        '{"title": "\\ud800", "service": "s", "impact": "low", "urgency": "low"}',
        "title: Input should be a valid string",
    ),
    ("a list", [INCIDENT], "Input should be a valid dictionary"),
    ("null body", None, "Input should be a valid dictionary"),
    ("source unknown", {**INCIDENT, "source": "pigeon"}, "source: Input should be"),
    ("boolean as text", {**INCIDENT, "reporter": True}, "reporter: Input should be a valid string"),
]


@pytest.mark.parametrize(("case", "body", "expected"), BAD_CREATES, ids=[c[0] for c in BAD_CREATES])
def test_bad_incident_bodies_are_422_naming_the_field(
    api: Api, case: str, body: Any, expected: str
) -> None:
    content = body if isinstance(body, str) else json.dumps(body)
    response = api.request("POST", "/v1/incidents", content=content, headers=JSON)
    assert response.status_code == 422, (case, response.text)
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert expected in error["message"], error["message"]


@pytest.mark.parametrize(
    "content", [b"{", b"not json", b'{"title": "x",}', b"\xff\xfe", b'{"a": NaN'], ids=repr
)
def test_malformed_json_is_400(api: Api, content: bytes) -> None:
    response = api.request("POST", "/v1/incidents", content=content, headers=JSON)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("malformed_json", "invalid_request")
    assert "JSON" in response.json()["error"]["message"] or response.status_code == 422


def test_body_without_content_type_is_refused_not_parsed(api: Api) -> None:
    response = api.request("POST", "/v1/incidents", content=json.dumps(INCIDENT).encode())
    assert response.status_code == 422


def test_bodies_over_one_mib_are_413(api: Api) -> None:
    big = {**INCIDENT, "description": "x" * (1024 * 1024)}
    response = api.request("POST", "/v1/incidents", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert "1 MiB" in response.json()["error"]["message"]


def test_chunked_bodies_over_one_mib_are_413(api: Api) -> None:
    def chunks() -> Any:
        for _ in range(300):
            yield b"x" * 4096  # 1.2 MiB without a Content-Length

    response = api.request("POST", "/v1/incidents", content=chunks(), headers=JSON)
    assert response.status_code == 413


@pytest.mark.parametrize(
    "query",
    [
        "limit=100000",
        "limit=0",
        "limit=-5",
        "offset=-1",
        "offset=99999999999",
        "state=nonsense",
        "severity=SEV-9",
        "limit=ten",
        "q=" + "x" * 201,
        "service=%00",
    ],
)
def test_bad_list_queries_are_422(api: Api, query: str) -> None:
    response = api.request("GET", f"/v1/incidents?{query}", role="viewer")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith("query.")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/incidents/..%2F..%2Fetc%2Fpasswd",
        "/v1/incidents/INC-",
        "/v1/incidents/INC-99999999999999999999",
        "/v1/incidents/" + "a" * 65,
        "/v1/incidents/%00",
        "/v1/incidents/00000000-0000-0000-0000-000000000000",
        "/v1/teams/UPPER",
        "/v1/teams/%F0%9F%94%A5",
    ],
)
def test_bad_ids_are_4xx(api: Api, path: str) -> None:
    response = api.request("GET", path, role="viewer")
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()


def test_bad_headers_are_4xx(api: Api) -> None:
    incident = api.create()
    path = f"/v1/incidents/{incident['id']}"
    for headers in (
        {"If-Match": "W/"},
        {"If-Match": '"99999999999999999999999"'},
        {"If-Match": "*"},
    ):
        response = api.request("PATCH", path, json={"title": "t"}, headers=headers)
        assert response.status_code == 400, (headers, response.text)
    too_long_key = {"Idempotency-Key": "k" * 201}
    response = api.request("POST", "/v1/incidents", json=INCIDENT, headers=too_long_key)
    assert response.status_code == 422
    huge_token = {"Authorization": "Bearer " + "x" * 5000}
    assert api.client.get("/v1/incidents", headers=huge_token).status_code == 401


def test_unknown_routes_and_methods_use_the_error_shape(api: Api) -> None:
    missing = api.request("GET", "/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = api.request("DELETE", "/v1/incidents")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_an_unexpected_failure_is_a_json_500_and_the_server_lives_on(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No input can cause a 500 (that is the point of this file), so a fault is injected
    into the service layer to check that one would still be answered in the error shape."""
    from console.server.services import incidents

    def fail(**_kwargs: Any) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(incidents, "create_incident", fail)
    response = api.request("POST", "/v1/incidents", json=INCIDENT)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert api.request("GET", "/v1/incidents").status_code == 200


def test_error_bodies_are_json_with_code_and_message(api: Api) -> None:
    responses: list[httpx.Response] = [
        api.client.get("/v1/incidents"),
        api.request("GET", "/v1/incidents?limit=0"),
        api.request("POST", "/v1/incidents", content=b"{", headers=JSON),
        api.request("GET", "/v1/incidents/INC-000404"),
    ]
    for response in responses:
        assert response.headers["content-type"] == "application/json"
        error = response.json()["error"]
        assert set(error) == {"code", "message"}
        assert error["message"].strip()
