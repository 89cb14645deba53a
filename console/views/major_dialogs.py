"""The workspace's small dialogs: give a role, set the bridge, a responder joined or left.

Each dialog only gathers the values; the workspace hands them to
:class:`~console.sync.edits.LocalEdits`, and a refusal (a bad URL, a role the
API does not accept) is shown in the dialog, which stays open with what was
typed. Keys: Enter accepts, Esc cancels; in the role dialog ↑/↓ move in the
candidates (the on-call person of the service's team is first and chosen).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.errors import DomainError
from console.domain.major import RESPONDER_ACTIONS
from console.services.major import RoleCandidate


class _Dialog(QDialog):
    """OK/Cancel with an error line; ``submit`` is called on OK and may refuse."""

    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.submit: Callable[[], None] = lambda: None
        self.form = QFormLayout()
        self.error = QLabel(self)
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _ok(self) -> None:
        try:
            self.submit()
        except (DomainError, ValueError) as exc:
            self.error.setText(f"Not saved: {exc}")
            self.error.show()
            return
        self.accept()


class RoleDialog(_Dialog):
    """Choose a role and who holds it; the escalation matrix's on-call people come first."""

    def __init__(
        self,
        roles: Sequence[str],
        held: Mapping[str, str],
        candidates: Callable[[str], list[RoleCandidate]],
        *,
        role: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Assign a role", parent)
        self.setObjectName("majorRoleDialog")
        self._held = dict(held)
        self._candidates = candidates
        self.role = QComboBox(self)
        for name in roles:
            holder = held.get(name)
            self.role.addItem(f"{name} — {holder or 'unassigned'}", name)
        if role is not None and role in roles:
            self.role.setCurrentIndex(list(roles).index(role))
        self.form.addRow("&Role:", self.role)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("type to find someone else")
        self.form.addRow("&Find:", self.filter)
        self.people = QListWidget(self)
        self.people.setObjectName("roleCandidates")
        self.people.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 40)
        self.form.addRow("&Give it to:", self.people)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("why (optional), e.g. end of shift")
        self.form.addRow("Rea&son:", self.reason)
        self.role.currentIndexChanged.connect(lambda _i: self._fill())
        self.filter.textChanged.connect(lambda _t: self._fill())
        self.people.itemDoubleClicked.connect(lambda _item: self._ok())
        self._fill()
        self.people.setFocus()

    def chosen_role(self) -> str:
        return str(self.role.currentData())

    def chosen_person(self) -> str | None:
        item = self.people.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _fill(self) -> None:
        words = self.filter.text().casefold().split()
        self.people.clear()
        for candidate in self._candidates(self.chosen_role()):
            label = candidate.name + (f" · {candidate.why}" if candidate.why else "")
            if candidate.phone:
                label += f" · {candidate.phone}"
            if candidate.on_call:
                label = "▶ " + label  # on call now: a shape as well as the order
            if words and not all(w in label.casefold() for w in words):
                continue
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, candidate.name)
            self.people.addItem(item)
        if self.people.count():
            self.people.setCurrentRow(0)


class BridgeDialog(_Dialog):
    """The war room's bridge: a conference URL and/or a dial-in number with its PIN."""

    def __init__(self, bridge: Mapping[str, object], parent: QWidget | None = None) -> None:
        super().__init__("War room bridge", parent)
        self.setObjectName("majorBridgeDialog")
        self.url = QLineEdit(str(bridge.get("url") or ""), self)
        self.url.setPlaceholderText("https://meet.example.com/sev1")
        self.form.addRow("Conference &URL:", self.url)
        self.dial_in = QLineEdit(str(bridge.get("dial_in") or ""), self)
        self.dial_in.setPlaceholderText("+44 20 7946 0000")
        self.form.addRow("&Dial-in:", self.dial_in)
        self.pin = QLineEdit(str(bridge.get("pin") or ""), self)
        self.pin.setPlaceholderText("482913#")
        self.form.addRow("&PIN:", self.pin)

    def values(self) -> dict[str, str | None]:
        return {
            "url": self.url.text().strip() or None,
            "dial_in": self.dial_in.text().strip() or None,
            "pin": self.pin.text().strip() or None,
        }


class ResponderDialog(_Dialog):
    """Someone joined or left the bridge (observers are not responders: leave them out)."""

    def __init__(
        self,
        people: Sequence[str],
        on_bridge: Sequence[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Responder joined or left", parent)
        self.setObjectName("majorResponderDialog")
        self.person = QComboBox(self)
        self.person.setEditable(True)
        self.person.addItems([*on_bridge, *(p for p in people if p not in on_bridge)])
        self.person.setCurrentText("")
        self.form.addRow("&Who:", self.person)
        self.choices: dict[str, QRadioButton] = {}
        for action in RESPONDER_ACTIONS:
            button = QRadioButton(f"&{action.capitalize()} the bridge", self)
            self.choices[action] = button
            self.form.addRow("", button)
        self.choices["joined"].setChecked(True)
        hint = QLabel("Observers get updates from the Communications Lead; do not list them.")
        hint.setObjectName("dialogHint")
        hint.setWordWrap(True)
        self.form.addRow(hint)

    def values(self) -> tuple[str, str]:
        action = next(a for a, b in self.choices.items() if b.isChecked())
        return self.person.currentText().strip(), action
