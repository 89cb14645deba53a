"""``noc-console sync --once`` and ``noc-console export incidents``, run as a user would."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from console.connectors.embedded import start_embedded
from console.connectors.noc import NocBackend
from console.sync.engine import SyncEngine
from tests.helpers.processes import ServerProcess, make_token, run_console
from tests.helpers.sync import NEW

pytestmark = pytest.mark.slow  # real server processes, several seconds each

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


@pytest.mark.timeout(120)
def test_sync_once_shows_progress_and_export_prints_what_the_board_shows(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(seed=1500)
    token = make_token(server.db_path, "cli", "dispatcher")
    writer = NocBackend(server.url, token)
    open_one = writer.create_incident(
        {**NEW, "title": "Payments failing", "impact": "high", "urgency": "high"},
        idempotency_key=uuid.uuid4().hex,
    )
    writer.close()
    data = tmp_path / "data"
    env = {**NO_KEYRING, "NOC_TEST_TOKEN": token}
    synced = run_console(
        "sync", "--backend", server.url, "--once", "--token-env", "NOC_TEST_TOKEN",
        "--data-dir", str(data), env=env,
    )  # fmt: skip
    err = synced.stderr.decode()
    assert synced.returncode == 0, err
    assert "Syncing 1 501 / 1 501" in err
    assert "1501 incidents cached" in err

    as_json = run_console(
        "export", "incidents", "--format", "json", "--state", "open", "--data-dir", str(data),
        env=env,
    )  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr.decode()
    rows = json.loads(as_json.stdout)
    assert rows
    assert all(row["state"] not in ("resolved", "closed", "cancelled") for row in rows)
    payments = next(row for row in rows if row["id"] == open_one.id)
    assert payments["severity"] == "SEV-1"
    assert payments["severity_label"] == "Critical"
    assert payments["number"] == open_one.number
    assert payments["response_due"] is not None
    assert payments["resolution_due"] is not None
    assert payments["sla_clock"] == "response"
    assert payments["sla_status"] in ("ok", "warning", "breached")
    # Board order: open work, most severe first.
    severities = [row["severity"] for row in rows]
    assert severities == sorted(severities)

    as_csv = run_console("export", "incidents", "--format", "csv", "--data-dir", str(data), env=env)
    assert as_csv.returncode == 0, as_csv.stderr.decode()
    table = list(csv.DictReader(io.StringIO(as_csv.stdout.decode())))
    assert len(table) == 1501
    assert {"number", "severity", "title", "service", "state", "assignee", "sla_status",
            "sla_due", "response_due", "resolution_due"} <= set(table[0])  # fmt: skip


def test_sync_without_a_token_or_keyring_says_what_to_do(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory()
    no_keyring = run_console(
        "sync", "--backend", server.url, "--once", "--data-dir", str(tmp_path), env=NO_KEYRING
    )
    assert no_keyring.returncode == 2
    message = no_keyring.stderr.decode()
    assert "--token-env" in message
    assert "Traceback" not in message
    empty = run_console(
        "sync", "--backend", server.url, "--once", "--token-env", "NOC_UNSET_VAR",
        "--data-dir", str(tmp_path), env=NO_KEYRING,
    )  # fmt: skip
    assert empty.returncode == 2
    assert "NOC_UNSET_VAR is not set" in empty.stderr.decode()
    refused = run_console(
        "sync", "--backend", server.url, "--once", "--token-env", "T", "--data-dir",
        str(tmp_path), env={**NO_KEYRING, "T": "not-a-real-token"},
    )  # fmt: skip
    assert refused.returncode == 3
    assert "refused the API token" in refused.stderr.decode()


def test_export_without_a_cache_says_to_sync_first(tmp_path: Path) -> None:
    result = run_console("export", "incidents", "--data-dir", str(tmp_path / "empty"))
    assert result.returncode == 2
    assert "sync --once" in result.stderr.decode()


@pytest.mark.timeout(120)
def test_the_embedded_server_syncs_over_http_and_keeps_its_cursor_across_restarts(
    tmp_path: Path,
) -> None:
    from console.store import Cache
    from console.sync.edits import LocalEdits

    data = tmp_path / "data"
    first = start_embedded(data)
    try:
        assert first.backend.url.startswith("http://127.0.0.1:")
        with Cache.open(data / "cache.db") as cache:
            engine = SyncEngine(cache, first.backend)
            LocalEdits(cache).create(title="Printer on fire", service="office", impact="low",
                                     urgency="low")  # fmt: skip
            engine.sync_once()
            (created,) = cache.incidents()
            assert created.number == "INC-000001"
            cursor = cache.cursor(first.backend.key)
            assert cursor > 0
    finally:
        first.stop()
    second = start_embedded(data)
    try:
        assert second.backend.key == first.backend.key  # the port changed, the key did not
        with Cache.open(data / "cache.db") as cache:
            asked: list[int] = []
            original = second.backend.changes

            def counting(after: int, limit: int) -> object:
                asked.append(after)
                return original(after, limit)

            second.backend.changes = counting  # type: ignore[method-assign, assignment]
            SyncEngine(cache, second.backend).sync_once()
            assert asked[0] == cursor
            assert cache.incident_count() == 1
    finally:
        second.stop()
