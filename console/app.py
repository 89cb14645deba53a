"""Wiring for the desktop console: settings, cache, demo data, window, theme.

``run_gui(args)`` is what ``noc-console`` runs. Every error the operator can
cause or fix (a typo in ``settings.toml`` or the demo files, an unwritable data
folder, a cache from a newer version) is printed as one clear line on stderr,
shown in a message box when there is a screen to show it on, and ends with exit
code 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from console import __version__, paths
from console.demo import BACKEND as DEMO_BACKEND
from console.demo import DemoDataError, load_demo
from console.directory import Directory
from console.domain.errors import DomainError
from console.domain.incident import TimelineEvent
from console.domain.sla import SlaPolicy
from console.models.incident_table import DisplayNames, IncidentTableModel
from console.models.queue import SAVED_VIEWS_META_KEY, SavedViews
from console.resources import ResourceMissing, resource_path
from console.settings import (
    Settings,
    SettingsError,
    Theme,
    load_settings,
    save_theme,
    settings_path,
)
from console.store import Cache, CacheError
from console.sync.edits import LocalEdits
from console.views.main_window import MainWindow
from console.views.theme import apply_theme

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USER_ERROR = 2

DEMO_CONNECTION = "Demo data — not connected to a backend"
CACHE_CONNECTION = "Local cache — not connected to a backend"
SCREENSHOT_TIMEOUT_MS = 20_000
WINDOW_SIZE = (1440, 860)


class StartupError(Exception):
    """Something the operator must fix before the console can start; the message says what."""


def run_gui(args: argparse.Namespace) -> int:
    """Open the console; returns the process exit code."""
    app = _application()
    # A wall display never blocks on a dialog: its errors go to stderr only.
    interactive = (
        not args.screenshot and not args.wall
    ) and QGuiApplication.platformName() not in (
        "offscreen",
        "minimal",
    )
    cache: Cache | None = None
    try:
        settings = _load_settings(args)
        _apply_theme(app, settings.theme.value)
        cache = _open_cache(args)
        if args.wall:
            wall_cache, cache = cache, None
            return _run_wall(app, args, settings, wall_cache)
        window = _build_window(app, settings, cache, demo=bool(args.demo))
    except StartupError as exc:
        if cache is not None:
            cache.close()
        return _fail(str(exc), interactive)
    try:
        window.resize(*WINDOW_SIZE)
        window.show()
        if args.screenshot:
            shot = ScreenshotTaker(window, Path(args.screenshot))
            shot.start()
        code = app.exec()
        if args.screenshot and code == EXIT_OK:
            print(Path(args.screenshot).resolve())
        return code
    finally:
        cache.close()


def _application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    app.setApplicationName("NOC Console")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("noc-console")
    app.setDesktopFileName("noc-console")
    # A missing icon is not worth refusing to start over.
    with contextlib.suppress(ResourceMissing):
        app.setWindowIcon(QIcon(str(resource_path("icons", "noc-console.svg"))))
    return app


def _load_settings(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(settings_path(args.config_dir))
    except SettingsError as exc:
        raise StartupError(f"{exc}. Fix the file, or move it aside to use the defaults.") from exc


def _apply_theme(app: QApplication, name: str) -> None:
    try:
        apply_theme(app, name)
    except ResourceMissing as exc:
        raise StartupError(str(exc)) from exc


def _open_cache(args: argparse.Namespace) -> Cache:
    try:
        folder = paths.ensure_writable(paths.data_dir(args.data_dir))
        return Cache.open(folder / "cache.db")
    except (paths.DataDirUnusable, CacheError) as exc:
        raise StartupError(str(exc)) from exc


def _build_window(app: QApplication, settings: Settings, cache: Cache, *, demo: bool) -> MainWindow:
    """Load the data (and the demo if asked) and build the window around it."""
    try:
        policy = SlaPolicy.default(settings.sla_calendar)
    except DomainError as exc:
        raise StartupError(f"the SLA settings in {settings.path} are not usable: {exc}") from exc
    now = datetime.now(UTC)
    summary = None
    if demo:
        try:
            summary = load_demo(cache, now, policy=policy)
        except (DemoDataError, ResourceMissing) as exc:
            raise StartupError(f"{exc}. Nothing was loaded.") from exc
        except CacheError as exc:
            raise StartupError(f"the demo could not be written to the cache: {exc}") from exc
    try:
        incidents = cache.incidents()
        names = DisplayNames.from_reference(
            cache.reference("services"), cache.reference("contacts"), cache.reference("teams")
        )
    except CacheError as exc:
        raise StartupError(str(exc)) from exc

    model = IncidentTableModel(policy, now, incidents, names=names)
    themes = [(theme.value, theme.label) for theme in Theme]
    window = MainWindow(
        model,
        themes=themes,
        current_theme=settings.theme.value,
        # Edits are shown at once and queued in the outbox; the sync engine sends them.
        edits=LocalEdits(cache, author=settings.operator),
        timeline_source=lambda incident_id: _timeline(cache, incident_id),
        saved_views=SavedViews(
            lambda: cache.meta(SAVED_VIEWS_META_KEY),
            lambda text: cache.set_meta(SAVED_VIEWS_META_KEY, text),
        ),
        operator=settings.operator,
    )
    window.table.set_wall_layout(settings.theme is Theme.WALL)
    window.menu_actions.theme_chosen.connect(
        lambda name: _switch_theme(app, window, settings, name)
    )
    if demo:
        window.set_connection_state(DEMO_CONNECTION)
    else:
        window.set_connection_state(CACHE_CONNECTION)
    window.set_data_time(_data_time(cache, settings, demo=demo, loaded=now))
    if summary is not None:
        window.connection_label.setToolTip(summary.describe())
    _add_matrix(window, cache)
    _add_alerts(app, window, settings)
    notices = list(cache.notices)
    if notices:
        window.show_notice(" ".join(notices))
        for notice in notices:
            print(f"noc-console: {notice}", file=sys.stderr)
    return window


def _run_wall(app: QApplication, args: argparse.Namespace, settings: Settings, cache: Cache) -> int:
    """``--wall``: the read-only wall display, full screen; errors go to stderr, never a dialog."""
    from console.views.wall import open_wall  # only the wall pays for its imports

    try:
        now = datetime.now(UTC)
        try:
            if args.demo:
                load_demo(cache, now, policy=SlaPolicy.default(settings.sla_calendar))
            wall = open_wall(cache, settings, show=not args.screenshot)
        except (DemoDataError, ResourceMissing, CacheError, DomainError) as exc:
            return _fail(str(exc), interactive=False)
        wall.set_connection(
            "demo" if args.demo else "local",
            _data_time(cache, settings, demo=bool(args.demo), loaded=now),
        )
        if args.screenshot:
            wall.resize(1920, 1080)
            wall.show()
            path = Path(args.screenshot)

            def capture() -> None:
                path.parent.mkdir(parents=True, exist_ok=True)
                saved = wall.grab().save(str(path), "PNG")
                if saved:
                    print(path.resolve())
                app.exit(EXIT_OK if saved else EXIT_USER_ERROR)

            QTimer.singleShot(500, capture)
        return app.exec()
    finally:
        cache.close()


def _add_matrix(window: MainWindow, cache: Cache) -> None:
    """The escalation matrix as the window's third view (Ctrl+3)."""
    from console.views.escalation_matrix import EscalationMatrixView

    try:
        directory = Directory.from_store(cache)
    except (CacheError, ValueError) as exc:
        window.show_notice(f"The escalation matrix could not be read from the cache: {exc}")
        return
    window.add_matrix(EscalationMatrixView(directory, store=cache, parent=window))


def _add_alerts(app: QApplication, window: MainWindow, settings: Settings) -> None:
    """Desktop notifications and sounds for new SEV-1/2 and SLA warnings and breaches."""
    from console.alerts import AlertTracker
    from console.views.alerts import AlertNotifier, sound_player, table_source, tray_icon

    notifier = AlertNotifier(
        AlertTracker(settings.alerts),
        sound_player(settings.alerts.sound, window),
        tray=tray_icon(app.windowIcon(), window),
        parent=window,
    )
    notifier.watch(table_source(window.model), interval_ms=5_000)
    window.menuBar().addMenu(notifier.actions.menu(window))
    if notifier.tray is None:
        notifier.notified.connect(lambda title, _body: window.show_notice(title))
    else:
        notifier.tray.setContextMenu(notifier.actions.menu(window))
    notifier.incident_requested.connect(window.select_incident)


def _timeline(cache: Cache, incident_id: str) -> list[TimelineEvent]:
    """An incident's timeline for the detail pane; empty (not a crash) if the cache fails."""
    try:
        return cache.timeline(incident_id)
    except CacheError:
        return []


def _data_time(
    cache: Cache, settings: Settings, *, demo: bool, loaded: datetime
) -> datetime | None:
    """When the shown data was last fresh: the demo's load time, or the newest sync."""
    backends = [DEMO_BACKEND, *settings.backends]
    times = [t for t in (cache.last_synced_at(b) for b in backends) if t is not None]
    if demo:
        times.append(loaded)
    return max(times) if times else None


def _switch_theme(app: QApplication, window: MainWindow, settings: Settings, name: str) -> None:
    apply_theme(app, name)
    window.table.set_wall_layout(name == Theme.WALL.value)
    if settings.path is None:
        return
    try:
        save_theme(settings.path, Theme(name))
    except OSError as exc:
        # The theme still applies for this session; say why it will not stick.
        window.show_notice(
            f"The theme could not be saved to {settings.path}: {exc.strerror or exc}"
        )


def _fail(message: str, interactive: bool) -> int:
    print(f"noc-console: {message}", file=sys.stderr)
    if interactive:
        QMessageBox.critical(None, "NOC Console cannot start", message)
    return EXIT_USER_ERROR


class ScreenshotTaker(QObject):
    """Saves the window as a PNG once the table has painted its rows, then quits the app.

    Waiting for the table's first paint (rather than a fixed delay) makes the
    picture show the data whatever the machine's speed; a timeout still takes
    the picture if a paint never arrives.
    """

    def __init__(self, window: MainWindow, path: Path) -> None:
        super().__init__(window)
        self._window = window
        self._path = path
        self._taken = False
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.setInterval(SCREENSHOT_TIMEOUT_MS)
        self._timeout.timeout.connect(self.capture)

    def start(self) -> None:
        self._window.table.viewport().installEventFilter(self)
        self._timeout.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._taken:
            # Let this paint (and any layout it triggers) finish first.
            QTimer.singleShot(0, self.capture)
        return False

    def capture(self) -> None:
        if self._taken:
            return
        self._taken = True
        self._timeout.stop()
        self._window.table.viewport().removeEventFilter(self)
        app = QApplication.instance()
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            saved = self._window.grab().save(str(self._path), "PNG")
        except OSError as exc:
            print(f"noc-console: cannot write the screenshot {self._path}: {exc}", file=sys.stderr)
            saved = False
        else:
            if not saved:
                print(f"noc-console: cannot write the screenshot {self._path}", file=sys.stderr)
        if app is not None:
            app.exit(EXIT_OK if saved else EXIT_USER_ERROR)
