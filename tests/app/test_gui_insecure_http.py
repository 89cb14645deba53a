"""The console never sends its token in clear text to another machine unless told to.

No test here opens a connection beyond loopback: a refused URL is refused
before any connection, and the accepted insecure one (a TEST-NET address,
192.0.2.0/24) is built but never started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.app import gui as console_app
from console.cli.main import gui_parser
from console.cli.sync import check_transport
from console.config.settings import Settings
from console.store import Cache
from console.views.insecure_banner import OBJECT_NAME

REMOTE_HTTP = "http://192.0.2.10:8080"


@pytest.mark.parametrize(
    "url",
    [REMOTE_HTTP, "http://noc.example.com", "rt+http://rt.example.org/rt", "http://[2001:db8::1]"],
)
def test_plain_http_off_this_machine_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="--insecure-http") as refused:
        check_transport(url, insecure_http=False)
    assert "clear text" in str(refused.value)
    warning = check_transport(url, insecure_http=True)
    assert warning is not None
    assert "unencrypted" in warning


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.0.0.2:9",
        "http://localhost:8080",
        "http://[::1]:8080",
        "rt+http://127.0.0.1:8000",
        "https://noc.example.com",
        "rt+https://rt.example.org",
    ],
)
def test_loopback_and_https_need_no_escape_hatch(url: str) -> None:
    assert check_transport(url, insecure_http=False) is None


def test_sync_refuses_before_asking_for_a_token(tmp_path: Path) -> None:
    env = {**os.environ, "NOC_CONSOLE_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "console", "sync", "--once", "--backend", REMOTE_HTTP],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "refusing to send the API token in clear text" in result.stderr
    assert "--insecure-http" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_gui_refuses_it_as_a_startup_error(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    try:
        args = gui_parser().parse_args(["--backend", REMOTE_HTTP])
        with pytest.raises(console_app.StartupError, match="clear text"):
            console_app.connect_backend(args, Settings(), cache, tmp_path)
    finally:
        cache.close()


def test_insecure_http_opens_with_a_permanent_banner(
    qtbot: QtBot, qapp: object, tmp_path: Path
) -> None:
    args = gui_parser().parse_args(
        ["--backend", REMOTE_HTTP, "--insecure-http", "--token-env", "NOC_TEST_INSECURE"]
    )
    os.environ["NOC_TEST_INSECURE"] = "noc_test-token-not-sent"
    cache = Cache.open(tmp_path / "cache.db")
    try:
        connection = console_app.connect_backend(args, Settings(), cache, tmp_path)
        assert connection.insecure is not None
        window = console_app._build_window(
            console_app._application(), Settings(), cache, demo=False
        )
        # Built, never started: nothing is sent to the TEST-NET address.
        sync = console_app.ConsoleSync(connection, window, cache, interactive=False)
        bars = [bar for bar in window.findChildren(object) if bar.objectName() == OBJECT_NAME]
        assert len(bars) == 1
        bar = bars[0]
        assert not bar.isMovable()
        assert not bar.toggleViewAction().isEnabled()
        window.show()
        for width, height in ((1280, 720), (1920, 1080)):
            window.resize(width, height)
            qtbot.wait(50)
            assert bar.isVisible()
            window.grab().save(str(tmp_path / f"insecure-{width}x{height}.png"))
        shots = os.environ.get("NOC_SHOTS_DIR")
        if shots:
            for png in tmp_path.glob("insecure-*.png"):
                Path(shots, png.name).write_bytes(png.read_bytes())
        window.close()
        del sync
        connection.close()
    finally:
        os.environ.pop("NOC_TEST_INSECURE", None)
        cache.close()
