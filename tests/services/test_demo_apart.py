"""The demo never meets real data: its own folder, never synced, DEMO on every window.

Real processes over the platform's *default* folders (a private HOME): the demo
is started, an incident is logged and acknowledged in it, then the console is
started normally (built-in server, first sync), and nothing of the demo may
reach the real cache or the server's database.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.services.demo import load_demo
from console.store import Cache
from console.sync.edits import LocalEdits

REPO = Path(__file__).resolve().parents[2]


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NOC_CONSOLE_DATA_DIR", "NOC_CONSOLE_CONFIG_DIR") and not k.startswith("XDG_")
    }
    env.update(
        HOME=str(home),
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=os.environ.get("XDG_RUNTIME_DIR", str(home)),
    )
    return env


def _console(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=REPO,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _default_data(home: Path) -> Path:
    return home / ".local" / "share" / "noc-console"


def _numbered_incidents(server_db: Path) -> int:
    with sqlite3.connect(server_db) as conn:
        return int(conn.execute("SELECT count(*) FROM incidents").fetchone()[0])


@pytest.mark.slow
def test_demo_then_normal_start_share_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    demo = _console(home, "--demo", "--screenshot", str(tmp_path / "demo.png"))
    assert demo.returncode == 0, demo.stderr
    data = _default_data(home)
    demo_cache = data / "demo" / "cache.db"
    assert demo_cache.exists()
    assert not (data / "cache.db").exists()

    # What an operator does in the demo: log a major SEV-1 and acknowledge it.
    with Cache.open(demo_cache) as cache:
        edits = LocalEdits(cache, author="night-shift")
        made = edits.create(
            title="Demo: checkout down",
            service="payments-api",
            impact="high",
            urgency="high",
            major=True,
            commander="night-shift",
        )
        edits.patch(made.id, {"acknowledged": True})
        assert len(cache.pending_outbox()) >= 2

    real = _console(home, "--screenshot", str(tmp_path / "real.png"))
    assert real.returncode == 0, real.stderr

    with Cache.open(data / "cache.db") as cache:
        ids = [i.id for i in cache.incidents()]
        assert not [i for i in ids if i.startswith("demo-")]
        assert cache.last_synced_at("demo") is None
        assert not cache.pending_outbox()
    # The built-in server numbered nothing: the demo's incident never went out.
    assert _numbered_incidents(data / "server.db") == 0
    # The demo's edits are still waiting in the demo's own outbox, and stay there.
    with Cache.open(demo_cache) as cache:
        assert len(cache.pending_outbox()) >= 2


@pytest.mark.slow
def test_the_demo_folder_is_refused_for_real_use(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    assert _console(home, "--demo", "--screenshot", str(tmp_path / "d.png")).returncode == 0
    demo_folder = _default_data(home) / "demo"
    result = _console(home, "--data-dir", str(demo_folder), "--screenshot", str(tmp_path / "r.png"))
    assert result.returncode == 2
    assert "holds the demo's data" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_cache_an_older_version_mixed_with_the_demo_is_moved_aside(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    data = _default_data(home)
    data.mkdir(parents=True)
    with Cache.open(data / "cache.db") as cache:
        load_demo(cache, datetime.now(UTC))
    result = _console(home, "--screenshot", str(tmp_path / "r.png"))
    assert result.returncode == 0, result.stderr
    assert "moved to cache.db.with-demo-" in result.stderr
    assert list(data.glob("cache.db.with-demo-*"))
    with Cache.open(data / "cache.db") as cache:
        assert not [i for i in cache.incidents() if i.id.startswith("demo-")]
    assert _numbered_incidents(data / "server.db") == 0


def test_every_window_says_demo() -> None:
    from PySide6.QtWidgets import QApplication, QDialog

    from console.views.demo_marker import DEMO_PREFIX, mark_demo_windows

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    marker = mark_demo_windows(app)
    try:
        dialog = QDialog()
        dialog.setWindowTitle("Acknowledge")
        dialog.show()
        assert dialog.windowTitle() == DEMO_PREFIX + "Acknowledge"
        dialog.setWindowTitle("Resolve")
        assert dialog.windowTitle() == DEMO_PREFIX + "Resolve"
        dialog.close()
    finally:
        app.removeEventFilter(marker)
        marker.deleteLater()


@pytest.mark.slow
def test_export_reads_the_demo_only_when_asked_and_says_demo(tmp_path: Path) -> None:
    import json

    home = tmp_path / "home"
    home.mkdir()
    assert _console(home, "--demo", "--screenshot", str(tmp_path / "d.png")).returncode == 0
    real = _console(home, "export", "incidents")
    assert real.returncode == 2  # no real cache yet: the demo's is not taken for it
    demo = _console(home, "export", "incidents", "--demo", "--format", "json")
    assert demo.returncode == 0, demo.stderr
    assert "DEMO data" in demo.stderr
    assert len(json.loads(demo.stdout)) >= 100


@pytest.mark.slow
def test_a_cache_of_another_backend_is_never_shown_or_sent_as_this_ones(tmp_path: Path) -> None:
    from tests.helpers.processes import ServerProcess, make_token

    home = tmp_path / "home"
    home.mkdir()
    # First the built-in server; an edit is left queued for it.
    assert _console(home, "--screenshot", str(tmp_path / "a.png")).returncode == 0
    data = _default_data(home)
    with Cache.open(data / "cache.db") as cache:
        LocalEdits(cache, author="op").create(
            title="Only for the built-in server",
            service="payments-api",
            impact="low",
            urgency="low",
        )
    # Then a real server elsewhere: the old cache goes aside, nothing of it is sent there.
    folder = tmp_path / "server"
    folder.mkdir()
    server = ServerProcess(folder / "server.db", folder, heartbeat=0.5)
    server.start()
    try:
        token = make_token(server.db_path, "desk-9")
        env_result = subprocess.run(
            [
                sys.executable,
                "-m",
                "console",
                "--backend",
                server.url,
                "--token-env",
                "NOC_TEST_TOKEN",
                "--screenshot",
                str(tmp_path / "b.png"),
            ],
            cwd=REPO,
            env={**_env(home), "NOC_TEST_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert env_result.returncode == 0, env_result.stderr
        assert "another backend's incidents and queued edits" in env_result.stderr
        assert list(data.glob("cache.db.other-backend-*"))
        assert _numbered_incidents(server.db_path) == 0
        with Cache.open(data / "cache.db") as cache:
            assert not cache.pending_outbox()
            assert not [i for i in cache.incidents() if i.title.startswith("Only for")]
    finally:
        server.kill()
