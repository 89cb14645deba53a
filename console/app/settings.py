"""The Settings and Connect-to-backend dialogs wired to the running console.

:func:`add_settings` enables File ▸ Settings… and File ▸ Connect to backend…
on the main window. Saved settings apply at once where they can (the theme,
the operator's name for *Take*, *Mine* and the notes' author, and the
``[major]`` table: the triage's share threshold, the workspace's cadence,
extra roles and templates) and at the next start otherwise. Connecting tests
the URL and token against the backend (:func:`try_connection`), keeps the
token in the OS keyring, puts the URL first in ``backends`` and restarts the
console so it syncs with it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess
from PySide6.QtWidgets import QApplication

from console.config.credentials import CredentialError, store_token
from console.config.settings import (
    MajorSettings,
    Settings,
    SettingsError,
    Theme,
    load_settings,
    save_settings,
)
from console.connectors.base import AuthFailed, BackendError, TlsFailed, Unreachable
from console.connectors.registry import backend_address, open_backend
from console.sync.edits import LocalEdits
from console.views.connect_dialog import ConnectDialog, ConnectProblem
from console.views.main_window import MainWindow
from console.views.major_workspace import MajorWorkspace
from console.views.settings_dialog import SettingsDialog
from console.views.theme import apply_theme


def try_connection(url: str, token: str, settings: Settings) -> str:
    """Ask the backend who ``token`` is: what worked, or :class:`ConnectProblem` (what to fix)."""
    try:
        address = backend_address(url)
        backend = open_backend(address, token, settings)
    except ValueError as exc:
        raise ConnectProblem(f"{exc}.") from exc
    try:
        caller = backend.whoami()
    except AuthFailed as exc:
        raise ConnectProblem(
            f"{address} did not accept this token. Check that you pasted all of it, or ask "
            f"your administrator for a new one. (The server said: {exc})"
        ) from exc
    except TlsFailed as exc:
        raise ConnectProblem(str(exc)) from exc
    except Unreachable as exc:
        raise ConnectProblem(
            f"{exc}. Check the address and that the server is running and reachable from here."
        ) from exc
    except BackendError as exc:
        raise ConnectProblem(str(exc)) from exc
    finally:
        backend.close()
    if caller is None:
        return f"Connected to {address}."
    return f"Connected to {address} as {caller.name} ({caller.role})."


def keep_connection(url: str, token: str, path: Path, settings: Settings) -> Settings:
    """The token into the keyring, the URL first in ``backends``; the new settings."""
    try:
        address = backend_address(url)
    except ValueError as exc:
        raise ConnectProblem(f"{exc}.") from exc
    try:
        store_token(address, token)
    except CredentialError as exc:
        raise ConnectProblem(
            f"The token could not be kept in the system keyring: {exc}. Nothing was changed."
        ) from exc
    backends = [address, *(b for b in settings.backends if b != address)]
    try:
        return save_settings(path, {"backends": backends})
    except (SettingsError, OSError) as exc:
        raise ConnectProblem(f"{path} could not be updated: {exc}") from exc


def restart_console() -> bool:
    """Start a fresh console with the same options (the settings name the backend), then quit."""
    args = list(sys.argv[1:])
    if "--backend" in args:  # the chosen backend is in the settings now
        at = args.index("--backend")
        del args[at : at + 2]
    if getattr(sys, "frozen", False):
        started = QProcess.startDetached(sys.executable, args)
    else:
        started = QProcess.startDetached(sys.executable, ["-m", "console", *args])
    ok = bool(started[0] if isinstance(started, tuple) else started)
    app = QApplication.instance()
    if ok and app is not None:
        app.quit()
    return ok


def add_settings(
    app: QApplication,
    window: MainWindow,
    settings: Settings,
    edits: LocalEdits,
    *,
    demo: bool,
    restart: Callable[[], bool] = restart_console,
    on_major: Callable[[MajorSettings], None] | None = None,
) -> None:
    """Enable File ▸ Settings… (and, outside the demo, File ▸ Connect to backend…).

    ``on_major`` gets the saved ``[major]`` settings (the built-in server's cadence).
    """
    path = settings.path
    if path is None:
        return
    current = [settings]
    actions = window.menu_actions

    def reread() -> Settings:
        try:
            current[0] = load_settings(path)
        except SettingsError as exc:
            window.show_notice(f"{exc}. The settings shown are those the console started with.")
        return current[0]

    def open_settings() -> None:
        dialog = SettingsDialog(reread(), path, window)
        dialog.saved.connect(apply)
        window.settings_dialog = dialog
        dialog.open()

    def apply(new: Settings) -> None:
        current[0] = new
        apply_theme(app, new.theme.value)
        window.table.set_wall_layout(new.theme is Theme.WALL)
        if new.theme.value in actions.themes:
            actions.themes[new.theme.value].setChecked(True)
        window.model.queue.set_operator(new.operator)
        window.controller.set_operator(new.operator)
        edits.set_author(new.operator)
        # [major]: the next triage's share threshold, the workspace's cadence,
        # extra roles and templates.
        window.controller.set_share_threshold(new.major.share_threshold)
        workspace = window.findChild(MajorWorkspace)
        if isinstance(workspace, MajorWorkspace):
            workspace.set_major(new.major)
        if on_major is not None:
            on_major(new.major)
        window.show_done("Settings saved")

    def open_connect() -> None:
        chosen = reread()

        def connect(url: str, token: str) -> None:
            keep_connection(url, token, path, chosen)
            if not restart():
                raise ConnectProblem(
                    "Saved. The console could not restart by itself: close it and start it "
                    "again to sync with the new backend."
                )

        dialog = ConnectDialog(
            lambda url, token: try_connection(url, token, chosen),
            connect,
            url=chosen.backends[0] if chosen.backends else "",
            parent=window,
        )
        window.connect_dialog = dialog
        dialog.open()

    actions.settings.setEnabled(True)
    actions.settings.triggered.connect(open_settings)
    # The demo never syncs: there is nothing to connect.
    actions.connect_backend.setEnabled(not demo)
    if not demo:
        actions.connect_backend.triggered.connect(open_connect)
