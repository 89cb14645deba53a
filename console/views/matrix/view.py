"""The escalation matrix: who to call for every service, right now, and their number.

Built for the dispatcher at 2 a.m.: a grid of services × tiers (L1, L2, L3)
showing who is on call now with the number to dial; a search box (person,
team, service or a piece of a number); the selected service's whole chain on
the right (each tier with the person on call, their alternate number, who is
next and when, the engage delay; the managers told at each severity; the
stakeholder groups and how often they hear); and every contact below with
their local time, so nobody is woken without knowing it is 3 a.m. there.

Call dials through the desktop's ``tel:`` handler (QDesktopServices), Copy
puts the E.164 number on the clipboard (:mod:`.calls`, :class:`ContactCalls`).
The matrix exports to CSV (contacts, or who is on call now), prints or exports
to PDF for the binder on the desk (for when every tool is down), and imports
contacts from CSV after a preview that lists every problem by row: all or
nothing (:mod:`.files`, :class:`MatrixFiles`). This module builds the screen,
shows the data and keeps the selection.

Wiring: ``EscalationMatrixView(Directory.from_store(cache), store=cache)``;
call :meth:`EscalationMatrixView.refresh` with a new directory when the
cache's reference data changes. The view never opens files or the cache on
its own except where the operator asked (export, import, print).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import tzinfo
from typing import Protocol

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QLocale,
    QModelIndex,
    Qt,
)
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QKeySequence,
    QPalette,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.clock import utc_now
from console.domain.phones import region_from_locale_name
from console.domain.text import clock_text
from console.models.escalation_matrix import (
    CONTACT_ROLE,
    FIXED_COLUMNS,
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
from console.views.matrix.calls import ContactCalls
from console.views.matrix.delegates import PhoneTable, TwoLineDelegate
from console.views.matrix.files import MatrixFiles

# The on-call dialog reads the chain's HTML from here (``as``: a re-export).
from console.views.matrix.printing import chain_html as chain_html
from console.views.matrix.printing import group_managers as group_managers


class MatrixStore(Protocol):
    """What the view needs from the cache: read reference data, write imported contacts."""

    def reference(self, kind: str) -> list[dict[str, object]]: ...

    def upsert_reference(self, kind: str, items: Iterable[Mapping[str, object]]) -> object: ...


def viewer_region_from_locale() -> str | None:
    """The viewer's country from the system locale (``es_ES`` → ``ES``), for phone formatting."""
    return region_from_locale_name(QLocale.system().name())


class EscalationMatrixView(MatrixFiles, ContactCalls):
    """The escalation matrix screen: grid, search, the selected chain, contacts, actions.

    ``store`` (the cache) is where CSV imports are written; without it Import
    is disabled. ``now`` is the clock (tests fix it), ``viewer_region`` the
    country phone numbers are formatted for (default: the system locale's),
    ``display_zone`` the zone times are shown in (default: the machine's).
    """

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

    def refresh(self, directory: Directory) -> None:
        """Show new reference data; the selected service stays selected when it still exists."""
        self.model.refresh(directory)
        self.contacts_model.refresh(directory)
        self._update_banner()
        self._update_status()
        if self._selected_service and self.model.row_of(self._selected_service) is None:
            self._select_first()
        self._show_detail()

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
