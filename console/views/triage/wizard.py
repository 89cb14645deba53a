"""The guided triage wizard: what the dispatcher runs during a call (the ``n`` key).

Six pages, keyboard only, in the order of the call:

1. **Intake** — who is calling and how to call them back, the affected
   service (type-ahead), a short description, the source.
2. **Classification** — category and subcategory from the taxonomy in the
   reference data (type-ahead).
3. **Impact** — plain questions answered with one key (how many people can't
   work, is a revenue- or safety-critical system down, is there a
   workaround) → an impact level, with the reasoning shown.
4. **Urgency** — four yes/no questions → an urgency level, with the reasoning.
5. **Result** — the severity from the console's :class:`PriorityMatrix`
   (the matrix drawn with the chosen cell marked), the SLA deadlines as local
   times, the team it routes to and who is engaged now with their numbers.
   Only a commander may override the severity, with a reason; a dispatcher
   is told who can.
6. **Before creating** — the major-incident banner when the triage meets a
   trigger (declare it and name the Incident Commander), possible duplicates
   ("add this caller to INC-… instead") and known errors whose workaround can
   be put into the description.

Keys: Enter or Alt+N next, Alt+B back, Ctrl+Enter creates from the last page,
Esc asks before discarding what was typed (and just closes when nothing was);
Tab moves through the page's fields only, in the order above. A question is
answered with its number or letter and the focus moves to the next one.

The working out is :class:`console.services.triage.TriageSession` (the rules
are :mod:`console.domain.triage`); the wizard only asks and shows, with the
widgets of :mod:`console.views.triage.widgets`. It is built in layers: the
frame and its pages (:mod:`console.views.triage.frame`), the questions and
drafts (:mod:`console.views.triage.drafting`), and here the keys and actions.
What it decides goes back through ``submit`` (the actions controller), so a
new incident takes the same way as every edit: shown at once and queued in
the outbox, which works offline. What is typed is saved as a draft
(:mod:`console.store.drafts`) and offered back when the wizard opens again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from console.services.triage import with_workaround
from console.services.triage_context import (
    AddCaller,
    NewIncident,
    Submit,
    TriageContext,
    TriageOutcome,
)
from console.views.triage.drafting import DraftKeeping
from console.views.triage.frame import Step


class TriageWizard(DraftKeeping):
    """The triage wizard (see the module docstring)."""

    def __init__(
        self,
        context: TriageContext,
        submit: Submit,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, parent)
        self._submit = submit
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        self.create_button.clicked.connect(self.create_incident)
        # The wizard's own keys act at once, whichever field has the focus
        # (a button's mnemonic would click it a moment later).
        for keys, action in (
            ("Ctrl+Return", self.create_incident),
            ("Ctrl+Enter", self.create_incident),
            ("Alt+N", self.next),
            ("Alt+B", self.back),
            ("Alt+O", self.toggle_override),
            ("Alt+A", self.add_caller_instead),
            ("Alt+W", self.apply_workaround),
        ):
            QShortcut(QKeySequence(keys), self, action)
        self.result_page.override_requested.connect(self.toggle_override)
        self.before.add_caller.clicked.connect(self.add_caller_instead)
        self.before.apply_workaround.clicked.connect(self.apply_workaround)
        for keys, target in (("Alt+P", self.before.duplicates), ("Alt+K", self.before.known)):
            QShortcut(
                QKeySequence(keys),
                self.before,
                lambda t=target: t.setFocus(Qt.FocusReason.ShortcutFocusReason),
                context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
            )
        self._size_to_font()
        self._show_page(Step.INTAKE)
        self._offer_draft()

    # ----------------------------------------------------------- navigation

    def next(self) -> bool:
        """Check the page and go on (Enter, Alt+N); False and the problem shown when not."""
        if self.confirm_bar.isVisible() or self.restore_bar.isVisible():
            return False
        if self.page_index >= len(self.pages) - 1:
            self._show_error(
                "This is the last page: Ctrl+Enter creates the incident"
                + (
                    "; Alt+A adds this caller to the selected incident instead."
                    if self.before.chosen_duplicate() is not None
                    else "."
                )
            )
            return False
        page = self.current_page()
        if page is self.intake:
            # Enter again on "no service matches …": log it on the service as typed.
            unlisted = self.intake.unlisted_service()
            if unlisted is not None and unlisted == self._unlisted_offered:
                self.intake.accept_unlisted(unlisted)
        if not self._check(page):
            return False
        self._show_page(self.page_index + 1)
        return True

    def back(self) -> None:
        """The previous page (Alt+B); nothing is checked or lost."""
        if self.confirm_bar.isVisible() or self.restore_bar.isVisible():
            return
        if self.page_index > 0:
            self._show_page(self.page_index - 1)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if (
            key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and modifiers == Qt.KeyboardModifier.NoModifier
        ):
            event.accept()
            self.next()
            return
        if key == Qt.Key.Key_Escape and modifiers == Qt.KeyboardModifier.NoModifier:
            event.accept()
            self.ask_discard()
            return
        super().keyPressEvent(event)

    # ----------------------------------------------------------- override

    def toggle_override(self) -> None:
        """Alt+O / O on the result page: open (or close) the override, if the role allows it."""
        if self.page_index != Step.RESULT:
            return
        result = self.result_page
        if result.overriding:
            result.override_form.hide()
            result.override_choice.set_value(None)
            result.override_reason.clear()
            self._compute()
            self._show_result()
            result.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        if not self.triage.may_override():
            self._read()
            result.override_note.setText(result.refusal(self.triage, self.context.caller()))
            result.override_note.show()
            result.relayout()
            return
        result.override_note.hide()
        result.relayout()
        result.override_form.show()
        result.override_choice.set_value(None)
        result.override_choice.setFocus(Qt.FocusReason.OtherFocusReason)

    # ----------------------------------------------------------- before creating

    def add_caller_instead(self) -> None:
        """Alt+A: a work note on the chosen duplicate naming this caller; no new incident."""
        if self.page_index != Step.BEFORE:
            return
        candidate = self.before.chosen_duplicate()
        if candidate is None:
            if self.before.duplicates.count() == 0:
                self._show_error(
                    "No possible duplicate is listed: Ctrl+Enter logs this call as a new incident."
                )
            else:
                self._show_error("Select the incident to add this caller to (↑/↓ in the list).")
            return
        self._read()
        self._finish(AddCaller(candidate.incident, self.triage.caller_note(candidate.incident)))

    def apply_workaround(self) -> None:
        """Alt+W: put the chosen known error's workaround into the description."""
        if self.page_index != Step.BEFORE:
            return
        known = self.before.chosen_known_error()
        if known is None:
            return
        if self._workaround_applied == known.id:
            self.before.applied.setText(f"The workaround of {known.id} is in the description.")
            return
        details = self.intake.details
        details.setPlainText(with_workaround(details.toPlainText(), known))
        self._workaround_applied = known.id
        self.before.applied.setText(f"✓ The workaround of {known.id} is in the description.")

    # ----------------------------------------------------------- creating

    def create_incident(self) -> None:
        """Ctrl+Enter on the last page: check everything, then log the incident."""
        if self.confirm_bar.isVisible() or self.restore_bar.isVisible():
            return
        if self.page_index != Step.BEFORE:
            self._show_error(
                f"Ctrl+Enter creates from the last page ({len(self.pages)} / {len(self.pages)}); "
                "Enter goes on."
            )
            return
        for index, page in enumerate(self.pages):
            if page.problem() is not None:
                if index != self.page_index:
                    self._show_page(index)
                self._check(page)
                return
        self._compute()
        self._finish(NewIncident(self.triage.fields(), workaround=self._workaround_applied))

    def _finish(self, outcome: TriageOutcome) -> None:
        problem = self._submit(outcome)
        if problem:
            self._show_error(problem)
            return
        self._draft_timer.stop()
        self._clear_draft()
        self._dirty = False
        self.accept()
