"""Real servers on loopback, real databases: ``server``, ``backend``, ``api_factory``, ``pg_url``.

Every server binds port 0 on 127.0.0.1 and is stopped by its fixture, also
when the test fails. SQLite databases live in the test's tmp_path; PostgreSQL
tests get a schema of their own in the database at ``NOC_TEST_PG_URL``, dropped
afterwards, so runs never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from console.connectors.noc import NocBackend
from console.server.core.auth import Role
from console.server.core.settings import Settings, sqlite_url
from console.server.embedded import EmbeddedServer
from tests.helpers.env import require_or_skip

PG_URL = os.environ.get("NOC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

INCIDENT = {
    "title": "Checkout returns 502",
    "service": "checkout",
    "impact": "high",
    "urgency": "medium",
}


@dataclass
class Api:
    """A running server, an HTTP client and one token per role."""

    server: EmbeddedServer
    client: httpx.Client
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def auth(self, role: str = "admin") -> dict[str, str]:
        """The Authorization header of the token with this role."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def request(
        self, method: str, path: str, *, role: str | None = "admin", **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if role is not None:
            headers.update(self.auth(role))
        return self.client.request(method, path, headers=headers, **kwargs)

    def create(self, role: str = "dispatcher", **fields: Any) -> dict[str, Any]:
        """Log an incident and return it (asserting 201)."""
        response = self.request("POST", "/v1/incidents", role=role, json={**INCIDENT, **fields})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    def patch(
        self, incident: dict[str, Any], role: str = "dispatcher", **fields: Any
    ) -> httpx.Response:
        """PATCH an incident with If-Match from the given version."""
        return self.request(
            "PATCH",
            f"/v1/incidents/{incident['id']}",
            role=role,
            json=fields,
            headers={"If-Match": f'"{incident["version"]}"'},
        )

    def all_changes(self) -> list[dict[str, Any]]:
        """Follow the feed from 0 to its end."""
        out: list[dict[str, Any]] = []
        cursor = 0
        while True:
            page = self.request("GET", f"/v1/changes?after={cursor}&limit=1000", role="viewer")
            assert page.status_code == 200, page.text
            body = page.json()
            out += body["changes"]
            cursor = body["cursor"]
            if not body["more"]:
                return out


ApiFactory = Callable[..., Api]


@pytest.fixture
def api_factory(tmp_path: Path) -> Iterator[ApiFactory]:
    """Start servers on demand (SQLite in tmp_path unless a URL is given); all stopped after."""
    started: list[Api] = []

    def start(db_url: str | None = None, **overrides: Any) -> Api:
        settings = Settings(
            db_url=db_url or sqlite_url(tmp_path / f"server-{len(started)}.db"),
            host="127.0.0.1",
            port=0,
            sse_heartbeat_s=overrides.pop("sse_heartbeat_s", 0.3),
            feed_poll_s=overrides.pop("feed_poll_s", 0.5),
            **overrides,
        )
        server = EmbeddedServer(settings)
        server.start()
        client = httpx.Client(base_url=server.url, timeout=30)
        api = Api(server, client)
        started.append(api)
        for role in Role:
            api.tokens[role.wire] = server.issue_token(f"{role.wire}-{uuid.uuid4().hex[:6]}", role)
        return api

    yield start
    for api in started:
        api.client.close()
        api.server.stop()


@pytest.fixture
def api(api_factory: ApiFactory) -> Api:
    """A fresh server on a fresh SQLite file."""
    return api_factory()


def _pg_reachable() -> tuple[bool, str]:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            return True, ""
    except Exception as exc:
        return False, f"PostgreSQL at {PG_URL} is not reachable ({exc})"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A SQLAlchemy URL into a fresh schema of the test PostgreSQL database; dropped after."""
    reachable, reason = _pg_reachable()
    require_or_skip(reachable, reason, "NOC_REQUIRE_PG")
    import psycopg

    schema = f"noc_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    plain = PG_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """The reference server over real HTTP on 127.0.0.1 (port 0), stopped afterwards."""
    settings = Settings(
        db_url=sqlite_url(tmp_path / "server.db"),
        host="127.0.0.1",
        port=0,
        sse_heartbeat_s=0.3,
        feed_poll_s=0.5,
    )
    embedded = EmbeddedServer(settings).start()
    yield embedded
    embedded.stop()


@pytest.fixture
def backend(server: EmbeddedServer) -> Iterator[NocBackend]:
    """A connector with a dispatcher's token."""
    connector = NocBackend(server.url, server.issue_token("console-a", Role.DISPATCHER))
    yield connector
    connector.close()
