"""The escalation matrix's calls: dial a person, copy their number, the context menus.

:class:`ContactCalls` is the part of :class:`~console.views.matrix.view.EscalationMatrixView`
that acts on one person: Call dials through the desktop's ``tel:`` handler
(QDesktopServices; without a phone application the number is copied and the
operator told), Copy puts the E.164 number on the clipboard.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QLabel, QMenu, QMessageBox, QTableView, QWidget

from console.domain.phones import format_phone, tel_uri
from console.models.escalation_matrix import CONTACT_ROLE, PHONE_ROLE, phone_text
from console.services.directory import Contact


class ContactCalls(QWidget):
    """Call and Copy for the person selected (or named); the view builds the widgets."""

    # Set by the view's constructor.
    viewer_region: str | None
    status: QLabel
    _focus_contact: Contact | None

    def call(self, e164: str | None = None) -> bool:
        """Dial ``e164`` (default: the selected person's number) through the ``tel:`` handler.

        When the desktop has no phone application, the number is copied
        instead and the operator is told, so the call can still be made.
        """
        number = e164 or (self._focus_contact.primary_phone if self._focus_contact else None)
        if not number:
            return False
        if QDesktopServices.openUrl(QUrl(tel_uri(number))):
            self.status.setText(f"Calling {format_phone(number, self.viewer_region)}…")
            return True
        self.copy_number(number)
        # Not modal: at 2 a.m. the operator dials by hand at once, the grid stays usable.
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "No phone application",
            f"This computer has no application for phone links. The number "
            f"{format_phone(number, self.viewer_region)} is on the clipboard: dial it by hand.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return False

    def copy_number(self, e164: str | None = None) -> str | None:
        """Put ``e164`` (default: the selected person's number) on the clipboard, as E.164."""
        number = e164 or (self._focus_contact.primary_phone if self._focus_contact else None)
        if not number:
            return None
        QGuiApplication.clipboard().setText(number)
        return number

    def _link_clicked(self, url: QUrl) -> None:
        if url.scheme() == "tel":
            self.call(url.path())
        else:
            QDesktopServices.openUrl(url)

    def _activated(self, index: QModelIndex) -> None:
        number = index.data(PHONE_ROLE)
        if isinstance(number, str) and number:
            self.call(number)

    def _context_menu(self, table: QTableView, pos: QPoint) -> None:
        index = table.indexAt(pos)
        if not index.isValid():
            return
        contact = index.data(CONTACT_ROLE)
        if not isinstance(contact, Contact):
            return
        menu = QMenu(table)
        for action in self.contact_actions(contact, menu):
            menu.addAction(action)
        menu.popup(table.viewport().mapToGlobal(pos))

    def contact_actions(self, contact: Contact, parent: QMenu | QWidget) -> list[QAction]:
        """Call and Copy actions for one person (the context menus use these)."""
        actions = []
        numbers = [("", contact.primary_phone), ("alternate ", contact.alternate_phone)]
        for label, number in numbers:
            if number:
                shown = phone_text(number, self.viewer_region)
                call = QAction(f"☎ Call {contact.name} {label}({shown})", parent)
                call.triggered.connect(lambda _=False, n=number: self.call(n))
                actions.append(call)
        for label, number in numbers:
            if number:
                copy = QAction(f"Copy {label}number", parent)
                copy.triggered.connect(lambda _=False, n=number: self.copy_number(n))
                actions.append(copy)
        if contact.primary_phone:
            both = QAction("Copy name and number", parent)
            text = f"{contact.name} {format_phone(contact.primary_phone, None)}"
            both.triggered.connect(lambda: QGuiApplication.clipboard().setText(text))
            actions.append(both)
        return actions
