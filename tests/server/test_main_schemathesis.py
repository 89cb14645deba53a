"""Schemathesis against the server's own /openapi.json: no 5xx, responses as documented.

The whole API but the endless event stream, with every default check
(status codes, headers, bodies and content types as documented, no 5xx),
bounded so it runs in the normal suite: ``EXAMPLES`` generated requests per
operation and mode, a few hundred in all, about a minute. Set
``NOC_SCHEMATHESIS_EXAMPLES`` higher to dig deeper.
Schemathesis's pytest plugin (``from_fixture``/``parametrize``) does not run
under this pytest version, so the operations are driven with Hypothesis directly.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode

from tests.helpers.servers import Api

EXAMPLES = int(os.environ.get("NOC_SCHEMATHESIS_EXAMPLES", "5"))
WRITES = ("post", "put", "patch", "delete")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi(api: Api, mode: GenerationMode) -> None:
    # Some reference data and an incident, so generated ids sometimes hit.
    api.request("PUT", "/v1/teams/noc", json={"name": "NOC", "tier": "L1"})
    api.create()
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    # Schema-valid requests the API refuses on purpose: rules JSON Schema cannot
    # state (a phone number that does not exist, an id that names nothing,
    # hold_reason only with on_hold), a stale If-Match, a conflict.
    schema.config.checks.positive_data_acceptance.expected_statuses = [
        "2XX",
        "3XX",
        "401",
        "403",
        "404",
        "409",
        "412",
        "422",
        "428",
    ]
    headers = api.auth("admin")
    failures: list[str] = []
    tested = 0
    cases = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/v1/events":
            continue  # an endless stream by design; tests/server/test_events.py covers it
        tested += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Case) -> None:
            nonlocal cases
            cases += 1
            case.call_and_validate(headers=headers, timeout=30)

        try:
            check()
        except Unsatisfiable:
            pass  # nothing to negate (e.g. /v1/health takes no input)
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    print(f"schemathesis ({mode.value}): {cases} cases over {tested} operations")
    assert tested > 20
    assert cases >= tested
    assert not failures, "\n\n".join(failures)


def test_openapi_documents_the_contract(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/health",
        "/v1/incidents",
        "/v1/incidents/{incident_id}",
        "/v1/changes",
        "/v1/events",
        "/v1/incidents/{incident_id}/timeline",
        "/v1/teams/{item_id}",
        "/v1/policies/{item_id}",
        "/v1/shifts/{item_id}",
    ):
        assert path in paths, path
    patch = paths["/v1/incidents/{incident_id}"]["patch"]
    assert {"409", "412", "428"} <= set(patch["responses"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    error = spec["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]


def test_every_write_documents_the_if_match_and_validation_answers(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            wanted = {"422", "429"} | ({"412", "428", "413"} if method in WRITES else set())
            if path != "/v1/health":
                wanted.add("401")
            lacking = wanted - set(operation["responses"])
            if lacking:
                missing.append(f"{method.upper()} {path}: {sorted(lacking)}")
    assert not missing, "\n".join(missing)
    limited = spec["paths"]["/v1/incidents"]["post"]["responses"]["429"]
    assert "Retry-After" in limited["headers"]


def test_405_names_every_method_the_path_takes(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        documented = {method.upper() for method in operations}
        concrete = path.replace("{incident_id}", "INC-000001").replace("{webhook_id}", "w1")
        concrete = concrete.replace("{item_id}", "noc")
        for method in METHODS:
            if method in documented:
                continue
            response = api.request(method, concrete)
            assert response.status_code == 405, (method, path, response.status_code)
            allowed = {m.strip() for m in response.headers["Allow"].split(",")}
            assert allowed - {"HEAD"} == documented, (method, path, allowed)
            checked += 1
    assert checked > 20


def test_a_malformed_if_none_match_is_refused(api: Api) -> None:
    created = api.create()
    path = f"/v1/incidents/{created['id']}"
    for good, status in (('"1"', 304), ('W/"1"', 304), ('"7", "1"', 304), ("*", 304), ('"2"', 200)):
        response = api.request("GET", path, role="viewer", headers={"If-None-Match": good})
        assert response.status_code == status, (good, response.status_code)
    for bad in ("yesterday", '"1', '"1",,', "1; DROP", '"abc"'):
        response = api.request("GET", path, role="viewer", headers={"If-None-Match": bad})
        assert response.status_code == 400, (bad, response.status_code)
        assert response.json()["error"]["code"] == "invalid_if_none_match"
