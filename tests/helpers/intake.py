"""Shared pieces of the alert intake tests: a directory, Alertmanager-shaped bodies."""

from __future__ import annotations

from typing import Any

from tests.helpers.servers import Api

TEAMS = {
    "network": {"name": "Network", "tier": "L2"},
    "dba": {"name": "Database", "tier": "L2"},
    "noc": {"name": "NOC", "tier": "L1"},
}
SERVICES = {
    "vpn": {"name": "VPN", "owner_team": "network"},
    "payments-db": {"name": "Payments DB", "owner_team": "dba"},
    "core": {"name": "Core network", "owner_team": "noc"},
}


def seed_directory(api: Api) -> None:
    """The teams and services the mapping rules name."""
    for team, body in TEAMS.items():
        assert api.request("PUT", f"/v1/teams/{team}", json=body).status_code in (200, 201)
    for service, body in SERVICES.items():
        assert api.request("PUT", f"/v1/services/{service}", json=body).status_code in (200, 201)


def am_alert(
    name: str = "HighLatency",
    *,
    status: str = "firing",
    fingerprint: str = "a1b2c3d4e5f60708",
    **labels: str,
) -> dict[str, Any]:
    """One alert as Alertmanager 0.25 sends it."""
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} on {labels.get('instance', 'host')}"},
        "startsAt": "2026-12-06T20:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-06T20:05:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def am_body(*alerts: dict[str, Any], status: str | None = None, **extra: Any) -> dict[str, Any]:
    """An Alertmanager webhook body (version 4) around ``alerts``."""
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighLatency"}',
        "truncatedAlerts": 0,
        "status": status or ("firing" if firing else "resolved"),
        "receiver": "noc",
        "groupLabels": {"alertname": alerts[0]["labels"].get("alertname", "")} if alerts else {},
        "commonLabels": dict(alerts[0]["labels"]) if alerts else {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
        **extra,
    }


def post_am(api: Api, body: object, role: str = "intake") -> Any:
    return api.request("POST", "/v1/intake/alertmanager", role=role, json=body)


def monitoring_incidents(api: Api) -> list[dict[str, Any]]:
    page = api.request("GET", "/v1/incidents?limit=500", role="viewer").json()
    return [i for i in page["items"] if i["source"] == "monitoring"]


def intake_server(
    api_factory: Any, tmp_path: Any, config: Any, name: str = "intake", db_url: str | None = None
) -> Api:
    """A server whose directory holds :data:`SERVICES`, started with the intake ``config``.

    The directory is seeded through a first server on the same SQLite file,
    stopped before the second starts: the second checks its mapping rules
    against the directory at start-up, as ``serve`` does.
    """
    from console.server.core.settings import sqlite_url

    url = db_url or sqlite_url(tmp_path / f"{name}.db")
    seeder = api_factory(db_url=url)
    seed_directory(seeder)
    seeder.client.close()
    seeder.server.stop()
    return api_factory(db_url=url, intake=config)  # type: ignore[no-any-return]
