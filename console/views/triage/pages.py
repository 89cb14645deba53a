"""The triage wizard's pages up to the result: one widget per step of the call.

:class:`Page` is what every step shares (its fields in Tab order, what is
missing before going on, a signal on every edit); the intake, classification,
impact, urgency and result pages ask the questions and show the live
assessments. The last page is in :mod:`console.views.triage.before`. The
pages read and show; the working out is :mod:`console.services.triage`.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.domain.incident import Source
from console.domain.severity import Impact, Urgency
from console.domain.triage import (
    Assessment,
    Category,
    ImpactAnswers,
    UrgencyAnswers,
    UsersAffected,
    Workaround,
    assess_impact,
    assess_urgency,
)
from console.services.triage import (
    CONTACT_MAX,
    DETAILS_MAX,
    REPORTER_MAX,
    TITLE_MAX,
    URGENCY_QUESTIONS,
    impact_answers,
    share_value,
    urgency_answers,
)
from console.views.triage.widgets import (
    YES_NO,
    Choice,
    ChoiceRow,
    LinesEdit,
    Option,
    TypeAheadEdit,
    buddy_label,
    bullets,
    escape_html,
    form_layout,
    line_edit,
    plain_label,
    question_label,
    rich_label,
)

PAGE_TITLES = (
    "Intake",
    "Classification",
    "Impact",
    "Urgency",
    "Result",
    "Before creating",
)


class Page(QWidget):
    """One step of the wizard: its fields in Tab order and what is missing."""

    title = ""
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # A page with nothing to type still takes the keys (Enter, Alt+N …),
        # but it is no Tab stop: Tab goes round the page's fields only.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.fields: list[QWidget] = []
        self.changed.connect(self.relayout)

    def relayout(self) -> None:
        """Lay the page out again (soon) for texts that changed length.

        Inside the scroll area a wrapped label's new height is not always
        noticed; invalidating the page's layout makes it so.
        """
        QTimer.singleShot(0, self._invalidate)

    def _invalidate(self) -> None:
        layout = self.layout()
        if layout is not None:
            layout.invalidate()

    def chain(self, *fields: QWidget) -> None:
        """Set the page's Tab order: exactly these fields, in this order."""
        self.fields = list(fields)
        for first, second in zip(self.fields, self.fields[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def focus_first(self) -> None:
        for widget in self.fields:
            if widget.isVisibleTo(self) and widget.isEnabled():
                widget.setFocus(Qt.FocusReason.TabFocusReason)
                return
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_resume(self) -> None:
        """Focus the first field not filled in yet (else the first), its text left unselected.

        Where a restored triage carries on: typing goes on from there and
        never replaces what was restored.
        """
        shown = [w for w in self.fields if w.isVisibleTo(self) and w.isEnabled()]
        for widget in shown:
            if _unanswered(widget):
                widget.setFocus(Qt.FocusReason.OtherFocusReason)
                return
        if shown:
            shown[0].setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.setFocus(Qt.FocusReason.OtherFocusReason)

    def advance(self, after: QWidget) -> None:
        """Move to the next field after ``after`` (a question was answered); stay on the last."""
        visible = [w for w in self.fields if w.isVisibleTo(self) and w.isEnabled()]
        if after in visible:
            position = visible.index(after)
            if position + 1 < len(visible):
                visible[position + 1].setFocus(Qt.FocusReason.TabFocusReason)

    def problem(self) -> tuple[str, QWidget | None] | None:
        """What must be done before going on, and the field to go to (None: nothing)."""
        return None

    def watch(self, *widgets: QWidget) -> None:
        """Report every edit of these widgets through :attr:`changed` (drafts, live results)."""
        for widget in widgets:
            if isinstance(widget, TypeAheadEdit):
                widget.textChanged.connect(self.changed)
                widget.chosen_changed.connect(self.changed)
            elif isinstance(widget, QLineEdit | QPlainTextEdit):
                widget.textChanged.connect(self.changed)
            elif isinstance(widget, ChoiceRow):
                widget.changed.connect(self.changed)
                widget.answered.connect(lambda w=widget: self.advance(w))


def _unanswered(widget: QWidget) -> bool:
    if isinstance(widget, ChoiceRow):
        return widget.value() is None
    if isinstance(widget, QLineEdit):
        return not widget.text().strip()
    if isinstance(widget, QPlainTextEdit):
        return not widget.toPlainText().strip()
    return False


class IntakePage(Page):
    """Who is calling, how to reach them, which service, what is broken, how it came in."""

    title = PAGE_TITLES[0]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reporter = line_edit(self, "Who is calling: name", REPORTER_MAX)
        self.contact = line_edit(self, "How to call them back: phone, email or chat", CONTACT_MAX)
        self.service = TypeAheadEdit(self)
        self.service.setPlaceholderText("Type part of the service's name, id or team")
        self.title_edit = line_edit(self, "What is broken, in a few words", TITLE_MAX)
        self.details = LinesEdit(4, self)
        self.details.setPlaceholderText("Symptoms, since when, error messages (optional)")
        self.details.setTabChangesFocus(True)
        self.source = ChoiceRow(
            [
                Option("1", "Phone", Source.PHONE.value),
                Option("2", "Email", Source.EMAIL.value),
                Option("3", "Chat", Source.CHAT.value),
                Option("4", "Monitoring", Source.MONITORING.value),
            ],
            self,
            value=Source.PHONE.value,
        )
        self.service_note = plain_label("", self, name="fieldName")
        form = form_layout(self)
        form.addRow(buddy_label("&Reporter", self.reporter, self), self.reporter)
        form.addRow(buddy_label("&Contact", self.contact, self), self.contact)
        form.addRow(buddy_label("&Service", self.service, self), self.service)
        form.addRow("", self.service_note)
        form.addRow(buddy_label("&Title", self.title_edit, self), self.title_edit)
        form.addRow(buddy_label("D&etails", self.details, self), self.details)
        form.addRow(buddy_label("So&urce", self.source, self), self.source)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addStretch(1)
        self.chain(
            self.reporter, self.contact, self.service, self.title_edit, self.details, self.source
        )
        self.watch(
            self.reporter, self.contact, self.service, self.title_edit, self.details, self.source
        )
        self.service.chosen_changed.connect(self._service_chosen)
        self._service_chosen()
        self._unlisted_accepted: str | None = None

    def _service_chosen(self) -> None:
        choice = self.service.chosen_choice()
        self.service_note.setText(choice.detail if choice is not None else "")
        self.service_note.setVisible(choice is not None)

    def problem(self) -> tuple[str, QWidget | None] | None:
        self.service.settle()
        monitoring = self.source.value() == Source.MONITORING.value
        if not self.reporter.text().strip() and not monitoring:
            return "Who is calling? Type the reporter's name.", self.reporter
        if not self.contact.text().strip() and not monitoring:
            return (
                "How can they be called back? Type a phone number, an email or a chat handle.",
                self.contact,
            )
        if not self.service.choices:
            # No services in the cache yet (never synced): the typed name stands.
            if not self.service.text().strip():
                return "Type the affected service.", self.service
        else:
            unlisted = self.unlisted_service()
            if unlisted is not None:
                if unlisted != self._unlisted_accepted:
                    return (
                        f"No affected service matches “{unlisted}”. Type part of its name or id, "
                        f"or press Enter again to log it on “{unlisted}” as typed "
                        "(not in the service list: nobody is engaged by the console).",
                        self.service,
                    )
            else:
                trouble = self.service.problem("affected service")
                if trouble:
                    return trouble, self.service
        if not self.title_edit.text().strip():
            return "Say in a few words what is broken; it becomes the incident's title.", (
                self.title_edit
            )
        length = len(self.details.toPlainText().strip())
        if length > DETAILS_MAX:
            return (
                f"The details are too long for an incident ({length:,} characters; at most "
                f"{DETAILS_MAX:,}): keep the lines that matter.",
                self.details,
            )
        return None

    def unlisted_service(self) -> str | None:
        """The service as typed when it matches nothing in the (non-empty) service list."""
        typed = " ".join(self.service.text().split())
        if not self.service.choices or not typed or self.service.chosen() is not None:
            return None
        return None if self.service.matches() else typed

    def accept_unlisted(self, typed: str) -> None:
        """Log the incident on ``typed`` though the service list lacks it (asked, then confirmed).

        A service the catalogue lacks must not stop the call being logged.
        """
        self._unlisted_accepted = typed


class ClassificationPage(Page):
    """Category, then subcategory, from the configured taxonomy."""

    title = PAGE_TITLES[1]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.categories: tuple[Category, ...] = ()
        self.category = TypeAheadEdit(self)
        self.category.setPlaceholderText("Type part of a category: hardware, network, access …")
        self.subcategory = TypeAheadEdit(self)
        self.subcategory.setPlaceholderText("Type part of a subcategory")
        self.category_list = plain_label("", self, name="fieldName")
        self.subcategory_list = plain_label("", self, name="fieldName")
        for hint in (self.category_list, self.subcategory_list):
            hint.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.note = plain_label("", self, name="dialogError")
        self.note.hide()
        form = form_layout(self)
        form.addRow(buddy_label("&Category", self.category, self), self.category)
        form.addRow("", self.category_list)
        form.addRow(buddy_label("S&ubcategory", self.subcategory, self), self.subcategory)
        form.addRow("", self.subcategory_list)
        outer = QVBoxLayout(self)
        outer.addWidget(self.note)
        outer.addLayout(form)
        outer.addStretch(1)
        self.category.chosen_changed.connect(self._category_chosen)
        self.chain(self.category, self.subcategory)
        self.watch(self.category, self.subcategory)

    def set_taxonomy(self, categories: Sequence[Category], problem: str = "") -> None:
        self.categories = tuple(categories)
        self.category.set_choices(
            Choice(c.id, c.name, keys=" ".join(name for _, name in c.subcategories))
            for c in categories
        )
        self.category_list.setText(" · ".join(c.name for c in categories))
        self.note.setText(problem)
        self.note.setVisible(bool(problem))
        self._category_chosen()

    def chosen_category(self) -> Category | None:
        chosen = self.category.chosen()
        for category in self.categories:
            if category.id == chosen:
                return category
        return None

    def _category_chosen(self) -> None:
        category = self.chosen_category()
        subs = category.subcategories if category is not None else ()
        keep = self.subcategory.chosen()
        self.subcategory.set_choices(Choice(sub_id, name) for sub_id, name in subs)
        if keep is not None and category is not None and category.subcategory_name(keep):
            self.subcategory.choose(keep)
        self.subcategory_list.setText(
            " · ".join(name for _, name in subs)
            if subs
            else "Choose a category first; its subcategories are listed here."
        )

    def problem(self) -> tuple[str, QWidget | None] | None:
        self.category.settle()
        self.subcategory.settle()
        if not self.categories:
            # No taxonomy to choose from: whatever is typed is the classification.
            if not self.category.text().strip():
                return "Type a category (no taxonomy is in the cache yet).", self.category
            return None
        trouble = self.category.problem("category")
        if trouble:
            return trouble, self.category
        trouble = self.subcategory.problem("subcategory")
        if trouble:
            return trouble, self.subcategory
        return None

    def values(self) -> tuple[str | None, str | None]:
        """(category id, subcategory id); typed text when there is no taxonomy."""
        if not self.categories:
            return (
                self.category.text().strip() or None,
                self.subcategory.text().strip() or None,
            )
        return self.category.chosen(), self.subcategory.chosen()


class AssessmentBox(QFrame):
    """The level a page's answers give and the reasons, live."""

    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assessmentBox")
        self.what = what
        self.heading = rich_label(self, name="sectionHeading")
        self.reasons = rich_label(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.reasons)
        self.show_pending("Answer the questions above.")

    def show_pending(self, text: str) -> None:
        self.heading.setText(f"{escape_html(self.what)}: —")
        self.reasons.setText(escape_html(text))

    def show_assessment(self, assessment: Assessment[Impact] | Assessment[Urgency]) -> None:
        level = assessment.level.value.upper()
        self.heading.setText(f"{escape_html(self.what)}: <b>{level}</b>")
        self.reasons.setText(bullets(assessment.reasons))


class ImpactPage(Page):
    """How many people can't work, a critical system down, a workaround → impact."""

    title = PAGE_TITLES[2]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.users = ChoiceRow(
            [Option(str(n), u.label, u.value) for n, u in enumerate(UsersAffected, start=1)],
            self,
            vertical=True,
        )
        self.critical = ChoiceRow(YES_NO, self)
        self.workaround = ChoiceRow(
            [
                Option("y", "Yes", Workaround.YES.value),
                Option("p", "Partial", Workaround.PARTIAL.value),
                Option("n", "No", Workaround.NO.value),
            ],
            self,
        )
        self.functions = line_edit(
            self, "Which business functions? (optional, e.g. card payments in EU stores)", 200
        )
        self.share = line_edit(self, "Share of users affected, % (optional estimate)", 3)
        self.share.setMaximumWidth(self.fontMetrics().averageCharWidth() * 40)
        self.box = AssessmentBox("Impact", self)
        form = form_layout(self)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        form.addRow(question_label("How many people can't work?", self), self.users)
        form.addRow(
            question_label("Is a revenue- or safety-critical system down?", self), self.critical
        )
        form.addRow(question_label("Is there a workaround?", self), self.workaround)
        form.addRow(buddy_label("Business &functions", self.functions, self), self.functions)
        form.addRow(buddy_label("S&hare of users, %", self.share, self), self.share)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addWidget(self.box)
        outer.addStretch(1)
        self.chain(self.users, self.critical, self.workaround, self.functions, self.share)
        self.watch(self.users, self.critical, self.workaround, self.functions, self.share)
        self.changed.connect(self.refresh)

    def share_value(self) -> int | str | None:
        """The share as a whole percent, None when blank, or the problem with what was typed."""
        return share_value(self.share.text())

    def answers(self) -> ImpactAnswers | None:
        return impact_answers(
            self.users.value(),
            self.critical.value(),
            self.workaround.value(),
            self.share.text(),
            self.functions.text(),
        )

    def refresh(self) -> None:
        answers = self.answers()
        if answers is None:
            share = self.share_value()
            self.box.show_pending(
                share if isinstance(share, str) else "Answer the three questions above."
            )
        else:
            self.box.show_assessment(assess_impact(answers))

    def problem(self) -> tuple[str, QWidget | None] | None:
        if self.users.value() is None:
            return "How many people can't work? Press 1 to 4.", self.users
        if self.critical.value() is None:
            return "Is a revenue- or safety-critical system down? Press Y or N.", self.critical
        if self.workaround.value() is None:
            return "Is there a workaround? Press Y, P (partial) or N.", self.workaround
        share = self.share_value()
        if isinstance(share, str):
            return share, self.share
        return None


class UrgencyPage(Page):
    """Regulatory deadline, customer SLA, money or time window, spreading → urgency."""

    title = PAGE_TITLES[3]

    QUESTIONS = URGENCY_QUESTIONS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: dict[str, ChoiceRow] = {}
        form = form_layout(self)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for key, question in self.QUESTIONS:
            row = ChoiceRow(YES_NO, self)
            self.rows[key] = row
            form.addRow(question_label(question, self), row)
        self.box = AssessmentBox("Urgency", self)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addWidget(self.box)
        outer.addStretch(1)
        self.chain(*self.rows.values())
        self.watch(*self.rows.values())
        self.changed.connect(self.refresh)

    def answers(self) -> UrgencyAnswers | None:
        return urgency_answers({key: row.value() for key, row in self.rows.items()})

    def refresh(self) -> None:
        answers = self.answers()
        if answers is None:
            self.box.show_pending("Answer the four questions above (Y or N).")
        else:
            self.box.show_assessment(assess_urgency(answers))

    def problem(self) -> tuple[str, QWidget | None] | None:
        for key, question in self.QUESTIONS:
            if self.rows[key].value() is None:
                return f"{question} Press Y or N.", self.rows[key]
        return None
