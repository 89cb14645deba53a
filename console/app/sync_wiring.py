"""The sync engine wired to the desktop window: what the operator sees of the sync.

:class:`ConsoleSync` runs a :class:`~console.app.connection.Connection`'s engine on a
:class:`~console.models.sync_worker.SyncThread` and wires its GUI-thread signals to
the main window: updates into the queue (paced), the status line, the token
dialog and the Connection actions, the conflict dialogs and the refusal notices,
and the escalation matrix (:func:`add_matrix`) and the Reviews and Problems views
(:func:`add_reviews`) when their reference data arrives.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QDialog

from console.app.connection import Connection
from console.config.credentials import CredentialError, store_token
from console.connectors.base import Backend
from console.domain.incident import Incident
from console.models.incident_table import DisplayNames
from console.models.sync_worker import SyncStatusModel, SyncThread, UpdatePacer
from console.services.directory import Directory
from console.store import Cache, CacheError, ChangeSet
from console.sync.edits import stored_caller
from console.sync.review_edits import ReviewEdits
from console.sync.status import Conflict, Rejection, SyncState, SyncStatus, SyncUpdate
from console.views.insecure_banner import install_insecure_banner
from console.views.main_window import MainWindow

if TYPE_CHECKING:
    from console.views.review_dialogs import ReviewActions
    from console.views.reviews import ProblemsView, ReviewsView
from console.views.sync_dialogs import (
    TOKEN_REFUSED,
    ConflictDialog,
    OneAtATime,
    RejectionNotice,
    SyncStatusBar,
    TokenDialog,
    status_line,
)

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


def add_matrix(window: MainWindow, cache: Cache, *, demo: bool = False) -> None:
    """The escalation matrix as the window's third view (Ctrl+3)."""
    from console.views.matrix.view import EscalationMatrixView

    try:
        directory = Directory.from_store(cache)
    except (CacheError, ValueError) as exc:
        window.show_notice(f"The escalation matrix could not be read from the cache: {exc}")
        return
    matrix = EscalationMatrixView(directory, store=cache, parent=window)
    matrix.demo = demo
    window.add_matrix(matrix)


def _holdings_text(backend: Backend) -> str:
    """The connection label's tooltip: which backend holds what."""
    return "\n".join(f"{what}: {where}" for what, where in backend.holdings())


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
        self._conflict_kinds: dict[int, str] = {}
        """What each conflict shown is about (incidents, pirs, problems), by outbox record."""
        self._awaiting_verdict = False
        """A token was typed and the backend has not said yet whether it takes it."""

        self.sync_thread.changed.connect(self.pacer.push)
        self.pacer.ready.connect(self.apply_update)
        # From the status model, so the dialog opens in the same turn as the line changes.
        self.status.state_changed.connect(self._state_changed)
        self.sync_thread.status_changed.connect(self._status_seen)
        self.sync_thread.conflict.connect(self.show_conflict)
        self.sync_thread.rejected.connect(self.show_rejection)
        self.sync_thread.outbox_changed.connect(self.status_bar.set_pending)
        window.ticker.timeout.connect(self.status_bar.tick)
        # The engine counts the outbox only when it runs a cycle; while it waits
        # for a token the operator still sees their edit counted at once.
        connection.after_edit = self._count_outbox
        self._connect_actions()
        window.set_connection_state(status_line("syncing", f"Connecting to {connection.url}…"))
        window.connection_label.setToolTip(
            "The built-in server (no backend configured)"
            if connection.embedded is not None
            else _holdings_text(connection.backend)
        )
        self._label_matrix_source()
        if connection.insecure:
            install_insecure_banner(window, connection.insecure)
        if connection.problem:
            window.show_notice(f"API tokens cannot be kept: {connection.problem}")

    def _connect_actions(self) -> None:
        """The registry's Connection actions (Connection menu, Ctrl+K, ``?``) act on this sync."""
        actions = self.window.menu_actions
        actions.enter_token.triggered.connect(lambda: self.ask_token())
        # The embedded server's token is made at each start; there is nothing to enter.
        actions.enter_token.setEnabled(self.connection.embedded is None)
        actions.reconnect.triggered.connect(self.engine.retry_now)
        actions.reconnect.setEnabled(True)

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
        closing = self._closed_elsewhere(update)
        self.window.model.apply_changes(update.changes, update.lookup)
        controller = review_actions_of(self.window) if closing else None
        if controller is not None:
            for incident in closing:
                suggest_problem(self.window, self.cache, controller, incident)
        if REFERENCE_KINDS & set(update.changes.reference_kinds):
            self._reload_reference()
        if REVIEW_KINDS & set(update.changes.reference_kinds):
            reload_reviews(self.window, self.cache)
        if update.changes.timeline_of:
            self._alert_on_escalations(update.changes.timeline_of)

    def _closed_elsewhere(self, update: SyncUpdate) -> list[Incident]:
        """Closures another console made, for this operator to be asked about (docs/reviews.md)."""
        from console.services.reviews import closures_to_suggest

        if update.catching_up or not update.changes.updated:
            return []
        queue = self.window.model.queue
        watching = self.window.current_incident()
        return closures_to_suggest(
            (i for i in map(update.lookup, update.changes.updated) if i is not None),
            queue.get,
            mine=queue.is_mine,
            watching=None if watching is None else watching.id,
            now=queue.now,
        )

    def _alert_on_escalations(self, incident_ids: Iterable[str]) -> None:
        """New escalation entries from the backend (the timer, a swarm) raise an alert."""
        from console.views.alerts import AlertNotifier

        notifier = self.window.findChild(AlertNotifier)
        if notifier is None:
            return
        try:
            events = [e for i in sorted(incident_ids) for e in self.cache.timeline(i)]
            caller = stored_caller(self.cache)
        except CacheError:
            return
        if caller is not None:
            # What this console's own account did (a swarm) is not news to it.
            notifier.escalations.also_own(caller[1].name)
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
            add_matrix(self.window, self.cache)
            self._label_matrix_source()
        elif hasattr(matrix, "refresh"):
            matrix.refresh(directory)

    def _label_matrix_source(self) -> None:
        """Say on the escalation matrix where its data comes from, when the backend splits it.

        Request Tracker holds the incidents only; the matrix and on-call then
        come from another source, and the operator should know which.
        """
        holdings = self.connection.backend.holdings()
        matrix = self.window.matrix
        if len(holdings) < 2 or matrix is None:
            return
        text = "Where this comes from — " + "; ".join(
            f"{what}: {where}" for what, where in holdings
        )
        tabs = self.window.tabs
        tabs.setTabToolTip(tabs.indexOf(matrix), text)
        grid = getattr(matrix, "matrix", None)  # the matrix's table: its column headers
        if grid is not None:
            grid.horizontalHeader().setToolTip(text)

    def _show_backend_notices(self) -> None:
        """What the connector found that the operator should know (a missing RT field …)."""
        for notice in self.connection.backend.take_notices():
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
            self._awaiting_verdict = False
            self.ask_token(TOKEN_REFUSED)

    @Slot(object)
    def _status_seen(self, status: SyncStatus) -> None:
        """A token just typed was refused too: bring the dialog back (the state did not change)."""
        if not self._awaiting_verdict:
            return
        if status.state is SyncState.LIVE:
            self._awaiting_verdict = False
        elif status.state is SyncState.AUTH_FAILED and self.interactive:
            self._awaiting_verdict = False
            self.ask_token(TOKEN_REFUSED)

    def ask_token(self, reason: str = "") -> None:
        """Open the token dialog (non-blocking; only one at a time)."""
        if self.token_dialog is not None and self.token_dialog.isVisible():
            return
        dialog = TokenDialog(
            self.connection.url,
            reason=reason,
            remembered=self.connection.remember,
            where_from=self.connection.backend.token_hint,
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
        self._awaiting_verdict = True
        self.engine.set_token(token)

    # ------------------------------------------------------------ conflicts, refusals

    @Slot(object)
    def show_conflict(self, conflict: Conflict) -> None:
        """Let the operator choose between both values (queued: one dialog at a time)."""
        if conflict.record_id in self._seen_conflicts:
            return
        self._seen_conflicts.add(conflict.record_id)
        self._conflict_kinds[conflict.record_id] = conflict.kind
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
        if self._conflict_kinds.pop(record_id, "incidents") in REVIEW_KINDS:
            reload_reviews(self.window, self.cache)  # the kept values, marked waiting
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


REVIEW_KINDS = frozenset({"pirs", "problems"})
"""Cached documents behind the Reviews (Ctrl+5) and Problems (Ctrl+7) views."""


def add_reviews(window: MainWindow, cache: Cache, edits: ReviewEdits | None = None) -> None:
    """The Reviews and Problems views, filled from the cache (refreshed by reload_reviews);
    with ``edits``, the Review menu's actions edit them (console/views/review_dialogs.py)."""
    from console.views.reviews import ProblemsView, ReviewsView

    reviews = ReviewsView(parent=window)
    problems = ProblemsView(parent=window)
    # No Alt mnemonic on these tabs: the window's letters are taken (Ctrl+5 / Ctrl+7 show them).
    window.add_view(reviews, "Reviews", window.menu_actions.show_reviews)
    window.add_view(problems, "Problems", window.menu_actions.show_problems)
    reload_reviews(window, cache)
    if edits is not None:
        connect_review_actions(window, cache, edits, reviews, problems)


def connect_review_actions(
    window: MainWindow,
    cache: Cache,
    edits: ReviewEdits,
    reviews: ReviewsView,
    problems: ProblemsView,
) -> ReviewActions:
    """The Review menu acts on the selected review (Reviews), problem (Problems) or incident."""
    from console.views.review_dialogs import ReviewActions

    def incident() -> tuple[str, str] | None:
        if window.tabs.currentWidget() is reviews:
            doc = reviews.selected_review()
            if doc is None:
                return None
            return str(doc.get("incident_id", "")), str(doc.get("incident_number", ""))
        selected = window.current_incident()
        return None if selected is None else (selected.id, selected.number)

    def problem() -> str | None:
        doc = problems.selected_problem()
        return None if doc is None else str(doc.get("id", ""))

    def people() -> list[str]:
        with contextlib.suppress(CacheError):
            return sorted(str(c.get("id", "")) for c in cache.reference("contacts"))
        return []

    def known_problems() -> list[dict[str, object]]:
        with contextlib.suppress(CacheError):
            return cache.reference("problems")
        return []

    controller = ReviewActions(
        edits,
        current_incident=incident,
        current_problem=problem,
        people=people,
        problems=known_problems,
        dialog_parent=window,
    )

    def done(text: str) -> None:
        window.show_done(text)
        reload_reviews(window, cache)  # the edit is in the cache already: show it

    controller.done.connect(done)
    controller.refused.connect(window.show_refusal)

    def after_incident_edit(_text: str) -> None:
        # At closure: suggest opening or linking a problem (Ctrl+Shift+B, one key).
        from console.domain.lifecycle import State

        closed = window.current_incident()
        if closed is not None and closed.state is State.CLOSED:
            suggest_problem(window, cache, controller, closed)

    window.controller.done.connect(after_incident_edit)

    def open_or_link() -> None:
        target = incident()
        controller.open_or_link(controller.suggested.get(target[0], []) if target else [])

    def show_known_problem() -> None:
        # Alt+L in the triage wizard: the Problems view on the known error's problem.
        from console.views.triage.before import problem_of
        from console.views.triage.wizard import TriageWizard

        wizard = window.controller.dialog
        known = wizard.before.chosen_known_error() if isinstance(wizard, TriageWizard) else None
        if not isinstance(wizard, TriageWizard) or known is None:
            window.show_refusal(
                "Alt+L works in the triage wizard: choose a suggested known error first (Alt+K)."
            )
            return
        number = problem_of(known)
        if number is None or not problems.select_problem(number):
            window.show_refusal(
                f"{known.id} is not a problem's known error (it comes from the knowledge base)."
            )
            return
        wizard.reject()  # the call's triage is kept as a draft (N offers it back)
        window.menu_actions.show_problems.trigger()
        problems.select_problem(number)
        window.show_done(
            f"{number}: the problem behind {known.id}. The call's triage is kept: N reopens it."
        )

    window.controller.wizard_actions.append(window.menu_actions.show_known_problem)
    menu = window.menu_actions
    for action, slot in (
        (menu.draft_review, controller.draft),
        (menu.edit_review, controller.edit),
        (menu.add_action_item, controller.add_item),
        (menu.update_action_item, controller.update_item),
        (menu.mark_timeline, controller.mark_timeline),
        (menu.hold_review, controller.hold),
        (menu.approve_review, controller.approve),
        (menu.open_problem, open_or_link),
        (menu.move_problem, controller.move_problem),
        (menu.publish_known_error, controller.publish_known_error),
        (menu.show_known_problem, show_known_problem),
    ):
        action.triggered.connect(lambda *_args, run=slot: run())
        action.setEnabled(True)
    reviews.review_actions = controller  # kept alive with the view (and reachable from tests)
    return controller


def suggest_problem(
    window: MainWindow, cache: Cache, controller: ReviewActions, closed: Incident
) -> None:
    """At a closure: say why to open or link a problem (Ctrl+Shift+B), once per incident."""
    from console.services.reviews import closure_suggestion

    if closed.id in controller.suggested:
        return
    try:
        reasons = closure_suggestion(
            closed,
            [row.incident for row in window.model.queue.ordered()],
            cache.reference("pirs"),
            cache.reference("problems"),
            window.model.queue.now,
        )
    except CacheError:
        return
    if reasons:
        controller.suggested[closed.id] = reasons
        window.show_notice(
            f"{closed.number} closed: {'; '.join(reasons)}. Ctrl+Shift+B opens a problem "
            "for it or links it to one."
        )


def review_actions_of(window: MainWindow) -> ReviewActions | None:
    """The Review menu's controller, once the Reviews view is connected to the edits."""
    from console.views.review_dialogs import ReviewActions
    from console.views.reviews import ReviewsView

    for view in window.side_views:
        if isinstance(view, ReviewsView) and isinstance(view.review_actions, ReviewActions):
            return view.review_actions
    return None


def reload_reviews(window: MainWindow, cache: Cache) -> None:
    """Refill the Reviews and Problems views from the cache; a cache error is a notice."""
    from console.views.reviews import ProblemsView, ReviewsView

    try:
        pirs, problems = cache.reference("pirs"), cache.reference("problems")
    except CacheError as exc:
        window.show_notice(f"Reviews and problems could not be read from the cache: {exc}")
        return
    show_review_standing(window, pirs)
    for view in window.side_views:
        if isinstance(view, ReviewsView):
            view.set_reviews(pirs)
        elif isinstance(view, ProblemsView):
            view.set_problems(problems)


def show_review_standing(window: MainWindow, pirs: list[dict[str, object]]) -> None:
    """Tell the queue (``review:overdue``) and the detail pane which reviews are past due."""
    from console.services.reviews import review_standings

    standings = review_standings(pirs, window.model.queue.now)
    window.model.queue.set_review_overdue(i for i, s in standings.items() if s.late)

    def line(incident: Incident) -> str | None:
        standing = standings.get(incident.id)
        return None if standing is None else standing.text()

    window.detail.set_review_source(line)
