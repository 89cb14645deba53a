"""Alert intake over HTTP on a real server: dedup, mapping, auto-resolve, events, auth."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.server.services.intake_rules import IntakeConfig, config_from_table
from tests.helpers.intake import am_alert, am_body, intake_server, monitoring_incidents, post_am
from tests.helpers.servers import Api, ApiFactory

RULES: dict[str, Any] = {
    "default_service": "core",
    "repeat_publish_seconds": 0,
    "rules": [
        {
            "name": "databases",
            "match": {"team": "dba", "alertname": "~Replication.*"},
            "service": "payments-db",
            "category": "Database",
            "title": "{{ labels.alertname }}: {{ labels.instance }} ({{ annotations.summary }})",
        },
        {
            "name": "vpn by job",
            "match": {"job": "vpn-exporter"},
            "service": "vpn",
            "urgency": "low",
        },
    ],
}


@pytest.fixture
def api(api_factory: ApiFactory, tmp_path: Path) -> Api:
    return intake_server(api_factory, tmp_path, config_from_table(RULES))


def _timeline(api: Api, incident: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.request(
        "GET", f"/v1/incidents/{incident['id']}/timeline", role="viewer"
    ).json()["items"]
    return items


def _get(api: Api, incident: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = api.request(
        "GET", f"/v1/incidents/{incident['id']}", role="viewer"
    ).json()
    return data


def test_a_repeated_notification_never_opens_a_second_incident(api: Api) -> None:
    body = am_body(am_alert(service="vpn", instance="gw1", severity="critical"))
    first = post_am(api, body)
    assert first.status_code == 200, first.text
    assert first.json()["opened"] == ["INC-000001"]
    for _ in range(3):
        again = post_am(api, body)
        assert again.json()["opened"] == []
        assert again.json()["updated"] == ["INC-000001"]
    (incident,) = monitoring_incidents(api)
    alert = incident["alert"]
    assert alert["repeat_count"] == 4
    assert alert["last_seen"] > alert["first_seen"]
    assert (incident["service"], incident["assignment_group"]) == ("vpn", "network")
    assert (incident["impact"], incident["urgency"], incident["severity"]) == (
        "high",
        "high",
        "SEV-1",
    )
    # The change feed (what consoles sync from) carries the newest count.
    fed = [c for c in api.all_changes() if c["kind"] == "incident"]
    assert fed[-1]["data"]["alert"]["repeat_count"] == 4
    assert fed[-1]["data"]["version"] == incident["version"]


def test_mapping_rules_route_render_and_default(api: Api) -> None:
    body = am_body(
        am_alert("ReplicationLag", fingerprint="f1", team="dba", instance="db7"),
        am_alert("Up", fingerprint="f2", job="vpn-exporter", severity="warning"),
        am_alert("Mystery", fingerprint="f3", service="not-in-directory"),
    )
    response = post_am(api, body)
    assert response.status_code == 200, response.text
    by_key = {i["alert"]["key"]: i for i in monitoring_incidents(api)}
    db = by_key["f1"]
    assert (db["service"], db["category"], db["assignment_group"]) == (
        "payments-db",
        "Database",
        "dba",
    )
    assert db["title"] == "ReplicationLag: db7 (ReplicationLag on db7)"
    vpn = by_key["f2"]
    assert (vpn["service"], vpn["impact"], vpn["urgency"]) == ("vpn", "medium", "low")
    assert by_key["f3"]["service"] == "core"  # the default when no service is known


def test_templates_are_sandboxed(api_factory: ApiFactory, tmp_path: Path) -> None:
    config = config_from_table(
        {
            "default_service": "core",
            "title": "{{ labels.__class__.__mro__[1].__subclasses__() }}",
        }
    )
    api = intake_server(api_factory, tmp_path, config)
    assert post_am(api, am_body(am_alert("Probe"))).status_code == 200
    (incident,) = monitoring_incidents(api)
    assert "class" not in incident["title"]
    assert incident["title"] == "Probe"  # the fallback: the alert's name


def test_a_resolved_alert_resolves_only_what_nobody_touched(api: Api) -> None:
    alone = am_alert(fingerprint="a1", service="vpn")
    worked = am_alert(fingerprint="a2", service="vpn", instance="gw2")
    post_am(api, am_body(alone, worked))
    incidents = {i["alert"]["key"]: i for i in monitoring_incidents(api)}
    note = api.request(
        "POST",
        f"/v1/incidents/{incidents['a2']['id']}/timeline",
        role="dispatcher",
        json={"kind": "work_note", "body": "Looking at gw2's uplink"},
    )
    assert note.status_code == 201, note.text
    resolved = post_am(
        api, am_body({**alone, "status": "resolved"}, {**worked, "status": "resolved"})
    )
    assert resolved.json()["resolved"] == [incidents["a1"]["number"]]
    assert _get(api, incidents["a1"])["state"] == "resolved"
    left = _get(api, incidents["a2"])
    assert left["state"] == "new"
    assert left["alert"]["status"] == "resolved"
    assert any(e["body"].startswith("Left open") for e in _timeline(api, left))
    # A resend of the resolved notification changes nothing more.
    again = post_am(api, am_body({**alone, "status": "resolved"}))
    assert again.json()["resolved"] == []
    assert again.json()["ignored"] == 1


def test_auto_resolve_off_leaves_every_incident_for_a_person(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    config = config_from_table({"default_service": "core", "auto_resolve": False})
    api = intake_server(api_factory, tmp_path, config)
    alert = am_alert(fingerprint="x")
    post_am(api, am_body(alert))
    post_am(api, am_body({**alert, "status": "resolved"}))
    (incident,) = monitoring_incidents(api)
    assert incident["state"] == "new"
    assert any(e["body"].startswith("Alert resolved") for e in _timeline(api, incident))


def test_fire_again_reopens_a_resolved_incident_and_a_closed_one_makes_way(api: Api) -> None:
    alert = am_alert(fingerprint="re")
    post_am(api, am_body(alert))
    post_am(api, am_body({**alert, "status": "resolved"}))
    (incident,) = monitoring_incidents(api)
    assert incident["state"] == "resolved"
    assert post_am(api, am_body(alert)).json()["reopened"] == [incident["number"]]
    reopened = _get(api, incident)
    assert reopened["state"] == "reopened"
    assert reopened["alert"]["repeat_count"] == 2
    closed = api.patch(reopened, state="resolved")
    assert closed.status_code == 200, closed.text
    closed = api.patch(closed.json(), state="closed")
    assert closed.status_code == 200, closed.text
    fresh = post_am(api, am_body(alert)).json()
    assert fresh["opened"] == ["INC-000002"]
    assert len(monitoring_incidents(api)) == 2


def test_flapping_folds_into_one_incident(api_factory: ApiFactory, tmp_path: Path) -> None:
    config = config_from_table(
        {"default_service": "core", "flap_threshold": 2, "flap_window_minutes": 10}
    )
    api = intake_server(api_factory, tmp_path, config)
    alert = am_alert(fingerprint="flap")
    for _ in range(5):
        post_am(api, am_body(alert))
        post_am(api, am_body({**alert, "status": "resolved"}))
    (incident,) = monitoring_incidents(api)
    assert incident["alert"]["flapping"] is True
    assert incident["state"] in ("reopened", "new")  # left open for a person
    assert sum(e["body"].startswith("Flapping") for e in _timeline(api, incident)) == 1


def test_silences_record_but_open_nothing(api_factory: ApiFactory, tmp_path: Path) -> None:
    config = config_from_table(
        {
            "default_service": "core",
            "silences": [
                {"name": "gw1 maintenance", "match": {"instance": "gw1"}},
                {
                    "name": "over",
                    "match": {"instance": "gw2"},
                    "ends": datetime(2020, 1, 1, tzinfo=UTC),
                },
            ],
        }
    )
    api = intake_server(api_factory, tmp_path, config)
    response = post_am(
        api,
        am_body(
            am_alert(fingerprint="s1", instance="gw1"), am_alert(fingerprint="s2", instance="gw2")
        ),
    )
    assert response.json()["silenced"] == 1
    (incident,) = monitoring_incidents(api)
    assert incident["alert"]["key"] == "s2"  # the window that ended silences nothing


def test_group_mode_opens_one_incident_per_group(api_factory: ApiFactory, tmp_path: Path) -> None:
    config = config_from_table({"default_service": "core", "grouping": "group"})
    api = intake_server(api_factory, tmp_path, config)
    body = am_body(
        am_alert(fingerprint="g1", instance="a"), am_alert(fingerprint="g2", instance="b")
    )
    assert post_am(api, body).json()["opened"] == ["INC-000001"]
    assert post_am(api, body).json()["updated"] == ["INC-000001"]
    (incident,) = monitoring_incidents(api)
    assert incident["alert"]["key"] == body["groupKey"]
    resolved = am_body(
        {**body["alerts"][0], "status": "resolved"}, {**body["alerts"][1], "status": "resolved"}
    )
    assert post_am(api, resolved).json()["resolved"] == ["INC-000001"]


def test_events_trigger_acknowledge_resolve(api: Api) -> None:
    def send(**event: Any) -> Any:
        return api.request("POST", "/v1/intake/events", role="intake", json=event)

    trigger = {
        "dedup_key": "disk-sda-web3",
        "action": "trigger",
        "summary": "Disk sda on web3 is 95% full",
        "source": "web3",
        "severity": "error",
        "service": "vpn",
        "details": {"mount": "/var", "used": 95},
    }
    first = send(**trigger)
    assert first.status_code == 202, first.text
    assert first.json()["incident"] == "INC-000001"
    assert first.json()["opened"]
    assert send(**trigger).json()["updated"] == ["INC-000001"]
    (incident,) = monitoring_incidents(api)
    assert incident["title"] == "Disk sda on web3 is 95% full"
    assert (incident["impact"], incident["urgency"]) == ("high", "medium")
    assert "mount: /var" in incident["description"]
    assert incident["alert"]["integration"] == "events"
    assert incident["alert"]["repeat_count"] == 2
    ack = send(dedup_key="disk-sda-web3", action="acknowledge")
    assert ack.json()["acknowledged"] == ["INC-000001"]
    assert _get(api, incident)["acknowledged_at"] is not None
    done = send(dedup_key="disk-sda-web3", action="resolve")
    assert done.json()["resolved"] == ["INC-000001"]
    # A trigger without a key gets one back; resolve of an unknown key opens nothing.
    made = send(action="trigger", summary="Ping lost", source="probe-1")
    assert made.status_code == 202
    assert len(made.json()["dedup_key"]) == 36
    assert send(dedup_key="never-seen", action="resolve").json()["ignored"] == 1
    missing = send(action="trigger", source="probe-1")
    assert missing.status_code == 422
    assert "summary" in missing.json()["error"]["message"]
    wrong = send(dedup_key="k", action="explode", summary="x")
    assert wrong.status_code == 422


def test_the_intake_role_may_do_nothing_else(api: Api) -> None:
    assert api.request("GET", "/v1/incidents", role="intake").status_code == 403
    assert api.request("GET", "/v1/changes", role="intake").status_code == 403
    created = api.request(
        "POST",
        "/v1/incidents",
        role="intake",
        json={"title": "x", "service": "vpn", "impact": "low", "urgency": "low"},
    )
    assert created.status_code == 403
    for role in ("viewer", "dispatcher", "commander"):
        refused = post_am(api, am_body(am_alert()), role=role)
        assert refused.status_code == 403
        assert "token create --role intake" in refused.json()["error"]["message"]
    assert post_am(api, am_body(am_alert()), role=None).status_code == 401
    assert post_am(api, am_body(am_alert()), role="admin").status_code == 200
    assert monitoring_incidents(api)[0]["reporter"] == "noc"


def test_a_storm_opens_one_incident_per_fingerprint_and_coalesces_the_feed(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    config = config_from_table({"default_service": "core", "repeat_publish_seconds": 0.5})
    api = intake_server(api_factory, tmp_path, config)
    fingerprints = [f"storm{i:02d}" for i in range(20)]
    for batch in range(50):  # 50 notifications × 200 alerts = 10,000 alerts
        alerts = [am_alert(fingerprint=fp, instance=fp) for fp in fingerprints for _ in range(10)]
        response = post_am(api, am_body(*alerts))
        assert response.status_code == 200, (batch, response.text)
    # (How fast, and how the API answers meanwhile: python -m bench intake.)
    incidents = monitoring_incidents(api)
    assert sorted(i["alert"]["key"] for i in incidents) == fingerprints
    # Repeats are counted exactly; the feed carries them at most every 0.5 s
    # per incident, and the timer publishes the last ones.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        fed = {c["id"]: c["data"] for c in api.all_changes() if c["kind"] == "incident"}
        if all(d["alert"]["repeat_count"] == 500 for d in fed.values()):
            break
        time.sleep(0.2)
    assert {d["alert"]["repeat_count"] for d in fed.values()} == {500}
    incident_changes = [c for c in api.all_changes() if c["kind"] == "incident"]
    assert len(incident_changes) < 10_000 / 4


def test_intake_settings_take_no_nonsense(tmp_path: Path) -> None:
    from console.server.services.intake_rules import IntakeConfigError, load_intake_config

    def refused(text: str) -> str:
        path = tmp_path / "intake.toml"
        path.write_text(text)
        with pytest.raises(IntakeConfigError) as caught:
            load_intake_config(path)
        return str(caught.value)

    assert "not valid TOML" in refused("[intake\n")
    assert "no [intake] table" in refused("[other]\n")
    assert "unknown setting 'grupping'" in refused('[intake]\ngrupping = "alert"\n')
    assert "does not parse" in refused('[intake]\ntitle = "{{ labels.x "\n')
    assert "not a regular expression" in refused(
        '[intake]\n[[intake.rules]]\nmatch = { a = "~(" }\nservice = "vpn"\n'
    )
    assert "impact/urgency" in refused('[intake]\nseverity_map = { critical = "high" }\n')
    assert "is not one of" in refused('[intake]\ndefault_impact = "huge"\n')
    assert IntakeConfig().default_service is None


def test_serve_refuses_a_rule_naming_an_unknown_service(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    from tests.helpers.serve import run_cli

    intake_server(api_factory, tmp_path, IntakeConfig(), name="seeded")
    rules = tmp_path / "intake.toml"
    rules.write_text(
        '[intake]\ndefault_service = "core"\n'
        '[[intake.rules]]\nname = "pay"\nmatch = { job = "pay" }\nservice = "payments"\n'
    )
    result = run_cli(
        "serve", "--port", "0", "--db", str(tmp_path / "seeded.db"), "--intake-config", str(rules)
    )
    assert result.returncode == 2, result.stderr
    assert "rule 'pay' names the service 'payments', which is not in the directory" in (
        result.stderr
    )
    assert "core, payments-db, vpn" in result.stderr
    assert "Traceback" not in result.stderr
    rules.write_text('[intake]\n[[intake.rules]]\nmatch = { a = "b" }\nteam = "nobody"\n')
    result = run_cli(
        "serve", "--port", "0", "--db", str(tmp_path / "seeded.db"), "--intake-config", str(rules)
    )
    assert result.returncode == 2
    assert "team 'nobody'" in result.stderr


def test_a_console_syncs_the_alert_facts_into_its_cache(api: Api, tmp_path: Path) -> None:
    """Through the existing change feed: the cache holds labels, repeats, last seen."""
    from console.connectors.noc import NocBackend
    from console.store import Cache
    from console.sync.engine import SyncEngine

    body = am_body(am_alert(fingerprint="sync1", service="vpn", instance="gw1"))
    post_am(api, body)
    backend = NocBackend(api.url, api.tokens["viewer"])
    try:
        with Cache.open(tmp_path / "console.db") as cache:
            engine = SyncEngine(cache, backend, use_events=False)
            engine.sync_once()
            (incident,) = cache.incidents()
            assert incident.alert is not None
            assert incident.source.value == "monitoring"
            assert incident.alert.repeat_count == 1
            assert incident.alert.label("instance") == "gw1"
            assert incident.alert.generator_url == body["alerts"][0]["generatorURL"]
            post_am(api, body)
            post_am(api, body)
            engine.sync_once()
            (again,) = cache.incidents()
            assert again.alert is not None
            assert again.alert.repeat_count == 3
            assert again.alert.last_seen > incident.alert.last_seen
    finally:
        backend.close()


@pytest.mark.postgres
def test_intake_on_postgresql(api_factory: ApiFactory, tmp_path: Path, pg_url: str) -> None:
    api = intake_server(api_factory, tmp_path, config_from_table(RULES), db_url=pg_url)
    alert = am_alert(fingerprint="pg1", service="vpn")
    assert post_am(api, am_body(alert)).json()["opened"] == ["INC-000001"]
    assert post_am(api, am_body(alert)).json()["updated"] == ["INC-000001"]
    (incident,) = monitoring_incidents(api)
    assert incident["alert"]["repeat_count"] == 2
    resolved = post_am(api, am_body({**alert, "status": "resolved"}))
    assert resolved.json()["resolved"] == ["INC-000001"]
