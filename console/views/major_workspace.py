"""The major incident workspace (Ctrl+4): roles, countdowns, drafts, publish, summary.

One place for the commander and the Communications Lead: the open major
incidents on the left; for the chosen one its roles (with ``tel:`` links to
the holders' phones from the directory), each audience's countdown to its
next due update (``OVERDUE`` in words and a ⚠ shape when late, never colour
alone), a draft filled from the audience's template (Jinja2 sandbox,
:mod:`console.services.major`), published with Ctrl+Return through the outbox, and
the executive summary copied as text with Ctrl+Shift+C (Ctrl+E shows it on one
screen, :mod:`console.views.major_summary`).

Roles from the escalation matrix, the holders' phones, the bridge and the
responders are :mod:`console.views.major_war_room` (the workspace's base
class). The cadence, the templates and the extra roles come from
``[major]`` in settings.toml.

The countdowns tick once a second by relabelling a few widgets (no cache
read); the incident list and timelines are re-read from the cache every
few seconds while the workspace is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from html import escape as _esc
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.config.settings import MajorSettings
from console.domain.alerts import Alert, AlertReason
from console.domain.errors import DomainError
from console.domain.incident import Incident
from console.domain.major import (
    AUDIENCES,
    UPDATE_STATUSES,
    command_order,
    countdown_text,
    overdue,
)
from console.domain.triage import major_incident_trigger
from console.services.major import (
    DEFAULT_TEMPLATES,
    ExecutiveSummary,
    MajorSnapshot,
    TemplateRefused,
    executive_summary,
    render_draft,
    snapshot,
    template_for,
)
from console.store import Cache, CacheError
from console.sync.edits import LocalEdits
from console.views.major_war_room import WarRoomPanel

REFRESH_MS = 3_000


def declare_reasons(incident: Incident) -> list[str]:
    """The criteria (domain/triage.py) that say this incident is a major one."""
    trigger = major_incident_trigger(
        severity=incident.severity, category=incident.category, impact=None, urgency=None
    )
    return list(trigger.reasons)


def _elapsed(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    return f"{minutes // 60}h {minutes % 60:02d}m"


def summary_text(snap: MajorSnapshot, now: datetime) -> str:
    """The executive summary as plain text (what Ctrl+Shift+C copies; built Qt-free)."""
    return executive_summary(snap, now).text()


class MajorWorkspace(WarRoomPanel):
    """The workspace widget; ``refresh()`` re-reads the cache, ``tick()`` relabels countdowns.

    ``overdue_alert(Alert)`` is emitted once when an audience's update becomes
    overdue (not for those already overdue when the console started: the
    alert rules prime the same way); :func:`connect_alerts` hands it to the
    console's alert notifier, so the sound and mute settings apply.
    """

    overdue_alert = Signal(object)

    def __init__(
        self,
        cache: Cache,
        edits: LocalEdits | None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        major: MajorSettings | None = None,
        open_url: Callable[[str], bool] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("major_workspace")
        self._cache = cache
        self._edits = edits
        self._clock = clock
        self._major = major or MajorSettings()
        # How a tel: link is dialled (the OS's phone app); replaceable for tests.
        self._open_url = open_url or (lambda url: QDesktopServices.openUrl(QUrl(url)))
        self._snaps: list[MajorSnapshot] = []
        self._alerted: set[tuple[str, str, datetime]] | None = None
        self._names: dict[str, str] = {}
        self._candidate: Incident | None = None
        self.suggestion = QLabel(self)
        self.suggestion.setObjectName("major_suggestion")
        self.suggestion.setWordWrap(True)
        self.majors = QListWidget(self)
        self.majors.setObjectName("majors")
        self.majors.setWordWrap(True)
        self.header = QLabel(self)
        self.header.setObjectName("major_header")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setOpenExternalLinks(True)
        self.header.setWordWrap(True)
        self._build_war_room()  # roles, role offer, war room (views/major_war_room.py)
        self.countdowns: dict[str, QLabel] = {}
        grid = QGridLayout()
        for column, audience in enumerate(AUDIENCES):
            label = QLabel(self)
            label.setObjectName(f"countdown_{audience}")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setMinimumHeight(48)
            self.countdowns[audience] = label
            grid.addWidget(label, 0, column)
        self.audience = QComboBox(self)
        self.audience.addItems(list(AUDIENCES))
        self.status = QComboBox(self)
        self.status.addItems(list(UPDATE_STATUSES))
        self.draft = QPlainTextEdit(self)
        self.draft.setObjectName("major_draft")
        self.publish_button = QPushButton("&Publish (Ctrl+Return)", self)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.updates = QListWidget(self)
        self.updates.setObjectName("major_updates")

        right = QVBoxLayout()
        right.addWidget(self.suggestion)
        right.addWidget(self.header)
        right.addWidget(self.roles)
        right.addWidget(self.offer)
        right.addWidget(self.war_room)
        right.addLayout(grid)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Audience", self))
        controls.addWidget(self.audience)
        controls.addWidget(QLabel("Status", self))
        controls.addWidget(self.status)
        controls.addStretch(1)
        controls.addWidget(self.publish_button)
        right.addLayout(controls)
        right.addWidget(self.draft, 2)
        right.addWidget(self.message)
        right.addWidget(QLabel("Published updates (newest first)", self))
        right.addWidget(self.updates, 2)
        layout = QHBoxLayout(self)
        layout.addWidget(self.majors, 1)
        layout.addLayout(right, 3)

        self.majors.currentRowChanged.connect(lambda _row: self._show_current())
        self.audience.currentTextChanged.connect(lambda _t: self.fill_draft())
        self.status.currentTextChanged.connect(lambda _t: self.fill_draft())
        self.publish_button.clicked.connect(self.publish)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1_000)
        self._ticker.timeout.connect(self.tick)
        self._ticker.start()
        self._refresher = QTimer(self)
        self._refresher.setInterval(REFRESH_MS)
        self._refresher.timeout.connect(self._refresh_if_shown)
        self._refresher.start()
        self.refresh()

    # -- data -----------------------------------------------------------------

    def set_major(self, major: MajorSettings) -> None:
        """New ``[major]`` settings (saved in the Settings dialog): cadence, roles,
        templates apply at once; the countdowns and the draft are redone."""
        self._major = major
        self.refresh()

    def refresh(self) -> None:
        """Re-read the open major incidents and their timelines from the cache."""
        services = self._cache.reference("services")
        facing = {str(doc.get("id")) for doc in services if doc.get("customer_facing")}
        self._names = {
            str(doc.get("id")): str(doc.get("name") or doc.get("id")) for doc in services
        }
        self._read_people(self._cache)
        self._show_suggestion()
        majors = self._cache.open_major_incidents()
        # The order the console opens in: the running major (the one selected
        # at start) is on top.
        majors.sort(key=command_order)
        current = self.current()
        cadence = self._major.cadence_minutes
        self._snaps = [snapshot(self._cache, incident, facing, cadence) for incident in majors]
        self.majors.blockSignals(True)
        self.majors.clear()
        for snap in self._snaps:
            self.majors.addItem(QListWidgetItem(self._row_text(snap)))
        chosen = next(
            (
                n
                for n, s in enumerate(self._snaps)
                if current and s.incident.id == current.incident.id
            ),
            0,
        )
        if self._snaps:
            self.majors.setCurrentRow(chosen)
        self.majors.blockSignals(False)
        self._show_current()

    def _refresh_if_shown(self) -> None:
        if not self.isVisible():
            return
        try:
            self.refresh()
        except CacheError:
            self._refresher.stop()  # the cache closed under us (the console is closing)

    def current(self) -> MajorSnapshot | None:
        row = self.majors.currentRow()
        return self._snaps[row] if 0 <= row < len(self._snaps) else None

    def _row_text(self, snap: MajorSnapshot) -> str:
        late = overdue(snap.due, self._clock())
        mark = f"⚠ OVERDUE ({', '.join(late)}) " if late else ""
        inc = snap.incident
        return f"{mark}{inc.number}  SEV-{int(inc.severity)}  {inc.service}\n{inc.title}"

    # -- showing --------------------------------------------------------------

    def _show_current(self) -> None:
        snap = self.current()
        if snap is None:
            self.header.setText("<b>No major incident is running.</b>")
            self.roles.clear()
            self.offer.hide()
            self.updates.clear()
            self.draft.clear()
            self.tick()
            return
        now = self._clock()
        inc = snap.incident
        commander = snap.roles.get("Incident Commander", "none yet")
        self.header.setText(
            f"<span style='font-size:16pt'><b>{inc.number} SEV-{int(inc.severity)}</b> "
            f"{_esc(inc.title)}</span><br>{_esc(self._names.get(inc.service, inc.service))}"
            " · declared "
            f"{snap.declared_at:%H:%M} UTC, {_elapsed(snap.declared_at, now)} ago · "
            f"commander {self._person(commander)}"
        )
        self._show_war_room(snap)
        self.updates.clear()
        for update in reversed(snap.updates):
            self.updates.addItem(
                f"{update.at:%H:%M} {update.audience} · {update.status} · {update.author}: "
                f"{update.text}"
            )
        self.fill_draft()
        self.tick()

    def _raise_overdue(self, now: datetime) -> None:
        late: set[tuple[str, str, datetime]] = {
            (s.incident.id, audience, due)
            for s in self._snaps
            for audience in overdue(s.due, now)
            if (due := s.due.get(audience)) is not None
        }
        if self._alerted is None:  # priming: what is late at start does not alarm
            self._alerted = late
            return
        by_id = {s.incident.id: s for s in self._snaps}
        for key in sorted(late - self._alerted, key=lambda k: (k[0], k[1])):
            self._alerted.add(key)
            incident_id, audience, due_at = key
            snap = by_id[incident_id]
            by = countdown_text(due_at, now, audience)
            inc = snap.incident
            self.overdue_alert.emit(
                Alert(
                    incident_id=inc.id,
                    number=inc.number,
                    title=inc.title,
                    service=inc.service,
                    severity=inc.severity,
                    reason=AlertReason.UPDATE_OVERDUE,
                    text=f"The {audience} update is overdue ({by})",
                    at=now,
                )
            )

    def tick(self) -> None:
        """Relabel the countdowns and the overdue marks (once a second)."""
        snap = self.current()
        now = self._clock()
        self._raise_overdue(now)
        for audience, label in self.countdowns.items():
            due = snap.due.get(audience) if snap else None
            text = countdown_text(due, now, audience)
            late = text.startswith("OVERDUE")
            shape = "⚠ " if late else ""
            label.setText(f"<b>{audience.capitalize()}</b><br>{shape}{text}")
            label.setFrameShape(QLabel.Shape.Box if late else QLabel.Shape.NoFrame)
            label.setLineWidth(3 if late else 1)
        for row, each in enumerate(self._snaps):
            item = self.majors.item(row)
            if item is not None:
                item.setText(self._row_text(each))

    # -- acting ---------------------------------------------------------------

    def fill_draft(self) -> None:
        """Fill the draft from the chosen audience's template."""
        snap = self.current()
        if snap is None:
            return
        audience = self.audience.currentText()
        due = snap.due.get(audience)
        inc = snap.incident
        fields = {
            "title": inc.title,
            "service": self._names.get(inc.service, inc.service),
            "severity": f"SEV-{int(inc.severity)}",
            "impact": inc.impact.value,
            "started": f"{snap.declared_at:%H:%M} UTC",
            "status": self.status.currentText(),
            "doing": snap.doing,
            "next_update": f"{due:%H:%M} UTC" if due else "when there is news",
        }
        source, key = template_for(self._major.templates, int(inc.severity), audience)
        try:
            self.draft.setPlainText(render_draft(source, fields))
        except TemplateRefused as exc:
            # A hand-edited settings.toml: say which key, and draft from the built-in one.
            self.message.setText(f"The template {key} is refused ({exc}); using the built-in one.")
            self.draft.setPlainText(render_draft(DEFAULT_TEMPLATES[audience], fields))

    def publish(self) -> None:
        """Publish the draft to the chosen audience (queued in the outbox, sent once)."""
        snap = self.current()
        if snap is None or self._edits is None:
            self.message.setText("Nothing to publish: no major incident, or a read-only console.")
            return
        try:
            self._edits.publish_status_update(
                snap.incident.id,
                self.audience.currentText(),
                self.status.currentText(),
                self.draft.toPlainText(),
            )
        except (DomainError, ValueError) as exc:
            self.message.setText(f"Not published: {exc}")
            return
        self.message.setText(f"Published to {self.audience.currentText()} (sent from the outbox).")
        self.refresh()

    def _show_suggestion(self) -> None:
        candidates = self._cache.open_declare_candidates()
        candidates.sort(key=lambda i: (int(i.severity), i.opened_at))
        self._candidate = candidates[0] if candidates else None
        if self._candidate is None:
            self.suggestion.hide()
            return
        inc = self._candidate
        reasons = "; ".join(declare_reasons(inc))
        more = f" (and {len(candidates) - 1} more)" if len(candidates) > 1 else ""
        self.suggestion.setText(
            f"▶ Declare a major incident? {inc.number} {inc.title} — {reasons}. "
            f"Press Ctrl+D to declare{more}."
        )
        self.suggestion.show()

    def declare_suggested(self) -> None:
        """Declare the suggested incident major; the criterion is written beside it as the why."""
        inc = self._candidate
        if inc is None or self._edits is None:
            self.message.setText("Nothing to declare, or a read-only console.")
            return
        reasons = "; ".join(declare_reasons(inc))
        try:
            self._edits.patch(inc.id, {"major": True})
            self._edits.add_note(inc.id, f"Declared a major incident: {reasons}")
        except (DomainError, ValueError) as exc:
            self.message.setText(f"Not declared: {exc}")
            return
        self.message.setText(f"Declared {inc.number} a major incident ({reasons}).")
        self.refresh()

    def copy_summary(self) -> None:
        summary = self.summary()
        if summary is None:
            return
        QGuiApplication.clipboard().setText(summary.text())
        self.message.setText("Executive summary copied as text.")

    def summary(self) -> ExecutiveSummary | None:
        """The current incident's executive summary (None: no major incident)."""
        snap = self.current()
        if snap is None:
            return None
        return executive_summary(
            snap,
            self._clock(),
            service_name=self._names.get(snap.incident.service, snap.incident.service),
            phones=self._phones,
            role_order=self.role_names(),
        )

    def show_summary(self) -> QDialog | None:
        """Ctrl+E: the executive summary on one screen (copy as text, print to PDF)."""
        from console.views.major_summary import SummaryDialog

        summary = self.summary()
        if summary is None:
            self.message.setText("No major incident is running: no executive summary to show.")
            return None
        dialog = SummaryDialog(summary, self)
        dialog.setModal(True)
        dialog.show()
        return dialog


def install(
    window: QWidget,
    tabs: object,
    cache: Cache,
    edits: LocalEdits | None,
    *,
    major: MajorSettings | None = None,
) -> MajorWorkspace:
    """Add the workspace as a tab of ``tabs`` and wire its registry actions (one call from the app).

    With the main window's action registry (``window.menu_actions``) the
    War room menu's actions are enabled and each shows the workspace first;
    a bare window (tests) gets Ctrl+4 as a shortcut of its own.
    """
    from PySide6.QtWidgets import QApplication, QTabWidget

    from console.views.actions import MainWindowActions

    workspace = MajorWorkspace(cache, edits, major=major, parent=window)
    assert isinstance(tabs, QTabWidget)
    tabs.addTab(workspace, "Ma&jor incidents")

    def show_workspace() -> None:
        tabs.setCurrentWidget(workspace)
        workspace.refresh()
        # The keys of the workspace (Ctrl+Return publishes) live while the focus is
        # in it: land on the list of majors.
        focused = QApplication.focusWidget()
        if focused is None or not workspace.isAncestorOf(focused):
            workspace.majors.setFocus()

    def shown(act: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            if tabs.currentWidget() is not workspace:
                show_workspace()
            act()

        return run

    actions = getattr(window, "menu_actions", None)
    if not isinstance(actions, MainWindowActions):
        QShortcut(QKeySequence("Ctrl+4"), window).activated.connect(show_workspace)
        return workspace

    def in_view(act: Callable[[], object]) -> Callable[[], None]:
        # An edit from elsewhere (the palette, a menu) only shows the workspace first.
        def run() -> None:
            if tabs.currentWidget() is not workspace:
                show_workspace()
                workspace.draft.setFocus()
                return
            act()

        return run

    wiring: list[tuple[Any, Callable[[], None]]] = [
        (actions.show_major, show_workspace),
        (actions.major_summary, shown(workspace.show_summary)),
        (actions.major_copy_summary, shown(workspace.copy_summary)),
        (actions.major_call, shown(workspace.show_call_menu)),
    ]
    # The workspace's own keys (widget-wide context, set by the registry).
    workspace.addActions([actions.major_publish, actions.major_copy_summary, actions.major_declare])
    if edits is not None:  # the read-only demo only shows
        wiring += [
            (actions.major_publish, in_view(workspace.publish)),
            (actions.major_declare, in_view(workspace.declare_suggested)),
            (actions.major_accept_role, shown(workspace.accept_offer)),
            (actions.major_assign_role, shown(workspace.assign_role)),
            (actions.major_bridge, shown(workspace.set_bridge)),
            (actions.major_responder, shown(workspace.record_responder)),
        ]
    for action, slot in wiring:
        action.triggered.connect(slot)
        action.setEnabled(True)
    return workspace


def connect_alerts(window: QWidget, notifier: QObject) -> None:
    """Deliver the workspace's overdue alerts through the console's notifier (its rules apply)."""
    from console.views.alerts import AlertNotifier

    workspace = window.findChild(MajorWorkspace)
    if workspace is None or not isinstance(notifier, AlertNotifier):
        return
    rules = notifier.tracker.rules

    def deliver(alert: object) -> None:
        if not isinstance(alert, Alert) or not rules.enabled or alert.severity in rules.muted:
            return
        notifier.deliver([replace(alert, sound=rules.sound)])

    workspace.overdue_alert.connect(deliver)
