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

The rules are :mod:`console.domain.triage`; the wizard only asks and shows,
with the widgets of :mod:`console.views.triage.widgets`.
What it decides goes back through ``submit`` (the actions controller), so a
new incident takes the same way as every edit: shown at once and queued in
the outbox, which works offline. What is typed is saved as a draft
(:mod:`console.store.drafts`) and offered back when the wizard opens again.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.domain.severity import Severity
from console.services.triage import (
    TriageAnswers,
    TriageSession,
    with_workaround,
)
from console.services.triage_context import (
    AddCaller,
    NewIncident,
    Submit,
    TriageContext,
    TriageOutcome,
)
from console.store.drafts import DraftError, TriageDraft
from console.views.triage.answers import Pages, fill_answers, read_answers
from console.views.triage.before import BeforePage
from console.views.triage.pages import (
    ClassificationPage,
    ImpactPage,
    IntakePage,
    Page,
    UrgencyPage,
)
from console.views.triage.result import ResultPage
from console.views.triage.widgets import (
    WIDGET_STYLE,
    Choice,
    KeyBar,
    escape_html,
    plain_label,
    rich_label,
)

DRAFT_DELAY_MS = 500
"""How long after the last change the draft is written (one write per pause in typing)."""


class Step(enum.IntEnum):
    INTAKE = 0
    CLASSIFICATION = 1
    IMPACT = 2
    URGENCY = 3
    RESULT = 4
    BEFORE = 5


class TriageWizard(QDialog):
    """The triage wizard (see the module docstring)."""

    page_changed = Signal(int)
    draft_saved = Signal()

    def __init__(
        self,
        context: TriageContext,
        submit: Submit,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("triageWizard")
        self.setWindowTitle("New incident — triage")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.context = context
        self._submit = submit
        self.triage = TriageSession(context)
        """The triage's answers and what they add up to; the pages only ask and show."""
        self._dirty = False
        self._restoring = False
        self._workaround_applied: str | None = None
        self._pending_draft: TriageDraft | None = None
        self._focus_before_question: QWidget | None = None
        self._unlisted_offered: str | None = None
        """A service not in the list that the dispatcher was asked about (Enter again logs it)."""

        self.step_label = plain_label("", self, name="triageStep", wrap=False)
        self.crumbs = rich_label(self, name="triageCrumbs")
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

        self.intake = IntakePage()
        self.classification = ClassificationPage()
        self.impact = ImpactPage()
        self.urgency = UrgencyPage()
        self.result_page = ResultPage(context.matrix)
        self.before = BeforePage()
        self.pages: tuple[Page, ...] = (
            self.intake,
            self.classification,
            self.impact,
            self.urgency,
            self.result_page,
            self.before,
        )
        self._pages = Pages(
            self.intake,
            self.classification,
            self.impact,
            self.urgency,
            self.result_page,
            self.before,
        )
        self.stack = QStackedWidget(self)
        for page in self.pages:
            scroll = QScrollArea(self.stack)
            scroll.setObjectName("triagePageScroll")
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            scroll.setWidget(page)
            self.stack.addWidget(scroll)
            page.changed.connect(self._changed)

        self.error = plain_label("", self, name="dialogError")
        self.error.hide()
        self.note = plain_label("", self, name="fieldName")
        self.note.hide()
        self.hint = plain_label("", self, name="paletteHint")
        self.back_button = QPushButton("◀ Back (Alt+B)", self)
        self.next_button = QPushButton("Next (Enter) ▶", self)
        self.create_button = QPushButton("Create incident (Ctrl+Enter)", self)
        for button in (self.back_button, self.next_button, self.create_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAutoDefault(False)
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        self.create_button.clicked.connect(self.create_incident)

        header = QVBoxLayout()
        header.addWidget(self.step_label)
        header.addWidget(self.crumbs)
        footer = QHBoxLayout()
        footer.addWidget(self.hint, 1)
        footer.addWidget(self.back_button)
        footer.addWidget(self.next_button)
        footer.addWidget(self.create_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.restore_bar)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.note)
        layout.addWidget(self.confirm_bar)
        layout.addLayout(footer)

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

        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self.save_draft)

        self._load_reference()
        self._apply_style()
        application = QApplication.instance()
        if application is not None:
            # Quitting the console with the wizard open keeps what was typed.
            application.aboutToQuit.connect(self._flush_draft)
        self._size_to_font()
        self._show_page(Step.INTAKE)
        self._offer_draft()

    def _size_to_font(self) -> None:
        """About 120 × 44 characters of the theme's font, and never beyond the screen.

        Measured after the style sheets apply (the wall theme's font is about
        twice the default), so the result page's people fit without scrolling
        wherever the screen allows.
        """
        self.ensurePolished()
        metrics = self.fontMetrics()
        width, height = metrics.averageCharWidth() * 120, metrics.lineSpacing() * 44
        least_width, least_height = metrics.averageCharWidth() * 80, metrics.lineSpacing() * 28
        screen = self.screen()
        if screen is not None:
            room = screen.availableGeometry()
            width, least_width = min(width, room.width()), min(least_width, room.width())
            height, least_height = min(height, room.height()), min(least_height, room.height())
        self.setMinimumSize(least_width, least_height)
        self.resize(width, height)

    # ----------------------------------------------------------- reference data

    def _load_reference(self) -> None:
        directory = self.triage.directory
        self.intake.service.set_choices(
            Choice(
                s.id,
                s.name,
                detail=directory.team_name(s.owner_team) if s.owner_team else s.id,
                keys=f"{directory.team_name(s.owner_team)} {s.description}",
            )
            for s in directory.services
        )
        self.classification.set_taxonomy(self.triage.categories, self.triage.taxonomy_problem)
        self.before.banner.commander.set_choices(
            Choice(
                c.id,
                c.name,
                detail=" · ".join(
                    part for part in (c.role, directory.team_name(c.team) if c.team else "") if part
                ),
                keys=f"{c.role} {directory.team_name(c.team)}",
            )
            for c in directory.contacts_sorted()
        )

    # ----------------------------------------------------------- navigation

    @property
    def page_index(self) -> int:
        return self.stack.currentIndex()

    def current_page(self) -> Page:
        return self.pages[self.page_index]

    def _show_page(self, index: int) -> None:
        index = max(0, min(index, len(self.pages) - 1))
        self._enter(index)
        self.stack.setCurrentIndex(index)
        page = self.pages[index]
        page.relayout()
        self.step_label.setText(f"{index + 1} / {len(self.pages)}  {page.title}")
        crumbs = []
        for position, other in enumerate(self.pages):
            text = f"{position + 1} {escape_html(other.title)}"
            if position == index:
                crumbs.append(f"<b><u>{text}</u></b>")
            elif position < index:
                crumbs.append(f"{text} ✓")
            else:
                crumbs.append(text)
        self.crumbs.setText(" › ".join(crumbs))
        last = index == len(self.pages) - 1
        self.back_button.setEnabled(index > 0)
        self.next_button.setVisible(not last)
        self.create_button.setVisible(last)
        self.hint.setText(
            "Ctrl+Enter creates the incident · Alt+B back · Esc discard"
            if last
            else "Enter or Alt+N next · Alt+B back · Tab next field · Esc discard"
        )
        self._clear_error()
        page.focus_first()
        self.page_changed.emit(index)
        self._schedule_draft()

    def _enter(self, index: int) -> None:
        """Work out what a page shows from the answers so far."""
        if index >= Step.RESULT:
            self._compute()
            self._show_result()
            self.result_page.relayout()
        if index == Step.BEFORE:
            self._show_before()
            self.before.relayout()

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

    def _check(self, page: Page) -> bool:
        found = page.problem()
        self._unlisted_offered = None
        if found is None:
            return True
        text, widget = found
        if page is self.intake and widget is self.intake.service:
            self._unlisted_offered = self.intake.unlisted_service()
        self._show_error(text)
        if widget is not None:
            widget.setFocus(Qt.FocusReason.OtherFocusReason)
        return False

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _clear_error(self) -> None:
        self.error.hide()
        self.error.clear()

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

    # ----------------------------------------------------------- the working out

    def _read(self) -> TriageAnswers:
        """Hand what the pages hold now to the triage session."""
        self.triage.answers = read_answers(self._pages, self._workaround_applied)
        return self.triage.answers

    def _compute(self) -> None:
        self._read()
        self.result_page.computed = self.triage.compute().severity

    @property
    def computed_severity(self) -> Severity | None:
        """The matrix's severity for the answers (None until impact and urgency are answered)."""
        return self.triage.computed.severity

    def final_severity(self) -> Severity | None:
        """The severity the incident will get: the override when one is set, else the matrix's."""
        self._read()
        return self.triage.final_severity()

    def _show_result(self) -> None:
        self.result_page.show_triage(self.triage, self.final_severity())

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

    def _show_before(self) -> None:
        self._read()
        self.before.show_triage(self.triage, self.final_severity())

    def _show_summary(self) -> None:
        self.before.show_summary(self.triage, self.final_severity())

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
        self._finish(NewIncident(self.triage.fields()))

    def _finish(self, outcome: TriageOutcome) -> None:
        problem = self._submit(outcome)
        if problem:
            self._show_error(problem)
            return
        self._draft_timer.stop()
        self._clear_draft()
        self._dirty = False
        self.accept()

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

    def _schedule_draft(self) -> None:
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

    # ----------------------------------------------------------- looks

    def _apply_style(self) -> None:
        # Colours that read on the light and the dark theme alike; sizes in
        # ems so they follow the font (and the screen scaling of the window).
        self.setStyleSheet(
            WIDGET_STYLE
            + """
            QLabel#triageStep { font-size: 16pt; font-weight: bold; }
            QFrame#assessmentBox, QFrame#majorBanner {
                border: 1px solid rgba(127, 127, 127, 110); border-radius: 6px;
            }
            QFrame#majorBanner { border: 2px solid #C62828; }
            QLabel#triageSummary { font-size: 12pt; }
            QScrollArea#triagePageScroll, QScrollArea#triagePageScroll > QWidget > QWidget {
                background: transparent;
            }
            """
        )
