"""The server embedded in another process, as the desktop app runs it."""

from __future__ import annotations

from pathlib import Path

import httpx

from console.server.core.auth import Role
from console.server.embedded import EmbeddedServer, desktop_settings


def test_embedded_server_uses_the_data_folder_and_a_free_port(data_dir: Path) -> None:
    with EmbeddedServer(desktop_settings()) as server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        token = server.issue_token("desktop", Role.ADMIN)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            assert client.get("/v1/health").status_code == 200
            assert client.get("/v1/incidents").json()["total"] == 0
    assert (data_dir / "server.db").is_file()
    # Stopped: the port no longer answers.
    try:
        httpx.get(f"{server.url}/v1/health", timeout=2)
        answered = True
    except httpx.HTTPError:
        answered = False
    assert not answered


def test_two_embedded_servers_get_different_ports(tmp_path: Path) -> None:
    first = EmbeddedServer(desktop_settings(f"sqlite:///{tmp_path / 'a.db'}")).start()
    second = EmbeddedServer(desktop_settings(f"sqlite:///{tmp_path / 'b.db'}")).start()
    try:
        assert first.port != second.port
    finally:
        first.stop()
        second.stop()


def test_an_embedded_server_that_never_started_can_be_stopped(tmp_path: Path) -> None:
    server = EmbeddedServer(desktop_settings(f"sqlite:///{tmp_path / 'c.db'}"))
    server.stop()
