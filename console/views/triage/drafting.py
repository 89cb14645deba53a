"""The triage wizard's questions and drafts: "discard this triage?", the draft kept while typing.

:class:`DraftKeeping` adds to the :class:`WizardFrame` the inline questions
that hold the keyboard until answered (Esc's "discard?", the offer to restore
a kept triage), and the draft: what is typed is written a moment after each
pause (:mod:`console.store.drafts`), kept when the wizard is closed some other
way, and offered back when it opens again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QWidget

from console.services.triage_context import TriageContext
from console.store.drafts import DraftError, TriageDraft
from console.views.triage.answers import fill_answers
from console.views.triage.frame import Step, WizardFrame
from console.views.triage.widgets import KeyBar

DRAFT_DELAY_MS = 500
"""How long after the last change the draft is written (one write per pause in typing)."""


class DraftKeeping(WizardFrame):
    """The frame with its questions and its draft (see the module docstring)."""

    draft_saved = Signal()

    def __init__(self, context: TriageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._dirty = False
        self._restoring = False
        self._pending_draft: TriageDraft | None = None
        self._focus_before_question: QWidget | None = None
        self.restore_bar = KeyBar(
            self,
            {
                Qt.Key.Key_R: self.restore_draft,
                Qt.Key.Key_Return: self.restore_draft,
                Qt.Key.Key_Enter: self.restore_draft,
                Qt.Key.Key_F: self.start_afresh,
                Qt.Key.Key_Escape: self.close_keeping_draft,
            },
            [
                ("Restore (R)", self.restore_draft),
                ("Start afresh (F)", self.start_afresh),
                ("Not now (Esc)", self.close_keeping_draft),
            ],
        )
        self.restore_bar.hide()
        self.confirm_bar = KeyBar(
            self,
            {
                Qt.Key.Key_D: self.discard,
                Qt.Key.Key_Escape: self.keep_editing,
                Qt.Key.Key_Return: self.keep_editing,
                Qt.Key.Key_Enter: self.keep_editing,
                Qt.Key.Key_K: self.keep_editing,
            },
            [("Discard (D)", self.discard), ("Keep editing (Esc)", self.keep_editing)],
        )
        self.confirm_bar.text.setText(
            "Discard this triage? Everything typed so far is lost and no incident is logged."
        )
        self.confirm_bar.hide()
        # The offer above the pages, the question "discard?" above the footer.
        layout = self.frame_layout
        layout.insertWidget(layout.indexOf(self.stack), self.restore_bar)
        layout.insertWidget(layout.indexOf(self.note) + 1, self.confirm_bar)
        for page in self.pages:
            page.changed.connect(self._changed)
        self.page_changed.connect(self._schedule_draft)

        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self.save_draft)
        application = QApplication.instance()
        if application is not None:
            # Quitting the console with the wizard open keeps what was typed.
            application.aboutToQuit.connect(self._flush_draft)

    # ----------------------------------------------------------- discarding

    def ask_discard(self) -> None:
        """Esc: close at once when nothing was typed, else ask first."""
        if self.restore_bar.isVisible():
            self.close_keeping_draft()
            return
        if not self._dirty:
            self._draft_timer.stop()
            super().reject()
            return
        self._ask(self.confirm_bar)

    def keep_editing(self) -> None:
        """Esc (or Enter, K) on "discard?": back to the field being typed, as it was."""
        self._answered(self.confirm_bar)
        field = self._focus_before_question
        self._focus_before_question = None
        if field is not None and field.isVisibleTo(self) and field.isEnabled():
            # Not a Tab focus: a line edit would select its text and the next
            # key typed would replace it.
            field.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.current_page().focus_first()

    def _ask(self, bar: KeyBar) -> None:
        """Show an inline question; the pages are greyed out until it is answered.

        The question keeps the keyboard (Tab or a click cannot slip into a
        field whose typing would then be neither saved nor moved on by Enter).
        """
        focus = self.focusWidget()
        if focus is not None and self.stack.isAncestorOf(focus):
            self._focus_before_question = focus
        bar.show()
        bar.setFocus(Qt.FocusReason.OtherFocusReason)
        self.stack.setEnabled(False)

    def _answered(self, bar: KeyBar) -> None:
        bar.hide()
        self.stack.setEnabled(True)

    def discard(self) -> None:
        """Throw the triage away: the draft goes too."""
        self._answered(self.confirm_bar)
        self._draft_timer.stop()
        self._clear_draft()
        self._dirty = False
        super().reject()

    def reject(self) -> None:
        # Closed some other way (the window's close button, the parent closing):
        # keep what was typed as a draft, so it can be restored.
        self._flush_draft()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._flush_draft()
        super().closeEvent(event)

    # ----------------------------------------------------------- drafts

    def _changed(self) -> None:
        if self._restoring:
            return
        self._dirty = self.snapshot().has_content
        if self.page_index == Step.RESULT and self.sender() is self.result_page:
            self._compute()
            self._show_result()
        if self.page_index == Step.BEFORE:
            self._show_summary()
        self._schedule_draft()

    def _schedule_draft(self, *_: object) -> None:
        if self.context.drafts is not None and self._dirty:
            self._draft_timer.start()

    def _flush_draft(self) -> None:
        if self._draft_timer.isActive() or self._dirty:
            self._draft_timer.stop()
            self.save_draft()

    def save_draft(self) -> None:
        """Write what is typed now to the draft file (the timer calls this)."""
        store = self.context.drafts
        if store is None or not self._dirty or self.restore_bar.isVisible():
            return
        try:
            store.save(self.snapshot())
        except DraftError as exc:
            self.note.setText(str(exc))
            self.note.show()
            return
        self.draft_saved.emit()

    def _clear_draft(self) -> None:
        store = self.context.drafts
        if store is None:
            return
        try:
            store.clear()
        except DraftError as exc:
            self.note.setText(str(exc))
            self.note.show()

    def snapshot(self) -> TriageDraft:
        """Everything typed and answered so far, as a draft."""
        self._read()
        return self.triage.snapshot(self.page_index)

    def _offer_draft(self) -> None:
        store = self.context.drafts
        if store is None:
            return
        draft = store.load()
        if store.problem:
            self.note.setText(store.problem)
            self.note.show()
        if draft is None:
            return
        self._pending_draft = draft
        self.restore_bar.text.setText(self.triage.draft_offer(draft))
        self._ask(self.restore_bar)

    def _fill(self, draft: TriageDraft) -> None:
        answers = self.triage.restore(draft)
        fill_answers(self._pages, answers)
        self._workaround_applied = answers.workaround_applied

    def restore_draft(self) -> None:
        """R (or Enter) on the offer: fill the wizard from the draft and go to its page."""
        draft = self._pending_draft
        self._answered(self.restore_bar)
        if draft is None:
            return
        self._pending_draft = None
        self._restoring = True
        try:
            self._fill(draft)
        finally:
            self._restoring = False
        self._dirty = self.snapshot().has_content
        # Go to the page the dispatcher was on, as far as the answers allow.
        target = min(draft.page, len(self.pages) - 1)
        reached = 0
        while reached < target and self.pages[reached].problem() is None:
            reached += 1
        self._show_page(reached)
        self.pages[reached].focus_resume()
        if reached < target:
            # Stopped short (the reference data changed since, say): tell why.
            self._check(self.pages[reached])

    def close_keeping_draft(self) -> None:
        """Esc on the offer: close the wizard; the draft stays for next time."""
        self._pending_draft = None
        self._answered(self.restore_bar)
        self._dirty = False
        super().reject()

    def start_afresh(self) -> None:
        """F on the offer: an empty wizard, and the old draft is gone."""
        self._pending_draft = None
        self._answered(self.restore_bar)
        self._clear_draft()
        self.current_page().focus_first()
