"""``noc-console`` as an operator runs it against Request Tracker: real processes, a real RT.

``sync --once`` then ``export``; the directory file for the escalation matrix;
a revoked token; and the desktop console rendering the RT queue offscreen.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.store import Cache
from tests.helpers.rt import connection, run
from tests.helpers.rtserver import RtInstance

pytestmark = pytest.mark.slow


def settings(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "settings.toml").write_text(text, encoding="utf-8")


def test_sync_once_then_export_lists_the_rt_queue(rt: RtInstance, tmp_path: Path) -> None:
    ticket = rt.create_ticket(
        "Checkout returns 502",
        Owner="alice",
        CustomFields={"Impact": "high", "Urgency": "high", "Service": "checkout"},
    )
    directory = tmp_path / "directory.json"
    directory.write_text(
        json.dumps({"services": [{"id": "checkout", "name": "Checkout", "criticality": "high"}]}),
        encoding="utf-8",
    )
    settings(tmp_path, f'[rt]\ndirectory = "{directory}"\npoll_interval_seconds = 2\n')

    synced = run(rt, tmp_path, "sync", "--once", *connection(rt))

    assert synced.returncode == 0, synced.stderr
    assert f"synced with rt+{rt.url}" in synced.stderr
    exported = run(rt, tmp_path, "export", "incidents", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    rows = json.loads(exported.stdout)
    assert [(r["number"], r["severity"], r["assignee"], r["service_name"]) for r in rows] == [
        (f"RT-{ticket}", "SEV-1", "alice", "Checkout")  # the name from the directory file
    ]
    with Cache.open(tmp_path / "data" / "cache.db") as cache:
        assert [s["id"] for s in cache.reference("services")] == ["checkout"]


def test_sync_once_with_a_revoked_token_says_what_to_do(rt: RtInstance, tmp_path: Path) -> None:
    token = rt.make_token()
    rt.revoke_token(token)
    done = run(rt, tmp_path, "sync", "--once", *connection(rt), token=token)
    assert done.returncode == 3, done.stderr
    assert "refused" in done.stderr
    assert "Auth Tokens" in done.stderr
    assert "Traceback" not in done.stderr


def test_sync_without_a_queue_is_a_usage_error(rt: RtInstance, tmp_path: Path) -> None:
    done = run(rt, tmp_path, "sync", "--once", *connection(rt)[:2], "--token-env", "RT_TOKEN")
    assert done.returncode == 2
    assert "--queue NAME" in done.stderr
    missing = run(
        rt,
        tmp_path,
        "sync",
        "--once",
        *connection(rt)[:2],
        "--queue",
        "NO-SUCH-Q",
        "--token-env",
        "RT_TOKEN",
    )
    assert missing.returncode == 1
    assert "no queue 'NO-SUCH-Q'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_the_console_shows_the_rt_queue(rt: RtInstance, tmp_path: Path) -> None:
    rt.create_ticket(
        "Core switch reboot loop",
        CustomFields={"Impact": "high", "Urgency": "medium", "Service": "core-network"},
    )
    shot = tmp_path / "console.png"
    done = run(rt, tmp_path, *connection(rt), "--screenshot", str(shot), timeout=180)
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 10_000
    with Cache.open(tmp_path / "data" / "cache.db") as cache:
        assert [i.title for i in cache.incidents()] == ["Core switch reboot loop"]
