"""The escalation matrix view with the demo NOC: on call now, search, call, copy, CSV, PDF."""

from __future__ import annotations

import csv
import functools
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from console.models.escalation_matrix import (
    CONTACT_ROLE,
    FIXED_COLUMNS,
    PHONE_ROLE,
    SERVICE_ID_ROLE,
    ContactColumn,
    ContactListModel,
    EscalationMatrixModel,
)
from console.services.demo import load_demo, read_demo
from console.services.directory import Directory
from console.services.matrix_csv import CONTACT_COLUMNS
from console.store import Cache
from console.views.matrix.printing import binder_html
from console.views.matrix.view import EscalationMatrixView

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # Wednesday 16:00 in Madrid
MADRID = ZoneInfo("Europe/Madrid")
DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole
L1, L2, L3 = FIXED_COLUMNS, FIXED_COLUMNS + 1, FIXED_COLUMNS + 2


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class DialedUrls(QObject):
    """Receives ``tel:`` URLs through Qt's own URL-handler mechanism (no mock)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def dial(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    cache = Cache.open(tmp_path / "cache.db")
    load_demo(cache, NOW)
    yield cache
    cache.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def view(qtbot: QtBot, cache: Cache, clock: Clock) -> EscalationMatrixView:
    widget = EscalationMatrixView(
        Directory.from_store(cache),
        store=cache,
        now=clock,
        viewer_region="ES",
        display_zone=MADRID,
        tick_ms=None,
    )
    qtbot.addWidget(widget)
    widget.resize(1440, 860)
    return widget


@pytest.fixture
def dialed() -> Iterator[DialedUrls]:
    receiver = DialedUrls()
    QDesktopServices.setUrlHandler("tel", receiver, "dial")
    yield receiver
    QDesktopServices.unsetUrlHandler("tel")


def cell(model: EscalationMatrixModel, service_id: str, column: int, role: int = DISPLAY) -> object:
    row = model.row_of(service_id)
    assert row is not None, service_id
    return model.index(row, column).data(role)


# ----------------------------------------------------------------- the model


def test_models_pass_the_qt_model_tester(qtmodeltester, cache: Cache, clock: Clock) -> None:
    directory = Directory.from_store(cache)
    matrix = EscalationMatrixModel(directory, now=clock, viewer_region="ES", tick_ms=None)
    contacts = ContactListModel(directory, now=clock, viewer_region="ES")
    qtmodeltester.check(matrix, force_py=False)
    qtmodeltester.check(contacts, force_py=False)
    # The tester stays attached: filtering, ticking and refreshing are checked too.
    for model in (matrix, contacts):
        model.set_filter("network")
        model.set_filter("kruger")
        model.set_filter("")
    clock.at = NOW + timedelta(hours=9)
    matrix.tick()
    contacts.tick()
    matrix.refresh(Directory.from_store(cache))
    matrix.refresh(Directory())
    contacts.refresh(Directory())


def test_who_is_on_call_now_at_a_fixed_instant(view: EscalationMatrixView) -> None:
    model = view.model
    assert model.rowCount() == 15
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == [
        "Service",
        "Owner team",
        "L1",
        "L2",
        "L3",
    ]
    # Most critical services first.
    assert cell(model, "checkout", 0) == "Checkout"
    assert model.index(0, 0).data(SERVICE_ID_ROLE) == "checkout"
    assert cell(model, "dc-network", 1) == "Network Engineering"
    # A Spanish number for a viewer in Spain: national form; others international.
    assert cell(model, "payments-api", L1) == "Javier Morales · 637 91 56 68"
    assert cell(model, "payments-api", L2) == "Yuki Tanaka · +81 90-7782-7584"
    # Overrides say so in the cell itself.
    assert cell(model, "dc-network", L2) == "Marcus Lee (cover) · +1 773-555-0131"
    assert cell(model, "payments-api", L3) == "Ravi Shankar (swap) · +91 99802 83946"
    assert cell(model, "dc-network", L2, PHONE_ROLE) == "+17735550131"
    assert cell(model, "erp", L3) == "Lars Hoffmann · +49 170 3365804"

    tooltip = str(cell(model, "dc-network", L2, TOOLTIP))
    assert "On call now: Marcus Lee (Network engineer)" in tooltip
    assert "via a cover: Covering while the on-call engineer is at a hospital" in tooltip
    assert "alternate +1 312-555-0133" in tooltip
    assert "Until Thu 19 Nov 00:00 (in 8 h)" in tooltip  # 23:00 UTC, shown in Madrid time
    assert "Next: Daan de Vries from Thu 19 Nov 00:00 (in 8 h)" in tooltip
    assert "hand-off Tuesday 10:00 Europe/Berlin" in tooltip
    assert "Engaged 15 min after the incident opens" in tooltip
    assert "Fixed contact" in str(cell(model, "erp", L3, TOOLTIP))


def test_the_matrix_follows_the_clock(
    view: EscalationMatrixView, clock: Clock, qtbot: QtBot
) -> None:
    model = view.model
    row = model.row_of("dc-network")
    clock.at = NOW + timedelta(hours=7)
    with qtbot.assertNotEmitted(model.dataChanged):
        model.tick()  # nobody changed: no repaint
    clock.at = NOW + timedelta(hours=8)  # the cover ends, the rota's holder is back
    with qtbot.waitSignal(model.dataChanged) as changed:
        view.tick()
    assert changed.args[0].row() == row
    assert cell(model, "dc-network", L2) == "Daan de Vries · +31 6 24593745"
    assert "Thu 00:00" in view.status.text()


def test_the_minute_timer_ticks_by_itself(qtbot: QtBot, cache: Cache) -> None:
    clock = Clock(NOW + timedelta(hours=8) - timedelta(milliseconds=300))
    model = EscalationMatrixModel(Directory.from_store(cache), now=clock, viewer_region="ES")
    assert model.timer.isActive()
    assert model.timer.remainingTime() <= 600  # aligned to the next minute boundary
    clock.at = NOW + timedelta(hours=8, seconds=1)
    with qtbot.waitSignal(model.dataChanged, timeout=5000):
        pass
    assert cell(model, "dc-network", L2) == "Daan de Vries · +31 6 24593745"
    model.timer.stop()


def test_refresh_takes_new_reference_data_and_keeps_the_selection(
    view: EscalationMatrixView, cache: Cache
) -> None:
    assert view.select_service("corporate-vpn", 2)
    marcus = next(c for c in cache.reference("contacts") if c["id"] == "mlee")
    cache.upsert_reference("contacts", [{**marcus, "name": "Marcus J. Lee"}])
    view.refresh(Directory.from_store(cache))
    assert cell(view.model, "dc-network", L2) == "Marcus J. Lee (cover) · +1 773-555-0131"
    assert view.selected_service_id() == "corporate-vpn"
    # A new service changes the rows: the model resets and the selection comes back.
    cache.upsert_reference("services", [{"id": "aaa", "name": "Archive", "owner_team": "database"}])
    view.refresh(Directory.from_store(cache))
    assert view.model.rowCount() == 16
    assert cell(view.model, "aaa", L1) == "⚠ no escalation policy"
    assert view.selected_service_id() == "corporate-vpn"


# ----------------------------------------------------------------- the view


def test_search_by_person_team_or_service(view: EscalationMatrixView, qtbot: QtBot) -> None:
    view.select_service("orders-db")
    qtbot.keyClicks(view.search, "Kruger")  # typed without the accent
    services = {view.model.chain_at(r).service.id for r in range(view.model.rowCount())}
    assert services == {"orders-db", "data-warehouse"}
    assert view.contacts_model.rowCount() == 1
    assert view.contacts_model.contact_at(0).name == "Sabine Krüger"
    assert view.selected_service_id() == "orders-db"  # still shown: selection kept
    assert "2 of 15 services" in view.status.text()

    view.set_search("identity")
    assert view.model.row_of("customer-sso") is not None
    assert view.model.row_of("orders-db") is None
    assert view.selected_service_id() != "orders-db"  # moved to a visible service

    view.set_search("")
    assert view.model.rowCount() == 15
    assert view.contacts_model.rowCount() == 40


def test_ctrl_f_jumps_to_the_search_box(view: EscalationMatrixView, qtbot: QtBot) -> None:
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.matrix.setFocus()
    qtbot.waitUntil(view.matrix.hasFocus)
    qtbot.keySequence(view.matrix, QKeySequence.StandardKey.Find)
    assert view.search.hasFocus()


def test_the_detail_pane_shows_the_whole_chain(view: EscalationMatrixView) -> None:
    view.select_service("payments-api")
    text = view.detail.toPlainText()
    for words in [
        "Payments API",
        "owned by Payments Engineering",
        "L1 NOC",
        "Javier Morales — NOC operator",
        "alternate 939 66 08 88",
        "next Priya Raman",
        "L3 Payments engineering",
        "Ravi Shankar (swap)",
        "swap: Swapped weeks: family wedding",
        "engaged after 30 min",
        "Duty manager: Lucía Fernández",
        "SEV-1 at once; SEV-2 after 30 min or at 75 % of the SLA",
        "Service owner's manager: Elena Navarro",
        "Head of IT operations",
        "Affected customers",
        "every 15 min",
        "at resolution",
        "status page: status.example.com",
    ]:
        assert words in text, words
    assert 'href="tel:+34637915668"' in view.detail.toHtml()


def test_click_to_call_opens_the_tel_url(
    view: EscalationMatrixView, dialed: DialedUrls, qtbot: QtBot
) -> None:
    view.show()
    assert view.select_service("dc-network", 2)
    assert view.call_button.isEnabled()
    qtbot.mouseClick(view.call_button, Qt.MouseButton.LeftButton)
    assert dialed.urls == ["tel:+17735550131"]
    # Double-clicking a cell dials that cell's person.
    row = view.model.row_of("payments-api")
    assert row is not None
    view.matrix.doubleClicked.emit(view.model.index(row, L1))
    # A number in the chain pane is a tel: link too.
    view.detail.anchorClicked.emit(QUrl("tel:+34911164104"))
    assert dialed.urls[1:] == ["tel:+34637915668", "tel:+34911164104"]
    assert "Calling" in view.status.text()


def test_the_context_menu_calls_the_alternate_number(
    view: EscalationMatrixView, dialed: DialedUrls
) -> None:
    row = view.model.row_of("dc-network")
    assert row is not None
    contact = view.model.index(row, L2).data(CONTACT_ROLE)
    actions = {a.text(): a for a in view.contact_actions(contact, view)}
    assert list(actions) == [
        "☎ Call Marcus Lee (+1 773-555-0131)",
        "☎ Call Marcus Lee alternate (+1 312-555-0133)",
        "Copy number",
        "Copy alternate number",
        "Copy name and number",
    ]
    actions["☎ Call Marcus Lee alternate (+1 312-555-0133)"].trigger()
    assert dialed.urls == ["tel:+13125550133"]
    actions["Copy name and number"].trigger()
    assert QGuiApplication.clipboard().text() == "Marcus Lee +1 773-555-0131"


def test_copy_puts_the_e164_number_on_the_clipboard(
    view: EscalationMatrixView, qtbot: QtBot
) -> None:
    view.show()
    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    view.select_service("payments-api", 1)
    qtbot.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    assert clipboard.text() == "+34637915668"
    # Ctrl+C in the contact list copies that person's number.
    row = view.contacts_model.row_of("ytanaka")
    assert row is not None
    view.contacts.setFocus()
    view.contacts.setCurrentIndex(view.contacts_model.index(row, ContactColumn.NAME))
    qtbot.keySequence(view.contacts, QKeySequence.StandardKey.Copy)
    assert clipboard.text() == "+819077827584"


def test_contacts_list_shows_local_time_and_what_they_hold(view: EscalationMatrixView) -> None:
    model = view.contacts_model
    row = model.row_of("mlee")
    assert row is not None
    assert model.index(row, ContactColumn.LOCAL_TIME).data() == "Wed 09:00 · Chicago"
    assert model.index(row, ContactColumn.ON_CALL).data() == "Network on call (cover)"
    assert model.index(row, ContactColumn.PHONE).data() == "+1 773-555-0131"
    spanish = model.row_of("lfernandez")
    assert spanish is not None
    assert model.index(spanish, ContactColumn.PHONE).data() == "722 81 86 62"
    assert model.index(spanish, ContactColumn.PHONE).data(PHONE_ROLE) == "+34722818662"


# --------------------------------------------------------------- CSV and PDF


def test_export_csv_from_the_view(view: EscalationMatrixView, tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.csv"
    assert view.export_contacts_csv(contacts) == 40
    with contacts.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == list(CONTACT_COLUMNS)
    on_call = tmp_path / "on-call.csv"
    assert view.export_on_call_csv(on_call) == 45


def test_importing_a_bad_file_changes_nothing_and_names_every_bad_row(
    view: EscalationMatrixView, cache: Cache, tmp_path: Path, qtbot: QtBot
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "\r\n".join(
            [
                ",".join(CONTACT_COLUMNS),
                "ana,Ana Ruiz,Analyst,service-desk,+34 612 34 56 78,,,Europe/Madrid",
                "bob,Bob Stone,Engineer,network,+1 555,,,America/New_York",
                "cho,Cho Min,Engineer,netwrk,+81 90-1234-5678,,,Asia/Tokyo",
                "dee,Dee Kaur,Engineer,database,+91 98765 43210,,,Asia/Kolkatta",
            ]
        ),
        encoding="utf-8",
    )
    before = cache.reference("contacts")
    dialog = view.preview_import(path)
    qtbot.addWidget(dialog)
    assert not dialog.apply_button.isEnabled()
    assert dialog.table.rowCount() == 4
    assert dialog.table.item(0, 1).text() == "new"
    assert dialog.table.item(1, 1).text().startswith("⚠ primary_phone '+1 555'")
    problems = dialog.problems.toPlainText()
    for row in ("row 3: primary_phone", "row 4: team 'netwrk'", "row 5: time_zone"):
        assert row in problems
    assert "nothing will be imported" in dialog.summary.text()
    dialog.apply()  # even if called, nothing is written
    assert cache.reference("contacts") == before
    assert view.contacts_model.rowCount() == 40


def test_importing_a_good_file_writes_all_rows(
    view: EscalationMatrixView, cache: Cache, tmp_path: Path, qtbot: QtBot
) -> None:
    path = tmp_path / "people.csv"
    view.export_contacts_csv(path)
    text = path.read_text(encoding="utf-8-sig")
    text += ",Zoë Adams,Network engineer,network,+61 412 345 678,,,Australia/Sydney\r\n"
    path.write_text(text, encoding="utf-8-sig")
    dialog = view.preview_import(path)
    qtbot.addWidget(dialog)
    assert dialog.apply_button.isEnabled()
    assert dialog.summary.text() == "41 rows: 1 new, 0 updated, 40 unchanged"
    with qtbot.waitSignal(view.contacts_imported) as imported:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert imported.args == [41]
    assert len(cache.reference("contacts")) == 41
    assert view.contacts_model.row_of("zoe-adams") is not None  # the view re-read the cache


def pdf_text(path: Path) -> str | None:
    """The PDF's text via poppler's pdftotext, or None when it is not installed."""
    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    done = subprocess.run(
        [tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def test_pdf_export_for_the_binder(view: EscalationMatrixView, tmp_path: Path) -> None:
    path = tmp_path / "matrix.pdf"
    view.export_pdf(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 10_000
    text = pdf_text(path)
    if text is not None:
        for words in (
            "Escalation matrix",
            "Data-centre network",
            "Marcus Lee (cover)",
            "+1 773-555-0131",
            "Lucía Fernández",
            "Network on call",
            "Tuesday 10:00 Europe/Berlin",
        ):
            assert words in text, words


def test_printing_goes_through_qprinter(view: EscalationMatrixView, tmp_path: Path) -> None:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    view.print_to(printer)
    assert (tmp_path / "printed.pdf").read_bytes().startswith(b"%PDF")


def test_binder_lists_the_rota_weeks_ahead(cache: Cache) -> None:
    text = binder_html(Directory.from_store(cache), NOW, MADRID)
    assert "On-call rotas, next 4 weeks" in text
    # The swap's second half: Sofia holds the week Ravi would have had.
    assert "23 Nov 09:00: <b>Sofia Marín</b> (swap)" in text
    assert "+34 627 06 55 84" in text


# ------------------------------------------------------------- problems, PNG


def test_problems_and_an_empty_directory_are_said_plainly(qtbot: QtBot, clock: Clock) -> None:
    broken = Directory.from_reference(
        services=[{"id": "svc", "name": "Svc"}],
        shifts=[{"id": "rot-x", "name": "X", "team": "t", "time_zone": "Nowhere/City"}],
    )
    view = EscalationMatrixView(broken, now=clock, viewer_region="ES", tick_ms=None)
    qtbot.addWidget(view)
    assert not view.banner.isHidden()
    assert "1 records could not be read" in view.banner.text()
    assert not view.import_button.isEnabled()  # no store to write to
    empty = EscalationMatrixView(Directory(), now=clock, viewer_region="ES", tick_ms=None)
    qtbot.addWidget(empty)
    assert "No services yet" in empty.banner.text()
    assert "Select a service" in empty.detail.toPlainText()
    assert not empty.call_button.isEnabled()


def test_render_with_the_demo_data(view: EscalationMatrixView, tmp_path: Path) -> None:
    """The picture a person looks at (docs/screenshots/escalation-matrix.png is made so)."""
    view.show()
    view.select_service("payments-api", 3)
    image = view.grab().toImage()
    assert (image.width(), image.height()) == (1440, 860)
    path = tmp_path / "escalation-matrix.png"
    assert image.save(str(path))
    assert path.stat().st_size > 50_000
    # Every tier column is on screen beside the chain, none scrolled away.
    header = view.matrix.horizontalHeader()
    last = header.sectionViewportPosition(L3) + header.sectionSize(L3)
    assert header.sectionViewportPosition(0) == 0
    assert last <= view.matrix.viewport().width() + 1


@functools.cache
def demo_directory() -> Directory:
    data = read_demo(NOW)
    reference = {**data.reference, **data.escalation}
    return Directory.from_reference(
        services=reference["services"],
        teams=reference["teams"],
        contacts=reference["contacts"],
        policies=reference["policies"],
        shifts=reference["shifts"],
    )


QUERIES = ["", "network", "kruger", "platform", "sap", "+49", "identity sso", "l2", "zzz", "a"]


@settings(max_examples=40, deadline=None)
@given(queries=st.lists(st.sampled_from(QUERIES), min_size=1, max_size=8))
def test_filtering_shows_exactly_the_matching_rows_in_order(
    qapp: object, queries: list[str]
) -> None:
    """Typing removes and inserts only the rows that change; the result is always exact."""
    directory = demo_directory()
    matrix = EscalationMatrixModel(directory, now=lambda: NOW, viewer_region="ES", tick_ms=None)
    contacts = ContactListModel(directory, now=lambda: NOW, viewer_region="ES")
    # Warnings fail the test (qt_log_level_fail); keep the testers referenced.
    mode = QAbstractItemModelTester.FailureReportingMode.Warning
    testers = [QAbstractItemModelTester(m, mode) for m in (matrix, contacts)]
    order = [s.id for s in directory.services]
    people = [c.id for c in directory.contacts_sorted()]
    # What a view knows: the rows it was told about through the signals.
    mirror = list(order)

    def removed(_parent: object, first: int, last: int) -> None:
        del mirror[first : last + 1]

    def inserted(_parent: object, first: int, last: int) -> None:
        mirror[first:first] = [matrix.chain_at(r).service.id for r in range(first, last + 1)]

    matrix.rowsRemoved.connect(removed)
    matrix.rowsInserted.connect(inserted)
    for query in queries:
        matrix.set_filter(query)
        contacts.set_filter(query)
        shown = [matrix.chain_at(r).service.id for r in range(matrix.rowCount())]
        assert shown == [s for s in order if directory.matches(s, query)]
        assert mirror == shown
        listed = [contacts.contact_at(r).id for r in range(contacts.rowCount())]
        assert listed == [c for c in people if directory.contact_matches(c, query)]
    assert len(testers) == 2
