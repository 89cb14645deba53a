"""The triage wizard from the keyboard alone: ``n`` → six pages → outbox, shown at once.

The console runs over a real SQLite cache holding the demo NOC's reference data
(services, teams, contacts, escalation policies, rotations, the taxonomy,
known errors) and a few open incidents, with the real outbox writer
(``LocalEdits``). Every test drives the wizard with key presses only, through
:mod:`tests.views.triage_keys`, and checks what the dispatcher would see and
what the sync engine will send.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.connectors.base import Unreachable
from console.connectors.noc import NocBackend
from console.demo import read_demo
from console.directory import Directory
from console.domain.lifecycle import State
from console.domain.severity import Severity
from console.phones import format_phone
from console.store import Cache
from console.sync.edits import PENDING_NUMBER_PREFIX
from console.sync.engine import SyncEngine
from console.triage_draft import DRAFT_FILE
from console.views.theme import apply_theme
from console.views.triage_wizard import Step, TriageWizard
from tests.views.conftest import NOW, make_incident
from tests.views.triage_keys import CALLS, SEV2_CALL, Console, run_to_last_page

pytestmark = pytest.mark.qt_log_ignore(
    # The offscreen platform cannot grab the keyboard for a type-ahead list.
    "This plugin does not support",
)

Key = Qt.Key
BACKEND_KEY = "https://noc.test"


def _open_incidents() -> list:
    """Open incidents of the last hours: one on the Payments API, one elsewhere, one old."""
    return [
        make_incident(
            1,
            Severity.SEV2,
            age_min=12,
            state=State.NEW,
            acknowledged_at=None,
            title="Card payments declined at checkout",
        ),
        make_incident(2, Severity.SEV3, age_min=40, service="corporate-vpn", title="VPN slow"),
        make_incident(3, Severity.SEV3, age_min=600, title="Payments API latency (yesterday)"),
    ]


@pytest.fixture
def triage_cache(tmp_path: Path) -> Iterator[Cache]:
    """A real cache file with the demo NOC's reference data and a few open incidents."""
    folder = tmp_path / "data"
    folder.mkdir()
    cache = Cache.open(folder / "cache.db")
    demo = read_demo(NOW)
    for kind, items in {**demo.reference, **demo.escalation}.items():
        cache.upsert_reference(kind, items)
    cache.upsert_incidents(_open_incidents())
    yield cache
    cache.close()


@pytest.fixture
def console(qtbot: QtBot, triage_cache: Cache) -> Callable[..., Console]:
    """The console over the triage cache, acting as ``role`` (None: never told its role)."""
    return lambda role="dispatcher": Console(qtbot, triage_cache, role, now=NOW)


def _closed(qtbot: QtBot, wizard: TriageWizard) -> None:
    qtbot.waitUntil(lambda: not wizard.isVisible())


# --------------------------------------------------------------------------
# One case per severity
# --------------------------------------------------------------------------


@pytest.mark.parametrize("severity", [1, 2, 3, 4], ids=["SEV-1", "SEV-2", "SEV-3", "SEV-4"])
def test_a_call_of_each_severity_is_logged_with_its_routing(
    qtbot: QtBot, console: Callable[..., Console], severity: int
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    assert wizard.step_label.text() == "1 / 6  Intake"
    run_to_last_page(keys, CALLS[severity])
    expected = Severity(severity)
    assert wizard.page_index == Step.BEFORE
    assert wizard.final_severity() is expected
    # The result page showed the severity, its cell, the deadlines and the people.
    result = wizard.result_page
    assert expected.code in result.severity_label.text()
    [chosen] = [c for c in result.grid.cells.values() if c.property("chosen")]
    assert expected.code in chosen.text()
    assert "Respond by" in result.deadlines.text()
    assert "Payments Engineering" in result.routing.text()
    assert "L1 NOC" in result.routing.text()
    if wizard.before.banner.isVisibleTo(wizard.before):
        keys.answer("n")  # a major incident by the rules, not declared here
    keys.create()
    _closed(qtbot, wizard)

    record, fields = desk.created()
    assert fields["title"] == CALLS[severity].title
    assert fields["service"] == "payments-api"
    assert (fields["category"], fields["subcategory"]) == ("software", "saas")
    assert fields["reporter"] == "Ana Ruiz (+34 600 111 222)"
    assert fields["assignment_group"] == "payments-eng"
    assert "severity" not in fields  # the matrix decided; nothing overridden
    assert "major" not in fields
    assert str(fields["description"]).startswith("Triage: impact ")
    shown = desk.window.model.queue.get(record.incident_id)
    assert shown is not None
    assert shown.severity is expected
    assert shown.number.startswith(PENDING_NUMBER_PREFIX)
    current = desk.window.current_incident()
    assert current is not None
    assert current.id == record.incident_id
    assert not desk.drafts.exists


def test_the_matrix_and_the_reasons_follow_the_answers(console: Callable[..., Console]) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, SEV2_CALL)
    keys.alt(Key.Key_B)  # back to the result
    result = wizard.result_page
    assert wizard.step_label.text() == "5 / 6  Result"
    text = result.reasons.text()
    assert "Impact high" in text
    assert "several teams can't work" in text
    assert "A customer SLA is at stake" in text
    assert "impact <b>high</b> × urgency <b>medium</b>" in result.severity_label.text()
    # SEV-2 round the clock: respond within 30 min, resolve within 8 h, local times.
    respond = (NOW + timedelta(minutes=30)).astimezone().strftime("%H:%M")
    resolve = (NOW + timedelta(hours=8)).astimezone().strftime("%H:%M")
    assert f"Respond by <b>{respond}</b> (30 min)" in result.deadlines.text()
    assert f"Resolve by <b>{resolve}</b> (8 h)" in result.deadlines.text()
    # Who is engaged now comes from the escalation matrix, with phone numbers.
    on_call = Directory.from_store(desk.cache).on_call("rot-noc", NOW).contact
    assert on_call is not None
    assert on_call.primary_phone is not None
    phone = format_phone(on_call.primary_phone, "ES")
    assert f"L1 NOC — {on_call.name} · <b>{phone}</b> (<b>now</b>)" in result.routing.text()
    keys.alt(Key.Key_B)
    keys.alt(Key.Key_B)  # impact
    assert wizard.page_index == Step.IMPACT
    keys.answer("1")  # one person instead of a site
    assert "One person can't work" in wizard.impact.box.reasons.text()
    keys.enter()
    keys.enter()
    assert wizard.final_severity() is Severity.SEV4  # low × medium


# --------------------------------------------------------------------------
# Checks on the way
# --------------------------------------------------------------------------


def test_a_page_says_what_is_missing_and_goes_to_it(console: Callable[..., Console]) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    keys.type("Ana Ruiz")
    keys.enter()
    assert wizard.page_index == Step.INTAKE
    assert "called back" in wizard.error.text()
    assert wizard.focusWidget() is wizard.intake.contact
    keys.type("ext 4411")
    keys.tab()
    keys.type("zzz")
    keys.enter()
    assert "No affected service matches “zzz”" in wizard.error.text()
    assert wizard.focusWidget() is wizard.intake.service


def test_the_service_type_ahead_takes_another_match_with_the_arrow_keys(
    console: Callable[..., Console],
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    keys.tab(2)
    keys.type("network")
    popup = QApplication.activePopupWidget()
    assert popup is not None
    offered = wizard.intake.service.matches()
    assert len(offered) >= 2
    assert offered[0].label == "Data-centre network"  # the name matches before the team
    keys.press(Key.Key_Down)
    keys.tab()
    assert wizard.intake.service.chosen() == offered[1].id
    assert wizard.focusWidget() is wizard.intake.title_edit


def test_tab_goes_round_the_fields_of_the_page_in_order(console: Callable[..., Console]) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    intake = wizard.intake
    order = [intake.contact, intake.service, intake.title_edit, intake.details, intake.source]
    for expected in [*order, intake.reporter]:
        keys.tab()
        assert wizard.focusWidget() is expected
    keys.press(Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert wizard.focusWidget() is intake.source


def test_answers_take_one_key_and_move_to_the_next_question(
    console: Callable[..., Console],
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, SEV2_CALL)
    keys.alt(Key.Key_B)
    keys.alt(Key.Key_B)
    keys.alt(Key.Key_B)
    impact = wizard.impact
    assert wizard.focusWidget() is impact.users
    keys.answer("2")
    assert wizard.focusWidget() is impact.critical
    keys.answer("y")
    assert wizard.focusWidget() is impact.workaround
    keys.answer("n")
    assert wizard.focusWidget() is impact.functions
    assert "A revenue- or safety-critical system is down" in impact.box.reasons.text()


# --------------------------------------------------------------------------
# Duplicates and known errors
# --------------------------------------------------------------------------


def test_a_duplicate_adds_the_caller_to_the_existing_incident_instead(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, SEV2_CALL)
    before = wizard.before
    numbers = [
        before.duplicates.item(i).text().split()[0] for i in range(before.duplicates.count())
    ]
    assert numbers[0] == "INC-000001"  # same service, similar title, 12 min ago
    assert "INC-000003" not in numbers  # opened ten hours ago: outside the window
    assert "INC-000002" not in numbers  # another service, other words
    first = before.duplicates.item(0).text()
    assert "same service, opened 12 min ago" in first
    assert before.add_caller.text() == "Add this caller to INC-000001 instead (Alt+A)"
    keys.alt(Key.Key_A)
    _closed(qtbot, wizard)

    [record] = desk.outbox()
    assert record.operation == "timeline"
    assert record.incident_id == "inc-1"
    body = str(record.payload["body"])
    assert "Ana Ruiz (+34 600 111 222)" in body
    assert "Card payments failing at checkout" in body
    assert len(desk.cache.incidents()) == 3  # no new incident
    current = desk.window.current_incident()
    assert current is not None
    assert current.id == "inc-1"
    assert not desk.drafts.exists


def test_a_known_errors_workaround_goes_into_the_description(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, SEV2_CALL)
    known = wizard.before.chosen_known_error()
    assert known is not None
    assert "payments-api" in known.services
    keys.alt(Key.Key_W)
    keys.alt(Key.Key_W)  # twice: still once in the description
    keys.create()
    _closed(qtbot, wizard)
    _, fields = desk.created()
    description = str(fields["description"])
    assert description.count(f"Workaround from {known.id}") == 1
    assert known.workaround in description


# --------------------------------------------------------------------------
# Major incidents
# --------------------------------------------------------------------------


def test_a_major_incident_is_declared_with_its_commander(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, CALLS[1])
    banner = wizard.before.banner
    assert banner.isVisibleTo(wizard.before)
    assert "MAJOR INCIDENT" in banner.heading.text()
    assert "SEV-1" in banner.reasons.text()
    assert "Most or all users" in banner.reasons.text()
    keys.create()  # not yet: declare it or say it is not one
    assert wizard.isVisible()
    assert "press Y to declare it" in wizard.error.text()
    keys.answer("y")
    assert wizard.focusWidget() is banner.commander
    keys.type("lucia")  # accents and case do not matter
    keys.tab()
    assert banner.commander_name() == "Lucía Fernández"
    keys.create()
    _closed(qtbot, wizard)

    record, fields = desk.created()
    assert fields["major"] is True
    assert fields["commander"] == "Lucía Fernández"
    shown = desk.window.model.queue.get(record.incident_id)
    assert shown is not None
    assert shown.major


def test_a_security_incident_triggers_the_major_banner_whatever_the_severity(
    console: Callable[..., Console],
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, replace(CALLS[4], category="secu", subcategory="phish"))
    assert wizard.final_severity() is Severity.SEV4
    assert wizard.before.banner.isVisibleTo(wizard.before)
    assert "A security incident" in wizard.before.banner.reasons.text()


# --------------------------------------------------------------------------
# Overriding the severity
# --------------------------------------------------------------------------


def test_a_dispatcher_is_told_who_can_override(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console("dispatcher")
    wizard, keys = desk.press_n()
    run_to_last_page(keys, SEV2_CALL)
    keys.alt(Key.Key_B)
    keys.alt(Key.Key_O)
    result = wizard.result_page
    assert not result.overriding
    note = result.override_note.text()
    assert "Only a commander (or an admin) can override the severity" in note
    assert "You are signed in as Anja Vogel, a dispatcher" in note
    assert "Duty manager:" in note  # the duty manager on call now, with a number
    assert "log it as SEV-2" in note
    keys.enter()
    keys.create()
    _closed(qtbot, wizard)
    _, fields = desk.created()
    assert "severity" not in fields


def test_an_unknown_role_cannot_override_either(console: Callable[..., Console]) -> None:
    desk = console(None)  # the console has never reached a backend
    wizard, keys = desk.press_n()
    run_to_last_page(keys, SEV2_CALL)
    keys.alt(Key.Key_B)
    keys.alt(Key.Key_O)
    assert not wizard.result_page.overriding
    assert "does not know your role yet" in wizard.result_page.override_note.text()


def test_a_commander_overrides_with_a_reason(qtbot: QtBot, console: Callable[..., Console]) -> None:
    desk = console("commander")
    wizard, keys = desk.press_n()
    run_to_last_page(keys, SEV2_CALL)
    keys.alt(Key.Key_B)
    keys.alt(Key.Key_O)
    result = wizard.result_page
    assert result.overriding
    assert wizard.focusWidget() is result.override_choice
    assert "Duty manager" not in result.routing.text()  # not told about a SEV-2 at once
    keys.answer("1")
    assert wizard.focusWidget() is result.override_reason
    keys.enter()
    assert "Give the reason for overriding" in wizard.error.text()
    keys.type("All EU card payments fail")
    assert "overridden to SEV-1" in result.severity_label.text()
    assert "Duty manager" in result.routing.text()  # SEV-1: told at once
    assert "(15 min)" in result.deadlines.text()  # SEV-1's response target
    keys.enter()
    assert wizard.before.banner.isVisibleTo(wizard.before)  # SEV-1 now: a major incident
    keys.answer("n")
    keys.create()
    _closed(qtbot, wizard)
    record, fields = desk.created()
    assert fields["severity"] == "SEV-1"
    assert fields["severity_reason"] == "All EU card payments fail"
    assert (fields["impact"], fields["urgency"]) == ("high", "medium")
    shown = desk.window.model.queue.get(record.incident_id)
    assert shown is not None
    assert shown.severity is Severity.SEV1


# --------------------------------------------------------------------------
# Offline
# --------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_created_offline_it_shows_at_once_as_pending_and_waits_in_the_outbox(
    qtbot: QtBot, console: Callable[..., Console], triage_cache: Cache
) -> None:
    # A real connector and engine against a loopback port nobody listens on.
    backend = NocBackend(f"http://127.0.0.1:{_closed_port()}", "token")
    engine = SyncEngine(triage_cache, backend)
    try:
        with pytest.raises(Unreachable):
            engine.sync_once()
        desk = console()
        wizard, keys = desk.press_n()
        run_to_last_page(keys, SEV2_CALL)
        keys.create()
        _closed(qtbot, wizard)
        record, _ = desk.created()
        shown = desk.window.model.queue.get(record.incident_id)
        assert shown is not None
        assert shown.number.startswith(PENDING_NUMBER_PREFIX)
        row = desk.window.model.row_of(record.incident_id)
        assert row is not None  # in the queue at once
        with pytest.raises(Unreachable):
            engine.sync_once()
        [still] = triage_cache.pending_outbox()
        assert (still.id, still.status) == (
            record.id,
            "pending",
        )  # kept, to be sent when the backend is back
    finally:
        backend.close()


def test_before_the_first_sync_the_typed_service_and_category_stand(
    qtbot: QtBot, tmp_path: Path
) -> None:
    empty = Cache.open(tmp_path / "empty" / "cache.db")
    try:
        desk = Console(qtbot, empty, "dispatcher", now=NOW)
        wizard, keys = desk.press_n()
        keys.type("Ana Ruiz")
        keys.tab()
        keys.type("ext 4411")
        keys.tab()
        keys.type("Payroll")
        keys.tab()
        keys.type("Payslips not generated")
        keys.enter()
        assert "No classification taxonomy" in wizard.classification.note.text()
        keys.type("software")
        keys.enter()
        keys.answer("2np")
        keys.enter()
        keys.answer("nnnn")
        keys.enter()
        assert "not in the reference data" in wizard.result_page.routing.text()
        keys.enter()
        keys.create()
        _closed(qtbot, wizard)
        _, fields = desk.created()
        assert (fields["service"], fields["category"]) == ("Payroll", "software")
        assert "assignment_group" not in fields
    finally:
        empty.close()


# --------------------------------------------------------------------------
# Esc, drafts
# --------------------------------------------------------------------------


def test_esc_closes_at_once_when_nothing_was_typed(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    keys.press(Key.Key_Escape)
    _closed(qtbot, wizard)
    assert desk.outbox() == []


def test_esc_asks_before_discarding_what_was_typed(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    keys.type("Ana Ruiz")
    keys.press(Key.Key_Escape)
    assert wizard.isVisible()
    assert wizard.confirm_bar.isVisible()
    keys.press(Key.Key_Escape)  # keep editing
    assert not wizard.confirm_bar.isVisible()
    assert wizard.focusWidget() is wizard.intake.reporter
    keys.type(" Gil")
    qtbot.waitUntil(lambda: desk.drafts.exists)
    keys.press(Key.Key_Escape)
    keys.press(Key.Key_D)  # discard
    _closed(qtbot, wizard)
    assert not desk.drafts.exists
    assert desk.outbox() == []


def test_a_triage_closed_by_accident_is_restored_and_finished(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    call = SEV2_CALL
    keys.type(call.reporter)
    keys.tab()
    keys.type(call.contact)
    keys.tab()
    keys.type(call.service)
    keys.tab()
    keys.type(call.title)
    keys.enter()
    keys.type(call.category)
    keys.tab()
    keys.type(call.subcategory)
    keys.tab()
    keys.enter()
    keys.answer("3n")  # half-way through the impact questions
    wizard.close()  # the window's close button, or the console closed under it
    _closed(qtbot, wizard)
    saved = json.loads((desk.cache.path.parent / DRAFT_FILE).read_text(encoding="utf-8"))
    assert saved["page"] == Step.IMPACT
    assert saved["fields"]["reporter"] == "Ana Ruiz"

    wizard, keys = desk.press_n()
    assert wizard.restore_bar.isVisible()
    assert "Ana Ruiz · Payments API · Card payments failing" in wizard.restore_bar.text.text()
    keys.press(Key.Key_R)
    assert wizard.page_index == Step.IMPACT
    assert wizard.intake.service.chosen() == "payments-api"
    assert wizard.impact.users.value() == "site"
    keys.tab(2)  # to the workaround question
    keys.answer("p")
    keys.enter()
    keys.answer(call.urgency)
    keys.enter()
    keys.enter()
    keys.create()
    _closed(qtbot, wizard)
    _, fields = desk.created()
    assert fields["impact"] == "high"
    assert fields["reporter"] == "Ana Ruiz (+34 600 111 222)"
    assert not desk.drafts.exists


def test_starting_afresh_drops_the_draft(qtbot: QtBot, console: Callable[..., Console]) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    keys.type("Ana Ruiz")
    wizard.close()
    _closed(qtbot, wizard)
    assert desk.drafts.exists
    wizard, keys = desk.press_n()
    keys.press(Key.Key_F)
    assert not desk.drafts.exists
    assert wizard.intake.reporter.text() == ""
    assert wizard.focusWidget() is wizard.intake.reporter


def test_esc_on_the_offer_closes_and_keeps_the_draft(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    keys.type("Ana Ruiz")
    wizard.close()
    _closed(qtbot, wizard)
    wizard, keys = desk.press_n()
    keys.press(Key.Key_Escape)  # not now
    _closed(qtbot, wizard)
    draft = desk.drafts.load()
    assert draft is not None
    assert draft.text("reporter") == "Ana Ruiz"


def test_an_unreadable_draft_is_set_aside_with_a_notice(
    console: Callable[..., Console], triage_cache: Cache
) -> None:
    (triage_cache.path.parent / DRAFT_FILE).write_text("{not json", encoding="utf-8")
    desk = console()
    wizard, _ = desk.press_n()
    assert not wizard.restore_bar.isVisible()
    assert "could not be read" in wizard.note.text()
    assert (triage_cache.path.parent / f"{DRAFT_FILE}.unreadable").exists()


# --------------------------------------------------------------------------
# How it looks
# --------------------------------------------------------------------------

PAGE_NAMES = ("intake", "classification", "impact", "urgency", "result", "before")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_renders_in_both_themes(
    qtbot: QtBot, console: Callable[..., Console], theme: str, tmp_path: Path
) -> None:
    """Render each page to PNG (set NOC_TRIAGE_SCREENSHOTS=DIR to keep them)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, theme)
    try:
        desk = console("commander")
        wizard, keys = desk.press_n()
        folder = Path(os.environ.get("NOC_TRIAGE_SCREENSHOTS") or tmp_path)
        shots: dict[str, Path] = {}

        def shoot(name: str) -> None:
            qtbot.wait(150)  # let the layout settle after the last key
            path = folder / f"triage-{name}{'' if theme == 'light' else '-dark'}.png"
            assert wizard.grab().save(str(path), "PNG")
            shots[name] = path

        call = CALLS[1]
        keys.type(call.reporter)
        keys.tab()
        keys.type(call.contact)
        keys.tab()
        keys.type(call.service)
        keys.tab()
        keys.type(call.title)
        shoot("intake")
        keys.enter()
        keys.type(call.category)
        keys.tab()
        keys.type(call.subcategory)
        keys.tab()
        shoot("classification")
        keys.enter()
        keys.answer(call.impact)
        shoot("impact")
        keys.enter()
        keys.answer(call.urgency)
        shoot("urgency")
        keys.enter()
        shoot("result")
        keys.enter()
        keys.answer("y")
        keys.type("lucia")
        keys.tab()
        shoot("before")
        for name in PAGE_NAMES:
            assert shots[name].stat().st_size > 10_000, name
    finally:
        apply_theme(app, "light")


def test_the_wizard_is_sized_by_the_font(qtbot: QtBot, console: Callable[..., Console]) -> None:
    desk = console()
    wizard, _ = desk.press_n()
    metrics = wizard.fontMetrics()
    assert wizard.width() >= metrics.averageCharWidth() * 80
    assert wizard.height() >= metrics.lineSpacing() * 28


def test_the_draft_is_saved_a_moment_after_typing_with_the_time(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    _, keys = desk.press_n()
    desk.clock.now = NOW + timedelta(minutes=3)
    keys.type("Ana")
    assert not desk.drafts.exists  # not on every key
    qtbot.waitUntil(lambda: desk.drafts.exists)
    draft = desk.drafts.load()
    assert draft is not None
    assert draft.saved_at == NOW + timedelta(minutes=3)
    assert draft.text("reporter") == "Ana"
