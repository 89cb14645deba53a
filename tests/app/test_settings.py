"""File ▸ Settings… and File ▸ Connect to backend…, over real files and a real server.

The settings dialog writes settings.toml back keeping the operator's comments
(tomlkit), refuses what would not load, and applies the name and theme at
once. The connect dialog tests a URL and token against ``noc-console serve``
on loopback, keeps the token in the keyring (the in-memory test keyring) and
puts the URL first in ``backends``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from PySide6.QtWidgets import QApplication

from console.app.gui import _build_window
from console.app.settings import keep_connection, try_connection
from console.config.settings import load_settings
from console.domain.severity import Severity
from console.store import Cache
from console.views.connect_dialog import ConnectDialog, ConnectProblem
from console.views.main_window import MainWindow
from console.views.settings_dialog import SettingsDialog
from tests.helpers.processes import ServerProcess, make_token

COMMENTED = """\
# Night shift desk, Madrid NOC
theme = "light"   # the wall theme is for the wall

[alerts]          # keep the sound on at night
sound = true
"""


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "settings.toml"
    path.parent.mkdir()
    path.write_text(COMMENTED, encoding="utf-8")
    return path


@pytest.fixture
def window(tmp_path: Path, settings_file: Path) -> Iterator[MainWindow]:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    cache = Cache.open(tmp_path / "cache.db")
    built = _build_window(app, load_settings(settings_file), cache, demo=True)
    yield built
    built.close()
    built.deleteLater()
    cache.close()


def test_settings_are_saved_with_the_comments_kept(qapp: QApplication, settings_file: Path) -> None:
    dialog = SettingsDialog(load_settings(settings_file), settings_file)
    dialog.operator.setText("lfernandez")
    dialog.alerts_sound.setChecked(False)
    dialog.muted[Severity.SEV4].setChecked(True)
    dialog.repeat[Severity.SEV1].setValue(120)
    dialog.rt_queue.setText("NOC")
    dialog.wall_services.setText("payments-api, checkout")
    dialog.rotate.setValue(20)
    assert not dialog.wall_metrics.isChecked()  # off by default
    dialog.wall_metrics.setChecked(True)
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted
    text = settings_file.read_text(encoding="utf-8")
    assert "# Night shift desk, Madrid NOC" in text
    assert "# the wall theme is for the wall" in text
    assert "# keep the sound on at night" in text
    saved = load_settings(settings_file)
    assert saved.operator == "lfernandez"
    assert saved.alerts.sound is False
    assert Severity.SEV4 in saved.alerts.muted
    assert saved.alerts.repeat_every[Severity.SEV1].total_seconds() == 120
    assert saved.table("rt")["queue"] == "NOC"
    assert saved.wall.services == ("payments-api", "checkout")
    assert saved.wall.rotate_seconds == 20
    assert saved.wall.metrics is True


def test_a_bad_value_keeps_the_dialog_open_and_the_file_unchanged(
    qapp: QApplication, settings_file: Path
) -> None:
    dialog = SettingsDialog(load_settings(settings_file), settings_file)
    dialog.backends.setPlainText("https://noc.example.com\nhtp//typo")
    dialog.save()
    assert dialog.result() != dialog.DialogCode.Accepted
    assert not dialog.error.isHidden()
    assert dialog.error.text().startswith("Backends (line 2): ")
    assert "Nothing was saved" in dialog.error.text()
    assert settings_file.read_text(encoding="utf-8") == COMMENTED
    dialog.repeat[Severity.SEV2].setValue(3)  # below the 10 s floor
    dialog.backends.setPlainText("")
    dialog.save()
    assert "Alarm again every" in dialog.error.text()
    assert settings_file.read_text(encoding="utf-8") == COMMENTED


def test_the_name_applies_at_once_in_the_running_console(
    window: MainWindow, settings_file: Path
) -> None:
    actions = window.menu_actions
    assert actions.settings.isEnabled()
    assert not actions.connect_backend.isEnabled()  # the demo never syncs
    actions.settings.trigger()
    dialog = window.settings_dialog
    assert isinstance(dialog, SettingsDialog)
    dialog.operator.setText("night-desk")
    dialog.save()
    assert window.controller._operator == "night-desk"
    assert load_settings(settings_file).operator == "night-desk"
    assert "Settings saved" in window.current_message()


def test_the_major_table_applies_at_once_in_the_running_console(
    window: MainWindow, settings_file: Path
) -> None:
    """[major]: the workspace's cadence and extra roles, the next triage's share threshold."""
    from console.domain.severity import Severity
    from console.views.major_workspace import MajorWorkspace

    workspace = window.findChild(MajorWorkspace)
    assert isinstance(workspace, MajorWorkspace)
    assert "Scribe" not in workspace.role_names()
    # Edited by hand while the console runs; the dialog reads the file again.
    settings_file.write_text(
        settings_file.read_text(encoding="utf-8") + "\n[major]\nshare_threshold = 40\n",
        encoding="utf-8",
    )
    window.menu_actions.settings.trigger()
    dialog = window.settings_dialog
    assert isinstance(dialog, SettingsDialog)
    dialog.extra_roles.setText("Scribe")
    dialog.cadence[Severity.SEV1].setValue(10)
    dialog.save()
    assert workspace.role_names()[-1] == "Scribe"
    assert workspace._major.cadence_minutes[1] == 10
    triage = window.controller._triage
    assert triage is not None
    assert triage.share_threshold == 40
    saved = load_settings(settings_file).major
    assert (saved.cadence_minutes[1], saved.extra_roles, saved.share_threshold) == (
        10,
        ("Scribe",),
        40,
    )


def test_a_saved_cadence_reaches_the_built_in_server(
    qapp: QApplication, tmp_path: Path, settings_file: Path
) -> None:
    """The window hands saved [major] settings on (``Connection.apply_major`` in the app)."""
    from console.config.settings import MajorSettings

    heard: list[MajorSettings] = []
    with Cache.open(tmp_path / "own-cache.db") as cache:
        built = _build_window(
            qapp, load_settings(settings_file), cache, demo=True, on_major=heard.append
        )
        try:
            built.menu_actions.settings.trigger()
            dialog = built.settings_dialog
            assert isinstance(dialog, SettingsDialog)
            dialog.cadence[Severity.SEV1].setValue(9)
            dialog.save()
            assert [m.cadence_minutes[1] for m in heard] == [9]
        finally:
            built.close()
            built.deleteLater()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    folder = tmp_path / "server"
    folder.mkdir()
    process = ServerProcess(folder / "server.db", folder, heartbeat=0.5)
    process.start()
    yield process
    process.kill()


@pytest.mark.slow
def test_connect_tests_the_token_then_keeps_it_and_the_url(
    qapp: QApplication, server: ServerProcess, settings_file: Path
) -> None:
    token = make_token(server.db_path, "desk-7", role="dispatcher")
    settings = load_settings(settings_file)
    with pytest.raises(ConnectProblem, match="did not accept this token"):
        try_connection(server.url, "not-the-token", settings)
    assert try_connection(server.url, token, settings) == (
        f"Connected to {server.url} as desk-7 (dispatcher)."
    )
    kept: list[tuple[str, str]] = []
    dialog = ConnectDialog(
        lambda url, secret: try_connection(url, secret, settings),
        lambda url, secret: kept.append((url, secret)),
    )
    dialog.url.setText(server.url)
    dialog.token.setText("wrong")
    dialog.connect_and_sync()
    assert not kept  # a refused token is never kept
    assert "did not accept" in dialog.status.text()
    dialog.token.setText(token)
    dialog.connect_and_sync()
    assert kept == [(server.url, token)]

    keep_connection(server.url, token, settings_file, settings)
    assert load_settings(settings_file).backends == (server.url,)
    assert keyring.get_password("noc-console", server.url) == token
    assert "# Night shift desk, Madrid NOC" in settings_file.read_text(encoding="utf-8")


def test_an_unreachable_backend_says_so_in_plain_words(settings_file: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectProblem, match="Check the address"):
        try_connection(f"http://127.0.0.1:{port}", "token", load_settings(settings_file))
