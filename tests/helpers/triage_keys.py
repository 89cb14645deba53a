"""Driving the triage wizard with key presses only, as a dispatcher does (tests and bench).

Keys go where the keyboard would send them: to the open type-ahead list when
one is showing, else to the wizard's focus widget. (Asking the wizard rather
than the application for its focus widget keeps this right on the offscreen
platform, which hands the activation to a type-ahead list when it opens.)

:class:`TriageKeys` counts the keys that are not typed text: Tab, Enter,
Alt+…, Ctrl+Enter and the one-key answers (``3``, ``y``, ``p``). That count is
the bench's ``triage.sev2_keystrokes``. :data:`CALLS` are scripted calls, one
per severity; :class:`Console` is the console window with the wizard on ``n``,
wired as the app wires it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from console.connectors.base import Caller
from console.domain.calendar import TWENTY_FOUR_SEVEN
from console.domain.sla import SlaPolicy
from console.models.incident_table import IncidentTableModel
from console.services.queue import DisplayNames
from console.services.triage_context import TriageContext
from console.store import Cache, OutboxRecord
from console.store.drafts import DraftStore
from console.sync.edits import LocalEdits, store_caller
from console.views.main_window import MainWindow
from console.views.triage.wizard import TriageWizard

if TYPE_CHECKING:  # the bench drives the wizard without pytest
    from pytestqt.qtbot import QtBot

Key = Qt.Key
NONE = Qt.KeyboardModifier.NoModifier
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


class TriageKeys:
    """Key presses into one wizard, counted."""

    def __init__(self, wizard: TriageWizard) -> None:
        self.wizard = wizard
        self.keys = 0
        """Keys pressed that are not typed text."""
        self.typed = 0
        """Characters of typed text."""

    def target(self) -> QWidget:
        popup = QApplication.activePopupWidget()
        if popup is not None and popup.isVisible():
            return popup
        return self.wizard.focusWidget() or self.wizard

    def type(self, text: str) -> None:
        """Type text into the field that has the keyboard (a name, a title)."""
        for char in text:
            QTest.keyClick(self.target(), char)
        self.typed += len(text)

    def press(self, key: Key, modifier: Qt.KeyboardModifier = NONE, times: int = 1) -> None:
        for _ in range(times):
            QTest.keyClick(self.target(), key, modifier)
            self.keys += 1

    def answer(self, keys: str) -> None:
        """One-key answers to the questions, in order (``"3np"``)."""
        for char in keys:
            QTest.keyClick(self.target(), char)
            self.keys += 1

    def tab(self, times: int = 1) -> None:
        self.press(Key.Key_Tab, times=times)

    def enter(self) -> None:
        self.press(Key.Key_Return)

    def alt(self, key: Key) -> None:
        self.press(key, ALT)

    def create(self) -> None:
        self.press(Key.Key_Return, CTRL)


@dataclass(frozen=True)
class Call:
    """One scripted call: what is typed and which answers are given."""

    reporter: str = "Ana Ruiz"
    contact: str = "+34 600 111 222"
    service: str = "pay"  # type-ahead: the best match is Payments API
    title: str = "Card payments failing at checkout"
    category: str = "soft"
    subcategory: str = "saas"
    impact: str = "3np"  # a site / business function, nothing critical down, partial workaround
    urgency: str = "nynn"  # only a customer SLA at stake


SEV2_CALL = Call()
"""Impact high × urgency medium → SEV-2 by the default matrix."""

CALLS = {
    1: Call(impact="4yn", urgency="nyyn", title="Checkout down for every shopper"),
    2: SEV2_CALL,
    3: Call(impact="2np", urgency="nynn", title="Refund reports slow for the finance team"),
    4: Call(impact="1ny", urgency="nnnn", title="Receipt footer shows the wrong logo"),
}
"""A call per severity: SEV-n is ``CALLS[n]``."""


def fill_intake(keys: TriageKeys, call: Call) -> None:
    """Page 1 from its first field: reporter, contact, service, title (details left empty)."""
    keys.type(call.reporter)
    keys.tab()
    keys.type(call.contact)
    keys.tab()
    keys.type(call.service)
    keys.tab()  # takes the highlighted match and moves to the title
    keys.type(call.title)


def fill_classification(keys: TriageKeys, call: Call) -> None:
    """Page 2: category and subcategory, each taken from the type-ahead with Tab."""
    keys.type(call.category)
    keys.tab()
    keys.type(call.subcategory)
    keys.tab()


def run_to_last_page(keys: TriageKeys, call: Call) -> None:
    """Pages 1 to 5, from the empty wizard to "Before creating"."""
    fill_intake(keys, call)
    keys.enter()  # → Classification
    fill_classification(keys, call)
    keys.enter()  # → Impact
    keys.answer(call.impact)
    keys.enter()  # → Urgency
    keys.answer(call.urgency)
    keys.enter()  # → Result
    keys.enter()  # → Before creating


# --------------------------------------------------------------------------
# A console window to run it in
# --------------------------------------------------------------------------

BACKEND_KEY = "https://noc.test"
OPERATOR = "avogel"


class Console:
    """A console window over ``cache`` with the triage wizard on ``n``, as the app wires it.

    ``role`` is stored as the caller's role (as the sync engine does after
    asking the backend); None leaves whatever the cache knows. The clock
    stands still at ``now``.
    """

    def __init__(
        self,
        qtbot: QtBot,
        cache: Cache,
        role: str | None,
        *,
        now: datetime,
        name: str = "Anja Vogel",
    ) -> None:
        self.qtbot = qtbot
        self.cache = cache
        if role is not None:
            store_caller(cache, BACKEND_KEY, Caller(name, role))
        self.clock = FakeClock(now)
        policy = SlaPolicy.default(TWENTY_FOUR_SEVEN)
        names = DisplayNames.from_reference(
            cache.reference("services"), cache.reference("contacts"), cache.reference("teams")
        )
        model = IncidentTableModel(policy, now, cache.incidents(), names=names)
        self.edits = LocalEdits(cache, author=OPERATOR, clock=self.clock)
        self.drafts = DraftStore(cache.path.parent)
        self.triage = TriageContext(
            reference=cache,
            incidents=model.incidents,
            policy=policy,
            clock=self.clock,
            caller=self.edits.caller,
            drafts=self.drafts,
            viewer_region="ES",
        )
        self.window = MainWindow(
            model,
            themes=[("light", "Light"), ("dark", "Dark"), ("wall", "Wall display")],
            current_theme="light",
            clock=self.clock,
            edits=self.edits,
            timeline_source=cache.timeline,
            operator=OPERATOR,
            triage=self.triage,
        )
        self.window.ticker.stop()  # the tests tick by hand
        qtbot.addWidget(self.window)
        self.window.resize(1400, 860)
        self.window.show()
        qtbot.waitExposed(self.window)
        self.window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is self.window)
        self.window.table.setFocus()

    def press_n(self) -> tuple[TriageWizard, TriageKeys]:
        """``n`` on the queue: the wizard opens with the keyboard."""
        # Back on the window after an earlier wizard (the window manager's job).
        self.window.activateWindow()
        self.qtbot.waitUntil(lambda: QApplication.activeWindow() is self.window)
        self.qtbot.keyClick(self.window.table, Key.Key_N)
        wizard = self.window.controller.dialog
        assert isinstance(wizard, TriageWizard), wizard
        self.qtbot.waitUntil(lambda: QApplication.activeWindow() is wizard)
        return wizard, TriageKeys(wizard)

    def outbox(self) -> list[OutboxRecord]:
        return self.cache.pending_outbox()

    def created(self) -> tuple[OutboxRecord, dict[str, object]]:
        [record] = self.outbox()
        assert record.operation == "create"
        fields = record.payload["fields"]
        assert isinstance(fields, dict)
        return record, fields


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
