"""The built-in server follows the console's ``[major.cadence_minutes]``, also after a save."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx

from console.connectors.embedded import start_embedded
from console.server.core.auth import Role


def _declare(client: httpx.Client, token: str) -> tuple[datetime, datetime]:
    """Log a SEV-1 major; its declaration time and the internal update it owes."""
    response = client.post(
        "/v1/incidents",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "title": "Checkout down",
            "service": "checkout",
            "impact": "high",
            "urgency": "high",
            "major": True,
            "commander": "Iris",
        },
    )
    assert response.status_code == 201, response.text
    incident = response.json()
    major = client.get(
        f"/v1/incidents/{incident['id']}/major", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert incident["next_update_due"]["internal"] == major["next_update_due"]["internal"]
    return (
        datetime.fromisoformat(major["declared_at"]),
        datetime.fromisoformat(incident["next_update_due"]["internal"]),
    )


def test_the_built_in_servers_cadence_is_the_consoles(tmp_path: Path) -> None:
    embedded = start_embedded(tmp_path, cadence={1: 7, 2: 30})
    try:
        token = embedded.server.issue_token("cadence-test", Role.ADMIN)
        with httpx.Client(base_url=embedded.server.url, timeout=30) as client:
            declared, due = _declare(client, token)
            assert due == declared + timedelta(minutes=7)
            # The Settings dialog saved a new cadence: the next incident owes on it.
            embedded.set_update_cadence({1: 12})
            declared, due = _declare(client, token)
            assert due == declared + timedelta(minutes=12)
    finally:
        embedded.stop()
