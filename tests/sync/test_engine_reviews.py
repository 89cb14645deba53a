"""Reviews and problems reach every console's cache through the change feed.

Real server on loopback (``EmbeddedServer`` over HTTP), a real cache file.
"""

from __future__ import annotations

import httpx

from console.server.core.auth import Role
from console.server.embedded import EmbeddedServer
from tests.helpers.sync import NEW, Console


def test_a_review_and_a_problem_sync_into_the_cache_and_update_live(
    console: Console, server: EmbeddedServer
) -> None:
    token = server.issue_token("reviewer", Role.COMMANDER)
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        incident = client.post("/v1/incidents", json={**NEW, "impact": "high"}).json()
        for state in ("triaged", "in_progress", "resolved"):
            response = client.patch(
                f"/v1/incidents/{incident['id']}",
                json={"state": state},
                headers={"If-Match": f'"{incident["version"]}"'},
            )
            assert response.status_code == 200, response.text
            incident = response.json()
        pir = client.post("/v1/pirs", json={"incident_id": incident["id"]}).json()
        problem = client.post(
            "/v1/problems",
            json={"statement": "LB pushes break checkout", "incidents": [pir["incident_id"]]},
        ).json()
        console.engine.sync_once()
        [cached] = console.cache.reference("pirs")
        assert cached["id"] == pir["id"]
        assert cached["timeline"][0]["kind"] == "detected"
        assert [p["number"] for p in console.cache.reference("problems")] == [problem["number"]]
        changed = client.patch(
            f"/v1/pirs/{pir['id']}",
            json={"root_cause": "No canary stage for config pushes"},
            headers={"If-Match": f'"{pir["version"]}"'},
        )
        assert changed.status_code == 200, changed.text
    console.engine.sync_once()
    [cached] = console.cache.reference("pirs")
    assert cached["root_cause"] == "No canary stage for config pushes"
    assert cached["version"] == 2
