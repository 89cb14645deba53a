"""The small dialogs behind the incident actions: assign, change state, resolve, escalate.

Each dialog only gathers the operator's choice and checks it is complete; the
actions controller performs it. All of them work from the keyboard alone:
Tab moves, Enter (Ctrl+Enter inside a text box) confirms, Esc cancels. Every
dialog is opened with ``open()`` (window-modal, not a nested event loop), so
the live board keeps ticking behind it.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from console.domain.incident import Incident
from console.domain.lifecycle import ALLOWED, HoldReason, State
from console.services.queue import DisplayNames

_HOLD_LABELS = {
    HoldReason.AWAITING_CALLER: "Awaiting the caller (pauses the SLA)",
    HoldReason.AWAITING_VENDOR: "Awaiting a vendor (pauses the SLA)",
    HoldReason.AWAITING_CHANGE: "Awaiting a change window (SLA keeps running)",
}


class _Dialog(QDialog):
    """A form with OK/Cancel, an error line, and Ctrl+Enter to confirm from a text box."""

    def __init__(self, title: str, ok_text: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("actionDialog")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.layout_ = QVBoxLayout(self)
        self.heading = QLabel(self)
        self.heading.setObjectName("dialogHeading")
        self.heading.setWordWrap(True)
        self.layout_.addWidget(self.heading)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.error = QLabel(self)
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.layout_.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(ok_text)
        ok.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.accept)

    def problem(self) -> str | None:
        """What is missing or wrong (None: the form can be accepted)."""
        return None

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        super().accept()


def _note_box(parent: QWidget, placeholder: str) -> QPlainTextEdit:
    box = QPlainTextEdit(parent)
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)
    box.setMinimumHeight(box.fontMetrics().lineSpacing() * 4)
    return box


def _fill(combo: QComboBox, items: Iterable[tuple[str, str | None]], current: str | None) -> None:
    for label, value in items:
        combo.addItem(label, value)
    position = combo.findData(current)
    combo.setCurrentIndex(max(position, 0))


def _people(names: DisplayNames) -> list[tuple[str, str | None]]:
    people: list[tuple[str, str | None]] = [(n, p) for p, n in names.people.items()]
    people.sort(key=lambda pair: pair[0].lower())
    return [("Nobody", None), *people]


def _teams(names: DisplayNames, *, by_tier: bool = False) -> list[tuple[str, str | None]]:
    def label(team: str, name: str) -> str:
        tier = names.tiers.get(team)
        return f"{tier} · {name}" if tier else name

    teams: list[tuple[str, str | None]] = [(label(t, n), t) for t, n in names.teams.items()]
    teams.sort(key=lambda pair: pair[0].lower())
    return teams if by_tier else [("No team", None), *teams]


class AssignDialog(_Dialog):
    """Choose the person and the team (assignment group) who own the incident."""

    def __init__(self, incident: Incident, names: DisplayNames, parent: QWidget | None) -> None:
        super().__init__(f"Assign {incident.number}", "Assign", parent)
        self.heading.setText(f"<b>{incident.number}</b> — {incident.title}")
        self.assignee = QComboBox(self)
        _fill(self.assignee, _people(names), incident.assignee)
        self.group = QComboBox(self)
        _fill(self.group, _teams(names), incident.assignment_group)
        self.form.addRow("&Person", self.assignee)
        self.form.addRow("&Team", self.group)

    def choice(self) -> tuple[str | None, str | None]:
        """(assignee id, group id), None for nobody / no team."""
        return self.assignee.currentData(), self.group.currentData()


class StateDialog(_Dialog):
    """Choose the next state among those the lifecycle allows; on hold needs a reason."""

    def __init__(
        self, incident: Incident, parent: QWidget | None, *, target: State | None = None
    ) -> None:
        super().__init__(f"Change the state of {incident.number}", "Change state", parent)
        self.incident = incident
        allowed = sorted(ALLOWED[incident.state], key=list(State).index)
        self.heading.setText(
            f"<b>{incident.number}</b> is <b>{incident.state.label}</b>. "
            + ("Move it to:" if allowed else "It is final: no further state changes.")
        )
        self.state = QComboBox(self)
        for state in allowed:
            self.state.addItem(state.label, state)
        if target is not None and target in allowed:
            self.state.setCurrentIndex(self.state.findData(target))
        self.reason = QComboBox(self)
        for reason, label in _HOLD_LABELS.items():
            self.reason.addItem(label, reason)
        self.note = _note_box(self, "Optional work note (why, what next)")
        self.form.addRow("&State", self.state)
        self.form.addRow("&Hold reason", self.reason)
        self.form.addRow("&Note", self.note)
        self.state.currentIndexChanged.connect(self._follow_state)
        self._follow_state()

    def _follow_state(self) -> None:
        self.reason.setEnabled(self.state.currentData() is State.ON_HOLD)

    def problem(self) -> str | None:
        if self.state.count() == 0:
            return f"{self.incident.state.label} is final; nothing can change it."
        return None

    def choice(self) -> tuple[State, HoldReason | None, str]:
        state: State = self.state.currentData()
        reason = self.reason.currentData() if state is State.ON_HOLD else None
        return state, reason, self.note.toPlainText().strip()


class ResolveDialog(_Dialog):
    """Resolve: the fix or workaround, documented for the record (ITIL: resolution documented)."""

    def __init__(self, incident: Incident, parent: QWidget | None) -> None:
        super().__init__(f"Resolve {incident.number}", "Resolve", parent)
        self.heading.setText(f"<b>{incident.number}</b> — {incident.title}")
        self.note = _note_box(self, "What restored the service (fix or workaround)")
        self.form.addRow("&Resolution", self.note)

    def problem(self) -> str | None:
        if not self.note.toPlainText().strip():
            return "Say what restored the service; it goes on the timeline as the resolution."
        return None

    def resolution(self) -> str:
        return self.note.toPlainText().strip()


# Tier levels offered for swarming when the incident's policy is not at hand.
SWARM_TIERS: tuple[int, ...] = (1, 2, 3)


class EscalateDialog(_Dialog):
    """Functional escalation (hand to a more skilled team), hierarchical (major incident),
    and/or swarming: engage several tiers now instead of one after another.
    """

    def __init__(
        self,
        incident: Incident,
        names: DisplayNames,
        parent: QWidget | None,
        tiers: Iterable[int] = SWARM_TIERS,
    ) -> None:
        super().__init__(f"Escalate {incident.number}", "Escalate", parent)
        self.incident = incident
        self.heading.setText(
            f"<b>{incident.number}</b> — {incident.title}<br>"
            "Hand it to another team, declare a major incident, engage several teams "
            "now, or any of these."
        )
        self.group = QComboBox(self)
        _fill(self.group, _teams(names, by_tier=True), incident.assignment_group)
        self.major = QCheckBox("Declare a &major incident (tells management)", self)
        self.major.setChecked(incident.major)
        self.major.setEnabled(not incident.major)
        self.swarm = QCheckBox("Engage teams now (&swarm; commanders only)", self)
        tier_row = QWidget(self)
        tier_layout = QHBoxLayout(tier_row)
        tier_layout.setContentsMargins(0, 0, 0, 0)
        self.tier_boxes: dict[int, QCheckBox] = {}
        for level in sorted(set(tiers)):
            box = QCheckBox(f"L{level}", tier_row)
            box.setEnabled(False)
            tier_layout.addWidget(box)
            self.tier_boxes[level] = box
        tier_layout.addStretch(1)
        self.swarm.toggled.connect(self._swarm_toggled)
        self.reason = _note_box(self, "Why (goes on the timeline)")
        self.form.addRow("&Team", self.group)
        self.form.addRow("", self.major)
        self.form.addRow("", self.swarm)
        self.form.addRow("Tiers", tier_row)
        self.form.addRow("&Reason", self.reason)

    def _swarm_toggled(self, on: bool) -> None:
        for box in self.tier_boxes.values():
            box.setEnabled(on)

    def _changes_fields(self) -> bool:
        group = self.group.currentData()
        return group != self.incident.assignment_group or (
            self.major.isChecked() and not self.incident.major
        )

    def problem(self) -> str | None:
        swarming = self.swarm.isChecked()
        if not self._changes_fields() and not swarming:
            return (
                "Choose another team, declare a major incident or engage teams now; "
                "nothing would change."
            )
        if swarming and not self.swarm_tiers():
            return "Tick the tiers to engage now (L1, L2, …)."
        if not self.reason.toPlainText().strip():
            return "Give the reason for escalating; the next team reads it first."
        return None

    def choice(self) -> tuple[str | None, bool, str]:
        """(team to hand to, or None to keep; declare major; reason)."""
        group = self.group.currentData()
        keep = group == self.incident.assignment_group
        declare = self.major.isChecked() and not self.incident.major
        return (None if keep else group), declare, self.reason.toPlainText().strip()

    def swarm_tiers(self) -> list[int]:
        """The tier levels to engage now (empty when not swarming)."""
        if not self.swarm.isChecked():
            return []
        return [level for level, box in self.tier_boxes.items() if box.isChecked()]
