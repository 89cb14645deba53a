"""``c`` on an incident: who is on call for its service now, along its escalation path.

One key from the queue: the list names each tier and manager with the person
holding the pager now, their number and their local time (it may be 3 a.m.
where they are); Enter calls the selected one through the desktop's ``tel:``
handler, Ctrl+C (or *Copy number*) puts the number on the clipboard in E.164.
Below it, the service's whole chain as the escalation matrix shows it, with
``tel:`` links, cover and swap notes and who takes over next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.domain.incident import Incident
from console.domain.phones import format_phone, tel_uri
from console.models.escalation_matrix import local_time_text, on_call_label, phone_text
from console.services.directory import Directory, OnCall, ServiceChain, Source
from console.views.matrix.view import chain_html, group_managers

NUMBER_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Callee:
    """One row of the list: the step, the person and their number."""

    step: str
    who: str
    e164: str | None
    local_time: str


def callees(chain: ServiceChain, directory: Directory) -> list[Callee]:
    """The tiers in order, then the managers (each person once), with who holds the pager now."""
    rows: list[tuple[str, OnCall]] = [(line.tier.name, line.on_call) for line in chain.tiers]
    rows += [
        (label, lines[0].on_call) for label, lines in group_managers(chain.managers, directory)
    ]
    out: list[Callee] = []
    for step, who in rows:
        contact = who.contact
        if contact is None and who.source == Source.ROLE:
            out.append(Callee(step, "nobody named on file: use the management call tree", None, ""))
            continue
        if contact is None:
            name = "nobody on call" + (f" ({who.problem})" if who.problem else "")
            out.append(Callee(step, name, None, ""))
            continue
        when = local_time_text(contact.time_zone, chain.at) if contact.time_zone else ""
        out.append(Callee(step, on_call_label(who), contact.primary_phone, when))
    return out


class _PeopleList(QListWidget):
    """The list, with Ctrl+C copying the selected NUMBER (a list would copy the row's text)."""

    def __init__(self, dialog: OnCallDialog) -> None:
        super().__init__(dialog)
        self._dialog = dialog

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self._dialog.copy(None)
            event.accept()
            return
        super().keyPressEvent(event)


class OnCallDialog(QDialog):
    """Who to call for one incident (see the module docstring)."""

    def __init__(
        self,
        incident: Incident,
        chain: ServiceChain,
        directory: Directory,
        *,
        region: str | None,
        zone: tzinfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("onCallDialog")
        self.setWindowTitle(f"Call on-call — {incident.number}")
        self.region = region
        heading = QLabel(
            f"<b>{incident.number}</b> · {incident.severity.code} · "
            f"<b>{chain.service.name}</b> — who is on call now",
            self,
        )
        heading.setWordWrap(True)
        self.people = _PeopleList(self)
        self.people.setObjectName("onCallList")
        for callee in callees(chain, directory):
            number = f" · ☎ {phone_text(callee.e164, region)}" if callee.e164 else ""
            when = f" · their time {callee.local_time}" if callee.local_time else ""
            item = QListWidgetItem(f"{callee.step} — {callee.who}{number}{when}")
            item.setData(NUMBER_ROLE, callee.e164)
            if callee.e164 is None:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.people.addItem(item)
        if not self.people.count():
            self.people.addItem(chain.problem or "No escalation policy for this service")
        self.people.setCurrentRow(0)
        self.people.itemActivated.connect(lambda item: self.call(item.data(NUMBER_ROLE)))
        self.chain = QTextBrowser(self)
        self.chain.setOpenLinks(False)
        self.chain.setHtml(chain_html(chain, directory, region=region, zone=zone))
        self.chain.anchorClicked.connect(self._link)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.call_button = QPushButton("☎ &Call", self)
        self.copy_button = QPushButton("Copy &number", self)
        buttons.addButton(self.call_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.call_button.clicked.connect(lambda: self.call(self.selected_number()))
        self.copy_button.clicked.connect(lambda: self.copy(self.selected_number()))
        buttons.rejected.connect(self.reject)
        hint = QLabel("↑/↓ choose · Enter call · Ctrl+C copy the number · Esc close", self)
        hint.setObjectName("dialogHint")
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.people)
        layout.addWidget(hint)
        layout.addWidget(self.chain, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 100, metrics.lineSpacing() * 34)
        self.people.setFocus()

    def selected_number(self) -> str | None:
        item = self.people.currentItem()
        value = item.data(NUMBER_ROLE) if item is not None else None
        return value if isinstance(value, str) and value else None

    def call(self, e164: str | None) -> bool:
        """Dial through the ``tel:`` handler; without one, copy the number and say so."""
        if not e164:
            self.status.setText("Nobody with a number on this line: pick another.")
            return False
        if QDesktopServices.openUrl(QUrl(tel_uri(e164))):
            self.status.setText(f"Calling {format_phone(e164, self.region)}…")
            return True
        self.copy(e164)
        self.status.setText(
            f"This computer has no application for phone links: "
            f"{format_phone(e164, self.region)} is on the clipboard, dial it by hand."
        )
        return False

    def copy(self, e164: str | None) -> str | None:
        """The number (default: the selected one) on the clipboard, in E.164."""
        number = e164 or self.selected_number()
        if not number:
            return None
        QGuiApplication.clipboard().setText(number)
        self.status.setText(f"Copied {format_phone(number, self.region)}")
        return number

    def _link(self, url: QUrl) -> None:
        if url.scheme() == "tel":
            self.call(url.path())
        else:
            QDesktopServices.openUrl(url)
