"""The detail pane: every field of one incident, its live SLA clocks, its timeline, the actions.

The header says what it is and how bad (severity badge shape, code, label and
colour); the action buttons are the main window's actions themselves (same
shortcuts, same enabled state); the timeline shows work notes, status
updates, state changes, assignments and escalations, newest first; the
composer at the bottom adds a work note or a status update (Ctrl+Enter).

Everything the operator does shows at once: the pane follows the queue's
record of the incident (:attr:`ProjectionModel.incident_changed`) and its
timeline (:attr:`ProjectionModel.timelines_changed`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.incident import Incident, TimelineEvent, TimelineKind
from console.domain.major import countdown_text, declare_criteria
from console.domain.severity import Severity
from console.domain.sla import SlaReading, SlaStatus, duration_text
from console.domain.text import clock_text
from console.models.incident_table import SLA_STYLE, sla_text
from console.models.projection import ProjectionModel
from console.models.timeline import HEADING_ROLE, KIND_ROLE, PENDING_ROLE, TimelineModel
from console.views.actions import MainWindowActions, plain_text, shortcut_text
from console.views.alert_panel import AlertPanel, source_text
from console.views.button_row import WrappingButtonRow
from console.views.severity import paint_badge

# A bar per entry kind, beside the kind's name (never colour alone).
_KIND_COLOURS = {
    TimelineKind.WORK_NOTE: "#607D8B",
    TimelineKind.STATUS_UPDATE: "#2E7D32",
    TimelineKind.STATE_CHANGE: "#1565C0",
    TimelineKind.ASSIGNMENT: "#6A1B9A",
    TimelineKind.ESCALATION: "#C62828",
    TimelineKind.SEVERITY_CHANGE: "#EF6C00",
    TimelineKind.CSAT: "#00838F",
}


# How often the escalation line is recomputed while the pane just ticks: its
# countdowns are in whole minutes, so a few times a minute is plenty.
_ESCALATION_REFRESH = timedelta(seconds=15)


def _when(value: datetime | None) -> str:
    return "—" if value is None else clock_text(value, date=True, seconds=True)


class SeverityBadge(QWidget):
    """The severity shape with its number, at the size of the header text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._severity: Severity | None = None
        side = round(self.fontMetrics().height() * 2)
        self.setFixedSize(side, side)

    def set_severity(self, severity: Severity | None) -> None:
        self._severity = severity
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._severity is None:
            return
        painter = QPainter(self)
        paint_badge(
            painter, QRectF(self.rect()).adjusted(2, 2, -2, -2), self._severity, self.font()
        )
        painter.end()


class TimelineDelegate(QStyledItemDelegate):
    """An entry: a kind-coloured bar, the heading in bold, the body wrapped below."""

    def _width(self, option: QStyleOptionViewItem) -> int:
        widget = option.widget
        width = widget.viewport().width() if isinstance(widget, QListView) else option.rect.width()
        return max(120, width - 24)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        metrics = QFontMetrics(option.font)
        body = str(index.data(Qt.ItemDataRole.DisplayRole) or "").split("\n", 1)[-1]
        rect = metrics.boundingRect(
            QRect(0, 0, self._width(option), 10_000), int(Qt.TextFlag.TextWordWrap), body
        )
        return QSize(self._width(option), metrics.lineSpacing() + rect.height() + 14)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        kind = index.data(KIND_ROLE)
        rect = QRect(opt.rect).adjusted(0, 3, 0, -3)
        painter.save()
        if isinstance(kind, TimelineKind):
            painter.fillRect(
                QRect(rect.left() + 2, rect.top(), 4, rect.height()), QColor(_KIND_COLOURS[kind])
            )
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = opt.palette.ColorRole.HighlightedText if selected else opt.palette.ColorRole.Text
        painter.setPen(opt.palette.color(role))
        metrics = QFontMetrics(opt.font)
        bold = QFont(opt.font)
        bold.setBold(True)
        heading = str(index.data(HEADING_ROLE) or "")
        if index.data(PENDING_ROLE):
            bold.setItalic(True)
        painter.setFont(bold)
        text_left = rect.left() + 14
        painter.drawText(
            QRect(text_left, rect.top(), rect.width() - 18, metrics.lineSpacing()),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            heading,
        )
        painter.setFont(opt.font)
        body = str(index.data(Qt.ItemDataRole.DisplayRole) or "").split("\n", 1)[-1]
        painter.drawText(
            QRect(
                text_left,
                rect.top() + metrics.lineSpacing() + 2,
                rect.width() - 18,
                rect.height() - metrics.lineSpacing(),
            ),
            int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignTop),
            body,
        )
        painter.restore()


class ActionButton(QToolButton):
    """A button for an action that also shows its key, e.g. ``Acknowledge  A``."""

    def __init__(self, action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("actionButton")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setDefaultAction(action)
        action.changed.connect(self._label)
        self._label()

    def _label(self) -> None:
        action = self.defaultAction()
        keys = shortcut_text(action)
        text = plain_text(action).replace(" (assign to me)", "").rstrip("…")
        self.setText(f"{text}  {keys.lower() if len(keys) == 1 else keys}" if keys else text)


class NoteComposer(QWidget):
    """Write a work note or a status update; Ctrl+Enter (or the button) adds it."""

    submitted = Signal(str, str)
    """(body, kind: ``work_note`` or ``status_update``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noteComposer")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.kind = QComboBox(self)
        self.kind.addItem("Work note", "work_note")
        self.kind.addItem("Status update", "status_update")
        self.add = QPushButton("Add (Ctrl+Enter)", self)
        self.add.clicked.connect(self.submit)
        row.addWidget(self.kind)
        row.addStretch(1)
        row.addWidget(self.add)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("noteText")
        self.text.setTabChangesFocus(True)
        self.text.setPlaceholderText("Write a work note… (w) — or a status update (u)")
        self.text.setFixedHeight(self.text.fontMetrics().lineSpacing() * 4 + 12)
        layout.addWidget(self.text)
        layout.addLayout(row)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self.text, self.submit)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

    def start(self, kind: str) -> None:
        """Focus the text box, ready for a note of ``kind``."""
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.text.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def submit(self) -> None:
        body = self.text.toPlainText().strip()
        if body:
            self.submitted.emit(body, str(self.kind.currentData()))

    def clear(self) -> None:
        self.text.clear()


class DetailPane(QWidget):
    """One incident in full (see the module docstring)."""

    note_requested = Signal(str, str, str)
    """(incident id, body, kind): the operator asked to add a note."""

    def __init__(
        self,
        model: ProjectionModel,
        actions: MainWindowActions,
        timeline_source: Callable[[str], Sequence[TimelineEvent]] = lambda _id: (),
        parent: QWidget | None = None,
        *,
        escalation_source: Callable[[Incident], str | None] | None = None,
    ) -> None:
        """``escalation_source`` gives the incident's escalation path as one line
        (:func:`console.services.routing.escalation_line`); without it the Escalation
        section is hidden."""
        super().__init__(parent)
        self.setObjectName("detailPane")
        self._model = model
        self._timeline_source = timeline_source
        self._escalation_source = escalation_source
        self._escalation_at: datetime | None = None
        self._incident: Incident | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        outer.addWidget(splitter)

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        self.badge = SeverityBadge(top)
        self.number = QLabel(top)
        self.number.setObjectName("detailNumber")
        # Wrapping lets the pane narrow on a 1280-pixel laptop instead of widening the window.
        self.number.setWordWrap(True)
        self.number.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        header.addWidget(self.badge)
        header.addWidget(self.number, 1)
        top_layout.addLayout(header)
        self.title = QLabel(top)
        self.title.setObjectName("detailTitle")
        title_font = self.title.font()
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.25)
        self.title.setFont(title_font)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top_layout.addWidget(self.title)
        # The incident's post-incident review, when it has one (set_review_source).
        self._review_source: Callable[[Incident], str | None] | None = None
        self.review_line = QLabel(top)
        self.review_line.setObjectName("detailReview")
        self.review_line.setWordWrap(True)
        self.review_line.hide()
        top_layout.addWidget(self.review_line)

        self.action_buttons: list[QToolButton] = []
        for action in (
            actions.acknowledge,
            actions.take,
            actions.assign,
            actions.change_state,
            actions.resolve,
            actions.escalate,
        ):
            button = ActionButton(action, top)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            self.action_buttons.append(button)
        # Wraps onto two or three lines when the pane is narrow (a 1280-pixel laptop).
        self.button_row = WrappingButtonRow(self.action_buttons, top)
        top_layout.addWidget(self.button_row)

        self.clocks: dict[str, QLabel] = {}
        clock_row = QHBoxLayout()
        for kind in ("response", "resolution"):
            label = QLabel(top)
            label.setObjectName("slaClock")
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            clock_row.addWidget(label)
            self.clocks[kind] = label
        top_layout.addLayout(clock_row)

        # #19: a major incident's update countdowns (a late one framed, with words and a
        # clock shape), or the suggestion to declare one when a criterion holds.
        self.major_line = QLabel(top)
        self.major_line.setObjectName("majorLine")
        self.major_line.setWordWrap(True)
        self.major_line.setTextFormat(Qt.TextFormat.PlainText)
        self.major_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top_layout.addWidget(self.major_line)
        self._declare_key = shortcut_text(actions.declare_major)
        self.major_line.hide()

        # The escalation path: who is engaged, who is next and when, at a glance.
        self.escalation_heading = QLabel("Escalation", top)
        self.escalation_heading.setObjectName("sectionHeading")
        self.escalation = QLabel(top)
        self.escalation.setObjectName("escalationPath")
        self.escalation.setWordWrap(True)
        self.escalation.setTextFormat(Qt.TextFormat.PlainText)
        self.escalation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top_layout.addWidget(self.escalation_heading)
        top_layout.addWidget(self.escalation)
        self._show_escalation(None)

        fields = QWidget(top)
        fields.setObjectName("detailFields")
        # Two label/value pairs per row: every field fits without scrolling at desk sizes.
        self.grid = QGridLayout(fields)
        self.grid.setContentsMargins(0, 4, 0, 4)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(3)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(3, 1)
        self.fields: dict[str, QLabel] = {}
        for position, (key, caption) in enumerate(_FIELDS):
            name = QLabel(f"{caption}", fields)
            name.setObjectName("fieldName")
            value = QLabel(fields)
            value.setObjectName("fieldValue")
            value.setWordWrap(True)
            value.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            name.setBuddy(value)
            if key == "description":
                row = (len(_FIELDS) + 1) // 2
                self.grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
                self.grid.addWidget(value, row, 1, 1, 3)
            else:
                row, column = divmod(position, 2)
                self.grid.addWidget(name, row, column * 2, Qt.AlignmentFlag.AlignTop)
                self.grid.addWidget(value, row, column * 2 + 1)
            self.fields[key] = value
        # Monitoring incidents: the alert's labels, repeat count and generator link.
        self.alert_panel = AlertPanel(fields)
        self.grid.addWidget(self.alert_panel, self.grid.rowCount(), 0, 1, 4)
        # Spare height goes below the fields, not between their rows.
        self.grid.setRowStretch(self.grid.rowCount(), 1)
        scroll = QScrollArea(top)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(fields)
        top_layout.addWidget(scroll, 1)
        splitter.addWidget(top)
        self._top = top
        self._fields_widget = fields
        self._fields_scroll = scroll
        self._split_by_hand = False  # once the operator drags the divider, it stays put
        self._fitting = False

        bottom = QWidget(self)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("Timeline", bottom)
        heading.setObjectName("sectionHeading")
        bottom_layout.addWidget(heading)
        self.timeline = TimelineModel(model.queue.names, self)
        self.timeline_view = QListView(bottom)
        self.timeline_view.setObjectName("timeline")
        self.timeline_view.setModel(self.timeline)
        self.timeline_view.setItemDelegate(TimelineDelegate(self.timeline_view))
        self.timeline_view.setWordWrap(True)
        self.timeline_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.timeline_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.timeline_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        bottom_layout.addWidget(self.timeline_view, 1)
        self.composer = NoteComposer(bottom)
        self.composer.submitted.connect(self._submit_note)
        bottom_layout.addWidget(self.composer)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 0)  # extra height goes to the timeline
        splitter.setStretchFactor(1, 1)

        self.empty = QLabel("Select an incident (j/k, Enter) to see it here.", self)
        self.empty.setObjectName("detailEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.empty)
        self._splitter = splitter
        splitter.splitterMoved.connect(self._divider_moved)

        model.incident_changed.connect(self._incident_changed)
        model.timelines_changed.connect(self._timelines_changed)
        self.show_incident(None)

    # ------------------------------------------------------------- public

    @property
    def incident(self) -> Incident | None:
        return self._incident

    def show_incident(self, incident_id: str | None) -> None:
        """Show ``incident_id`` (None: nothing selected)."""
        incident = None if incident_id is None else self._model.queue.get(incident_id)
        same = (
            incident is not None and self._incident is not None and incident.id == self._incident.id
        )
        self._incident = incident
        self._splitter.setVisible(incident is not None)
        self.empty.setVisible(incident is None)
        if incident is None:
            self.timeline.show(None, [])
            return
        self._fill(incident)
        if not same:
            self.composer.clear()
        self._load_timeline()
        self._fit_split()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_split()

    def _divider_moved(self, *_: object) -> None:
        if not self._fitting:
            self._split_by_hand = True

    def _fit_split(self) -> None:
        """Give the fields the height they need and the timeline the rest."""
        if self._split_by_hand or self._incident is None or not self._splitter.isVisible():
            return
        total = sum(self._splitter.sizes())
        if total < 200:
            return
        chrome = self._top.sizeHint().height() - self._fields_scroll.sizeHint().height()
        # Wrapped values make the plain size hint too tall: ask for the real width.
        fields = self._fields_widget.heightForWidth(self._fields_scroll.viewport().width())
        if fields < 0:
            fields = self._fields_widget.sizeHint().height()
        wanted = chrome + fields + 8
        top = min(wanted, round(total * 0.6))
        self._fitting = True
        try:
            self._splitter.setSizes([top, total - top])
        finally:
            self._fitting = False

    def tick(self) -> None:
        """Once a second: move the SLA clocks shown here (and, now and then, the escalation)."""
        if self._incident is not None:
            self._fill_clocks(self._incident)
            self._fill_major(self._incident)
            now = self._model.queue.now
            if self._escalation_at is None or abs(now - self._escalation_at) >= _ESCALATION_REFRESH:
                self._fill_escalation(self._incident)

    def clear_composer(self) -> None:
        self.composer.clear()

    # ------------------------------------------------------------ internals

    def _incident_changed(self, incident_id: str) -> None:
        if self._incident is not None and incident_id == self._incident.id:
            incident = self._model.queue.get(incident_id)
            if incident is None:
                self._fill_gone(self._incident)
            else:
                self._incident = incident
                self._fill(incident)

    def _timelines_changed(self, incident_ids: frozenset[str]) -> None:
        if self._incident is not None and self._incident.id in incident_ids:
            self._load_timeline()
            # A new escalation entry changes who is engaged.
            self._fill_escalation(self._incident)

    def _show_escalation(self, text: str | None) -> None:
        self.escalation_heading.setVisible(text is not None)
        self.escalation.setVisible(text is not None)
        self.escalation.setText(text or "")

    def _fill_escalation(self, incident: Incident) -> None:
        self._escalation_at = self._model.queue.now
        if self._escalation_source is None:
            self._show_escalation(None)
            return
        self._show_escalation(self._escalation_source(incident))

    def _load_timeline(self) -> None:
        if self._incident is not None:
            self.timeline.show(self._incident.id, self._timeline_source(self._incident.id))

    def _submit_note(self, body: str, kind: str) -> None:
        if self._incident is not None:
            self.note_requested.emit(self._incident.id, body, kind)

    def _fill_gone(self, incident: Incident) -> None:
        self.alert_panel.show_alert(None)
        self.title.setText(f"{incident.title}\n\n(This incident is no longer in the local cache.)")

    def _fill(self, incident: Incident) -> None:
        names = self._model.queue.names
        severity = incident.severity
        self.badge.set_severity(severity)
        self.number.setText(
            f"<b>{incident.number}</b> · <b>{severity.code}</b> {severity.label}"
            + (" · <b>MAJOR INCIDENT</b>" if incident.major else "")
        )
        self.title.setText(incident.title)
        state = incident.state.label
        if incident.hold_reason is not None:
            state += f" ({incident.hold_reason.value.replace('_', ' ')})"
        holds = ", ".join(
            f"{_when(h.started)} → {_when(h.ended) if h.ended else 'now'}" for h in incident.holds
        )
        values = {
            "state": state,
            "service": names.service(incident.service),
            "assignee": names.person(incident.assignee) if incident.assignee else "Nobody",
            "group": names.team(incident.assignment_group) if incident.assignment_group else "—",
            "priority": (
                f"{severity.code} {severity.label} from impact {incident.impact.value}, "
                f"urgency {incident.urgency.value}"
            ),
            "category": " › ".join(c for c in (incident.category, incident.subcategory) if c)
            or "—",
            "source": source_text(incident.source.value, incident.alert),
            "reporter": incident.reporter or "—",
            "opened": _when(incident.opened_at),
            "acknowledged": _when(incident.acknowledged_at),
            "resolved": _when(incident.resolved_at),
            "closed": _when(incident.closed_at),
            "updated": f"{_when(incident.updated_at)} (version {incident.version})",
            # From the same reading as the clocks in the header, so the two always agree
            # (a new incident's stored dues stay empty until the backend numbers it).
            "response_due": self._due_text(incident, "response"),
            "resolution_due": self._due_text(incident, "resolution"),
            "holds": holds or "—",
            "description": self._model.queue.description(incident) or "—",
        }
        for key, text in values.items():
            self.fields[key].setText(text)
        self.alert_panel.show_alert(incident.alert)
        self._fill_clocks(incident)
        self._fill_major(incident)
        self._fill_escalation(incident)
        self._fill_review(incident)

    def set_review_source(self, source: Callable[[Incident], str | None]) -> None:
        """Show the incident's review standing (``Review overdue since …``) under its title."""
        self._review_source = source
        if self._incident is not None:
            self._fill_review(self._incident)

    def _fill_review(self, incident: Incident) -> None:
        text = self._review_source(incident) if self._review_source is not None else None
        self.review_line.setVisible(bool(text))
        self.review_line.setText(text or "")

    def _fill_major(self, incident: Incident) -> None:
        """The major-incident line: each audience's countdown, the overdue state, or the
        suggestion to declare (the criterion named, one key to accept)."""
        text, late = major_line_text(
            incident,
            self._model.queue.update_overdue(incident.id),
            self._model.queue.now,
            self._declare_key,
        )
        if text is None:
            self.major_line.hide()
            return
        self.major_line.setText(text)
        self.major_line.setProperty("overdue", late)
        self.major_line.setFrameShape(QFrame.Shape.Box if late else QFrame.Shape.NoFrame)
        self.major_line.setLineWidth(3 if late else 1)
        font = self.major_line.font()
        if font.bold() != late:
            font.setBold(late)
            self.major_line.setFont(font)
        self.major_line.show()

    def _due_text(self, incident: Incident, kind: str) -> str:
        reading: SlaReading = self._model.queue.policy.reading(
            incident,
            kind,  # type: ignore[arg-type]
            self._model.queue.now,
        )
        text = _when(reading.due)
        if reading.stopped_at is not None:
            return f"{text} ({reading.status.label.lower()})"
        return text

    def _fill_clocks(self, incident: Incident) -> None:
        policy = self._model.queue.policy
        now = self._model.queue.now
        for kind, label in self.clocks.items():
            reading: SlaReading = policy.reading(incident, kind, now)  # type: ignore[arg-type]
            due = clock_text(reading.due)
            label.setText(f"{sla_text(reading)} · due {due}")
            target = duration_text(reading.target)
            label.setToolTip(f"{kind.capitalize()} target {target} · {reading.status.label}")
            style = SLA_STYLE[reading.status]
            label.setProperty("status", reading.status.value)
            if style is not None:
                label.setStyleSheet(
                    f"QLabel {{ background: {style[0]}; color: {style[1]}; "
                    "padding: 3px 6px; border-radius: 4px; }"
                )
            else:
                label.setStyleSheet("QLabel { padding: 3px 6px; }")
            bold = reading.status is SlaStatus.BREACHED
            font = label.font()
            if font.bold() != bold:
                font.setBold(bold)
                label.setFont(font)


def major_line_text(
    incident: Incident, overdue: str | None, now: datetime, declare_key: str
) -> tuple[str | None, bool]:
    """The detail's major-incident line and whether it is in the overdue state."""
    if incident.major and incident.is_open:
        parts = [
            f"{audience.capitalize()} {countdown_text(due, now, audience)}"
            for audience, due in incident.next_update_due
            if due is not None
        ]
        countdowns = " · ".join(parts) if parts else "no update owed"
        if overdue:
            return (
                f"{overdue} — publish it from the major incident workspace (Ctrl+4). "
                f"Next updates: {countdowns}",
                True,
            )
        return (f"Major incident · next updates: {countdowns}", False)
    reasons = declare_criteria(incident)
    if reasons:
        return (
            f"▶ Declare a major incident? {'; '.join(reasons)}. "
            f"Press {declare_key} to declare (the criterion goes on the timeline as the why).",
            False,
        )
    return (None, False)


_FIELDS: tuple[tuple[str, str], ...] = (
    ("state", "State"),
    ("service", "Service"),
    ("assignee", "Assignee"),
    ("group", "Team"),
    ("priority", "Severity"),
    ("category", "Category"),
    ("source", "Source"),
    ("reporter", "Reporter"),
    ("opened", "Opened"),
    ("acknowledged", "Acknowledged"),
    ("resolved", "Resolved"),
    ("closed", "Closed"),
    ("updated", "Updated"),
    ("response_due", "Response due"),
    ("resolution_due", "Resolution due"),
    ("holds", "On hold"),
    ("description", "Description"),
)
