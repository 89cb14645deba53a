"""Wiring for the desktop console: settings, cache, demo data, window, theme.

``run_gui(args)`` is what ``noc-console`` runs (``--wall`` is
:mod:`console.app.wall`, ``--screenshot`` :mod:`console.app.screenshot`). Every
error the operator can cause or fix (a typo in ``settings.toml`` or the demo
files, an unwritable data folder, a cache from a newer version) is printed as
one clear line on stderr, shown in a message box when there is a screen to show
it on, and ends with exit code 2 — never a traceback.

Syncing (not with ``--demo``, whose data is made up and stays local): the
backend is ``--backend URL``, else the first of ``backends`` in
``settings.toml``, else the embedded reference server started in this process
over SQLite in the data folder (:mod:`console.connectors.embedded`); choosing it and
wiring its engine to the window are :mod:`console.app.connection` and
:mod:`console.app.sync_wiring`. At exit the sync
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

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from console import __version__
from console.app.connection import Connection, StartupError, connect_backend
from console.app.dashboard import add_csat_action, add_dashboard
from console.app.sync_wiring import ConsoleSync, add_matrix, add_reviews
from console.config import paths
from console.config.resources import ResourceMissing, resource_path
from console.config.settings import (
    MajorSettings,
    Settings,
    SettingsError,
    Theme,
    load_settings,
    save_theme,
    settings_path,
)
from console.connectors.base import Caller
from console.connectors.registry import check_settings
from console.domain.errors import DomainError
from console.domain.incident import Incident, TimelineEvent
from console.domain.sla import SlaPolicy
from console.models.incident_table import DisplayNames, IncidentTableModel
from console.services.demo import BACKEND as DEMO_BACKEND
from console.services.demo import DemoDataError, load_demo
from console.services.directory import Directory
from console.services.queue import SAVED_VIEWS_META_KEY, SavedViews, release_free_memory
from console.services.triage_context import TriageContext
from console.store import Cache, CacheError
from console.store.drafts import DraftStore
from console.sync.edits import LocalEdits
from console.views import major_workspace
from console.views.demo_marker import mark_demo_windows
from console.views.main_window import MainWindow
from console.views.theme import apply_theme

if TYPE_CHECKING:
    from console.app.screenshot import ScreenshotTaker

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USER_ERROR = 2

DEMO_CONNECTION = "Demo data — not connected to a backend"
DATASET_META_KEY = "dataset"
DEMO_DATASET = "demo"
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
        cache = _open_cache(folder, demo=bool(args.demo))
        if not args.demo:
            connection = connect_backend(args, settings, cache, folder)
            if _bound_elsewhere(cache, connection.backend.key):
                # The cache holds another backend's incidents and queued edits: none
                # of them may show as this backend's, or be sent to it.
                connection.close()
                connection = None
                cache.close()
                cache = _set_aside(folder, "other-backend", _OTHER_BACKEND_NOTICE)
                connection = connect_backend(args, settings, cache, folder)
            _bind(cache, connection.backend.key)
        if args.wall:
            from console.app.wall import run_wall  # only the wall pays for its imports

            wall_cache, cache = cache, None
            return run_wall(app, args, settings, wall_cache, connection)
        window = _build_window(
            app,
            settings,
            cache,
            demo=bool(args.demo),
            on_queued=connection.edit_queued if connection else None,
            on_major=connection.apply_major if connection else None,
        )
    except StartupError as exc:
        if connection is not None:
            connection.close()
        if cache is not None:
            cache.close()
        return fail(str(exc), interactive)
    sync: ConsoleSync | None = None
    try:
        if args.screenshot:
            window.resize(*WINDOW_SIZE)  # the picture's size does not depend on the screen
        else:
            fit_to_screen(window)
        if connection is not None:
            sync = ConsoleSync(connection, window, cache, interactive=interactive)
        window.show()
        if sync is not None:
            sync.start()
        if args.screenshot:
            from console.app.screenshot import ScreenshotTaker

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


def fit_to_screen(window: MainWindow) -> bool:
    """Open at :data:`WINDOW_SIZE`, or maximised when the screen is smaller (a laptop).

    Returns True when the window was maximised. On a 1280×720 or 1366×768
    screen the window fills the available area (no buttons or status bar off
    screen); on bigger screens it opens at the default size, centred.
    """
    screen = window.screen() or QGuiApplication.primaryScreen()
    width, height = WINDOW_SIZE
    if screen is None:
        window.resize(width, height)
        return False
    room = screen.availableGeometry()
    if room.width() < width or room.height() < height:
        window.setGeometry(room)
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
        return True
    window.resize(width, height)
    window.move(room.center() - window.rect().center())
    return False


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
        settings = load_settings(settings_path(args.config_dir))
        check_settings(settings)  # each connector's own table, e.g. [rt]
        return settings
    except SettingsError as exc:
        raise StartupError(f"{exc}. Fix the file, or move it aside to use the defaults.") from exc


def _apply_theme(app: QApplication, name: str) -> None:
    try:
        apply_theme(app, name)
    except ResourceMissing as exc:
        raise StartupError(str(exc)) from exc


def _data_folder(args: argparse.Namespace) -> Path:
    """The data folder (cache and embedded server database), checked writable.

    ``--demo`` gets its own folder inside it (:func:`console.config.paths.demo_data_dir`):
    its cache, outbox and drafts never meet real use's, so nothing made up in the
    demo can be sent to a backend.
    """
    demo = bool(getattr(args, "demo", False))
    chosen = paths.demo_data_dir(args.data_dir) if demo else paths.data_dir(args.data_dir)
    try:
        return paths.ensure_writable(chosen)
    except paths.DataDirUnusable as exc:
        raise StartupError(str(exc)) from exc


def _open_cache(folder: Path, *, demo: bool = False) -> Cache:
    """Open the cache in ``folder``; for real use, never one that holds demo data.

    The demo's cache is marked as such (meta ``dataset = demo``): opening it
    without ``--demo`` is refused. A cache an older version filled with the demo
    *and* real use is moved aside whole (its queued edits cannot be told apart),
    and a notice (shown in the status bar and on stderr) says where it went.
    """
    path = folder / "cache.db"
    try:
        cache = Cache.open(path)
        if demo:
            cache.set_meta(DATASET_META_KEY, DEMO_DATASET)
            return cache
        if cache.meta(DATASET_META_KEY) == DEMO_DATASET:
            cache.close()
            raise StartupError(
                f"{folder} holds the demo's data, never synced to a backend; open it with "
                "--demo, or choose the real data folder with --data-dir DIR"
            )
        if cache.last_synced_at(DEMO_BACKEND) is None:
            return cache
        cache.close()
        aside = _move_aside(path)
        cache = Cache.open(path)
    except CacheError as exc:
        raise StartupError(str(exc)) from exc
    except OSError as exc:
        raise StartupError(
            f"the cache {path} holds demo data and could not be moved aside "
            f"({exc.strerror or exc}); move it away by hand"
        ) from exc
    notice = (
        f"The cache held demo data mixed with real data (an older version did that); it was "
        f"moved to {aside.name} and nothing in it was sent. The queue is synced afresh."
    )
    cache.notices.append(notice)
    return cache


BACKEND_META_KEY = "backend"
"""The backend (its cache key) a real cache was filled from; another one never reads it."""
_OTHER_BACKEND_NOTICE = (
    "The cache held another backend's incidents and queued edits; it was moved to {name} "
    "and nothing in it was sent here. The queue is synced afresh from this backend."
)


def _bound_elsewhere(cache: Cache, key: str) -> bool:
    try:
        bound = cache.meta(BACKEND_META_KEY)
    except CacheError as exc:
        raise StartupError(str(exc)) from exc
    return bound is not None and bound != key


def _bind(cache: Cache, key: str) -> None:
    try:
        if cache.meta(BACKEND_META_KEY) is None:
            cache.set_meta(BACKEND_META_KEY, key)
    except CacheError as exc:
        raise StartupError(str(exc)) from exc


def _set_aside(folder: Path, why: str, notice: str) -> Cache:
    """Move ``cache.db`` aside as ``cache.db.<why>-<time>`` and open a fresh one (with a notice)."""
    path = folder / "cache.db"
    try:
        aside = _move_aside(path, why)
        cache = Cache.open(path)
    except CacheError as exc:
        raise StartupError(str(exc)) from exc
    except OSError as exc:
        raise StartupError(
            f"the cache {path} could not be moved aside ({exc.strerror or exc}); "
            "move it away by hand"
        ) from exc
    # Shown in the status bar and printed on stderr with the cache's other notices.
    cache.notices.append(notice.format(name=aside.name))
    return cache


def _move_aside(path: Path, why: str = "with-demo") -> Path:
    """Rename ``cache.db`` (and its WAL files) to ``cache.db.<why>-<time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.{why}-{stamp}")
    path.rename(aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.rename(aside.with_name(aside.name + suffix))
    return aside


def _build_window(
    app: QApplication,
    settings: Settings,
    cache: Cache,
    *,
    demo: bool,
    on_queued: Callable[[], None] | None = None,
    on_major: Callable[[MajorSettings], None] | None = None,
) -> MainWindow:
    """Load the data (and the demo if asked) and build the window around it.

    ``on_queued`` is called after each edit is queued (the sync engine's
    ``wake``, so an edit goes out at once rather than at the next poll);
    ``on_major`` with the ``[major]`` settings the Settings dialog saves.
    """
    try:
        policy = SlaPolicy.default(settings.sla_calendar)
    except DomainError as exc:
        raise StartupError(f"the SLA settings in {settings.path} are not usable: {exc}") from exc
    now = datetime.now(UTC)
    summary = None
    if demo:
        try:
            summary = load_demo(
                cache,
                now,
                policy=policy,
                operator=settings.operator,
                cadence=settings.major.cadence_minutes,
            )
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
        triage=_triage_context(
            cache, model, policy, edits, share_threshold=settings.major.share_threshold
        ),
    )
    window.table.set_wall_layout(settings.theme is Theme.WALL)
    window.menu_actions.theme_chosen.connect(
        lambda name: _switch_theme(app, window, settings, name)
    )
    if demo:
        window.set_connection_state(DEMO_CONNECTION)
        window.mark_demo()
        mark_demo_windows(app, owner=window)
    else:
        window.set_connection_state(CACHE_CONNECTION)
    window.set_data_time(data_time(cache, settings, demo=demo, loaded=now))
    if summary is not None:
        window.connection_label.setToolTip(summary.describe())
    add_matrix(window, cache, demo=demo)
    add_reviews(window, cache, edits)
    add_dashboard(window, cache, policy=policy, operator=settings.operator)
    add_csat_action(window, edits)
    # #19: the major incident workspace on Ctrl+4 (one call, kept apart).
    major_workspace.install(window, window.tabs, cache, edits, major=settings.major)
    _add_alerts(app, window, settings)
    from console.app.settings import add_settings  # the dialogs load on first use

    add_settings(app, window, settings, edits, demo=demo, on_major=on_major)
    window.on_call_for = lambda incident: _on_call_dialog(cache, window, incident)
    # Building the window went through every incident several times; hand the
    # freed memory back rather than keep it resident for the whole shift.
    del incidents
    release_free_memory()
    # Open on the running major incident (most severe, then oldest) while one is
    # open, else on the top of the queue; its detail fills the pane beside it.
    window.select_first()
    notices = list(cache.notices)
    if notices:
        window.show_notice(" ".join(notices))
        for notice in notices:
            print(f"noc-console: {notice}", file=sys.stderr)
    return window


def _triage_context(
    cache: Cache,
    model: IncidentTableModel,
    policy: SlaPolicy,
    edits: LocalEdits,
    *,
    share_threshold: int = 25,
) -> TriageContext:
    """What the triage wizard (``n``) reads: the cache's reference data, the loaded
    incidents, the SLA policy, the operator's role, and the draft beside the cache."""
    from console.views.matrix.view import viewer_region_from_locale

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
        share_threshold=share_threshold,  # [major] share_threshold (#19)
    )


def _add_alerts(app: QApplication, window: MainWindow, settings: Settings) -> None:
    """Desktop notifications and sounds for new SEV-1/2 and SLA warnings and breaches."""
    from console.domain.alerts import AlertTracker
    from console.services.alert_watch import QueueAlertWatch
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
    # The registry's Alerts actions (Alerts menu, tray menu, Ctrl+K, ``?``) drive it.
    notifier.connect_actions(window.menu_actions)
    if notifier.tray is None:
        notifier.alerted.connect(lambda alert: window.show_alarm(alert.incident_id, alert.headline))
    # An alarm shown goes as soon as it ends (acknowledged here, even before it is sent).
    notifier.alarms_changed.connect(
        lambda _count: window.end_alarms({a.incident_id for a in tracker.alarms()})
    )
    # A local edit (acknowledge, resolve …) is looked at now, not at the next 5 s check.
    window.controller.done.connect(lambda _text: notifier.check_now())
    if notifier.tray is not None:
        actions = window.menu_actions
        notifier.tray.setContextMenu(actions.menu(actions.alerts_group(), window))
    notifier.incident_requested.connect(window.select_incident)
    # #19: overdue stakeholder updates alarm through the tracker (QueueAlertWatch reads the
    # queue's overdue majors), so mutes, snoozes and acknowledgement apply as to any alarm.


def _escalation_line(cache: Cache, policy: SlaPolicy, incident: Incident) -> str | None:
    """The incident's escalation path now, for the detail pane (None: no policy, or no data).

    The directory is read afresh: the pane asks at most every 15 s and on a
    change of incident, and the reference tables are small.
    """
    from console.services.routing import escalation_line

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


def _on_call_dialog(cache: Cache, window: MainWindow, incident: Incident) -> QDialog | None:
    """The ``c`` dialog for ``incident``: its service's chain as it stands now."""
    from console.models.escalation_matrix import local_zone
    from console.views.matrix.view import viewer_region_from_locale
    from console.views.on_call_dialog import OnCallDialog

    try:
        directory = Directory.from_store(cache)
    except (CacheError, ValueError):
        return None
    if not directory.services and not directory.policies:
        return None
    chain = directory.chain(incident.service, datetime.now(UTC))
    return OnCallDialog(
        incident,
        chain,
        directory,
        region=viewer_region_from_locale(),
        zone=local_zone(),
        parent=window,
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


def data_time(cache: Cache, settings: Settings, *, demo: bool, loaded: datetime) -> datetime | None:
    """When the shown data was last fresh: the demo's load time, or the newest sync."""
    backends = [DEMO_BACKEND] if demo else list(settings.backends)
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


def fail(message: str, interactive: bool) -> int:
    """Say why the console cannot start (stderr, and a message box when interactive): exit 2."""
    print(f"noc-console: {message}", file=sys.stderr)
    if interactive:
        QMessageBox.critical(None, "NOC Console cannot start", message)
    return EXIT_USER_ERROR
