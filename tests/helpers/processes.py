"""Real processes for the end-to-end tests (and the sync bench).

:class:`ServerProcess` runs ``python -m console serve`` in a subprocess on a
SQLite file, can kill it with SIGKILL and restart it on the same port (so the
client's backend URL stays the same). :func:`make_token` runs ``python -m
console token create``. :func:`seed_incidents` fills a server database with
many incidents directly (creating 100k through the API would take minutes),
writing the same rows and change-log entries the server itself writes.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from console.domain.incident import HoldPeriod, Incident, Source, format_number
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import DEFAULT_MATRIX, Impact, Urgency
from console.server.core.settings import sqlite_url
from tests.helpers.escalation import CONTACTS, POLICY, ROTATION, SEV2, TEAMS

ROOT = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"listening on (https?://[0-9.]+:(\d+))")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # The subprocess imports this checkout, whatever the current folder.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def console_command(*args: str) -> list[str]:
    """``python -m console ARGS`` through the test runner (see ``run_console.py``)."""
    return [sys.executable, "-m", "tests.e2e.run_console", *args]


class ServerProcess:
    """``noc-console serve`` in a subprocess; :meth:`kill` is SIGKILL, :meth:`start` restarts."""

    def __init__(
        self,
        db_path: Path,
        log_dir: Path,
        *,
        heartbeat: float = 0.5,
        extra: Sequence[str] = (),
    ) -> None:
        self.db_path = db_path
        self.log_dir = log_dir
        self.heartbeat = heartbeat
        self.extra = tuple(extra)
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start (or restart on the same port) and return once it listens."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the server is already running")
        self.starts += 1
        out = self.log_dir / f"server-{self.starts}.out"
        err = self.log_dir / f"server-{self.starts}.err"
        command = console_command(
            "serve",
            "--db",
            sqlite_url(self.db_path),
            "--port",
            str(self.port),
            "--heartbeat",
            str(self.heartbeat),
            "--log-level",
            "warning",
            *self.extra,
        )
        with out.open("wb") as stdout, err.open("wb") as stderr:
            self.process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=_env())
        deadline = time.monotonic() + timeout
        # Bounded polling for a subprocess's readiness (no signal to wait on).
        while time.monotonic() < deadline:
            match = _LISTENING.search(out.read_text(errors="replace"))
            if match:
                self.url = match.group(1)
                self.port = int(match.group(2))
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"the server did not start: {err.read_text(errors='replace')[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, like a power cut for the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """A clean stop (SIGTERM), falling back to SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def make_token(db_path: Path, name: str, role: str = "dispatcher") -> str:
    """``noc-console token create`` on the server's database; returns the secret."""
    result = subprocess.run(
        console_command(
            "token", "create", "--role", role, "--name", name, "--db", sqlite_url(db_path)
        ),
        capture_output=True,
        env=_env(),
        timeout=60,
        check=True,
    )
    return result.stdout.decode().strip().splitlines()[0]


def revoke_token(db_path: Path, name: str) -> None:
    """``noc-console token revoke``."""
    subprocess.run(
        console_command("token", "revoke", name, "--db", sqlite_url(db_path)),
        capture_output=True,
        env=_env(),
        timeout=60,
        check=True,
    )


def run_console(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """Run a ``noc-console`` sub-command to completion; the CompletedProcess."""
    return subprocess.run(
        console_command(*args),
        capture_output=True,
        env={**_env(), **(env or {})},
        timeout=timeout,
        check=False,
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def wire_dict(incident: Incident) -> dict[str, Any]:
    """The incident's wire JSON, as the server's change log stores it."""
    return {
        "id": incident.id,
        "number": incident.number,
        "title": incident.title,
        "service": incident.service,
        "impact": incident.impact.value,
        "urgency": incident.urgency.value,
        "severity": incident.severity.code,
        "severity_overridden": False,
        "state": incident.state.value,
        "version": incident.version,
        "opened_at": _iso(incident.opened_at),
        "updated_at": _iso(incident.updated_at),
        "description": incident.description,
        "category": incident.category,
        "subcategory": incident.subcategory,
        "assignee": incident.assignee,
        "assignment_group": incident.assignment_group,
        "reporter": incident.reporter,
        "source": incident.source.value,
        "major": incident.major,
        "hold_reason": incident.hold_reason.value if incident.hold_reason else None,
        "holds": [{"started": _iso(h.started), "ended": _iso(h.ended)} for h in incident.holds],
        "acknowledged_at": _iso(incident.acknowledged_at),
        "resolved_at": _iso(incident.resolved_at),
        "closed_at": _iso(incident.closed_at),
        "response_due": _iso(incident.response_due),
        "resolution_due": _iso(incident.resolution_due),
    }


def make_incidents(n: int, *, first_number: int = 1, seed: int = 7) -> list[Incident]:
    """``n`` varied incidents as the server would hold them (UUIDs, numbers from ``first_number``).

    States, severities and optional fields vary like a real queue's; the same
    ``n`` and ``seed`` always give the same records (tests compare ids).
    """
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    services = [f"service-{k:03d}" for k in range(120)]
    groups = ["noc", "network", "database", "storage", "identity", None]
    people = ["ana", "bo", "chen", "dee", "eli", None]
    incidents: list[Incident] = []
    for k in range(first_number, first_number + n):
        impact = rng.choice(list(Impact))
        urgency = rng.choice(list(Urgency))
        state = rng.choice(list(State))
        opened = start + timedelta(seconds=rng.randrange(30 * 86400), microseconds=k)
        on_hold = state is State.ON_HOLD
        finished = not state.is_open
        incidents.append(
            Incident(
                id=str(uuid.UUID(int=k, version=4)),
                number=format_number(k),
                title=f"Users cannot reach {rng.choice(services)} from branch {k % 40}",
                service=rng.choice(services),
                impact=impact,
                urgency=urgency,
                severity=DEFAULT_MATRIX.severity(impact, urgency),
                state=state,
                opened_at=opened,
                updated_at=opened + timedelta(minutes=rng.randrange(1, 600)),
                version=1,
                description="Reported by the service desk; see the monitoring alert." * 2,
                category=rng.choice(["network", "software", "hardware", None]),
                assignee=rng.choice(people),
                assignment_group=rng.choice(groups),
                reporter=rng.choice(people),
                source=rng.choice(list(Source)),
                major=rng.random() < 0.01,
                hold_reason=HoldReason.AWAITING_VENDOR if on_hold else None,
                holds=(HoldPeriod(opened + timedelta(minutes=5)),) if on_hold else (),
                acknowledged_at=opened + timedelta(minutes=3) if state is not State.NEW else None,
                resolved_at=opened + timedelta(hours=2) if finished else None,
                response_due=opened + timedelta(minutes=15),
                resolution_due=opened + timedelta(hours=4),
            )
        )
    return incidents


def seed_incidents(db_path: Path, n: int, *, first_number: int = 1) -> list[Incident]:
    """Write ``n`` incidents and their change-log entries into a server database.

    Run it while no server writes to the file (before starting one). The rows
    and the feed entries are the ones ``POST /v1/incidents`` would write, in
    one transaction.
    """
    from sqlalchemy import insert

    from console.server.core.db import Database
    from console.server.core.tables import ChangeRow, IncidentRow

    incidents = make_incidents(n, first_number=first_number)
    db = Database(sqlite_url(db_path), pool_size=1)
    now = datetime.now(UTC) - timedelta(seconds=1)
    # The change log's time column (whatever the server calls it) gets "now".
    stamps = {
        column.name: now
        for column in ChangeRow.__table__.columns
        if column.name not in ("seq", "kind", "entity_id", "op", "data")
    }
    try:
        with db.write_session() as session:
            rows = []
            feed = []
            for incident in incidents:
                wire = wire_dict(incident)
                rows.append(
                    {
                        **{
                            key: getattr(incident, key)
                            for key in (
                                "id",
                                "title",
                                "service",
                                "version",
                                "opened_at",
                                "updated_at",
                                "description",
                                "category",
                                "subcategory",
                                "assignee",
                                "assignment_group",
                                "reporter",
                                "major",
                                "acknowledged_at",
                                "resolved_at",
                                "closed_at",
                                "response_due",
                                "resolution_due",
                            )
                        },
                        "number": int(incident.number.split("-")[1]),
                        "impact": incident.impact.value,
                        "urgency": incident.urgency.value,
                        "severity": incident.severity.value,
                        "severity_overridden": False,
                        "state": incident.state.value,
                        "source": incident.source.value,
                        "hold_reason": wire["hold_reason"],
                        "holds": [[h["started"], h["ended"]] for h in wire["holds"]],
                    }
                )
                feed.append(
                    {
                        "kind": "incident",
                        "entity_id": incident.id,
                        "op": "upsert",
                        "data": json.dumps(wire, separators=(",", ":")),
                        **stamps,
                    }
                )
            session.execute(insert(IncidentRow), rows)
            session.execute(insert(ChangeRow), feed)
            session.commit()
    finally:
        db.dispose()
    return incidents


@dataclass
class SwarmServer:
    """A server subprocess with the ``vpn`` escalation policy, and tokens per role."""

    process: ServerProcess
    tokens: dict[str, str]

    def request(self, method: str, path: str, role: str = "admin", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return requests.request(
            method, f"{self.process.url}{path}", headers=headers, timeout=10, **kwargs
        )

    def create(self) -> str:
        response = self.request("POST", "/v1/incidents", role="commander", json=SEV2)
        assert response.status_code == 201, response.text
        incident_id: str = response.json()["id"]
        return incident_id

    def swarm_entries(self, incident_id: str) -> list[dict[str, Any]]:
        response = self.request("GET", f"/v1/incidents/{incident_id}/timeline")
        assert response.status_code == 200, response.text
        return [
            e
            for e in response.json()["items"]
            if e["kind"] == "escalation" and (e.get("data") or {}).get("swarm")
        ]


@pytest.fixture(scope="module")
def swarm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SwarmServer]:
    folder = tmp_path_factory.mktemp("swarm-server")
    process = ServerProcess(folder / "server.db", folder, heartbeat=0.5).start()
    try:
        tokens = {
            role: make_token(process.db_path, f"{role}-console", role)
            for role in ("admin", "commander", "dispatcher")
        }
        server = SwarmServer(process, tokens)
        for kind, items in (("teams", TEAMS), ("contacts", CONTACTS)):
            for item_id, item in items.items():
                response = server.request("PUT", f"/v1/{kind}/{item_id}", json=item)
                assert response.status_code == 201, response.text
        service = {"name": "Corporate VPN", "owner_team": "network", "criticality": "high"}
        for path, body in (
            ("/v1/services/vpn", service),
            ("/v1/shifts/network-weekly", ROTATION),
            ("/v1/policies/vpn", POLICY),
        ):
            response = server.request("PUT", path, json=body)
            assert response.status_code == 201, response.text
        yield server
    finally:
        process.kill()
