"""An app with no writable data folder says where it tried and how to choose another.

A desk or kiosk PC may start the installed app with a read-only home or a
data folder that is not a folder. The app must exit cleanly (code 2, one
line, no traceback) whichever way the folder was chosen. The built bundle
is checked the same way by ``packaging/smoke.sh``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.app.gui import EXIT_USER_ERROR
from tests.helpers.packaging import REPO


def start_console(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NOC_CONSOLE_DATA_DIR", "NOC_CONSOLE_CONFIG_DIR")
    }
    environ.update(QT_QPA_PLATFORM="offscreen", **env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "--demo",
            "--screenshot",
            str(tmp_path / "never.png"),
            "--config-dir",
            str(tmp_path / "config"),
            *args,
        ],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def assert_clean_refusal(result: subprocess.CompletedProcess[str], folder: Path) -> None:
    assert result.returncode == EXIT_USER_ERROR, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("noc-console: cannot write to the data folder ")
    assert str(folder) in line
    assert "--data-dir DIR" in line
    assert "NOC_CONSOLE_DATA_DIR" in line


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A file where the data folder (or its parent) should be: unwritable even for root."""
    path = tmp_path / "not-a-folder"
    path.write_text("", encoding="utf-8")
    return path


@pytest.mark.slow
def test_the_default_data_folder_unusable(tmp_path: Path, blocker: Path) -> None:
    """No --data-dir: the user data folder (here under XDG_DATA_HOME) is the one named."""
    result = start_console(tmp_path, XDG_DATA_HOME=str(blocker))
    assert_clean_refusal(result, blocker / "noc-console")
    assert not (tmp_path / "never.png").exists()


@pytest.mark.slow
def test_the_environment_data_folder_unusable(tmp_path: Path, blocker: Path) -> None:
    result = start_console(tmp_path, NOC_CONSOLE_DATA_DIR=str(blocker / "data"))
    assert_clean_refusal(result, blocker / "data")
