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

import html
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QLocale,
    QMarginsF,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPalette,
    QPdfWriter,
    QShortcut,
    QShowEvent,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.clock import utc_now
from console.domain.escalation import format_duration
from console.domain.oncall import shifts_between
from console.domain.phones import format_phone, region_from_locale_name, tel_uri
from console.domain.severity import Severity
from console.models.escalation_matrix import (
    CONTACT_ROLE,
    DETAIL_LINE_ROLE,
    FIRST_LINE_ROLE,
    FIXED_COLUMNS,
    PHONE_ROLE,
    SERVICE_ID_ROLE,
    Clock,
    ContactListModel,
    EscalationMatrixModel,
    local_time_text,
    local_zone,
    on_call_label,
    phone_text,
    when_text,
)
from console.services.directory import (
    Contact,
    Directory,
    ManagerLine,
    OnCall,
    ServiceChain,
    Source,
    fold,
)
from console.services.matrix_csv import (
    ContactStore,
    CsvImportError,
    CsvImportPreview,
    ImportRefusedError,
    apply_import,
    export_contacts,
    export_on_call,
    preview_file,
)
from console.store import CacheError

Index = QModelIndex | QPersistentModelIndex

PROBLEM_TINT = "#FFE0B2"
"""Rows with a problem in the import preview: tinted *and* marked ⚠."""

BINDER_WEEKS = 4
"""How many weeks of rota the printed binder lists (it must stay useful until reprinted)."""

_CHANNELS = {
    "email": "e-mail",
    "sms": "SMS",
    "phone": "phone",
    "chat": "chat",
    "status_page": "status page",
    "webhook": "webhook",
}


class MatrixStore(Protocol):
    """What the view needs from the cache: read reference data, write imported contacts."""

    def reference(self, kind: str) -> list[dict[str, object]]: ...

    def upsert_reference(self, kind: str, items: Iterable[Mapping[str, object]]) -> object: ...


def viewer_region_from_locale() -> str | None:
    """The viewer's country from the system locale (``es_ES`` → ``ES``), for phone formatting."""
    return region_from_locale_name(QLocale.system().name())


# --------------------------------------------------------------------- delegate


class TwoLineDelegate(QStyledItemDelegate):
    """Draws a cell on two lines: the person in bold, the number to dial below.

    The first line is ``FIRST_LINE_ROLE`` (else the display text), the second
    ``DETAIL_LINE_ROLE``. Two short lines keep the grid narrow enough to show
    every tier beside the chain, where one "Name · number" line would not.
    The number is drawn as plainly as the name; only in ``quiet_columns``
    (the service's criticality) is the second line smaller and greyed.
    """

    def __init__(self, parent: QWidget | None = None, *, quiet_columns: Iterable[int] = ()) -> None:
        super().__init__(parent)
        self._quiet = frozenset(quiet_columns)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        main = index.data(FIRST_LINE_ROLE) or opt.text
        detail = index.data(DETAIL_LINE_ROLE) or ""
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is None:
            super().paint(painter, option, index)
            return
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = opt.rect.adjusted(6, 3, -6, -3)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        colour = opt.palette.color(role)
        foreground = index.data(Qt.ItemDataRole.ForegroundRole)
        if foreground is not None and not selected:
            colour = foreground
        painter.save()
        bold = QFont(opt.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(colour)
        metrics = QFontMetrics(bold)
        top = QRect(rect.left(), rect.top(), rect.width(), metrics.height())
        painter.drawText(
            top,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            metrics.elidedText(main, Qt.TextElideMode.ElideRight, rect.width()),
        )
        if detail:
            small = QFont(opt.font)
            if index.column() in self._quiet:
                # Style sheets may size fonts in pixels (pointSizeF is then -1).
                if opt.font.pointSizeF() > 0:
                    small.setPointSizeF(max(6.0, opt.font.pointSizeF() * 0.9))
                else:
                    small.setPixelSize(max(8, round(opt.font.pixelSize() * 0.9)))
                if not selected and foreground is None:
                    colour = opt.palette.color(QPalette.ColorRole.PlaceholderText)
            painter.setFont(small)
            painter.setPen(colour)
            small_metrics = QFontMetrics(small)
            bottom = QRect(rect.left(), top.bottom() + 2, rect.width(), small_metrics.height())
            painter.drawText(
                bottom,
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                small_metrics.elidedText(detail, Qt.TextElideMode.ElideRight, rect.width()),
            )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        bold = QFont(option.font)
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        text = str(index.data(FIRST_LINE_ROLE) or index.data(Qt.ItemDataRole.DisplayRole) or "")
        detail = str(index.data(DETAIL_LINE_ROLE) or "")
        width = max(
            metrics.horizontalAdvance(text), QFontMetrics(option.font).horizontalAdvance(detail)
        )
        return QSize(width + 16, metrics.height() * 2 + 10)


class PhoneTable(QTableView):
    """A read-only table whose Copy (Ctrl+C) copies the selected person's number.

    QTableView would copy the cell's text (a name); at 2 a.m. the number is
    what is pasted into a softphone.
    """

    copy_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


# ------------------------------------------------------------------ HTML pieces


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _phone_link(e164: str | None, region: str | None) -> str:
    if not e164:
        return ""
    return f'<a href="{_e(tel_uri(e164))}">{_e(phone_text(e164, region))}</a>'


def _when_rule(line: ManagerLine) -> str:
    rule = line.rule
    codes = ", ".join(s.code for s in sorted(rule.severities))
    parts = []
    if rule.after is not None:
        parts.append(
            "at once" if rule.after <= timedelta(0) else f"after {format_duration(rule.after)}"
        )
    if rule.at_sla_fraction is not None:
        parts.append(f"at {round(rule.at_sla_fraction * 100)} % of the SLA")
    return f"{codes} {' or '.join(parts)}"


def _person_html(who: OnCall, region: str | None) -> str:
    contact = who.contact
    if contact is None:
        if who.contact_id:
            return f"⚠ {_e(who.contact_id)} (not in the contact list)"
        return f"⚠ nobody on call{(': ' + _e(who.problem)) if who.problem else ''}"
    text = f"<b>{_e(on_call_label(who))}</b>"
    if contact.role:
        text += f" — {_e(contact.role)}"
    phones = f"☎ {_phone_link(contact.primary_phone, region)}"
    if contact.alternate_phone:
        phones += f" · alternate {_phone_link(contact.alternate_phone, region)}"
    return f"{text}<br>{phones}"


def chain_html(
    chain: ServiceChain,
    directory: Directory,
    *,
    region: str | None,
    zone: tzinfo,
) -> str:
    """The selected service's whole chain, as the detail pane shows it (``tel:`` links)."""
    service, at = chain.service, chain.at
    out = [f"<h2>{_e(service.name)}</h2>"]
    owner = chain.owner.name if chain.owner is not None else (service.owner_team or "nobody")
    facts = [f"<b>{_e(service.criticality.title())}</b> criticality", f"owned by {_e(owner)}"]
    if chain.owner is not None and chain.owner.email:
        facts.append(f'<a href="mailto:{_e(chain.owner.email)}">{_e(chain.owner.email)}</a>')
    out.append(f"<p>{' · '.join(facts)}</p>")
    if service.description:
        out.append(f"<p><i>{_e(service.description)}</i></p>")
    if chain.policy is None:
        out.append(
            f"<p>⚠ {_e(chain.problem or 'no escalation policy')}. Ask the service owner.</p>"
        )
        return "\n".join(out)

    out.append("<h3>Who to call — functional escalation</h3>")
    out.append('<table cellspacing="0" cellpadding="4" width="100%">')
    for line in chain.tiers:
        who = line.on_call
        team = line.team.name if line.team is not None else line.tier.team
        delay = line.tier.engage_after
        engage = "at once" if delay <= timedelta(0) else f"after {format_duration(delay)}"
        notes = []
        if who.via is not None and who.note:
            notes.append(f"{who.via.value}: {_e(who.note)}")
        if who.until is not None:
            notes.append(f"until {_e(when_text(who.until, zone, at))}")
        if who.next_shift is not None:
            following = who.next_contact.name if who.next_contact else who.next_contact_id
            phone = who.next_contact.primary_phone if who.next_contact else None
            link = f" {_phone_link(phone, region)}" if phone else ""
            start = _e(when_text(who.next_shift.start, zone, at))
            notes.append(f"next <b>{_e(following)}</b>{link} from {start}")
        if who.source == Source.CONTACT:
            notes.append("fixed contact, no rotation")
        if who.contact is not None and who.contact.time_zone:
            notes.append(f"their time {_e(local_time_text(who.contact.time_zone, at))}")
        out.append(
            "<tr>"
            f'<td valign="top" width="28%"><b>{_e(line.tier.name)}</b><br>'
            f"<small>{_e(team)}<br>engaged {engage}</small></td>"
            f'<td valign="top">{_person_html(who, region)}'
            + (f"<br><small>{'<br>'.join(notes)}</small>" if notes else "")
            + "</td></tr>"
        )
    out.append("</table>")

    if chain.managers:
        out.append("<h3>Managers — hierarchical escalation</h3><ul>")
        for label, lines in group_managers(chain.managers, directory):
            who = lines[0].on_call
            when = "; ".join(_when_rule(m) for m in lines)
            if who.source == Source.ROLE:
                person = "(nobody named on file: use the management call tree)"
            else:
                person = _person_html(who, region)
            out.append(
                f"<li><b>{_e(label)}</b>: {person}<br><small>tell at {_e(when)}</small></li>"
            )
        out.append("</ul>")

    updates = chain.updates
    if updates:
        out.append("<h3>Stakeholder updates — communication</h3>")
        out.append('<table cellspacing="0" cellpadding="3" border="1" width="100%">')
        out.append(
            "<tr><th align=left>Group</th>"
            + "".join(f"<th>{s.code}</th>" for s in Severity)
            + "<th align=left>How</th></tr>"
        )
        groups: dict[str, dict[Severity, str]] = {}
        channels: dict[str, str] = {}
        for update in updates:
            every = (
                "at resolution"
                if update.every is None
                else f"every {format_duration(update.every)}"
            )
            groups.setdefault(update.group, {})[update.severity] = every
            how = _CHANNELS.get(update.channel, update.channel)
            channels[update.group] = f"{how}: {update.target}" if update.target else how
        for group, cadence in groups.items():
            cells = "".join(f"<td>{_e(cadence.get(s, '—'))}</td>" for s in Severity)
            out.append(f"<tr><td>{_e(group)}</td>{cells}<td>{_e(channels[group])}</td></tr>")
        out.append("</table>")
    return "\n".join(out)


def group_managers(
    managers: Iterable[ManagerLine], directory: Directory
) -> list[tuple[str, list[ManagerLine]]]:
    """Rules about the same person or role, together: "Duty manager: SEV-1 at once; SEV-2 …"."""
    groups: dict[str, tuple[str, list[ManagerLine]]] = {}
    for line in managers:
        rule = line.rule
        key = rule.rotation_id or rule.who
        if rule.rotation_id is None and rule.who in directory.contacts:
            label = "Service owner's manager"
        else:
            label = rule.who
        groups.setdefault(key, (label, []))[1].append(line)
    return list(groups.values())


def binder_html(directory: Directory, at: datetime, zone: tzinfo, *, demo: bool = False) -> str:
    """The printable matrix: services × tiers with names and numbers, the rotas, every contact.

    Numbers are printed in international form: the paper may be read
    anywhere, and a mobile dials ``+34 …`` from every country.
    """

    def intl(e164: str | None) -> str:
        return format_phone(e164, None) if e164 else ""

    levels = directory.levels
    stamp = at.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")
    out = [
        "<html><body style='font-family: sans-serif; font-size: 8pt'>",
        *(
            ["<h1 style='color:#B45309'>DEMO — made-up data, not a real escalation matrix</h1>"]
            if demo
            else []
        ),
        f"<h2>Escalation matrix — on call as of {_e(stamp)}</h2>",
        "<p>Call L1 first; each tier is engaged after the delay shown. On-call people change "
        "at each rotation's hand-off (see the rotas below). Numbers in international form.</p>",
        '<table border="1" cellspacing="0" cellpadding="3" width="100%">',
        "<tr><th align=left>Service</th><th align=left>Owner</th>"
        + "".join(f"<th align=left>L{n}</th>" for n in range(1, levels + 1))
        + "</tr>",
    ]
    for chain in directory.chains(at):
        cells = []
        for level in range(1, levels + 1):
            line = chain.tier(level)
            if line is None:
                cells.append("<td>—</td>")
                continue
            who = line.on_call
            contact = who.contact
            text = f"<small>{_e(line.tier.name)}</small><br>"
            if contact is None:
                text += "⚠ nobody on call"
            else:
                text += f"<b>{_e(on_call_label(who))}</b><br>{_e(intl(contact.primary_phone))}"
                if contact.alternate_phone:
                    text += f"<br>alt {_e(intl(contact.alternate_phone))}"
            if who.next_shift is not None and who.next_contact is not None:
                start = who.next_shift.start.astimezone(zone).strftime("%a %d %b %H:%M")
                text += f"<br><small>then {_e(who.next_contact.name)} from {_e(start)}</small>"
            cells.append(f"<td valign=top>{text}</td>")
        owner = chain.owner.name if chain.owner else (chain.service.owner_team or "")
        out.append(
            f"<tr><td valign=top><b>{_e(chain.service.name)}</b><br>"
            f"<small>{_e(chain.service.criticality)}</small></td>"
            f"<td valign=top>{_e(owner)}</td>{''.join(cells)}</tr>"
        )
    out.append("</table>")

    out.append(f"<h3>On-call rotas, next {BINDER_WEEKS} weeks</h3>")
    out.append('<table border="1" cellspacing="0" cellpadding="3" width="100%">')
    out.append(
        "<tr><th align=left>Rotation</th><th align=left>Hand-off</th>"
        "<th align=left>Who, from when</th></tr>"
    )
    for schedule in sorted(directory.schedules.values(), key=lambda s: fold(s.name)):
        shifts = shifts_between(
            schedule.rotation, schedule.overrides, at, at + timedelta(weeks=BINDER_WEEKS)
        )
        parts = []
        for shift in shifts:
            contact = directory.contact(shift.contact_id)
            name = contact.name if contact else shift.contact_id
            how = f" ({shift.override_kind.value})" if shift.override_kind else ""
            begin = max(shift.start, at).astimezone(zone).strftime("%d %b %H:%M")
            phone = f" {intl(contact.primary_phone)}" if contact else ""
            parts.append(f"{_e(begin)}: <b>{_e(name)}</b>{_e(how)}{_e(phone)}")
        out.append(
            f"<tr><td valign=top>{_e(schedule.name)}</td>"
            f"<td valign=top>{_e(schedule.rotation.describe_handoff())}</td>"
            f"<td>{'<br>'.join(parts)}</td></tr>"
        )
    out.append("</table>")

    out.append("<h3>Contacts</h3>")
    out.append('<table border="1" cellspacing="0" cellpadding="3" width="100%">')
    out.append(
        "<tr><th align=left>Name</th><th align=left>Role</th><th align=left>Team</th>"
        "<th align=left>Phone</th><th align=left>Alternate</th><th align=left>E-mail</th>"
        "<th align=left>Time zone</th></tr>"
    )
    for contact in directory.contacts_sorted():
        out.append(
            f"<tr><td>{_e(contact.name)}</td><td>{_e(contact.role)}</td>"
            f"<td>{_e(directory.team_name(contact.team))}</td>"
            f"<td>{_e(intl(contact.primary_phone))}</td>"
            f"<td>{_e(intl(contact.alternate_phone))}</td>"
            f"<td>{_e(contact.email or '')}</td><td>{_e(contact.time_zone or '')}</td></tr>"
        )
    out.append("</table></body></html>")
    return "\n".join(out)


def print_binder(
    device: QPagedPaintDevice,
    directory: Directory,
    at: datetime,
    zone: tzinfo,
    *,
    demo: bool = False,
) -> None:
    """Lay the binder out on ``device`` (a QPrinter or a QPdfWriter), A4 landscape."""
    device.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    device.setPageOrientation(QPageLayout.Orientation.Landscape)
    device.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    document = QTextDocument()
    document.setDocumentMargin(0)
    font = QFont()
    font.setPointSizeF(8)
    document.setDefaultFont(font)
    document.setHtml(binder_html(directory, at, zone, demo=demo))
    document.print_(device)


# ------------------------------------------------------------------ import dialog


class CsvImportDialog(QDialog):
    """The preview of a contacts import: every row, every problem, and Apply only if all is well.

    Rows with a problem are marked ⚠ and tinted; the list at the bottom names
    every problem by spreadsheet row. Apply writes all rows in one
    transaction; it stays disabled while any row has a problem.
    """

    def __init__(
        self,
        preview: CsvImportPreview,
        store: ContactStore | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("csvImportDialog")
        self.setWindowTitle(f"Import contacts from {preview.source}")
        self.preview = preview
        self._store = store
        self.written = 0

        self.summary = QLabel(preview.summary(), self)
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)

        self.table = QTableWidget(self)
        self.table.setObjectName("importPreview")
        columns = list(preview.columns)
        self.table.setColumnCount(2 + len(columns))
        self.table.setHorizontalHeaderLabels(["Row", "Result", *columns])
        self.table.setRowCount(len(preview.rows))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for position, row in enumerate(preview.rows):
            result = (
                row.action if row.ok else "⚠ " + "; ".join(e.split(": ", 1)[-1] for e in row.errors)
            )
            cells = [str(row.row), result, *(row.values.get(c, "") for c in columns)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if not row.ok:
                    item.setBackground(QBrush(QColor(PROBLEM_TINT)))
                    item.setForeground(Qt.GlobalColor.black)
                    item.setToolTip("\n".join(row.errors))
                self.table.setItem(position, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(1, min(self.table.columnWidth(1), 420))

        self.problems = QPlainTextEdit(self)
        self.problems.setObjectName("importProblems")
        self.problems.setReadOnly(True)
        lines = list(preview.errors) + [f"note: {n}" for n in preview.notes]
        self.problems.setPlainText("\n".join(lines) if lines else "No problems found.")
        self.problems.setMaximumHeight(140)

        self.buttons = QDialogButtonBox(self)
        self.apply_button = self.buttons.addButton(
            "Apply: import all rows", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.apply_button.setObjectName("applyImport")
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button.setEnabled(preview.ok and store is not None)
        if store is None:
            self.apply_button.setToolTip("No local cache to write to")
        elif not preview.ok:
            self.apply_button.setToolTip(
                "Fix every row marked ⚠ first: the import is all or nothing"
            )
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Problems", self))
        layout.addWidget(self.problems)
        layout.addWidget(self.buttons)
        self.resize(1000, 560)

    def apply(self) -> None:
        """Write every row (one transaction) and close; on failure say why and keep the dialog."""
        if self._store is None or not self.apply_button.isEnabled():
            return
        try:
            self.written = apply_import(self.preview, self._store)
        except ImportRefusedError as exc:
            self.summary.setText(str(exc))
            return
        except (CacheError, OSError) as exc:  # say it; the operator's file stays open
            self.summary.setText(f"Nothing was imported: {exc}")
            return
        self.accept()


# ------------------------------------------------------------------------ view


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
        at = self.model.at.astimezone(self.display_zone)
        shown = self.model.rowCount()
        total = len(self.directory.services)
        count = f"{shown} of {total} services" if shown != total else f"{total} services"
        self.status.setText(f"On call at {at.strftime('%a %H:%M %Z')} · {count}")
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
        stamp = self._now().astimezone(self.display_zone).strftime("%Y%m%d-%H%M")
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
