"""The triage wizard's frame: its pages in a stack, moving between them, the working out shown.

:class:`WizardFrame` is the dialog without its keys and drafts: the six pages
(:mod:`console.views.triage.pages`, :mod:`~console.views.triage.result`,
:mod:`~console.views.triage.before`) under a header that names the step and a
footer with the buttons; showing a page, checking it, and showing on the
result and last pages what the :class:`TriageSession` works out from the
answers. :class:`~console.views.triage.wizard.TriageWizard` builds on it.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
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
from console.services.triage import TriageAnswers, TriageSession
from console.services.triage_context import TriageContext
from console.views.triage.answers import Pages, read_answers
from console.views.triage.before import BeforePage
from console.views.triage.pages import ClassificationPage, ImpactPage, IntakePage, Page, UrgencyPage
from console.views.triage.result import ResultPage
from console.views.triage.widgets import WIDGET_STYLE, Choice, escape_html, plain_label, rich_label


class Step(enum.IntEnum):
    """The wizard's pages, in the order of the call."""

    INTAKE = 0
    CLASSIFICATION = 1
    IMPACT = 2
    URGENCY = 3
    RESULT = 4
    BEFORE = 5


class WizardFrame(QDialog):
    """The pages and moving between them (see the module docstring)."""

    page_changed = Signal(int)

    def __init__(self, context: TriageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("triageWizard")
        self.setWindowTitle("New incident — triage")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.context = context
        self.triage = TriageSession(context)
        """The triage's answers and what they add up to; the pages only ask and show."""
        self._workaround_applied: str | None = None
        self._unlisted_offered: str | None = None
        """A service not in the list that the dispatcher was asked about (Enter again logs it)."""

        self.step_label = plain_label("", self, name="triageStep", wrap=False)
        self.crumbs = rich_label(self, name="triageCrumbs")
        self.intake = IntakePage()
        self.classification = ClassificationPage()
        self.impact = ImpactPage()
        self.urgency = UrgencyPage()
        self.result_page = ResultPage(context.matrix)
        self.before = BeforePage()
        self._pages = Pages(
            self.intake,
            self.classification,
            self.impact,
            self.urgency,
            self.result_page,
            self.before,
        )
        self.pages: tuple[Page, ...] = (
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

        header = QVBoxLayout()
        header.addWidget(self.step_label)
        header.addWidget(self.crumbs)
        footer = QHBoxLayout()
        footer.addWidget(self.hint, 1)
        footer.addWidget(self.back_button)
        footer.addWidget(self.next_button)
        footer.addWidget(self.create_button)
        self.frame_layout = QVBoxLayout(self)
        """Header, pages, error and note, footer (the questions are put in between)."""
        self.frame_layout.addLayout(header)
        self.frame_layout.addWidget(self.stack, 1)
        self.frame_layout.addWidget(self.error)
        self.frame_layout.addWidget(self.note)
        self.frame_layout.addLayout(footer)
        self._load_reference()
        self._apply_style()

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

    def _enter(self, index: int) -> None:
        """Work out what a page shows from the answers so far."""
        if index >= Step.RESULT:
            self._compute()
            self._show_result()
            self.result_page.relayout()
        if index == Step.BEFORE:
            self._show_before()
            self.before.relayout()

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

    def _show_before(self) -> None:
        self._read()
        self.before.show_triage(self.triage, self.final_severity())

    def _show_summary(self) -> None:
        self.before.show_summary(self.triage, self.final_severity())
