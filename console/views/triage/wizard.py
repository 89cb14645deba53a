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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QKeyEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.domain.errors import DomainError
from console.domain.incident import Incident, Source
from console.domain.lifecycle import State
from console.domain.roles import may_override
from console.domain.severity import Impact, PriorityMatrix, Severity, Urgency
from console.domain.triage import (
    Assessment,
    Category,
    DuplicateCandidate,
    ImpactAnswers,
    KnownError,
    KnownErrorMatch,
    MajorTrigger,
    UrgencyAnswers,
    UsersAffected,
    Workaround,
    assess_impact,
    assess_urgency,
    find_duplicates,
    major_incident_trigger,
    search_known_errors,
    taxonomy,
)
from console.services.directory import Directory
from console.services.routing import Routing, local_time, routing_for, who_can_override
from console.services.triage_context import (
    AddCaller,
    CallerLike,
    NewIncident,
    Submit,
    TriageContext,
    TriageOutcome,
)
from console.store import CacheError
from console.store.drafts import DraftError, FieldValue, TriageDraft
from console.views.detail import SeverityBadge
from console.views.triage.widgets import (
    WIDGET_STYLE,
    YES_NO,
    Choice,
    ChoiceRow,
    KeyBar,
    LinesEdit,
    MatrixGrid,
    Option,
    TypeAheadEdit,
    buddy_label,
    bullets,
    escape_html,
    fit_list,
    form_layout,
    line_edit,
    plain_label,
    question_label,
    rich_label,
    section_label,
)

DRAFT_DELAY_MS = 500
"""How long after the last change the draft is written (one write per pause in typing)."""
DUPLICATE_WINDOW = timedelta(hours=4)
"""How far back possible duplicates are looked for."""

# What the backend takes (console/wire/__init__.py): longer text is refused when the
# outbox sends it, and the logged incident would vanish from the queue.
TITLE_MAX = 200
REPORTER_MAX = 60
CONTACT_MAX = 55  # "name (contact)" stays within the wire's 120 characters
DETAILS_MAX = 18_000
"""The details, leaving room for the triage's reasons within the wire's 20,000 characters."""

PAGE_TITLES = (
    "Intake",
    "Classification",
    "Impact",
    "Urgency",
    "Result",
    "Before creating",
)


# --------------------------------------------------------------------------
# What the wizard needs from the console, and what it hands back
# --------------------------------------------------------------------------


# CallerLike, TriageContext, NewIncident, AddCaller, TriageOutcome and Submit
# live in console/views/triage/context.py (imported above).


# --------------------------------------------------------------------------
# Qt-free working out: routing, deadlines, who may override
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# The pages
# --------------------------------------------------------------------------


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

    def service_value(self) -> str:
        """The service as it will be logged: the chosen entry's id, else the text as typed."""
        return self.service.chosen() or " ".join(self.service.text().split())

    def reporter_text(self) -> str | None:
        name = " ".join(self.reporter.text().split())
        contact = " ".join(self.contact.text().split())
        if name and contact:
            return f"{name} ({contact})"
        return name or contact or None


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
        text = self.share.text().strip().rstrip("%").strip()
        if not text:
            return None
        if not text.isdigit() or not 0 <= int(text) <= 100:
            return f"The share of users is a whole number from 0 to 100, not “{text}”."
        return int(text)

    def answers(self) -> ImpactAnswers | None:
        users, critical, workaround = (
            self.users.value(),
            self.critical.value(),
            self.workaround.value(),
        )
        share = self.share_value()
        if users is None or critical is None or workaround is None or isinstance(share, str):
            return None
        return ImpactAnswers(
            users=UsersAffected(users),
            critical_down=bool(critical),
            workaround=Workaround(workaround),
            share_percent=share,
            functions=self.functions.text().strip(),
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

    QUESTIONS = (
        ("regulatory", "Is a regulatory or legal deadline (or notification) at stake?"),
        ("customer_sla", "Is a customer SLA at stake?"),
        ("time_window", "Is money being lost, or does a time-critical window close soon?"),
        ("spreading", "Is it getting worse or spreading?"),
    )

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
        values = {key: row.value() for key, row in self.rows.items()}
        if any(value is None for value in values.values()):
            return None
        return UrgencyAnswers(
            regulatory_deadline=bool(values["regulatory"]),
            customer_sla=bool(values["customer_sla"]),
            time_window=bool(values["time_window"]),
            spreading=bool(values["spreading"]),
        )

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


class ResultPage(Page):
    """The severity and why, the SLA deadlines, the routing, and the commander's override."""

    title = PAGE_TITLES[4]
    override_requested = Signal()

    def __init__(self, matrix: PriorityMatrix, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.badge = SeverityBadge(self)
        self.badge.setFixedSize(self.badge.width() * 3 // 2, self.badge.height() * 3 // 2)
        self.severity_label = rich_label(self, name="triageSeverity")
        self.grid = MatrixGrid(matrix, self)
        self.reasons = rich_label(self)
        self.deadlines = rich_label(self)
        self.routing = rich_label(self)
        self.major_hint = plain_label("", self, name="dialogError")
        self.major_hint.hide()
        self.override_button = QPushButton("Override severity… (Alt+O)", self)
        self.override_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.override_button.clicked.connect(self.override_requested)
        self.override_note = rich_label(self, name="dialogError")
        self.override_note.hide()
        self.override_form = QWidget(self)
        self.override_choice = ChoiceRow(
            [Option(str(s.value), f"{s.code} {s.label}", s.code) for s in Severity],
            self.override_form,
        )
        self.override_reason = line_edit(
            self.override_form, "Why the matrix is wrong here (goes on the timeline)", 500
        )
        form = form_layout(self.override_form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(plain_label("Severity", self.override_form), self.override_choice)
        form.addRow(
            buddy_label("&Reason", self.override_reason, self.override_form), self.override_reason
        )
        self.override_form.setLayout(form)
        self.override_form.hide()
        self.computed: Severity | None = None
        """The matrix's severity, set by the wizard (an override must differ and say why)."""

        head = QHBoxLayout()
        head.addWidget(self.badge)
        head.addWidget(self.severity_label, 1)
        top = QHBoxLayout()
        # Top-aligned: long reasons (the wall theme's large font) make the row
        # tall, and the matrix must not stretch its cells to match.
        top.addWidget(self.grid, 0, Qt.AlignmentFlag.AlignTop)
        top.addSpacing(self.fontMetrics().height())
        top.addWidget(self.reasons, 1, Qt.AlignmentFlag.AlignTop)
        override_row = QHBoxLayout()
        override_row.addWidget(self.override_button)
        override_row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addLayout(head)
        outer.addWidget(self.major_hint)
        outer.addLayout(top)
        outer.addWidget(section_label("SLA deadlines", self))
        outer.addWidget(self.deadlines)
        outer.addWidget(section_label("Routing and who is engaged now", self))
        outer.addWidget(self.routing)
        outer.addLayout(override_row)
        outer.addWidget(self.override_note)
        outer.addWidget(self.override_form)
        outer.addStretch(1)
        self.chain(self.override_choice, self.override_reason)
        self.watch(self.override_choice, self.override_reason)

    @property
    def overriding(self) -> bool:
        return self.override_form.isVisibleTo(self)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_O and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.override_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def override(self) -> tuple[Severity, str] | None:
        """The severity set by hand and its reason (None: the matrix's severity stands)."""
        if not self.overriding or self.override_choice.value() is None:
            return None
        return Severity.of(self.override_choice.value()), self.override_reason.text().strip()

    def problem(self) -> tuple[str, QWidget | None] | None:
        if not self.overriding:
            return None
        override = self.override()
        if override is None:
            return (
                "Choose the severity (1 to 4), or press Alt+O to keep the matrix's.",
                self.override_choice,
            )
        severity, reason = override
        if severity is not self.computed and not reason:
            return "Give the reason for overriding; it goes on the timeline.", self.override_reason
        return None


class MajorBanner(QFrame):
    """The major-incident trigger: the reasons and "declare it?" with the Incident Commander."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("majorBanner")
        self.heading = plain_label("", self, name="banner")
        self.reasons = rich_label(self, name="majorReasons")
        self.declare = ChoiceRow(
            [
                Option("y", "Declare major incident", True),
                Option("n", "Not a major incident", False),
            ],
            self,
        )
        self.commander = TypeAheadEdit(self)
        self.commander.setPlaceholderText("Who is Incident Commander? Type part of a name")
        self.commander_label = QLabel("Incident &commander", self)
        self.commander_label.setBuddy(self.commander)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.reasons)
        row = QHBoxLayout()
        row.addWidget(self.declare, 1)
        layout.addLayout(row)
        commander_row = QHBoxLayout()
        commander_row.addWidget(self.commander_label)
        commander_row.addWidget(self.commander, 1)
        layout.addLayout(commander_row)
        self.declare.changed.connect(self._declared)
        self._declared()

    def _declared(self) -> None:
        on = self.declare.value() is True
        self.commander.setEnabled(on)
        self.commander_label.setEnabled(on)

    def show_trigger(self, trigger: MajorTrigger) -> None:
        self.heading.setText("⚠ MAJOR INCIDENT — this triage meets the major-incident criteria")
        self.reasons.setText(bullets(trigger.reasons))

    def commander_name(self) -> str:
        choice = self.commander.chosen_choice()
        return choice.label if choice is not None else " ".join(self.commander.text().split())


class DuplicateItem(QListWidgetItem):
    def __init__(self, candidate: DuplicateCandidate, service_name: str) -> None:
        incident = candidate.incident
        severity = incident.severity
        text = (
            f"{incident.number}  ·  {severity.style.glyph} {severity.code}  ·  "
            f"{incident.state.label}  ·  {service_name}\n"
            f"{incident.title}\n"
            f"why: {'; '.join(candidate.reasons)} · match {round(candidate.score * 100)} %"
        )
        super().__init__(text)
        self.candidate = candidate


class KnownErrorItem(QListWidgetItem):
    def __init__(self, match: KnownErrorMatch) -> None:
        known = match.known_error
        article = f"  ·  {known.article}" if known.article else ""
        text = (
            f"{known.id}  ·  {known.title}{article}\n"
            f"why: {'; '.join(match.reasons)} · match {round(match.score * 100)} %"
        )
        super().__init__(text)
        self.match = match


class BeforePage(Page):
    """Last checks: a major incident?, a duplicate?, a known error with a workaround?"""

    title = PAGE_TITLES[5]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = MajorBanner(self)
        self.banner.hide()
        self.duplicates_heading = section_label("Possible duplicates", self)
        self.duplicates = QListWidget(self)
        self.duplicates.setObjectName("duplicateList")
        self.duplicates.setWordWrap(True)
        self.duplicates.setAlternatingRowColors(True)
        self.no_duplicates = plain_label("", self, name="fieldName")
        self.add_caller = QPushButton(
            "Add this caller to the selected incident instead (Alt+A)", self
        )
        self.add_caller.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.duplicate_note = plain_label("", self, name="dialogError")
        self.duplicate_note.hide()
        self.triage_severity: Severity | None = None
        """The severity this call's triage gives (set by the wizard)."""
        self.triage_major = False
        """Whether this call's triage meets the major-incident criteria (set by the wizard)."""
        self.known_heading = section_label("Known errors and knowledge articles", self)
        self.known = QListWidget(self)
        self.known.setObjectName("knownErrorList")
        self.known.setWordWrap(True)
        self.known.setAlternatingRowColors(True)
        self.no_known = plain_label("", self, name="fieldName")
        self.workaround = rich_label(self)
        self.apply_workaround = QPushButton("Apply the workaround to the description (Alt+W)", self)
        self.apply_workaround.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.applied = plain_label("", self, name="fieldName")
        self.summary = rich_label(self, name="triageSummary")

        dup_row = QHBoxLayout()
        dup_row.addWidget(self.add_caller)
        dup_row.addStretch(1)
        known_row = QHBoxLayout()
        known_row.addWidget(self.apply_workaround)
        known_row.addWidget(self.applied, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(self.summary)
        outer.addWidget(self.banner)
        outer.addWidget(self.duplicates_heading)
        outer.addWidget(self.no_duplicates)
        outer.addWidget(self.duplicates)
        outer.addLayout(dup_row)
        outer.addWidget(self.duplicate_note)
        outer.addWidget(self.known_heading)
        outer.addWidget(self.no_known)
        outer.addWidget(self.known)
        outer.addWidget(self.workaround)
        outer.addLayout(known_row)
        outer.addStretch(1)
        self.known.currentItemChanged.connect(self._known_selected)
        self.known.itemSelectionChanged.connect(self._known_selected)
        self.duplicates.currentItemChanged.connect(self._duplicate_selected)
        self.duplicates.itemSelectionChanged.connect(self._duplicate_selected)
        self.chain(self.banner.declare, self.banner.commander, self.duplicates, self.known)
        self.watch(self.banner.declare, self.banner.commander)

    def set_trigger(self, trigger: MajorTrigger) -> None:
        self.banner.setVisible(bool(trigger))
        if trigger:
            self.banner.show_trigger(trigger)

    def set_duplicates(
        self, candidates: Sequence[DuplicateCandidate], names: Callable[[str], str], empty: str
    ) -> None:
        self.duplicates.clear()
        for candidate in candidates:
            self.duplicates.addItem(DuplicateItem(candidate, names(candidate.incident.service)))
        found = bool(candidates)
        self.duplicates.setVisible(found)
        self.add_caller.setVisible(found)
        self.no_duplicates.setVisible(not found)
        self.no_duplicates.setText(empty)
        if found:
            # Pre-selected only when the match is strong: a weak one (the same
            # service, unrelated words) is listed for the dispatcher to judge.
            self.duplicates.setCurrentRow(0 if candidates[0].confident else -1)
            if not candidates[0].confident:
                self.duplicates.clearSelection()
            fit_list(self.duplicates)
        self._duplicate_selected()

    def set_known_errors(self, matches: Sequence[KnownErrorMatch], empty: str) -> None:
        self.known.clear()
        for match in matches:
            self.known.addItem(KnownErrorItem(match))
        found = bool(matches)
        self.known.setVisible(found)
        self.apply_workaround.setVisible(found)
        self.workaround.setVisible(found)
        self.no_known.setVisible(not found)
        self.no_known.setText(empty)
        if found:
            self.known.setCurrentRow(0 if matches[0].confident else -1)
            if not matches[0].confident:
                self.known.clearSelection()
            fit_list(self.known)
        self._known_selected()

    def chosen_duplicate(self) -> DuplicateCandidate | None:
        # Selected, not merely current: tabbing into the list makes its first row
        # current without choosing it (a weak match must be picked on purpose).
        item = self.duplicates.currentItem()
        if isinstance(item, DuplicateItem) and item.isSelected():
            return item.candidate
        return None

    def chosen_known_error(self) -> KnownError | None:
        item = self.known.currentItem()
        if isinstance(item, KnownErrorItem) and item.isSelected():
            return item.match.known_error
        return None

    def _duplicate_selected(self, *_: object) -> None:
        candidate = self.chosen_duplicate()
        number = candidate.incident.number if candidate is not None else "…"
        self.add_caller.setText(
            f"Add this caller to {number} instead (Alt+A)"
            if candidate is not None
            else "No strong match: select one if it is the same incident (Alt+A then adds)"
        )
        self.add_caller.setEnabled(candidate is not None)
        # Adding a caller leaves the incident as it is: say when this call
        # says it is worse than the incident records.
        warnings: list[str] = []
        if candidate is not None:
            incident = candidate.incident
            severity = self.triage_severity
            if severity is not None and severity.value < incident.severity.value:
                warnings.append(
                    f"{incident.number} is {incident.severity.code}; this call's answers give "
                    f"{severity.code}."
                )
            if self.triage_major and not incident.major:
                warnings.append(
                    f"This call meets the major-incident criteria; {incident.number} is not "
                    "a major incident."
                )
            if warnings:
                warnings.append(
                    "Adding this caller puts that in the note; ask a commander to review "
                    f"{incident.number}."
                )
        self.duplicate_note.setText("⚠ " + " ".join(warnings) if warnings else "")
        self.duplicate_note.setVisible(bool(warnings))

    def set_triage(self, severity: Severity | None, major: bool) -> None:
        """What this call's triage gives, to compare with the selected duplicate."""
        self.triage_severity = severity
        self.triage_major = major
        self._duplicate_selected()

    def _known_selected(self, *_: object) -> None:
        known = self.chosen_known_error()
        if known is None:
            self.workaround.setText("")
            self.apply_workaround.setEnabled(False)
            return
        self.apply_workaround.setEnabled(True)
        self.workaround.setText(
            f"<b>Workaround ({escape_html(known.id)}):</b> {escape_html(known.workaround)}"
        )

    def problem(self) -> tuple[str, QWidget | None] | None:
        if self.banner.isVisibleTo(self):
            declared = self.banner.declare.value()
            if declared is None:
                return (
                    "This is a major incident by the rules above: press Y to declare it, "
                    "or N if it is not.",
                    self.banner.declare,
                )
            if declared is True:
                commander = self.banner.commander
                commander.settle()
                if not self.banner.commander_name():
                    return "Who is Incident Commander? Type part of their name.", commander
                # Part of several names is nobody; a name the directory does
                # not know (a vendor's lead) is taken as typed.
                trouble = commander.problem("Incident Commander")
                if trouble and commander.matches():
                    return trouble, commander
        return None


# --------------------------------------------------------------------------
# The wizard
# --------------------------------------------------------------------------


class Step(enum.IntEnum):
    INTAKE = 0
    CLASSIFICATION = 1
    IMPACT = 2
    URGENCY = 3
    RESULT = 4
    BEFORE = 5


@dataclass
class _Computed:
    """What the answers add up to (recomputed when a page is entered)."""

    impact: Assessment[Impact] | None = None
    urgency: Assessment[Urgency] | None = None
    severity: Severity | None = None
    routing: Routing | None = None
    trigger: MajorTrigger = field(default_factory=lambda: MajorTrigger(()))


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
        self._computed = _Computed()
        self._dirty = False
        self._restoring = False
        self._workaround_applied: str | None = None
        self._pending_draft: TriageDraft | None = None
        self._focus_before_question: QWidget | None = None
        self._unlisted_offered: str | None = None
        """A service not in the list that the dispatcher was asked about (Enter again logs it)."""
        self._directory = self._read_directory()
        self._known_errors, known_problem = self._read_known_errors()

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

        self._load_reference(known_problem)
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

    def _read_directory(self) -> Directory:
        try:
            return Directory.from_store(self.context.reference)
        except (CacheError, ValueError):
            return Directory()

    def _read_known_errors(self) -> tuple[list[KnownError], str]:
        try:
            rows = self.context.reference.reference("known_errors")
        except (CacheError, ValueError):
            return [], "Known errors are not in the local cache yet."
        known: list[KnownError] = []
        bad = 0
        for row in rows:
            try:
                known.append(KnownError.from_mapping(row))
            except DomainError:
                bad += 1
        problem = f"{bad} damaged known-error record(s) were left out." if bad else ""
        return known, problem

    def _load_reference(self, known_problem: str) -> None:
        directory = self._directory
        self.intake.service.set_choices(
            Choice(
                s.id,
                s.name,
                detail=directory.team_name(s.owner_team) if s.owner_team else s.id,
                keys=f"{directory.team_name(s.owner_team)} {s.description}",
            )
            for s in directory.services
        )
        try:
            rows = self.context.reference.reference("categories")
            categories = taxonomy(rows)
            problem = ""
        except (CacheError, ValueError) as exc:
            categories, problem = (), f"The classification taxonomy cannot be used: {exc}"
        if not categories and not problem:
            problem = "No classification taxonomy is in the cache yet: type a category."
        self.classification.set_taxonomy(categories, problem)
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
        self._known_problem = known_problem

    def _service_name(self, service_id: str) -> str:
        service = self._directory.service(service_id)
        return service.name if service is not None else service_id

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

    def _compute(self) -> None:
        impact_answers = self.impact.answers()
        urgency_answers = self.urgency.answers()
        impact = assess_impact(impact_answers) if impact_answers else None
        urgency = assess_urgency(urgency_answers) if urgency_answers else None
        severity = (
            self.context.matrix.severity(impact.level, urgency.level)
            if impact is not None and urgency is not None
            else None
        )
        self._computed = _Computed(impact, urgency, severity)
        self.result_page.computed = severity
        if severity is None:
            return
        # The routing, the deadlines and the major-incident rules go by the
        # severity the incident will have: a commander's override counts.
        final = self.final_severity() or severity
        service = self.intake.service.chosen()
        if service is not None:
            try:
                self._computed.routing = routing_for(
                    self._directory,
                    self._draft_incident(service, impact, urgency, final),
                    self.context.clock(),
                    region=self.context.viewer_region,
                    sla=self.context.policy,
                )
            except DomainError as exc:
                self._computed.routing = Routing(None, "", problem=str(exc))
        trigger = major_incident_trigger(
            severity=final,
            category=self.classification.values()[0],
            impact=impact_answers,
            urgency=urgency_answers,
            share_threshold=self.context.share_threshold,
        )
        self._computed.trigger = trigger

    def _draft_incident(
        self,
        service: str,
        impact: Assessment[Impact] | None,
        urgency: Assessment[Urgency] | None,
        severity: Severity,
    ) -> Incident:
        now = self.context.clock()
        return Incident(
            id="triage",
            number="(new)",
            title=self.intake.title_edit.text().strip() or "New incident",
            service=service,
            impact=impact.level if impact else Impact.MEDIUM,
            urgency=urgency.level if urgency else Urgency.MEDIUM,
            severity=severity,
            state=State.NEW,
            opened_at=now,
            updated_at=now,
        )

    @property
    def computed_severity(self) -> Severity | None:
        """The matrix's severity for the answers (None until impact and urgency are answered)."""
        return self._computed.severity

    def final_severity(self) -> Severity | None:
        """The severity the incident will get: the override when one is set, else the matrix's."""
        override = self.result_page.override()
        if override is not None:
            return override[0]
        return self._computed.severity

    def _show_result(self) -> None:
        computed = self._computed
        if computed.severity is None or computed.impact is None or computed.urgency is None:
            return
        final = self.final_severity() or computed.severity
        self.result_page.badge.set_severity(final)
        style = final.style
        overridden = final is not computed.severity
        line = (
            f"<span style='font-size:x-large'><b>{final.code} {escape_html(style.label)}</b></span>"
            f"<br>impact <b>{computed.impact.level.value}</b> × urgency "
            f"<b>{computed.urgency.level.value}</b> → {computed.severity.code} by the matrix"
        )
        if overridden:
            line += f"; <b>overridden to {final.code}</b>"
        self.result_page.severity_label.setText(line)
        self.result_page.grid.set_chosen(computed.impact.level, computed.urgency.level)
        self.result_page.reasons.setText(
            f"<b>Impact {computed.impact.level.value}</b>"
            f"<br>{bullets(computed.impact.reasons)}<br>"
            f"<b>Urgency {computed.urgency.level.value}</b>"
            f"<br>{bullets(computed.urgency.reasons)}"
        )
        self._show_deadlines(final)
        self._show_routing(computed.routing)
        trigger = computed.trigger
        self.result_page.major_hint.setVisible(bool(trigger))
        if trigger:
            self.result_page.major_hint.setText(
                "⚠ Major incident by the rules ("
                + "; ".join(trigger.reasons)
                + "): the next page asks whether to declare it."
            )

    def _show_deadlines(self, severity: Severity) -> None:
        service = self.intake.service.chosen() or "service"
        incident = self._draft_incident(service, None, None, severity)
        now = self.context.clock()
        policy = self.context.policy
        day = policy.calendar.business_day
        rows = []
        response = policy.target(severity, "response")
        resolution = policy.target(severity, "resolution")
        for verb, due, target in (
            ("Respond by", policy.response_due(incident, now), response),
            ("Resolve by", policy.resolution_due(incident, now), resolution),
        ):
            rows.append(
                f"{verb} <b>{local_time(due, now)}</b> ({escape_html(target.describe(day))}"
                + (", business hours" if target.business else "")
                + ")"
            )
        self.result_page.deadlines.setText(" &nbsp;·&nbsp; ".join(rows))

    def _show_routing(self, routing: Routing | None) -> None:
        if routing is None:
            service = escape_html(self.intake.service_value())
            why = (
                f"“{service}” is not in the service list"
                if self.intake.service.choices
                else "the service is not in the reference data in the local cache "
                "(it has not been synced yet)"
            )
            self.result_page.routing.setText(
                f"No routing: {why}, so the console engages no team and calls nobody: "
                "assign it by hand (Shift+A) once it is logged."
            )
            return
        parts = [f"Routed to <b>{escape_html(routing.team_name)}</b> (the service's owning team)"]
        if routing.problem:
            parts.append(f"<i>{escape_html(routing.problem)}</i>")
        lines = []
        for engaged in routing.engaged:
            phone = f" · <b>{escape_html(engaged.phone)}</b>" if engaged.phone else ""
            when = "<b>now</b>" if engaged.when == "now" else escape_html(engaged.when)
            lines.append(
                f"{escape_html(engaged.step)} — {escape_html(engaged.person)}{phone} ({when})"
            )
        text = "<br>".join(parts)
        if lines:
            text += "<br>" + bullets(lines, escaped=True)
        self.result_page.routing.setText(text)

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
        caller = self.context.caller()
        if not may_override(caller.role if caller is not None else None):
            result.override_note.setText(self._refusal(caller))
            result.override_note.show()
            result.relayout()
            return
        result.override_note.hide()
        result.relayout()
        result.override_form.show()
        result.override_choice.set_value(None)
        result.override_choice.setFocus(Qt.FocusReason.OtherFocusReason)

    def _refusal(self, caller: CallerLike | None) -> str:
        if caller is None:
            who = (
                "The console does not know your role yet (it has not reached the backend "
                "since you signed in)"
            )
        else:
            who = f"You are signed in as {escape_html(caller.name)}, a {escape_html(caller.role)}"
        service = self.intake.service.chosen() or ""
        people = who_can_override(
            self._directory, service, self.context.clock(), region=self.context.viewer_region
        )
        ask = (
            "Ask the commander on call: " + "; ".join(escape_html(p) for p in people) + "."
            if people
            else "Ask an incident commander."
        )
        severity = self._computed.severity
        keep = f" Or log it as {severity.code} and let a commander change it." if severity else ""
        return (
            f"<b>Only a commander (or an admin) can override the severity.</b> {who}. {ask}{keep}"
        )

    # ----------------------------------------------------------- before creating

    def _show_before(self) -> None:
        service = self.intake.service_value()
        text = f"{self.intake.title_edit.text()} {self.intake.details.toPlainText()}"
        now = self.context.clock()
        try:
            candidates = find_duplicates(
                self.context.incidents(),
                service=service,
                text=text,
                now=now,
                window=DUPLICATE_WINDOW,
            )
        except DomainError:
            candidates = []
        hours = int(DUPLICATE_WINDOW.total_seconds() // 3600)
        self.before.duplicates_heading.setText(
            f"Possible duplicates (open, same service or similar text, last {hours} h)"
        )
        self.before.set_duplicates(
            candidates,
            self._service_name,
            f"No open incident on {self._service_name(service)} or with similar text "
            f"in the last {hours} h.",
        )
        category = self.classification.values()[0]
        matches = search_known_errors(
            self._known_errors, text=text, service=service, category=category
        )
        empty = self._known_problem or "No known error matches this report."
        self.before.set_known_errors(matches, empty)
        self.before.set_trigger(self._computed.trigger)
        self._show_summary()
        self.before.set_triage(self.final_severity(), bool(self._computed.trigger))

    def _show_summary(self) -> None:
        severity = self.final_severity()
        if severity is None:
            return
        routing = self._computed.routing
        team = routing.team_name if routing is not None else "no team"
        major = (
            " · <b>major incident</b>, commander "
            + escape_html(self.before.banner.commander_name() or "?")
            if self.before.banner.isVisibleTo(self.before)
            and self.before.banner.declare.value() is True
            else ""
        )
        service = self._service_name(self.intake.service_value())
        self.before.summary.setText(
            f"Ctrl+Enter creates <b>{severity.style.glyph} {severity.code} "
            f"{escape_html(severity.label)}</b> on {escape_html(service)} "
            f"for {escape_html(team)}{major}."
        )

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
        self._finish(AddCaller(candidate.incident, self.caller_note(candidate.incident)))

    def caller_note(self, incident: Incident) -> str:
        """The work note that adds this caller to ``incident``: who, how to reach them, what
        they said, and what their answers give (so a worse picture is not lost)."""
        intake = self.intake
        reporter = intake.reporter_text() or "an unnamed caller"
        source = str(intake.source.value() or Source.PHONE.value)
        title = " ".join(intake.title_edit.text().split()).rstrip(". ")
        body = f"Another caller for this incident: {reporter}, by {source}. They report: {title}."
        self._compute()
        computed = self._computed
        final = self.final_severity()
        if computed.impact is not None and computed.urgency is not None and final is not None:
            body += (
                f" Their answers: impact {computed.impact.level.value} × urgency "
                f"{computed.urgency.level.value} → {final.code}"
            )
            if final is not computed.severity and computed.severity is not None:
                body += f" (set by hand; {computed.severity.code} by the matrix)"
            if final.value < incident.severity.value:
                body += (
                    f"; {incident.number} is {incident.severity.code}: a commander should "
                    "review its severity"
                )
            body += "."
        if computed.trigger and not incident.major:
            body += " Major-incident criteria met: " + "; ".join(computed.trigger.reasons) + "."
        details = intake.details.toPlainText().strip()
        if details:
            body += f" {details}"
        return body

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
        block = f"Workaround from {known.id} ({known.title}): {known.workaround}"
        if known.article:
            block += f" See {known.article}."
        details = self.intake.details.toPlainText().rstrip()
        self.intake.details.setPlainText(f"{details}\n\n{block}" if details else block)
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
        self._finish(NewIncident(self.fields()))

    def fields(self) -> dict[str, object]:
        """The create fields of the triage as it stands (all pages answered)."""
        intake = self.intake
        computed = self._computed
        assert computed.impact is not None
        assert computed.urgency is not None
        category, subcategory = self.classification.values()
        description = intake.details.toPlainText().strip()
        reasoning = (
            f"Triage: impact {computed.impact.level.value} ("
            + "; ".join(computed.impact.reasons)
            + f"); urgency {computed.urgency.level.value} ("
            + "; ".join(computed.urgency.reasons)
            + ")."
        )
        description = f"{description}\n\n{reasoning}" if description else reasoning
        fields: dict[str, object] = {
            "title": " ".join(intake.title_edit.text().split()),
            "service": intake.service_value(),
            "impact": computed.impact.level.value,
            "urgency": computed.urgency.level.value,
            "category": category,
            "subcategory": subcategory,
            "description": description,
            "reporter": intake.reporter_text(),
            "source": str(intake.source.value() or Source.PHONE.value),
            "assignment_group": computed.routing.team_id if computed.routing else None,
        }
        override = self.result_page.override()
        if override is not None and override[0] is not computed.severity:
            fields["severity"] = override[0].code
            fields["severity_reason"] = override[1]
        banner = self.before.banner
        if banner.isVisibleTo(self.before) and banner.declare.value() is True:
            fields["major"] = True
            fields["commander"] = banner.commander_name()
        return fields

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
        intake, classification = self.intake, self.classification
        impact, urgency, result = self.impact, self.urgency, self.result_page
        banner = self.before.banner
        fields: dict[str, FieldValue] = {
            "reporter": intake.reporter.text(),
            "contact": intake.contact.text(),
            "service": intake.service.text(),
            "service_id": intake.service.chosen(),
            "title": intake.title_edit.text(),
            "details": intake.details.toPlainText(),
            "source": _scalar(intake.source.value()),
            "category": classification.category.text(),
            "category_id": classification.category.chosen(),
            "subcategory": classification.subcategory.text(),
            "subcategory_id": classification.subcategory.chosen(),
            "users": _scalar(impact.users.value()),
            "critical_down": _scalar(impact.critical.value()),
            "workaround": _scalar(impact.workaround.value()),
            "functions": impact.functions.text(),
            "share": impact.share.text(),
            **{f"urgency_{key}": _scalar(row.value()) for key, row in urgency.rows.items()},
            "override": _scalar(result.override_choice.value()) if result.overriding else None,
            "override_reason": result.override_reason.text() if result.overriding else "",
            "declare_major": _scalar(banner.declare.value()),
            "commander": banner.commander.text(),
            "workaround_applied": self._workaround_applied,
        }
        # The default source alone is not worth a draft.
        if fields["source"] == Source.PHONE.value:
            meaningful = {k: v for k, v in fields.items() if k != "source"}
            if not TriageDraft(meaningful).has_content:
                return TriageDraft({}, page=self.page_index, saved_at=self.context.clock())
        return TriageDraft(fields, page=self.page_index, saved_at=self.context.clock())

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
        self.restore_bar.text.setText(
            f"An unfinished triage from {local_time(draft.saved_at, self.context.clock())} "
            f"was kept: {draft.summary()}. Restore it?"
        )
        self._ask(self.restore_bar)

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

    def _fill(self, draft: TriageDraft) -> None:
        f = draft.fields
        intake = self.intake
        intake.reporter.setText(draft.text("reporter"))
        intake.contact.setText(draft.text("contact"))
        service_id = f.get("service_id")
        if isinstance(service_id, str) and any(c.id == service_id for c in intake.service.choices):
            intake.service.choose(service_id)
        else:
            intake.service.setText(draft.text("service"))
            intake.service.set_choices(intake.service.choices)
        intake.title_edit.setText(draft.text("title"))
        intake.details.setPlainText(draft.text("details"))
        intake.source.set_value(f.get("source") or Source.PHONE.value)
        classification = self.classification
        # By id when the entry is still there (its name may have changed), else as typed.
        for edit, key in (
            (classification.category, "category"),
            (classification.subcategory, "subcategory"),
        ):
            chosen = f.get(f"{key}_id")
            if isinstance(chosen, str) and any(c.id == chosen for c in edit.choices):
                edit.choose(chosen)
            else:
                edit.setText(draft.text(key))
                edit.set_choices(edit.choices)
        impact = self.impact
        impact.users.set_value(f.get("users"))
        impact.critical.set_value(f.get("critical_down"))
        impact.workaround.set_value(f.get("workaround"))
        impact.functions.setText(draft.text("functions"))
        impact.share.setText(draft.text("share"))
        for key, row in self.urgency.rows.items():
            row.set_value(f.get(f"urgency_{key}"))
        override = f.get("override")
        caller = self.context.caller()
        if isinstance(override, str) and may_override(caller.role if caller else None):
            self.result_page.override_form.show()
            self.result_page.override_choice.set_value(override)
            self.result_page.override_reason.setText(draft.text("override_reason"))
        banner = self.before.banner
        banner.declare.set_value(f.get("declare_major"))
        banner.commander.setText(draft.text("commander"))
        banner.commander.set_choices(banner.commander.choices)
        applied = f.get("workaround_applied")
        self._workaround_applied = applied if isinstance(applied, str) else None
        self.impact.refresh()
        self.urgency.refresh()

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


def _scalar(value: object) -> FieldValue:
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)
