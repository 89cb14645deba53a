"""The escalation matrix: who to call for every service, right now, and their number.

Built for the dispatcher at 2 a.m.: a grid of services × tiers (L1, L2, L3)
showing who is on call now with the number to dial; a search box (person,
team, service or a piece of a number); the selected service's whole chain on
the right (each tier with the person on call, their alternate number, who is
next and when, the engage delay; the managers told at each severity; the
stakeholder groups and how often they hear); and every contact below with
their local time, so nobody is woken without knowing it is 3 a.m. there.

Call dials through the desktop's ``tel:`` handler (QDesktopServices), Copy
puts the E.164 number on the clipboard. The matrix exports to CSV (contacts,
or who is on call now), prints or exports to PDF for the binder on the desk
(for when every tool is down), and imports contacts from CSV after a preview
that lists every problem by row: all or nothing.

Wiring: ``EscalationMatrixView(Directory.from_store(cache), store=cache)``;
call :meth:`EscalationMatrixView.refresh` with a new directory when the
cache's reference data changes. The view never opens files or the cache on
its own except where the operator asked (export, import, print).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QLocale,
    QModelIndex,
    QPoint,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeySequence,
    QPalette,
    QPdfWriter,
    QShortcut,
    QShowEvent,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.clock import utc_now
from console.domain.phones import format_phone, region_from_locale_name, tel_uri
from console.domain.text import clock_text, file_stamp
from console.models.escalation_matrix import (
    CONTACT_ROLE,
    FIXED_COLUMNS,
    PHONE_ROLE,
    SERVICE_ID_ROLE,
    Clock,
    ContactListModel,
    EscalationMatrixModel,
    local_zone,
    phone_text,
)
from console.services.directory import (
    Contact,
    Directory,
)
from console.services.matrix_csv import (
    CsvImportError,
    export_contacts,
    export_on_call,
    preview_file,
)
from console.views.matrix.csv_dialog import CsvImportDialog
from console.views.matrix.delegates import PhoneTable, TwoLineDelegate

# The on-call dialog reads the chain's HTML from here (``as``: a re-export).
from console.views.matrix.printing import chain_html as chain_html
from console.views.matrix.printing import group_managers as group_managers
from console.views.matrix.printing import print_binder


class MatrixStore(Protocol):
    """What the view needs from the cache: read reference data, write imported contacts."""

    def reference(self, kind: str) -> list[dict[str, object]]: ...

    def upsert_reference(self, kind: str, items: Iterable[Mapping[str, object]]) -> object: ...


def viewer_region_from_locale() -> str | None:
    """The viewer's country from the system locale (``es_ES`` → ``ES``), for phone formatting."""
    return region_from_locale_name(QLocale.system().name())


class EscalationMatrixView(QWidget):
    """The escalation matrix screen: grid, search, the selected chain, contacts, actions.

    ``store`` (the cache) is where CSV imports are written; without it Import
    is disabled. ``now`` is the clock (tests fix it), ``viewer_region`` the
    country phone numbers are formatted for (default: the system locale's),
    ``display_zone`` the zone times are shown in (default: the machine's).
    """

    contacts_imported = Signal(int)
    """Contacts were imported from CSV into the cache (how many rows were written)."""

    def __init__(
        self,
        directory: Directory,
        *,
        store: MatrixStore | None = None,
        now: Clock = utc_now,
        viewer_region: str | None = None,
        display_zone: tzinfo | None = None,
        tick_ms: int | None = 60_000,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("escalationMatrix")
        self.setWindowTitle("Escalation matrix")
        self._store = store
        self._now = now
        region = viewer_region if viewer_region is not None else viewer_region_from_locale()
        self.viewer_region = region
        self.display_zone = display_zone if display_zone is not None else local_zone()
        self._focus_contact: Contact | None = None
        self.demo = False
        """``--demo``: exports and print-outs say DEMO (set by the app)."""

        self.model = EscalationMatrixModel(
            directory,
            now=now,
            viewer_region=region,
            display_zone=self.display_zone,
            tick_ms=tick_ms,
            parent=self,
        )
        self.contacts_model = ContactListModel(
            directory, now=now, viewer_region=region, parent=self
        )

        self._build_toolbar()
        self._build_tables()
        self.detail = QTextBrowser(self)
        self.detail.setObjectName("chainDetail")
        self.detail.setOpenLinks(False)
        self.detail.anchorClicked.connect(self._link_clicked)

        self.banner = QLabel(self)
        self.banner.setObjectName("matrixProblems")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)

        self._left = QSplitter(Qt.Orientation.Vertical, self)
        self._left.addWidget(self.matrix)
        self._left.addWidget(self.contacts)
        self._left.setStretchFactor(0, 3)
        self._left.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self._left)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(self._toolbar)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)

        self.model.modelReset.connect(self._restore_selection)
        self.model.dataChanged.connect(lambda *_: self._show_detail())
        self.model.timer.timeout.connect(self._ticked)
        self._selected_service: str | None = None
        self._update_banner()
        self._update_status()
        self._select_first()
        self._update_buttons()
        self._fitted = False

    # ---------------------------------------------------------- building

    def _build_toolbar(self) -> None:
        self.search = QLineEdit(self)
        self.search.setObjectName("matrixSearch")
        self.search.setPlaceholderText("Search person, team, service or number (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.set_search)
        # Only while the matrix has focus: the main window has its own keys.
        within = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search, within)

        def button(name: str, text: str, tip: str, slot: Callable[[], object]) -> QToolButton:
            widget = QToolButton(self)
            widget.setObjectName(name)
            widget.setText(text)
            widget.setToolTip(tip)
            widget.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            widget.clicked.connect(lambda: slot())
            return widget

        self.call_button = button(
            "callButton", "☎ Call", "Dial the selected person (tel: link)", self.call
        )
        self.copy_button = button(
            "copyButton",
            "Copy number",
            "Copy the selected person's number (Ctrl+C)",
            self.copy_number,
        )
        self.export_button = QToolButton(self)
        self.export_button.setObjectName("exportButton")
        self.export_button.setText("Export CSV")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Contacts…", self._ask_export_contacts)
        menu.addAction("Who is on call now…", self._ask_export_on_call)
        self.export_button.setMenu(menu)
        self.import_button = button(
            "importButton",
            "Import CSV…",
            "Import contacts from a CSV file (with a preview)",
            self.import_csv,
        )
        self.import_button.setEnabled(self._store is not None)
        self.print_button = button(
            "printButton", "Print…", "Print the matrix for the binder (Ctrl+P)", self.print_matrix
        )
        self.pdf_button = button(
            "pdfButton", "Export PDF…", "Save the printable matrix as PDF", self._ask_export_pdf
        )
        QShortcut(QKeySequence.StandardKey.Print, self, self.print_matrix, within)

        self.status = QLabel(self)
        self.status.setObjectName("matrixStatus")
        # The status may shrink (elided by the layout) but the search box may not.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.search.setMinimumWidth(QFontMetrics(self.font()).horizontalAdvance("M") * 18)
        self._toolbar = QHBoxLayout()
        self._toolbar.addWidget(self.search, 2)
        for widget in (
            self.call_button,
            self.copy_button,
            self.export_button,
            self.import_button,
            self.print_button,
            self.pdf_button,
        ):
            self._toolbar.addWidget(widget)
        self._toolbar.addWidget(self.status, 1)

    def _build_tables(self) -> None:
        self.matrix = PhoneTable(self)
        self.matrix.setObjectName("matrixTable")
        self.matrix.setModel(self.model)
        self._delegate = TwoLineDelegate(self.matrix, quiet_columns=(0,))
        self.matrix.setItemDelegate(self._delegate)
        self.matrix.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.matrix.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.setWordWrap(False)
        self.matrix.verticalHeader().setVisible(False)
        self.matrix.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.matrix.horizontalHeader().setStretchLastSection(True)
        self.matrix.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.matrix.customContextMenuRequested.connect(
            lambda pos: self._context_menu(self.matrix, pos)
        )
        self.matrix.doubleClicked.connect(self._activated)
        self.matrix.activated.connect(self._activated)
        self.matrix.selectionModel().currentChanged.connect(self._matrix_current_changed)

        self.contacts = PhoneTable(self)
        self.contacts.setObjectName("contactsTable")
        self.contacts.setModel(self.contacts_model)
        self.contacts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.contacts.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.contacts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.contacts.setAlternatingRowColors(True)
        self.contacts.setWordWrap(False)
        self.contacts.verticalHeader().setVisible(False)
        self.contacts.horizontalHeader().setStretchLastSection(True)
        self.contacts.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.contacts.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.contacts.customContextMenuRequested.connect(
            lambda pos: self._context_menu(self.contacts, pos)
        )
        self.contacts.doubleClicked.connect(self._activated)
        self.contacts.selectionModel().currentChanged.connect(self._contact_current_changed)

        for table in (self.matrix, self.contacts):
            table.copy_requested.connect(self.copy_number)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:
            # Sizes depend on the font and window size, known only once shown.
            self._fitted = True
            self._fit_columns()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange) and hasattr(
            self, "detail"
        ):
            self._show_detail()  # link colours follow the theme
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange) and getattr(
            self, "_fitted", False
        ):
            self._fit_columns()

    def _fit_columns(self) -> None:
        """Size columns from sample text, so they follow the font (and the wall theme)."""
        metrics = QFontMetrics(self.font())
        bold_font = QFont(self.font())
        bold_font.setBold(True)
        bold = QFontMetrics(bold_font)
        self.matrix.verticalHeader().setDefaultSectionSize(round(metrics.height() * 2.7))
        header = self.matrix.horizontalHeader()
        directory = self.directory
        # Widest real text (services, teams, names with "(cover)", numbers), within a cap
        # so one long name cannot push the tiers off screen; it is elided instead.
        em = metrics.horizontalAdvance("M")
        services = [bold.horizontalAdvance(s.name) for s in directory.services]
        teams = [bold.horizontalAdvance(t.name) for t in directory.teams.values()]
        people = [bold.horizontalAdvance(f"{c.name} (cover)") for c in directory.contacts.values()]
        numbers = [metrics.horizontalAdvance("+91 99802 83946")]
        header.resizeSection(0, min(max([em * 8, *services]), em * 20) + 16)
        header.resizeSection(1, min(max([em * 8, *teams]), em * 16) + 16)
        width = min(max([em * 8, *people, *numbers]), em * 18)
        for column in range(FIXED_COLUMNS, self.model.columnCount()):
            header.resizeSection(column, width + 20)
        self.contacts.resizeColumnsToContents()
        # Room for every column and the scroll bar, so no tier hides off to the side.
        chrome = self.matrix.verticalScrollBar().sizeHint().width() + 4 * self.matrix.frameWidth()
        table_width = sum(header.sectionSize(c) for c in range(self.model.columnCount())) + chrome
        # With a big font (the wall theme) the grid scrolls rather than crush the chain.
        total = self.splitter.width()
        grid = min(table_width, round(total * 0.68)) if total > 0 else table_width
        self.splitter.setSizes([grid, max(0, total - grid)])
        rows = self.model.rowCount()
        row_height = self.matrix.verticalHeader().defaultSectionSize()
        matrix_height = header.sizeHint().height() + rows * row_height + chrome
        # Every service visible if the window allows, leaving the contacts a few rows.
        available = self._left.height()
        top = min(matrix_height, max(available - 6 * metrics.height() * 2, available // 2))
        self._left.setSizes([top, max(0, available - top)])

    # ------------------------------------------------------------- data

    @property
    def directory(self) -> Directory:
        """The reference data shown."""
        return self.model.directory

    def refresh(self, directory: Directory) -> None:
        """Show new reference data; the selected service stays selected when it still exists."""
        self.model.refresh(directory)
        self.contacts_model.refresh(directory)
        self._update_banner()
        self._update_status()
        if self._selected_service and self.model.row_of(self._selected_service) is None:
            self._select_first()
        self._show_detail()

    def reload(self) -> None:
        """Re-read the store (after an import) and refresh."""
        if self._store is not None:
            self.refresh(Directory.from_store(self._store))

    def tick(self) -> None:
        """Move everything to the clock's time (the model's minute timer does this by itself)."""
        self.model.tick()
        self._ticked()

    def _ticked(self) -> None:
        self.contacts_model.tick()
        self._update_status()
        self._show_detail()

    def set_search(self, text: str) -> None:
        """Filter services and contacts to those matching every word of ``text``."""
        if self.search.text() != text:
            self.search.setText(text)  # comes back here through textChanged
            return
        self.model.set_filter(text)
        self.contacts_model.set_filter(text)
        if self._selected_service is None or self.model.row_of(self._selected_service) is None:
            self._select_first()
        self._update_status()

    def _focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _update_banner(self) -> None:
        directory = self.directory
        messages = []
        if not directory.services:
            messages.append(
                "No services yet: the matrix fills in once reference data is synced "
                "from the backend (or the demo is loaded)."
            )
        if directory.problems:
            shown = "; ".join(directory.problems[:3])
            more = len(directory.problems) - 3
            messages.append(
                f"⚠ {len(directory.problems)} records could not be read and are left out: {shown}"
                + (f" (and {more} more)" if more > 0 else "")
            )
        self.banner.setText("\n".join(messages))
        self.banner.setVisible(bool(messages))

    def _update_status(self) -> None:
        at = clock_text(self.model.at, self.display_zone, day=True, show_zone=True)
        shown = self.model.rowCount()
        total = len(self.directory.services)
        count = f"{shown} of {total} services" if shown != total else f"{total} services"
        self.status.setText(f"On call at {at} · {count}")
        self.status.setToolTip("Who is on call is worked out again every minute")

    # -------------------------------------------------------- selection

    def selected_service_id(self) -> str | None:
        """The service whose chain the detail pane shows."""
        return self._selected_service

    def select_service(self, service_id: str, level: int | None = 1) -> bool:
        """Select a service (its L``level`` cell); False when it is not shown."""
        row = self.model.row_of(service_id)
        if row is None:
            return False
        column = FIXED_COLUMNS + level - 1 if level else 0
        index = self.model.index(row, column)
        self.matrix.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.matrix.scrollTo(index)
        return True

    def _select_first(self) -> None:
        if self.model.rowCount():
            self.select_service(self.model.chain_at(0).service.id)
        else:
            self._selected_service = None
            self._show_detail()

    def _restore_selection(self) -> None:
        if self._selected_service and self.select_service(self._selected_service):
            return
        self._select_first()

    def _matrix_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        self._selected_service = current.data(SERVICE_ID_ROLE)
        contact = current.data(CONTACT_ROLE)
        self._focus_contact = contact if isinstance(contact, Contact) else None
        self._show_detail()
        self._update_buttons()

    def _contact_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        contact = current.data(CONTACT_ROLE)
        self._focus_contact = contact if isinstance(contact, Contact) else None
        self._update_buttons()

    def current_contact(self) -> Contact | None:
        """The person Call and Copy act on: the last one selected in the grid or the list."""
        return self._focus_contact

    def _update_buttons(self) -> None:
        contact = self._focus_contact
        has_phone = contact is not None and bool(contact.primary_phone)
        self.call_button.setEnabled(has_phone)
        self.copy_button.setEnabled(has_phone)
        if contact is not None and contact.primary_phone:
            number = phone_text(contact.primary_phone, self.viewer_region)
            self.call_button.setToolTip(f"Call {contact.name} on {number}")
            self.copy_button.setToolTip(f"Copy {contact.name}'s number {number} (Ctrl+C)")

    def _show_detail(self) -> None:
        service_id = self._selected_service
        if service_id is None or self.model.row_of(service_id) is None:
            self.detail.setHtml("<p>Select a service to see its whole escalation chain.</p>")
            return
        chain = self.model.chain_at(self.model.row_of(service_id) or 0)
        scroll = self.detail.verticalScrollBar().value()
        # Phone links must read on the dark and wall themes too, whose style
        # sheets do not set the palette's link colour.
        dark = self.detail.palette().color(QPalette.ColorRole.Base).lightness() < 128
        link = "#8AB4F8" if dark else "#0B57D0"
        self.detail.document().setDefaultStyleSheet(f"a {{ color: {link}; }}")
        self.detail.setHtml(
            chain_html(chain, self.directory, region=self.viewer_region, zone=self.display_zone)
        )
        self.detail.verticalScrollBar().setValue(scroll)

    # ---------------------------------------------------------- actions

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

    # ---------------------------------------------------- export/import

    def export_contacts_csv(self, path: Path) -> int:
        """Write every contact to ``path`` (CSV); returns the rows written."""
        return export_contacts(self.directory, path)

    def export_on_call_csv(self, path: Path) -> int:
        """Write who is on call now, per service and tier, to ``path`` (CSV)."""
        return export_on_call(self.directory, self._now(), path)

    def export_pdf(self, path: Path) -> None:
        """Write the printable matrix (services × tiers, rotas, contacts) to ``path`` as PDF."""
        writer = QPdfWriter(str(path))
        writer.setTitle("DEMO — Escalation matrix" if self.demo else "Escalation matrix")
        writer.setCreator("NOC Console")
        writer.setResolution(300)
        print_binder(writer, self.directory, self._now(), self.display_zone, demo=self.demo)

    def print_to(self, printer: QPrinter) -> None:
        """Print the binder pages on ``printer``."""
        print_binder(printer, self.directory, self._now(), self.display_zone, demo=self.demo)

    def print_matrix(self) -> None:
        """Ask for a printer and print the binder pages."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Print the escalation matrix")
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.print_to(printer)

    def preview_import(self, path: Path) -> CsvImportDialog:
        """The import preview dialog for ``path`` (not shown yet)."""
        preview = preview_file(path, self.directory)
        dialog = CsvImportDialog(preview, self._store, self)
        dialog.accepted.connect(lambda: self._imported(dialog.written))
        return dialog

    def import_csv(self) -> None:
        """Ask for a CSV file, show the preview, import on Apply."""
        name, _ = QFileDialog.getOpenFileName(
            self, "Import contacts", "", "CSV files (*.csv *.txt);;All files (*)"
        )
        if not name:
            return
        try:
            dialog = self.preview_import(Path(name))
        except CsvImportError as exc:
            QMessageBox.warning(self, "Cannot import", str(exc))
            return
        dialog.open()

    def _imported(self, written: int) -> None:
        self.reload()
        self.contacts_imported.emit(written)

    def _ask_save(self, title: str, default: str, kind: str) -> Path | None:
        if self.demo:
            default = f"DEMO-{default}"
        name, _ = QFileDialog.getSaveFileName(self, title, default, kind)
        return Path(name) if name else None

    def _ask_export_contacts(self) -> None:
        path = self._ask_save("Export contacts", "contacts.csv", "CSV files (*.csv)")
        if path is not None:
            self._run_export(lambda: self.export_contacts_csv(path), path)

    def _ask_export_on_call(self) -> None:
        stamp = file_stamp(self._now(), self.display_zone)
        path = self._ask_save("Export who is on call", f"on-call-{stamp}.csv", "CSV files (*.csv)")
        if path is not None:
            self._run_export(lambda: self.export_on_call_csv(path), path)

    def _ask_export_pdf(self) -> None:
        path = self._ask_save("Export the matrix as PDF", "escalation-matrix.pdf", "PDF (*.pdf)")
        if path is not None:
            self._run_export(lambda: self.export_pdf(path), path)

    def _run_export(self, write: Callable[[], object], path: Path) -> None:
        try:
            write()
        except OSError as exc:
            QMessageBox.warning(
                self, "Export failed", f"{path} could not be written: {exc.strerror or exc}"
            )
            return
        self.status.setText(f"Saved {path.name}")
