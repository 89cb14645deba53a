"""The triage wizard from the keyboard alone: ``n`` → six pages → outbox, shown at once.

The console runs over a real SQLite cache holding the demo NOC's reference data
(services, teams, contacts, escalation policies, rotations, the taxonomy,
known errors) and a few open incidents, with the real outbox writer
(``LocalEdits``). Every test drives the wizard with key presses only, through
:mod:`tests.helpers.triage_keys`, and checks what the dispatcher would see and
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
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.connectors.base import Unreachable
from console.connectors.noc import NocBackend
from console.domain.calendar import TWENTY_FOUR_SEVEN
from console.domain.escalation import StepKind, due_escalations
from console.domain.lifecycle import State
from console.domain.phones import format_phone
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.services.demo import read_demo
from console.services.directory import Directory
from console.store import Cache
from console.store.drafts import DRAFT_FILE
from console.sync.edits import PENDING_NUMBER_PREFIX
from console.sync.engine import SyncEngine
from console.views.theme import apply_theme
from console.views.triage.frame import Step
from console.views.triage.wizard import TriageWizard
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident
from tests.helpers.triage_keys import (
    CALLS,
    CTRL,
    SEV2_CALL,
    Console,
    TriageKeys,
    fill_classification,
    fill_intake,
    run_to_last_page,
)

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


def _reopened_with_a_draft(qtbot: QtBot, desk: Console) -> tuple[TriageWizard, TriageKeys]:
    """A reporter's name typed, the wizard closed by accident, and ``n`` again."""
    wizard, keys = desk.press_n()
    keys.type("Ana Ruiz")
    wizard.close()
    _closed(qtbot, wizard)
    assert desk.drafts.exists
    return desk.press_n()


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
    # Routed to Payments Engineering: its own tier (L3) is named, with who holds its pager.
    owning = [line for line in result.routing.text().split("<li>") if "the owning team" in line]
    assert owning, result.routing.text()
    assert "L3" in owning[0]
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


def test_the_next_tier_is_shown_when_the_escalation_timer_will_engage_it(
    console: Callable[..., Console],
) -> None:
    """L2 waits 15 min by its delay, but unacknowledged the timer engages it once 75 % of
    the response target has passed: at SEV-1 (15 min to respond) that is after 11¼ min."""
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, CALLS[1])
    keys.alt(Key.Key_B)
    assert wizard.final_severity() is Severity.SEV1
    routing = wizard.result_page.routing.text()
    l2 = next(line for line in routing.split("<br>") if "L2 Platform &amp; SRE" in line)
    assert "(in 12 min)" in l2
    # What the escalation timer itself does with such an incident.
    directory = Directory.from_store(desk.cache)
    policy = directory.policies["payments-api"].policy
    incident = make_incident(9, Severity.SEV1, age_min=0, state=State.NEW, acknowledged_at=None)
    sla = SlaPolicy.default(TWENTY_FOUR_SEVEN)

    def due_levels(after: timedelta) -> set[int | None]:
        at = NOW + after
        steps = due_escalations(
            policy,
            incident,
            at,
            response_fraction=sla.reading(incident, "response", at).fraction,
            sla_fraction=sla.current(incident, at).fraction,
        )
        return {step.level for step in steps if step.kind is StepKind.FUNCTIONAL}

    assert 2 not in due_levels(timedelta(minutes=11))
    assert 2 in due_levels(timedelta(minutes=11, seconds=15))


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


def test_a_service_missing_from_the_list_is_logged_as_typed_after_a_second_enter(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    # Payroll is not in the service catalogue.
    fill_intake(keys, replace(SEV2_CALL, service="Payroll", title="Payslips not generated"))
    keys.enter()
    assert wizard.page_index == Step.INTAKE
    assert "No affected service matches “Payroll”" in wizard.error.text()
    assert "Enter again" in wizard.error.text()
    keys.enter()  # yes, log it on that service
    assert wizard.page_index == Step.CLASSIFICATION
    fill_classification(keys, SEV2_CALL)
    keys.enter()
    keys.answer("2np")
    keys.enter()
    keys.answer("nnnn")
    keys.enter()
    routing = wizard.result_page.routing.text()
    assert "“Payroll” is not in the service list" in routing
    assert "assign it by hand" in routing
    keys.enter()
    keys.create()
    _closed(qtbot, wizard)
    _, fields = desk.created()
    assert fields["service"] == "Payroll"
    assert "assignment_group" not in fields


def test_text_longer_than_the_backend_takes_is_caught_before_logging(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    """The backend refuses a description over 20,000 characters and a name over 120: the
    incident would vanish from the queue once sent. Pasting (Ctrl+V) is how it happens."""
    clipboard = QApplication.clipboard()
    desk = console()
    wizard, keys = desk.press_n()
    call = CALLS[1]
    fill_intake(keys, call)
    keys.tab()
    clipboard.setText("ERROR gateway timeout\n" * 1_000)  # a pasted log, 22,000 characters
    keys.press(Key.Key_V, CTRL)
    assert len(wizard.intake.details.toPlainText()) > 20_000
    keys.alt(Key.Key_N)
    assert wizard.page_index == Step.INTAKE
    assert "The details are too long" in wizard.error.text()
    assert wizard.focusWidget() is wizard.intake.details
    keys.press(Key.Key_A, CTRL)
    keys.type("ERROR gateway timeout")
    keys.alt(Key.Key_N)
    assert wizard.page_index == Step.CLASSIFICATION
    fill_classification(keys, call)
    keys.enter()
    keys.answer(call.impact)
    keys.enter()
    keys.answer(call.urgency)
    keys.enter()
    keys.enter()
    keys.answer("y")
    clipboard.setText("Vendor bridge lead " * 20)  # 380 characters, nobody in the directory
    keys.press(Key.Key_V, CTRL)
    assert len(wizard.before.banner.commander.text()) <= 120
    keys.create()
    _closed(qtbot, wizard)
    _, fields = desk.created()
    assert len(str(fields["commander"])) <= 120


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


def test_a_caller_added_to_a_lesser_incident_carries_their_triage(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, CALLS[1])  # SEV-1 by this caller's answers; INC-000001 is SEV-2
    before = wizard.before
    # Only "checkout" in common: listed, not pre-selected; the dispatcher picks it.
    assert before.chosen_duplicate() is None
    assert "No strong match" in before.add_caller.text()
    before.duplicates.setFocus()  # tabbing in makes a row current, not chosen
    assert before.chosen_duplicate() is None
    before.duplicates.setCurrentRow(0)  # the dispatcher picks it (↓ or a click)
    assert before.chosen_duplicate() is not None
    warning = before.duplicate_note.text()
    assert before.duplicate_note.isVisibleTo(before)
    assert "INC-000001 is SEV-2" in warning
    assert "this call's answers give SEV-1" in warning
    keys.alt(Key.Key_A)
    _closed(qtbot, wizard)
    [record] = desk.outbox()
    body = str(record.payload["body"])
    assert "Their answers: impact high × urgency high → SEV-1" in body
    assert "INC-000001 is SEV-2: a commander should review its severity" in body
    assert "Major-incident criteria met: SEV-1" in body


def test_adding_the_caller_with_no_duplicate_listed_says_what_to_do(
    console: Callable[..., Console],
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, replace(SEV2_CALL, service="orders", title="Nightly export missing"))
    assert wizard.before.duplicates.count() == 0
    keys.alt(Key.Key_A)
    assert wizard.isVisible()
    assert "No possible duplicate is listed" in wizard.error.text()
    assert desk.outbox() == []


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
    created, applied = desk.outbox()  # applying it is recorded on the incident (#20)
    assert (created.operation, applied.operation) == ("create", "workaround")
    assert applied.payload["known_error_id"] == known.id
    fields = created.payload["fields"]
    assert isinstance(fields, dict)
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
    # #19: the criteria named in the banner are the why on the declaration entry.
    assert str(fields["major_reason"]).startswith("SEV-1: every critical incident")
    assert "Most or all users" in str(fields["major_reason"])
    shown = desk.window.model.queue.get(record.incident_id)
    assert shown is not None
    assert shown.major


def test_a_part_of_a_name_is_not_recorded_as_the_incident_commander(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, CALLS[1])
    banner = wizard.before.banner
    keys.answer("y")
    keys.type("an")  # the start of several names
    assert len(banner.commander.matches()) > 1
    keys.create()
    assert wizard.isVisible()
    assert "“an” matches several" in wizard.error.text()
    assert wizard.focusWidget() is banner.commander
    # Someone outside the directory (a vendor's lead) is taken as typed.
    keys.press(Key.Key_Backspace, times=2)
    keys.type("Zoltan Zed (vendor)")
    keys.create()
    _closed(qtbot, wizard)
    _, fields = desk.created()
    assert fields["commander"] == "Zoltan Zed (vendor)"


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


def test_keep_editing_goes_back_to_the_field_being_typed(console: Callable[..., Console]) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    fill_intake(keys, replace(SEV2_CALL, title="Checkout"))
    keys.press(Key.Key_Escape)  # slipped
    keys.press(Key.Key_Escape)  # keep editing
    keys.type(" down")
    assert wizard.intake.title_edit.text() == "Checkout down"
    assert wizard.intake.reporter.text() == "Ana Ruiz"


def test_an_open_question_keeps_the_keyboard_until_it_is_answered(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    wizard, keys = _reopened_with_a_draft(qtbot, console())
    assert wizard.restore_bar.isVisible()
    keys.tab()  # Tab does not slip past the offer into the fields
    keys.type("Bob")
    assert wizard.intake.reporter.text() == ""
    assert wizard.focusWidget() is wizard.restore_bar
    keys.press(Key.Key_R)
    assert wizard.intake.reporter.text() == "Ana Ruiz"
    # Back where the call stopped: the first field still empty, nothing selected.
    assert wizard.focusWidget() is wizard.intake.contact
    keys.type("+34 600")
    keys.press(Key.Key_Escape)
    assert wizard.confirm_bar.isVisible()
    keys.tab()
    keys.type("x")
    assert wizard.intake.contact.text() == "+34 600"
    assert wizard.confirm_bar.hasFocus()
    keys.press(Key.Key_Escape)
    keys.type(" 111 222")
    assert wizard.intake.contact.text() == "+34 600 111 222"
    assert wizard.intake.reporter.text() == "Ana Ruiz"


def test_a_triage_closed_by_accident_is_restored_and_finished(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = desk.press_n()
    call = SEV2_CALL
    fill_intake(keys, call)
    keys.enter()
    fill_classification(keys, call)
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
    assert wizard.focusWidget() is wizard.impact.workaround  # the question not answered yet
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


def test_a_draft_restored_after_the_reference_data_changed(
    qtbot: QtBot, console: Callable[..., Console], triage_cache: Cache
) -> None:
    """A renamed subcategory keeps its place; a service gone from the catalogue is said."""
    desk = console()
    wizard, keys = desk.press_n()
    run_to_last_page(keys, SEV2_CALL)
    wizard.close()
    _closed(qtbot, wizard)
    categories = read_demo(NOW).reference["categories"]
    for category in categories:
        for sub in category["subcategories"]:  # type: ignore[union-attr]
            if sub["id"] == "saas":  # type: ignore[index]
                sub["name"] = "Cloud software (SaaS)"  # type: ignore[index]
    triage_cache.upsert_reference("categories", categories)
    wizard, keys = desk.press_n()
    keys.press(Key.Key_R)
    assert wizard.page_index == Step.BEFORE
    assert wizard.classification.values() == ("software", "saas")
    wizard.close()
    _closed(qtbot, wizard)

    triage_cache.delete_reference("services", ["payments-api"])
    wizard, keys = desk.press_n()
    keys.press(Key.Key_R)
    assert wizard.page_index == Step.INTAKE
    assert "No affected service matches “Payments API”" in wizard.error.text()
    assert wizard.focusWidget() is wizard.intake.service
    keys.enter()  # log it on the service as typed
    assert wizard.page_index == Step.CLASSIFICATION


def test_starting_afresh_drops_the_draft(qtbot: QtBot, console: Callable[..., Console]) -> None:
    desk = console()
    wizard, keys = _reopened_with_a_draft(qtbot, desk)
    keys.press(Key.Key_F)
    assert not desk.drafts.exists
    assert wizard.intake.reporter.text() == ""
    assert wizard.focusWidget() is wizard.intake.reporter


def test_esc_on_the_offer_closes_and_keeps_the_draft(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    desk = console()
    wizard, keys = _reopened_with_a_draft(qtbot, desk)
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


@pytest.mark.parametrize("theme", ["light", "dark", "wall"])
def test_every_page_renders_in_every_theme(
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
            path = folder / f"triage-{name}{'' if theme == 'light' else f'-{theme}'}.png"
            assert wizard.grab().save(str(path), "PNG")
            shots[name] = path

        call = CALLS[1]
        fill_intake(keys, call)
        shoot("intake")
        keys.enter()
        fill_classification(keys, call)
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


def test_in_the_wall_theme_the_wizard_is_sized_for_its_large_font(
    qtbot: QtBot, console: Callable[..., Console]
) -> None:
    """The wall theme's font is about twice the size: the wizard, the details box and the
    chosen option grow with it (as far as the screen allows) instead of clipping."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "wall")
    try:
        desk = console()
        wizard, _ = desk.press_n()
        metrics = wizard.fontMetrics()
        assert metrics.height() > 25  # the wall theme's 18 pt
        screen = wizard.screen().availableGeometry()
        assert wizard.width() == min(metrics.averageCharWidth() * 120, screen.width())
        assert wizard.height() == min(metrics.lineSpacing() * 44, screen.height())
        details = wizard.intake.details
        assert details.height() >= details.fontMetrics().lineSpacing() * 4
        phone = wizard.intake.source.buttons[0]
        assert phone.isChecked()
        bold = QFont(phone.font())
        bold.setBold(True)
        assert phone.width() >= QFontMetrics(bold).horizontalAdvance(phone.text())
    finally:
        apply_theme(app, "light")


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
