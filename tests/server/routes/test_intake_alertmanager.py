"""Alert intake against a real Prometheus Alertmanager (Debian's prometheus-alertmanager).

Alertmanager runs on loopback with a webhook receiver pointing at a real
``noc-console serve`` process (started with ``--intake-config``), and the test
pushes alerts to Alertmanager's own API (``POST /api/v2/alerts``). What reaches
the server is Alertmanager's doing: its grouping, ``group_wait``,
``group_interval`` and ``repeat_interval`` (set short here), its resends and
its resolved notifications. One test adds Prometheus itself: a rule over a
gauge the test's tiny exporter serves fires, and resolves when the gauge drops.
Skips when a binary is absent, unless ``NOC_REQUIRE_ALERTMANAGER=1`` (as in
``.ci/run``, which installs both) makes it mandatory.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.env import require_or_skip
from tests.helpers.intake import seed_directory
from tests.helpers.serve import ServeProcess, create_token
from tests.helpers.servers import ApiFactory

pytestmark = pytest.mark.slow

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

INTAKE_TOML = """
[intake]
default_service = "core"
repeat_publish_seconds = 0

[[intake.rules]]
name = "databases"
match = { team = "dba" }
service = "payments-db"
team = "dba"
title = "DB: {{ labels.alertname }} on {{ labels.instance }}"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Alertmanager:
    """``prometheus-alertmanager`` on a free loopback port, clustering off."""

    def __init__(self, workdir: Path, receiver_url: str, token: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        token_file = workdir / "intake.token"
        token_file.write_text(token)
        config = workdir / "alertmanager.yml"
        config.write_text(
            f"""
route:
  receiver: noc
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 4s
receivers:
  - name: noc
    webhook_configs:
      - url: {receiver_url}/v1/intake/alertmanager
        send_resolved: true
        max_alerts: 1000
        http_config:
          authorization:
            type: Bearer
            credentials_file: {token_file}
"""
        )
        self.log_path = workdir / "alertmanager.log"
        self._log = self.log_path.open("w")
        assert BINARY is not None
        self.proc = subprocess.Popen(
            [
                BINARY,
                f"--config.file={config}",
                f"--storage.path={workdir / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.client = httpx.Client(base_url=self.url, timeout=10)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.client.get("/-/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Alertmanager did not start; its log:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def push(self, *alerts: dict[str, Any]) -> None:
        response = self.client.post("/api/v2/alerts", json=list(alerts))
        assert response.status_code == 200, response.text

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def _alert(name: str, *, resolved: bool = False, **labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    ends = now - timedelta(seconds=1) if resolved else now + timedelta(minutes=10)
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} on {labels.get('instance', '?')}"},
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=node_filesystem",
        "startsAt": (now - timedelta(seconds=5)).isoformat(),
        "endsAt": ends.isoformat(),
    }


@pytest.fixture
def rig(api_factory: ApiFactory, tmp_path: Path) -> Iterator[tuple[Alertmanager, httpx.Client]]:
    """A seeded ``serve`` process with the intake rules, and Alertmanager sending to it."""
    require_or_skip(
        BINARY is not None,
        "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)",
        "NOC_REQUIRE_ALERTMANAGER",
    )
    db = tmp_path / "server.db"
    seeder = api_factory(db_url=f"sqlite:///{db}")
    seed_directory(seeder)
    seeder.client.close()
    seeder.server.stop()
    intake_token = create_token(str(db), "intake", "alertmanager")
    viewer_token = create_token(str(db), "dispatcher", "floor")
    rules = tmp_path / "intake.toml"
    rules.write_text(INTAKE_TOML)
    with ServeProcess(str(db), tmp_path / "serve.log", "--intake-config", str(rules)) as serve:
        am = Alertmanager(tmp_path, serve.url, intake_token)
        client = serve.client(viewer_token)
        try:
            yield am, client
        finally:
            client.close()
            am.stop()


def _monitoring(client: httpx.Client) -> list[dict[str, Any]]:
    items = client.get("/v1/incidents", params={"limit": 500}).json()["items"]
    return [i for i in items if i["source"] == "monitoring"]


def _wait(what: str, check: Callable[[], Any], am: Alertmanager, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; Alertmanager's log:\n{am.log()[-4000:]}")


def test_alertmanager_opens_deduplicates_and_resolves(
    rig: tuple[Alertmanager, httpx.Client],
) -> None:
    am, client = rig
    disk = {"instance": "gw1", "service": "vpn", "severity": "critical"}
    am.push(_alert("DiskFull", **disk))

    (incident,) = _wait("the first incident", lambda: _monitoring(client), am)
    assert incident["service"] == "vpn"
    assert incident["assignment_group"] == "network"  # the directory's owner team
    assert (incident["impact"], incident["urgency"]) == ("high", "high")
    assert incident["title"] == "DiskFull on gw1"
    assert incident["alert"]["labels"]["instance"] == "gw1"
    assert incident["alert"]["generator_url"].startswith("http://prometheus.example:9090/")
    assert incident["alert"]["monitor"] == "noc"

    # Prometheus re-sends firing alerts; Alertmanager re-notifies every
    # repeat_interval. Each notification is a repeat, never a second incident.
    am.push(_alert("DiskFull", **disk))

    def repeated() -> dict[str, Any] | None:
        found = _monitoring(client)
        assert len(found) == 1, found
        return found[0] if found[0]["alert"]["repeat_count"] >= 2 else None

    again = _wait("a repeat notification", repeated, am)
    assert again["id"] == incident["id"]
    assert again["alert"]["last_seen"] > incident["alert"]["last_seen"]

    # A second alert in the same group (same alertname): its own incident,
    # routed by the rule for team=dba.
    am.push(_alert("DiskFull", instance="db7", team="dba"))
    both = _wait("the second incident", lambda: len(_monitoring(client)) == 2, am)
    assert both
    db_incident = next(i for i in _monitoring(client) if i["id"] != incident["id"])
    assert db_incident["service"] == "payments-db"
    assert db_incident["assignment_group"] == "dba"
    assert db_incident["title"] == "DB: DiskFull on db7"

    # A person acknowledges the database one; then both alerts resolve.
    response = client.patch(
        f"/v1/incidents/{db_incident['id']}",
        json={"acknowledged": True},
        headers={"If-Match": f'"{db_incident["version"]}"'},
    )
    assert response.status_code == 200, response.text
    am.push(_alert("DiskFull", resolved=True, **disk))
    am.push(_alert("DiskFull", resolved=True, instance="db7", team="dba"))

    def settled() -> bool:
        states = {i["id"]: i for i in _monitoring(client)}
        return (
            states[incident["id"]]["state"] == "resolved"
            and states[db_incident["id"]]["alert"]["status"] == "resolved"
        )

    _wait("the resolved notification", settled, am)
    final = {i["id"]: i for i in _monitoring(client)}
    assert len(final) == 2
    # Nobody worked on the first: resolved with the alert. The second was
    # acknowledged by a person: left open for them, with a note saying why.
    assert final[db_incident["id"]]["state"] == "new"
    notes = client.get(f"/v1/incidents/{db_incident['id']}/timeline").json()["items"]
    assert any(n["body"].startswith("Left open") for n in notes)
    notes = client.get(f"/v1/incidents/{incident['id']}/timeline").json()["items"]
    assert any(n["body"].startswith("Alert resolved: DiskFull") for n in notes)

    # Alertmanager keeps re-sending the resolved group for a while; nothing new opens.
    time.sleep(5)
    assert len(_monitoring(client)) == 2


PROMETHEUS = shutil.which("prometheus")


class _Exporter:
    """A tiny Prometheus exporter on loopback: one gauge the test sets."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.value = 1
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = (
                    "# TYPE noc_test_disk_full gauge\n"
                    f'noc_test_disk_full{{instance="gw9",service="vpn"}} {exporter.value}\n'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_prometheus_rule_to_incident_and_back(
    rig: tuple[Alertmanager, httpx.Client], tmp_path: Path
) -> None:
    """The whole chain: a Prometheus rule over a scraped gauge → Alertmanager → an incident."""
    require_or_skip(
        PROMETHEUS is not None,
        "prometheus is not installed (apt-get install prometheus)",
        "NOC_REQUIRE_ALERTMANAGER",
    )
    assert PROMETHEUS is not None
    am, client = rig
    exporter = _Exporter()
    port = _free_port()
    (tmp_path / "rules.yml").write_text(
        """
groups:
  - name: noc
    interval: 1s
    rules:
      - alert: DiskFull
        expr: noc_test_disk_full > 0
        labels: {severity: warning}
        annotations: {summary: "Disk full on {{ $labels.instance }}"}
"""
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{tmp_path / "rules.yml"}]
alerting:
  alertmanagers: [{{static_configs: [{{targets: ["127.0.0.1:{am.port}"]}}]}}]
scrape_configs:
  - job_name: exporter
    honor_labels: true
    static_configs: [{{targets: ["127.0.0.1:{exporter.port}"]}}]
"""
    )
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url=http://127.0.0.1:{port}/",
            "--rules.alert.resend-delay=1s",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        (incident,) = _wait(
            "the incident from the Prometheus rule", lambda: _monitoring(client), am, 60
        )
        assert incident["title"] == "Disk full on gw9"
        assert incident["service"] == "vpn"
        assert (incident["impact"], incident["urgency"]) == ("medium", "medium")
        assert incident["alert"]["generator_url"].startswith(
            f"http://127.0.0.1:{port}/graph?g0.expr="
        )
        exporter.value = 0  # the disk is fine again: the rule stops firing
        resolved = _wait(
            "the incident resolved with the alert",
            lambda: [i for i in _monitoring(client) if i["state"] == "resolved"],
            am,
            60,
        )
        assert [i["id"] for i in resolved] == [incident["id"]]
        assert len(_monitoring(client)) == 1
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        exporter.stop()


def _doc_block(language: str) -> str:
    text = (Path(__file__).parents[3] / "docs" / "intake.md").read_text()
    return text.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def test_the_documented_alertmanager_config_is_valid(tmp_path: Path) -> None:
    amtool = shutil.which("amtool")
    require_or_skip(
        amtool is not None,
        "amtool is not installed (apt-get install prometheus-alertmanager)",
        "NOC_REQUIRE_ALERTMANAGER",
    )
    assert amtool is not None
    config = tmp_path / "alertmanager.yml"
    config.write_text(_doc_block("yaml"))
    result = subprocess.run(
        [amtool, "check-config", str(config)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_documented_intake_settings_load() -> None:
    import tomllib

    from console.server.services.intake_rules import (
        DirectoryNames,
        check_against_directory,
        config_from_table,
    )

    config = config_from_table(tomllib.loads(_doc_block("toml"))["intake"])
    assert [rule.name for rule in config.rules] == ["databases", "not staging"]
    assert config.rule_for({"env": "staging", "job": "vpn-exporter"}) is None
    assert config.rule_for({"env": "prod", "job": "vpn-exporter"}) is config.rules[1]
    assert config.severity_map["disaster"] == ("high", "high")
    names = DirectoryNames(
        services={"core": "core", "payments-db": "payments-db", "vpn": "vpn"},
        service_teams={},
        teams=frozenset({"dba"}),
    )
    check_against_directory(config, names)
