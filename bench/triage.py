"""The triage wizard: how many keys and pages a SEV-2 call takes, and how long.

Figures (``python -m bench triage``):

- ``triage.sev2_keystrokes``: keys pressed in a scripted SEV-2 triage that are
  not typed text — ``n`` to open the wizard, Tab, Enter, the one-key answers
  (``3``, ``n``, ``p`` …) and Ctrl+Enter to create.
- ``triage.sev2_pages``: pages the call goes through.
- ``triage.sev2_typed_chars``: characters of typed text (name, number, the
  type-ahead letters, the title).
- ``triage.sev2_scripted_wall_ms``: wall time of the scripted run, from
  opening the wizard to the incident queued in the outbox (QTest key events
  into the real wizard over the demo NOC in a real cache; no person).
- ``triage.sev2_practised_estimate_s``: an estimate of a practised
  dispatcher's time for the same call (the aim is under 45 s), from the
  counts above and stated assumptions (see :data:`TYPING_S_PER_CHAR` and
  the constants below it).

The call (``tests/helpers/triage_keys.py``): reporter "Ana Ruiz", a phone number,
"pay" picking Payments API, "Card payments failing at checkout", software >
SaaS, a business function down with a partial workaround (impact high), a
customer SLA at stake (urgency medium) → SEV-2, created with Ctrl+Enter.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import fail, note, report

TYPING_S_PER_CHAR = 0.2
"""Typing while listening to the caller: about 50 words a minute."""
KEY_S = 0.3
"""A deliberate key (Tab, Enter, an answer): a keystroke plus a short decision."""
READING_S_PER_PAGE = 2.0
"""Glancing at a page before acting on it…"""
RESULT_READING_S = 5.0
"""…and longer on the result (severity, deadlines, who is engaged) and the last checks."""


def run() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from console.domain.sla import SlaPolicy
    from console.services.demo import load_demo
    from console.services.triage_context import TriageContext
    from console.store import Cache
    from console.store.drafts import DraftStore
    from console.sync.edits import LocalEdits
    from console.views.triage.wizard import TriageWizard
    from tests.helpers.triage_keys import SEV2_CALL, TriageKeys, run_to_last_page

    app = QApplication.instance() or QApplication([])
    now = datetime.now(UTC)
    policy = SlaPolicy.default()
    with tempfile.TemporaryDirectory() as folder, Cache.open(Path(folder) / "cache.db") as cache:
        summary = load_demo(cache, now, policy=policy)
        edits = LocalEdits(cache)
        incidents = cache.incidents()
        context = TriageContext(
            reference=cache,
            incidents=lambda: incidents,
            policy=policy,
            caller=edits.caller,
            drafts=DraftStore(Path(folder)),
        )

        def submit(outcome: object) -> str | None:
            fields = getattr(outcome, "fields", None)
            if not isinstance(fields, dict):
                return "the scripted call should create an incident"
            try:
                edits.create(**fields)  # the wizard's fields are the create's keywords
            except Exception as exc:  # said as the reason the bench failed
                return str(exc)
            return None

        started = time.perf_counter()
        wizard = TriageWizard(context, submit)
        pages: set[int] = {wizard.page_index}
        wizard.page_changed.connect(pages.add)
        wizard.show()
        wizard.activateWindow()
        if not QTest.qWaitForWindowActive(wizard, 5000):
            fail("the wizard window never became active (offscreen platform?)")
        keys = TriageKeys(wizard)
        run_to_last_page(keys, SEV2_CALL)
        severity = wizard.final_severity()
        keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        deadline = time.monotonic() + 5
        while wizard.isVisible() and time.monotonic() < deadline:
            app.processEvents()
        elapsed = time.perf_counter() - started
        created = [r for r in cache.pending_outbox() if r.operation == "create"]
        if wizard.isVisible() or len(created) != 1:
            fail(f"the scripted SEV-2 call did not create an incident: {wizard.error.text()!r}")
        if severity is None or severity.code != "SEV-2":
            fail(f"the scripted call came out as {severity}, not SEV-2")
        wizard.deleteLater()

    pressed = keys.keys + 1  # and the ``n`` that opened the wizard
    note(
        f"triage: scripted SEV-2 call over the demo NOC ({summary.incidents} incidents, "
        f"{summary.reference.get('services', 0)} services), real cache and outbox"
    )
    report("triage.sev2_keystrokes", pressed, "keys")
    report("triage.sev2_pages", len(pages), "pages")
    report("triage.sev2_typed_chars", keys.typed, "chars")
    report("triage.sev2_scripted_wall_ms", elapsed * 1000, "ms")
    reading = (len(pages) - 2) * READING_S_PER_PAGE + 2 * RESULT_READING_S
    estimate = keys.typed * TYPING_S_PER_CHAR + pressed * KEY_S + reading
    note(
        f"estimate for a practised dispatcher: {keys.typed} typed chars × {TYPING_S_PER_CHAR} s "
        f"+ {pressed} keys × {KEY_S} s + reading {reading:.0f} s "
        f"({READING_S_PER_PAGE:.0f} s a page, {RESULT_READING_S:.0f} s on the result and the "
        "last checks); the aim is under 45 s"
    )
    report("triage.sev2_practised_estimate_s", estimate, "s")
