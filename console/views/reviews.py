"""The Reviews view (Ctrl+5): post-incident reviews due, overdue and held, and action items
by owner and due date; and the Problems view (Ctrl+7) with the incidents each one links.

Keyboard-first: ``/`` filters, ``1``–``5`` pick the bucket (all, due, overdue, held,
approved), Tab moves between the tables, Ctrl+P prints the selected review to PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.services.pir_report import to_html
from console.services.reviews import BUCKETS, PENDING_MARK, ItemRow, ReviewRow, ReviewRows

Index = QModelIndex | QPersistentModelIndex
PREVIEW_AFTER_TYPING_MS = 150


PENDING_CELL = "unsent"
"""The mark in a table cell (italics too; the tooltip and the preview say it in full)."""


def _marked(text: str, pending: bool) -> str:
    """``draft · unsent`` for a row whose edit is not on the server yet."""
    return f"{text} · {PENDING_CELL}" if pending else text


def _pending(doc: Mapping[str, Any]) -> bool:
    return bool(doc.get("pending"))


def _preview(doc: Mapping[str, Any]) -> str:
    """The review as printed, under a line saying when an edit of it is not sent yet."""
    html = to_html(doc)
    if not _pending(doc):
        return html
    waiting = f"<p><i>Edited here, {PENDING_MARK}: shown as it will be once sent.</i></p>"
    start = html.find(">", html.find("<body")) + 1
    return html[:start] + waiting + html[start:]


def _day(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M")


class _RowsModel(QAbstractTableModel):
    """A read-only table over a list of rows and column getters.

    A row ``pending`` says is shown in italics with a tooltip: an edit of it
    waits in the outbox (offline, or not sent yet), as the timeline shows an
    unsent note.
    """

    def __init__(
        self,
        columns: Sequence[tuple[str, Callable[[Any], str]]],
        pending: Callable[[Any], bool] = lambda row: False,
    ) -> None:
        super().__init__()
        self._columns = columns
        self._pending = pending
        self.rows: list[Any] = []
        self._italic = QFont()
        self._italic.setItalic(True)

    def set_rows(self, rows: list[Any]) -> None:
        if rows == self.rows:
            return  # the same rows (typing on matched them all): nothing to redo
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[index.column()][1](row)
        if role == Qt.ItemDataRole.FontRole and self._pending(row):
            return self._italic
        if role == Qt.ItemDataRole.ToolTipRole and self._pending(row):
            return f"Edited here, {PENDING_MARK} (the status bar counts the queue)"
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._columns[section][0]
        return None


REVIEW_COLUMNS: Sequence[tuple[str, Callable[[ReviewRow], str]]] = (
    ("Incident", lambda r: r.incident_number),
    ("Sev", lambda r: r.severity),
    ("Title", lambda r: r.title),
    ("Review", lambda r: _marked(r.status.upper() if r.overdue else r.status, r.pending)),
    ("Due", lambda r: _day(r.due_at)),
    ("Open", lambda r: str(r.open_items)),
    ("Overdue", lambda r: str(r.overdue_items) if r.overdue_items else ""),
)
ITEM_COLUMNS: Sequence[tuple[str, Callable[[ItemRow], str]]] = (
    ("Owner", lambda i: i.owner),
    ("Due", lambda i: _day(i.due)),
    ("State", lambda i: _marked(i.state.upper() if i.overdue else i.state, i.pending)),
    ("Action item", lambda i: i.title),
    ("Incident", lambda i: i.incident_number),
)


def _table(model: QAbstractTableModel, name: str, parent: QWidget, stretch: int = 2) -> QTableView:
    table = QTableView(parent)
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    # Fixed widths: sizing columns to their contents would measure every row
    # (50,000 action items) on each keystroke.
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    header.setDefaultSectionSize(110)
    table.verticalHeader().setDefaultSectionSize(24)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    return table


class ReviewsView(QWidget):
    """Reviews and action items with a filter, and the selected review beside them."""

    def __init__(
        self,
        docs: Sequence[Mapping[str, Any]] = (),
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        choose_pdf: Callable[[str], str | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reviews")
        self._clock = clock
        self._choose_pdf = choose_pdf or self._ask_pdf_path
        self._docs: dict[str, Mapping[str, Any]] = {}
        self.review_actions: QObject | None = None
        """The Review menu's controller once the app connects it (ReviewActions)."""
        self.rows = ReviewRows((), clock())
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(
            "Filter reviews and action items (/): incident, owner, title"
        )
        self.search.setClearButtonEnabled(True)
        self.bucket = QComboBox(self)
        for number, name in enumerate(BUCKETS, start=1):
            self.bucket.addItem(f"{number} · {name}", name)
        self.summary = QLabel(self)
        self.review_model = _RowsModel(REVIEW_COLUMNS, lambda r: r.pending)
        self.item_model = _RowsModel(ITEM_COLUMNS, lambda i: i.pending)
        self.review_table = _table(self.review_model, "review-table", self)
        self.item_table = _table(self.item_model, "item-table", self, stretch=3)
        for column, width in ((0, 95), (1, 55), (3, 120), (4, 120), (5, 60), (6, 70)):
            self.review_table.horizontalHeader().resizeSection(column, width)
        for column, width in ((0, 120), (1, 120), (2, 75), (4, 95)):
            self.item_table.horizontalHeader().resizeSection(column, width)
        self.preview = QTextBrowser(self)
        self.preview.setObjectName("review-preview")
        # While the operator types in the filter, the preview follows once typing
        # pauses: laying out a long review costs more than a keystroke may.
        self._preview_later = QTimer(self)
        self._preview_later.setSingleShot(True)
        self._preview_later.setInterval(PREVIEW_AFTER_TYPING_MS)
        self._preview_later.timeout.connect(self._show_selected)
        self._filtering = False
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.bucket)
        top.addWidget(self.summary)
        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(self._titled("Reviews (due, overdue first)", self.review_table))
        left.addWidget(self._titled("Action items by owner and due date", self.item_table))
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(self.preview)
        split.setSizes([640, 480])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.search.textChanged.connect(self.apply_filter)
        self.bucket.currentIndexChanged.connect(self.apply_filter)
        self.review_table.selectionModel().currentRowChanged.connect(self._show_selected)
        self.item_table.selectionModel().currentRowChanged.connect(self._show_item_review)
        # "/" is the window's Filter action, which calls focus_search here.
        shortcut = QShortcut(QKeySequence("Ctrl+P"), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.export_pdf)
        for number in range(1, len(BUCKETS) + 1):
            shortcut = QShortcut(QKeySequence(str(number)), self.review_table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda n=number: self.bucket.setCurrentIndex(n - 1))
        self.set_reviews(docs)

    def _titled(self, title: str, table: QTableView) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel(f"<b>{title}</b>", box)
        layout.addWidget(label)
        layout.addWidget(table, 1)
        return box

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def set_reviews(self, docs: Sequence[Mapping[str, Any]]) -> None:
        """Rebuild from the cached review documents (after a sync)."""
        selected = self.selected_review()
        number = None if selected is None else selected.get("incident_number")
        self._docs = {str(d.get("id", "")): d for d in docs}
        self.rows = ReviewRows(docs, self._clock())
        self.apply_filter()
        # Keep the cursor on the review the operator was on (an edit reloads the view).
        for row, review in enumerate(self.review_model.rows):
            if number is not None and review.incident_number == number:
                self.review_table.setCurrentIndex(self.review_model.index(row, 0))
                break
        self._show_selected()  # the documents changed: the preview follows now

    def apply_filter(self, *_: object) -> None:
        reviews, items = self.rows.filter(self.search.text(), str(self.bucket.currentData()))
        self.review_model.set_rows(reviews)
        self.item_model.set_rows(items)
        late_reviews, late_items = self.rows.overdue_counts
        self.summary.setText(
            f"{len(reviews)} reviews · {len(items)} items · "
            f"overdue: {late_reviews} reviews, {late_items} items"
        )
        if reviews and not self.review_table.currentIndex().isValid():
            self._filtering = True
            try:
                self.review_table.setCurrentIndex(self.review_model.index(0, 0))
            finally:
                self._filtering = False

    def selected_review(self) -> Mapping[str, Any] | None:
        index = self.review_table.currentIndex()
        if not index.isValid() or index.row() >= len(self.review_model.rows):
            return None
        return self._docs.get(self.review_model.rows[index.row()].pir_id)

    def _show_selected(self, *_: object) -> None:
        if self._filtering:
            self._preview_later.start()
            return
        self._preview_later.stop()
        doc = self.selected_review()
        self.preview.setHtml(_preview(doc) if doc is not None else "<p>No review selected.</p>")

    def _show_item_review(self, current: QModelIndex, *_: object) -> None:
        if not current.isValid():
            return
        pir_id = self.item_model.rows[current.row()].pir_id
        doc = self._docs.get(pir_id)
        if doc is not None:
            self.preview.setHtml(_preview(doc))

    def _ask_pdf_path(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Print review to PDF", suggested, "PDF (*.pdf)")
        return path or None

    def export_pdf(self) -> Path | None:
        """Ctrl+P: the selected review as a PDF where the operator chooses."""
        from console.views.pir_pdf import write_pdf

        doc = self.selected_review()
        if doc is None:
            return None
        chosen = self._choose_pdf(f"PIR-{doc.get('incident_number', 'review')}.pdf")
        if not chosen:
            return None
        path = Path(chosen)
        write_pdf(doc, path)
        self.summary.setText(f"Saved {path.name}")
        return path


PROBLEM_COLUMNS: Sequence[tuple[str, Callable[[Mapping[str, Any]], str]]] = (
    ("Problem", lambda p: str(p.get("number", ""))),
    ("State", lambda p: _marked(str(p.get("state", "")).replace("_", " "), _pending(p))),
    ("Statement", lambda p: str(p.get("statement", ""))),
    ("Service", lambda p: str(p.get("service") or "")),
    ("Incidents", lambda p: ", ".join(p.get("incidents", []))),
    ("Change", lambda p: str(p.get("change_ref") or "")),
)


class ProblemsView(QWidget):
    """Problem records with their linked incidents, workaround and fix."""

    def __init__(
        self, docs: Sequence[Mapping[str, Any]] = (), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("problems")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter problems (/): number, statement, service, incident")
        self.model = _RowsModel(PROBLEM_COLUMNS, _pending)
        self.table = _table(self.model, "problem-table", self)
        self.detail = QTextBrowser(self)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(split, 1)
        self._docs: list[Mapping[str, Any]] = []
        self.search.textChanged.connect(self._apply)
        self.table.selectionModel().currentRowChanged.connect(self._show)
        self.set_problems(docs)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def selected_problem(self) -> Mapping[str, Any] | None:
        """The problem the table's cursor is on (what Move problem acts on)."""
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        row: Mapping[str, Any] = self.model.rows[index.row()]
        return row

    def select_problem(self, ref: str) -> bool:
        """Put the cursor on the problem with this id or number (the filter cleared if needed)."""
        wanted = ref.strip().upper()

        def row_of() -> int | None:
            for row, problem in enumerate(self.model.rows):
                if ref == problem.get("id") or wanted == str(problem.get("number", "")).upper():
                    return row
            return None

        row = row_of()
        if row is None and self.search.text():
            self.search.clear()
            row = row_of()
        if row is None:
            return False
        self.table.setCurrentIndex(self.model.index(row, 0))
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def set_problems(self, docs: Sequence[Mapping[str, Any]]) -> None:
        selected = self.selected_problem() if self._docs else None
        self._docs = sorted(docs, key=lambda p: str(p.get("number", "")), reverse=True)
        self._apply()
        for row, problem in enumerate(self.model.rows):
            if selected is not None and problem.get("id") == selected.get("id"):
                self.table.setCurrentIndex(self.model.index(row, 0))
                break

    def _apply(self, *_: object) -> None:
        words = self.search.text().lower().split()
        rows = [
            p
            for p in self._docs
            if all(w in " ".join(f(p) for _, f in PROBLEM_COLUMNS).lower() for w in words)
        ]
        self.model.set_rows(rows)
        if rows:
            self.table.setCurrentIndex(self.model.index(0, 0))
        else:
            self.detail.setHtml("<p>No problem records match.</p>")

    def _show(self, current: QModelIndex, *_: object) -> None:
        from html import escape

        if not current.isValid():
            return
        p = self.model.rows[current.row()]
        known = (
            f"<p><b>Published as known error</b> {escape(str(p['known_error_id']))}: the triage "
            "wizard suggests its workaround for matching calls.</p>"
            if p.get("known_error_id")
            else ""
        )
        waiting = f"<p><i>Edited here, {PENDING_MARK}.</i></p>" if _pending(p) else ""
        parts = [
            f"<h2>{escape(str(p.get('number', '')))} · {escape(str(p.get('state', '')))}</h2>",
            waiting,
            f"<p>{escape(str(p.get('statement', '')))}</p>",
            known,
            "<h3>Linked incidents</h3><ul>",
            *[f"<li>{escape(str(n))}</li>" for n in p.get("incidents", [])],
            "</ul>",
        ]
        for title, key in (
            ("Root cause", "root_cause"),
            ("Workaround", "workaround"),
            ("Permanent fix", "permanent_fix"),
            ("Change reference", "change_ref"),
        ):
            parts.append(f"<h3>{title}</h3><p>{escape(str(p.get(key) or '—'))}</p>")
        self.detail.setHtml("".join(parts))
