"""Wiring for the desktop console: settings, cache, demo data, window, theme.

``run_gui(args)`` is what ``noc-console`` runs. Every error the operator can
cause or fix (a typo in ``settings.toml`` or the demo files, an unwritable data
folder, a cache from a newer version) is printed as one clear line on stderr,
shown in a message box when there is a screen to show it on, and ends with exit
code 2 — never a traceback.

Syncing (not with ``--demo``, whose data is made up and stays local): the
backend is ``--backend URL``, else the first of ``backends`` in
``settings.toml``, else the embedded reference server started in this process
over SQLite in the data folder (:mod:`console.sync.embedded`); choosing it and
wiring its engine to the window is :mod:`console.app_sync`. At exit the sync
is stopped before the cache is closed, and the embedded server after both.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from console import __version__, paths
from console.app_sync import (
    Connection,
    ConsoleSync,
    StartupError,
    add_matrix,
    add_reviews,
    connect_backend,
)
from console.connectors.base import Caller
from console.demo import BACKEND as DEMO_BACKEND
from console.demo import DemoDataError, load_demo
from console.directory import Directory
from console.domain.errors import DomainError
from console.domain.incident import Incident, TimelineEvent
from console.domain.sla import SlaPolicy
from console.models.incident_table import DisplayNames, IncidentTableModel
from console.models.queue import SAVED_VIEWS_META_KEY, SavedViews, release_free_memory
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
from console.sync.engine import SyncState
from console.sync.worker import SyncThread
from console.triage_draft import DraftStore
from console.views.main_window import MainWindow
from console.views.theme import apply_theme
from console.views.triage_context import TriageContext

if TYPE_CHECKING:
    pass

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USER_ERROR = 2

DEMO_CONNECTION = "Demo data — not connected to a backend"
CACHE_CONNECTION = "Local cache — not connected to a backend"
SCREENSHOT_TIMEOUT_MS = 20_000
WINDOW_SIZE = (1440, 860)


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
    connection: Connection | None = None
    try:
        settings = _load_settings(args)
        _apply_theme(app, settings.theme.value)
        folder = _data_folder(args)
        cache = _open_cache(folder)
        if not args.demo:
            connection = connect_backend(args, settings, cache, folder)
        if args.wall:
            wall_cache, cache = cache, None
            return _run_wall(app, args, settings, wall_cache, connection)
        window = _build_window(
            app,
            settings,
            cache,
            demo=bool(args.demo),
            on_queued=connection.edit_queued if connection else None,
        )
    except StartupError as exc:
        if connection is not None:
            connection.close()
        if cache is not None:
            cache.close()
        return _fail(str(exc), interactive)
    sync: ConsoleSync | None = None
    try:
        window.resize(*WINDOW_SIZE)
        if connection is not None:
            sync = ConsoleSync(connection, window, cache, interactive=interactive)
        window.show()
        if sync is not None:
            sync.start()
        if args.screenshot:
            shot = ScreenshotTaker(window, Path(args.screenshot))
            if sync is None:
                shot.start()
            else:
                sync.when_settled(lambda: _start_shot(shot, window), SCREENSHOT_TIMEOUT_MS)
        code = app.exec()
        if args.screenshot and code == EXIT_OK:
            print(Path(args.screenshot).resolve())
        return code
    finally:
        # The worker writes to the cache: stop it first, then the server it talks to.
        if sync is not None:
            sync.stop()
        cache.close()
        if connection is not None:
            connection.close()


def _start_shot(shot: ScreenshotTaker, window: MainWindow) -> None:
    """Take the picture at the next paint, and make sure one comes (the data may be unchanged)."""
    shot.start()
    window.table.viewport().update()


def _application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    app.setApplicationName("NOC Console")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("noc-console")
    # Wayland matches the window to the installed desktop entry (name, icon) by this id.
    app.setDesktopFileName(paths.APP_ID)
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


def _data_folder(args: argparse.Namespace) -> Path:
    """The data folder (cache and embedded server database), checked writable."""
    try:
        return paths.ensure_writable(paths.data_dir(args.data_dir))
    except paths.DataDirUnusable as exc:
        raise StartupError(str(exc)) from exc


def _open_cache(folder: Path) -> Cache:
    try:
        return Cache.open(folder / "cache.db")
    except CacheError as exc:
        raise StartupError(str(exc)) from exc


def _build_window(
    app: QApplication,
    settings: Settings,
    cache: Cache,
    *,
    demo: bool,
    on_queued: Callable[[], None] | None = None,
) -> MainWindow:
    """Load the data (and the demo if asked) and build the window around it.

    ``on_queued`` is called after each edit is queued (the sync engine's
    ``wake``, so an edit goes out at once rather than at the next poll).
    """
    try:
        policy = SlaPolicy.default(settings.sla_calendar)
    except DomainError as exc:
        raise StartupError(f"the SLA settings in {settings.path} are not usable: {exc}") from exc
    now = datetime.now(UTC)
    summary = None
    if demo:
        try:
            summary = load_demo(cache, now, policy=policy, operator=settings.operator)
        except (DemoDataError, ResourceMissing) as exc:
            raise StartupError(f"{exc}. Nothing was loaded.") from exc
        except CacheError as exc:
            raise StartupError(f"the demo could not be written to the cache: {exc}") from exc
    try:
        # Without descriptions: no list shows them, and at 100k incidents they
        # are ~15 MB; the detail pane reads the one it shows from the cache.
        incidents = cache.incidents(descriptions=False)
        names = DisplayNames.from_reference(
            cache.reference("services"), cache.reference("contacts"), cache.reference("teams")
        )
    except CacheError as exc:
        raise StartupError(str(exc)) from exc

    model = IncidentTableModel(
        policy, now, incidents, names=names, describe=lambda i: _description(cache, i)
    )
    themes = [(theme.value, theme.label) for theme in Theme]
    # Edits are shown at once and queued in the outbox; the sync engine sends them.
    edits = LocalEdits(cache, author=settings.operator, on_queued=on_queued)
    window = MainWindow(
        model,
        themes=themes,
        current_theme=settings.theme.value,
        edits=edits,
        timeline_source=lambda incident_id: _timeline(cache, incident_id),
        escalation_source=lambda incident: _escalation_line(cache, policy, incident),
        saved_views=SavedViews(
            lambda: cache.meta(SAVED_VIEWS_META_KEY),
            lambda text: cache.set_meta(SAVED_VIEWS_META_KEY, text),
        ),
        operator=settings.operator,
        triage=_triage_context(cache, model, policy, edits),
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
    add_matrix(window, cache)
    add_reviews(window, cache)
    _add_alerts(app, window, settings)
    # Building the window went through every incident several times; hand the
    # freed memory back rather than keep it resident for the whole shift.
    del incidents
    release_free_memory()
    # Open on the most urgent incident: the top of the queue is what a
    # dispatcher acts on first, and its detail fills the pane beside it.
    window.table.move_selection(1)
    notices = list(cache.notices)
    if notices:
        window.show_notice(" ".join(notices))
        for notice in notices:
            print(f"noc-console: {notice}", file=sys.stderr)
    return window


def _triage_context(
    cache: Cache, model: IncidentTableModel, policy: SlaPolicy, edits: LocalEdits
) -> TriageContext:
    """What the triage wizard (``n``) reads: the cache's reference data, the loaded
    incidents, the SLA policy, the operator's role, and the draft beside the cache."""
    from console.views.escalation_matrix import viewer_region_from_locale

    def caller() -> Caller | None:
        try:
            return edits.caller()
        except CacheError:
            return None  # the role is as good as unknown; the backend still checks

    return TriageContext(
        reference=cache,
        incidents=model.incidents,
        policy=policy,
        caller=caller,
        drafts=DraftStore(cache.path.parent),
        viewer_region=viewer_region_from_locale(),
    )


def _run_wall(
    app: QApplication,
    args: argparse.Namespace,
    settings: Settings,
    cache: Cache,
    connection: Connection | None = None,
) -> int:
    """``--wall``: the read-only wall display, full screen; errors go to stderr, never a dialog."""
    from console.views.wall import open_wall  # only the wall pays for its imports

    sync: SyncThread | None = None
    try:
        now = datetime.now(UTC)
        try:
            if args.demo:
                load_demo(
                    cache,
                    now,
                    policy=SlaPolicy.default(settings.sla_calendar),
                    operator=settings.operator,
                )
            wall = open_wall(cache, settings, show=not args.screenshot)
        except (DemoDataError, ResourceMissing, CacheError, DomainError) as exc:
            return _fail(str(exc), interactive=False)
        wall.set_connection(
            "demo" if args.demo else "local",
            _data_time(cache, settings, demo=bool(args.demo), loaded=now),
        )
        if connection is not None:
            if connection.insecure:
                print(f"noc-console: warning: {connection.insecure}", file=sys.stderr)
            # Read-only: no outbox, no dialogs; a refused token shows on the banner.
            sync = SyncThread(connection.engine, wall)
            sync.status_changed.connect(wall.on_sync_status)
            sync.changed.connect(wall.apply_update)
            sync.state_changed.connect(
                lambda state, text: _wall_log(state, text, connection.problem)
            )
            sync.start()
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

            QTimer.singleShot(500 if sync is None else 3000, capture)
        return app.exec()
    finally:
        if sync is not None:
            sync.stop()
        cache.close()
        if connection is not None:
            connection.close()


def _wall_log(state: str, text: str, problem: str | None) -> None:
    """The wall has no dialogs: a refused token (and why) is said on stderr for the admin."""
    if state == SyncState.AUTH_FAILED.value:
        print(f"noc-console: {text}", file=sys.stderr)
        if problem:
            print(f"noc-console: {problem}", file=sys.stderr)


def _add_alerts(app: QApplication, window: MainWindow, settings: Settings) -> None:
    """Desktop notifications and sounds for new SEV-1/2 and SLA warnings and breaches."""
    from console.alerts import AlertTracker
    from console.models.alert_watch import QueueAlertWatch
    from console.views.alerts import AlertNotifier, sound_player, tray_icon

    tracker = AlertTracker(settings.alerts)
    notifier = AlertNotifier(
        tracker,
        sound_player(settings.alerts.sound, window),
        tray=tray_icon(app.windowIcon(), window),
        parent=window,
    )
    watch = QueueAlertWatch(window.model.queue, tracker, settings.alerts.new_incident)
    notifier.watch(watch, interval_ms=5_000)
    window.menuBar().addMenu(notifier.actions.menu(window))
    if notifier.tray is None:
        notifier.notified.connect(lambda title, _body: window.show_notice(title))
    else:
        notifier.tray.setContextMenu(notifier.actions.menu(window))
    notifier.incident_requested.connect(window.select_incident)


def _escalation_line(cache: Cache, policy: SlaPolicy, incident: Incident) -> str | None:
    """The incident's escalation path now, for the detail pane (None: no policy, or no data).

    The directory is read afresh: the pane asks at most every 15 s and on a
    change of incident, and the reference tables are small.
    """
    from console.views.detail import escalation_line

    try:
        directory = Directory.from_store(cache)
    except (CacheError, ValueError):
        return None
    return escalation_line(
        directory,
        incident,
        datetime.now(UTC),
        sla=policy,
        timeline=_timeline(cache, incident.id),
    )


def _description(cache: Cache, incident_id: str) -> str:
    """An incident's description from the cache ("" when it cannot be read right now)."""
    try:
        return cache.description(incident_id)
    except CacheError:
        return ""


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
