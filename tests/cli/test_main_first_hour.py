"""The command line a new operator meets: what a typo, a wrong scheme or a wrong path says.

Real processes (``python -m console …``) with private data and config folders;
a real plain-HTTP server on loopback for the wrong-scheme case.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.cli.doctor import DEBIAN_PACKAGES, missing_libraries, qt_files, report
from console.cli.main import SUBCOMMANDS, check_serve_database

REPO = Path(__file__).resolve().parents[2]


def console(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=REPO,
        env={
            **os.environ,
            "NOC_CONSOLE_DATA_DIR": str(tmp_path / "data"),
            "NOC_CONSOLE_CONFIG_DIR": str(tmp_path / "config"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_unknown_command_lists_the_commands(tmp_path: Path) -> None:
    result = console(tmp_path, "exprot")
    assert result.returncode == 2
    assert "'exprot' is not a command" in result.stderr
    assert "Did you mean `noc-console export`?" in result.stderr
    for name in SUBCOMMANDS:
        assert f"  {name} " in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_database_in_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "dir" / "x.db"
    result = console(tmp_path, "serve", "--db", str(target))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "--create" in result.stderr
    assert not target.parent.exists()
    # With --create the folder is made (the server then makes the database).
    assert check_serve_database(["--db", str(target), "--create"]) is None
    assert target.parent.is_dir()
    assert check_serve_database(["--db", "postgresql+psycopg://x@h/db"]) is None
    assert check_serve_database([]) is None


@pytest.fixture
def plain_http() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_https_to_a_plain_http_server_does_not_blame_the_certificate(
    tmp_path: Path, plain_http: int
) -> None:
    result = console(
        tmp_path,
        "sync",
        "--backend",
        f"https://127.0.0.1:{plain_http}",
        "--once",
        "--token-env",
        "NOC_TEST_TOKEN",
        NOC_TEST_TOKEN="some-token",
    )
    assert result.returncode != 0
    assert "plain HTTP, not HTTPS" in result.stderr
    assert "--ca-bundle" not in result.stderr
    assert "certificate cannot be verified" not in result.stderr


def test_doctor_checks_the_installed_qt(tmp_path: Path) -> None:
    files, _lib = qt_files()
    assert files, "PySide6 is installed for the tests"
    result = console(tmp_path, "doctor")
    assert result.returncode in (0, 1)
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert "✔ Qt finds every system library it needs" in result.stdout
    else:
        assert "sudo apt-get install" in result.stdout


def _plugin_needing(tmp_path: Path, missing: str) -> Path:
    """A copy of the wheel's minimal platform plugin that needs ``missing`` instead of FreeType."""
    files, _lib = qt_files()
    root = files[0].parents[2]
    original = root / "Qt" / "plugins" / "platforms" / "libqminimal.so"
    data = original.read_bytes()
    old = b"libfreetype.so.6\0"
    if data.count(old) != 1 or len(missing) + 1 > len(old):
        pytest.skip("this PySide6 build's minimal plugin cannot be patched for the test")
    patched = tmp_path / "libqminimal.so"
    patched.write_bytes(data.replace(old, (missing.encode() + b"\0").ljust(len(old), b"\0")))
    return patched


def test_doctor_names_the_package_of_a_missing_library(tmp_path: Path) -> None:
    installed = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True)
    present = {line.split()[0] for line in installed.stdout.splitlines()[1:] if line.strip()}
    candidates = [s for s in DEBIAN_PACKAGES if s not in present and len(s) <= 15]
    unknown = _plugin_needing(tmp_path, "libnocgone.so.7")
    result = console(tmp_path, "doctor", str(unknown))
    assert result.returncode == 1
    assert "✖ missing libnocgone.so.7, needed by libqminimal.so" in result.stdout
    assert "apt-file search libnocgone.so.7" in result.stdout
    if not candidates:
        lines, packages = report({"libxcb-cursor.so.0": {"libqxcb.so"}})
        assert packages == ["libxcb-cursor0"]
        assert "package libxcb-cursor0" in lines[0]
        return
    soname = candidates[0]
    (tmp_path / "known").mkdir()
    plugin = _plugin_needing(tmp_path / "known", soname)
    assert soname in missing_libraries([plugin])
    result = console(tmp_path, "doctor", str(plugin))
    assert f"sudo apt-get install {DEBIAN_PACKAGES[soname]}" in result.stdout
