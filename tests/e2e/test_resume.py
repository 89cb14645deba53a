"""A client killed mid-sync resumes from its cursor: no gap, no duplicate, no restart from 0.

The client is ``noc-console sync --once`` in a subprocess, killed with SIGKILL
while its progress shows it half-way; the server is a subprocess too.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from console.store import Cache
from tests.helpers.processes import ServerProcess, _env, console_command, make_incidents, make_token

pytestmark = pytest.mark.slow  # real server processes, several seconds each

SEEDED = 20_000
_PROGRESS = re.compile(r"Syncing ([0-9 ]+) / ([0-9 ]+)")


def _progress(text: str) -> list[tuple[int, int]]:
    return [
        (int(done.replace(" ", "")), int(total.replace(" ", "")))
        for done, total in _PROGRESS.findall(text)
    ]


@pytest.mark.timeout(240)
def test_a_client_killed_mid_sync_resumes_with_no_gap_and_no_duplicate(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(seed=SEEDED)
    token = make_token(server.db_path, "kiosk", "viewer")
    data = tmp_path / "client"
    env = {
        **_env(),
        "NOC_TEST_TOKEN": token,
        # Never the real user's keyring; --token-env needs none.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    command = console_command(
        "sync", "--backend", server.url, "--once", "--token-env", "NOC_TEST_TOKEN",
        "--data-dir", str(data),
    )  # fmt: skip
    log = tmp_path / "first.err"
    with log.open("wb") as stderr:
        client = subprocess.Popen(command, stderr=stderr, stdout=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    # Bounded polling of the subprocess's output (no signal crosses processes).
    while time.monotonic() < deadline and client.poll() is None:
        seen = _progress(log.read_text(errors="replace"))
        # The first progress line past the start (lines come at most every 0.5 s,
        # and a fast sync may skip any narrower window).
        if seen and 0 < seen[-1][0] < SEEDED:
            break
        time.sleep(0.01)
    assert client.poll() is None, "the sync finished before it could be killed mid-way"
    client.send_signal(signal.SIGKILL)
    client.wait(10)

    seeded = [i.id for i in make_incidents(SEEDED)]  # the ids seed_incidents wrote, in seq order
    with Cache.open(data / "cache.db") as cache:
        cursor = cache.cursor(server.url)
        cached = {i.id for i in cache.incidents()}
    assert 0 < cursor < SEEDED
    # Exactly the changes up to the stored cursor: none missing, none beyond it.
    assert cached == set(seeded[:cursor])

    second = subprocess.run(command, capture_output=True, env=env, timeout=180, check=False)
    assert second.returncode == 0, second.stderr.decode()
    resumed = _progress(second.stderr.decode())
    assert resumed
    assert resumed[-1] == (SEEDED - cursor, SEEDED - cursor)  # from the cursor, not from 0
    with Cache.open(data / "cache.db") as cache:
        assert cache.cursor(server.url) == SEEDED
        incidents = cache.incidents()
    assert len(incidents) == SEEDED
    assert {i.id for i in incidents} == set(seeded)
