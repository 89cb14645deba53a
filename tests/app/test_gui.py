"""The app end to end, in real processes: the demo screenshot, and clear exits on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from console.app.gui import EXIT_USER_ERROR, WINDOW_SIZE, run_gui
from console.cli.main import gui_parser
from console.domain.severity import Severity

REPO = Path(__file__).resolve().parents[2]


def run_console(
    *args: str, tmp_path: Path, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """``python -m console ARGS`` offscreen, with private data and config folders."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "NOC_CONSOLE_DATA_DIR": str(tmp_path / "data"),
        "NOC_CONSOLE_CONFIG_DIR": str(tmp_path / "config"),
    }
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def colours(image: QImage) -> set[str]:
    """Every colour in the image (sampling every other pixel is plenty)."""
    found: set[str] = set()
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            found.add(QColor(image.pixel(x, y)).name().upper())
    return found


@pytest.mark.slow
def test_demo_screenshot_shows_the_incidents_in_severity_colours(tmp_path: Path) -> None:
    shot = tmp_path / "out.png"
    result = run_console(
        "--demo", "--screenshot", str(shot), "--data-dir", str(tmp_path / "data"), tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == str(shot.resolve())
    image = QImage(str(shot))
    assert not image.isNull()
    assert (image.width(), image.height()) == WINDOW_SIZE
    found = colours(image)
    assert len(found) > 50  # not a blank window
    # The first screen is the most severe work: SEV-1 red, SEV-2 orange and
    # SEV-3 yellow badges are on it (each shape is filled with its colour).
    for severity in (Severity.SEV1, Severity.SEV2, Severity.SEV3):
        assert severity.style.colour.upper() in found, severity
    # The demo keeps to its own folder, never the real cache.
    assert (tmp_path / "data" / "demo" / "cache.db").is_file()
    assert not (tmp_path / "data" / "cache.db").exists()


@pytest.mark.slow
def test_a_settings_typo_exits_2_with_the_key_and_allowed_values(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text('theme = "drak"\n', encoding="utf-8")
    result = run_console("--demo", "--screenshot", str(tmp_path / "out.png"), tmp_path=tmp_path)
    assert result.returncode == EXIT_USER_ERROR
    assert "key 'theme'" in result.stderr
    assert "allowed: light, dark, wall" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.png").exists()


@pytest.mark.slow
def test_an_unusable_data_folder_exits_2_with_what_to_do(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    result = run_console("--data-dir", str(blocker / "data"), tmp_path=tmp_path)
    assert result.returncode == EXIT_USER_ERROR
    assert "cannot write to the data folder" in result.stderr
    assert "--data-dir" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_corrupt_cache_is_rebuilt_and_said_so(tmp_path: Path) -> None:
    data = tmp_path / "data" / "demo"  # the demo's own folder
    data.mkdir(parents=True)
    (data / "cache.db").write_bytes(b"this is not a database" * 100)
    shot = tmp_path / "out.png"
    result = run_console("--demo", "--screenshot", str(shot), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "could not be used" in result.stderr
    assert shot.is_file()
    assert list(data.glob("cache.db.corrupt-*"))


def test_run_gui_reports_a_settings_typo_without_a_traceback(
    qapp: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text("poll_interval_seconds = -5\n", encoding="utf-8")
    args = gui_parser().parse_args(
        ["--data-dir", str(tmp_path / "data"), "--config-dir", str(config)]
    )
    assert run_gui(args) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.startswith("noc-console: settings file ")
    assert "key 'poll_interval_seconds'" in err
    assert not (tmp_path / "data").exists()  # stopped before touching the cache


def test_run_gui_reports_a_typo_in_a_connectors_table_at_start(
    qapp: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # [rt] is parsed by the RT connector, but a typo in it still stops the start, with the
    # key named, whichever backend this start uses.
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text("[rt]\npoll_interval_seconds = 0\n", encoding="utf-8")
    args = gui_parser().parse_args(
        ["--data-dir", str(tmp_path / "data"), "--config-dir", str(config)]
    )
    assert run_gui(args) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "key 'rt.poll_interval_seconds'" in err
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_wall_mode_renders_the_demo_full_size_without_a_window_frame(tmp_path: Path) -> None:
    shot = tmp_path / "wall.png"
    result = run_console("--demo", "--wall", "--screenshot", str(shot), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1920, 1080)
    found = colours(image)
    assert "#000000" in found  # the high-contrast black wall
    assert Severity.SEV1.style.colour.upper() in found
