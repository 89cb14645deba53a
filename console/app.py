"""Wiring for the desktop console: settings, cache, demo data, window, theme.

``run_gui(args)`` is what ``noc-console`` runs. Every error the operator can
cause or fix (a typo in ``settings.toml`` or the demo files, an unwritable data
folder, a cache from a newer version) is printed as one clear line on stderr,
shown in a message box when there is a screen to show it on, and ends with exit
code 2 — never a traceback.

Syncing (not with ``--demo``, whose data is made up and stays local): the
backend is ``--backend URL``, else the first of ``backends`` in
``settings.toml``, else the embedded reference server started in this process
over SQLite in the data folder (:mod:`console.sync.embedded`). The engine runs
on a :class:`~console.sync.worker.SyncThread`; :class:`ConsoleSync` wires its
GUI-thread signals to the window (or the wall) and owns the token dialog, the
conflict dialogs and the refusal notices. At exit the sync is stopped before
the cache is closed, and the embedded server after both.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtGui import QAction, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from console import __version__, paths
from console.cli_sync import backend_address, open_backend, poll_interval_for
from console.connectors.base import Backend, Caller
from console.connectors.rt import TOKEN_HINT as RT_TOKEN_HINT
from console.connectors.rt import RtBackend
from console.credentials import (
    CredentialError,
    KeyringUnavailable,
    TokenMissing,
    resolve_token,
    store_token,
)
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
from console.store import Cache, CacheError, ChangeSet
from console.sync.edits import LocalEdits
from console.sync.engine import Conflict, Rejection, SyncEngine, SyncState, SyncUpdate
from console.sync.worker import SyncStatusModel, SyncThread, UpdatePacer
from console.triage_draft import DraftStore
from console.views.main_window import MainWindow
from console.views.sync_views import (
    ConflictDialog,
    OneAtATime,
    RejectionNotice,
    SyncStatusBar,
    TokenDialog,
    status_line,
)
from console.views.theme import apply_theme
from console.views.triage_wizard import TriageContext

if TYPE_CHECKING:
    from console.sync.embedded import EmbeddedBackend

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
        incidents = cache.incidents()
        names = DisplayNames.from_reference(
            cache.reference("services"), cache.reference("contacts"), cache.reference("teams")
        )
    except CacheError as exc:
        raise StartupError(str(exc)) from exc

    model = IncidentTableModel(policy, now, incidents, names=names)
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
    _add_matrix(window, cache)
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


REFERENCE_KINDS = frozenset({"services", "teams", "contacts", "policies", "shifts"})
"""Reference data the escalation matrix and the queue's display names are built from."""
SETTLED_STATES = frozenset(
    {
        SyncState.LIVE.value,
        SyncState.OFFLINE.value,
        SyncState.RECONNECTING.value,
        SyncState.AUTH_FAILED.value,
    }
)
"""States after which the first sync attempt is over (for ``--screenshot``)."""


@dataclass
class Connection:
    """The chosen backend, its sync engine, and how its token was found.

    ``token_origin`` is ``embedded``, ``keyring``, ``env:VAR`` or None (no
    token yet: ask). ``remember`` says whether a token the operator types is
    kept in the OS keyring; ``problem`` is why the keyring cannot be used.
    """

    url: str
    backend: Backend
    engine: SyncEngine
    token_origin: str | None
    remember: bool
    problem: str | None = None
    embedded: EmbeddedBackend | None = None
    after_edit: Callable[[], None] | None = None

    def edit_queued(self) -> None:
        """An edit was queued (``LocalEdits.on_queued``): send it now, and tell the window."""
        self.engine.wake()
        if self.after_edit is not None:
            self.after_edit()

    def close(self) -> None:
        """Close the connector and stop the embedded server (after the sync has stopped)."""
        self.backend.close()
        if self.embedded is not None:
            self.embedded.stop()


def _holdings_text(backend: Backend) -> str:
    """The connection label's tooltip: which backend holds what."""
    if isinstance(backend, RtBackend):
        return "\n".join(f"{what}: {where}" for what, where in backend.holdings())
    return f"Backend {backend.url}"


def connect_backend(
    args: argparse.Namespace, settings: Settings, cache: Cache, data_folder: Path
) -> Connection:
    """Pick the backend (``--backend``, settings, else embedded) and build its engine.

    Raises :class:`StartupError` for what the operator must fix first: a
    malformed URL, a missing CA bundle, an empty ``--token-env`` variable, an
    embedded server that cannot start. An unusable keyring is not fatal: the
    console asks for a token for this session and says how to fix the keyring.
    """
    poll = settings.poll_interval.total_seconds()
    chosen = args.backend or (settings.backends[0] if settings.backends else None)
    if chosen is None:
        # Only the embedded default pays for the server's imports.
        from console.sync.embedded import start_embedded

        try:
            embedded = start_embedded(data_folder)
        except Exception as exc:  # any failure here must end in a message, not a traceback
            raise StartupError(
                f"the built-in server could not start ({exc}); start with --backend URL to "
                "use a remote backend, or --demo to look around"
            ) from exc
        return Connection(
            url=embedded.backend.url,
            backend=embedded.backend,
            engine=SyncEngine(cache, embedded.backend, poll_interval=poll),
            token_origin="embedded",
            remember=False,
            embedded=embedded,
        )
    try:
        url = backend_address(chosen)
    except ValueError as exc:
        raise StartupError(str(exc)) from exc
    token_env: str | None = args.token_env
    token: str | None = None
    origin: str | None = None
    problem: str | None = None
    try:
        found = resolve_token(url, token_env=token_env)
    except TokenMissing as exc:
        raise StartupError(str(exc)) from exc
    except KeyringUnavailable as exc:
        problem = str(exc)
    else:
        if found is not None:
            token, origin = found.secret, found.origin
    try:
        backend = open_backend(
            url,
            token,
            settings,
            queue=getattr(args, "queue", None),
            ca_bundle=args.ca_bundle,
            known_reference=lambda kind: [str(i.get("id")) for i in cache.reference(kind)],
        )
    except ValueError as exc:
        raise StartupError(str(exc)) from exc
    return Connection(
        url=url,
        backend=backend,
        engine=SyncEngine(cache, backend, poll_interval=poll_interval_for(url, settings)),
        token_origin=origin,
        remember=token_env is None and problem is None,
        problem=problem,
    )


class ConsoleSync(QObject):
    """The sync engine on its thread, wired to the main window (GUI thread only).

    Updates go through an :class:`UpdatePacer` into the queue's model (and
    the escalation matrix when reference data changes); the status line shows
    the state as glyph + words; a refused token opens the token dialog (once
    at a time), a conflict the conflict dialog, a refused edit the banner and
    a notice with *Discard*. Non-interactive runs (``--screenshot``,
    offscreen) never open a dialog: the status line says what to do instead.
    """

    def __init__(
        self, connection: Connection, window: MainWindow, cache: Cache, *, interactive: bool
    ) -> None:
        super().__init__(window)
        self.connection = connection
        self.engine = connection.engine
        self.window = window
        self.cache = cache
        self.interactive = interactive
        self.sync_thread = SyncThread(connection.engine, self)
        self.pacer = UpdatePacer(parent=self)
        self.status = SyncStatusModel(parent=self)
        self.status.attach(self.sync_thread)
        self.status_bar = SyncStatusBar(self.status, window, parent=self)
        self.token_dialog: TokenDialog | None = None
        self.conflicts: OneAtATime[Conflict] = OneAtATime(
            self._conflict_dialog, closed=self._conflict_closed
        )
        self.rejections: OneAtATime[Rejection] = OneAtATime(self._rejection_notice)
        self._seen_conflicts: set[int] = set()

        self.sync_thread.changed.connect(self.pacer.push)
        self.pacer.ready.connect(self.apply_update)
        # From the status model, so the dialog opens in the same turn as the line changes.
        self.status.state_changed.connect(self._state_changed)
        self.sync_thread.conflict.connect(self.show_conflict)
        self.sync_thread.rejected.connect(self.show_rejection)
        self.sync_thread.outbox_changed.connect(self.status_bar.set_pending)
        window.ticker.timeout.connect(self.status_bar.tick)
        # The engine counts the outbox only when it runs a cycle; while it waits
        # for a token the operator still sees their edit counted at once.
        connection.after_edit = self._count_outbox
        self._add_menu()
        window.set_connection_state(status_line("syncing", f"Connecting to {connection.url}…"))
        window.connection_label.setToolTip(
            "The built-in server (no backend configured)"
            if connection.embedded is not None
            else _holdings_text(connection.backend)
        )
        self._label_matrix_source()
        if connection.problem:
            window.show_notice(f"API tokens cannot be kept: {connection.problem}")

    def _add_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&Connection")
        self.token_action = QAction("Enter API &token…", self.window)
        self.token_action.triggered.connect(lambda: self.ask_token())
        # The embedded server's token is made at each start; there is nothing to enter.
        self.token_action.setEnabled(self.connection.embedded is None)
        self.retry_action = QAction("&Reconnect now", self.window)
        self.retry_action.triggered.connect(self.engine.retry_now)
        menu.addAction(self.token_action)
        menu.addAction(self.retry_action)

    def start(self) -> None:
        """Start syncing; ask for a missing token; show what earlier sessions left undecided."""
        self.sync_thread.start()
        if self.connection.token_origin is None and self.interactive:
            self.ask_token("No token is stored for this backend yet.")
        try:
            conflicts = self.engine.conflicts()
            refused = self.engine.rejections()
        except CacheError:
            return  # the sync reports cache trouble itself
        for conflict in conflicts:
            self.show_conflict(conflict)
        if refused:
            self.window.show_notice(
                f"{len(refused)} edit(s) from earlier were refused by the backend; "
                "the incidents show the backend's values."
            )

    def stop(self) -> bool:
        """Stop the engine and wait for its thread (call before closing the cache)."""
        return self.sync_thread.stop()

    def when_settled(self, callback: Callable[[], None], timeout_ms: int) -> None:
        """Call ``callback`` once the first sync attempt is over (or after ``timeout_ms``)."""
        done = False

        def fire(*_: object) -> None:
            nonlocal done
            if done:
                return
            if _ and _[0] not in SETTLED_STATES:
                return
            done = True
            self.pacer.flush()  # the picture shows what the sync brought
            callback()

        self.sync_thread.state_changed.connect(fire)
        QTimer.singleShot(timeout_ms, fire)

    def _count_outbox(self) -> None:
        # Only the count is lost on a cache error; the sync reports cache trouble itself.
        with contextlib.suppress(CacheError):
            self.status_bar.set_pending(len(self.cache.pending_outbox()))

    # ------------------------------------------------------------ updates

    @Slot(object)
    def apply_update(self, update: SyncUpdate) -> None:
        """A slice of a sync update: into the queue, and reference data where it changed."""
        self.window.model.apply_changes(update.changes, update.lookup)
        if REFERENCE_KINDS & set(update.changes.reference_kinds):
            self._reload_reference()
        if update.changes.timeline_of:
            self._alert_on_escalations(update.changes.timeline_of)

    def _alert_on_escalations(self, incident_ids: Iterable[str]) -> None:
        """New escalation entries from the backend (the timer, a swarm) raise an alert."""
        from console.views.alerts import AlertNotifier

        notifier = self.window.findChild(AlertNotifier)
        if notifier is None:
            return
        try:
            events = [e for i in sorted(incident_ids) for e in self.cache.timeline(i)]
        except CacheError:
            return
        notifier.timeline_changed(events, self.window.model.queue.get)

    def _reload_reference(self) -> None:
        try:
            self.window.model.set_names(
                DisplayNames.from_reference(
                    self.cache.reference("services"),
                    self.cache.reference("contacts"),
                    self.cache.reference("teams"),
                )
            )
            directory = Directory.from_store(self.cache)
        except (CacheError, ValueError) as exc:
            self.window.show_notice(f"New reference data could not be read: {exc}")
            return
        matrix = self.window.matrix
        if matrix is None:
            _add_matrix(self.window, self.cache)
            self._label_matrix_source()
        elif hasattr(matrix, "refresh"):
            matrix.refresh(directory)

    def _label_matrix_source(self) -> None:
        """Say on the escalation matrix where its data comes from (RT holds none of it)."""
        backend = self.connection.backend
        matrix = self.window.matrix
        if not isinstance(backend, RtBackend) or matrix is None:
            return
        text = (
            f"On-call and escalation data from {backend.holdings()[1][1]}; incidents from "
            f"Request Tracker {backend.web_url} (queue {backend.queue})"
        )
        tabs = self.window.tabs
        tabs.setTabToolTip(tabs.indexOf(matrix), text)
        grid = getattr(matrix, "matrix", None)  # the matrix's table: its column headers
        if grid is not None:
            grid.horizontalHeader().setToolTip(text)

    def _show_backend_notices(self) -> None:
        """What the connector found that the operator should know (a missing RT field …)."""
        take = getattr(self.connection.backend, "take_notices", None)
        if take is None:
            return
        for notice in take():
            self.window.show_notice(notice)
            print(f"noc-console: {notice}", file=sys.stderr)

    # ------------------------------------------------------------ tokens

    @Slot(str)
    def _state_changed(self, state: str) -> None:
        self._show_backend_notices()
        if state != SyncState.AUTH_FAILED.value:
            return
        if self.connection.embedded is not None:
            return  # our own token was refused: nothing the operator can type helps
        if self.interactive:
            self.ask_token("The backend refused the token in use.")

    def ask_token(self, reason: str = "") -> None:
        """Open the token dialog (non-blocking; only one at a time)."""
        if self.token_dialog is not None and self.token_dialog.isVisible():
            return
        dialog = TokenDialog(
            self.connection.url,
            reason=reason,
            remembered=self.connection.remember,
            where_from=RT_TOKEN_HINT if isinstance(self.connection.backend, RtBackend) else "",
            parent=self.window,
        )
        dialog.token_entered.connect(self.use_token)
        self.token_dialog = dialog
        dialog.open()

    @Slot(str)
    def use_token(self, token: str) -> None:
        """Keep the token in the keyring (when it can be kept safely) and reconnect with it."""
        if self.connection.remember:
            try:
                store_token(self.connection.url, token)
            except CredentialError as exc:
                self.window.show_notice(f"{exc}. The token is used for this session only.")
        self.engine.set_token(token)

    # ------------------------------------------------------------ conflicts, refusals

    @Slot(object)
    def show_conflict(self, conflict: Conflict) -> None:
        """Let the operator choose between both values (queued: one dialog at a time)."""
        if conflict.record_id in self._seen_conflicts:
            return
        self._seen_conflicts.add(conflict.record_id)
        if not self.interactive:
            self.window.show_notice(conflict.message)
            return
        self.conflicts.add(conflict)

    def _conflict_dialog(self, conflict: Conflict) -> ConflictDialog:
        dialog = ConflictDialog(conflict, self.window)
        dialog.resolved.connect(self.resolve_conflict)
        return dialog

    def _conflict_closed(self, dialog: QDialog) -> None:
        if dialog.result() != QDialog.DialogCode.Accepted and isinstance(dialog, ConflictDialog):
            # Decided later: offer it again at the next start.
            self._seen_conflicts.discard(dialog.conflict.record_id)

    @Slot(int, object)
    def resolve_conflict(self, record_id: int, choices: dict[str, str]) -> None:
        """Apply the operator's choice: the kept values are queued again and shown at once."""
        try:
            shown = self.engine.resolve_conflict(record_id, choices)
        except (ValueError, CacheError) as exc:
            self.window.show_refusal(f"The conflict could not be settled: {exc}")
            return
        if shown is not None:
            self.window.model.apply_changes(
                ChangeSet(updated=frozenset({shown.id})), {shown.id: shown}.get
            )

    @Slot(object)
    def show_rejection(self, rejection: Rejection) -> None:
        """The backend's refusal above the queue, and (interactive) a notice with Discard."""
        self.window.show_refusal(rejection.text)
        if not self.interactive:
            return
        self.rejections.add(rejection)

    def _rejection_notice(self, rejection: Rejection) -> RejectionNotice:
        notice = RejectionNotice(rejection, self.window)
        notice.discard_requested.connect(self.discard)
        return notice

    @Slot(int)
    def discard(self, record_id: int) -> None:
        """Drop a refused edit from the outbox."""
        try:
            self.engine.discard(record_id)
        except CacheError as exc:
            self.window.show_notice(f"The refused edit could not be discarded: {exc}")


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
