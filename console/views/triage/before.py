"""The triage wizard's last page: a major incident?, a duplicate?, a known error?

The major-incident banner (declare it and name the Incident Commander), the
possible duplicates ("add this caller to INC-… instead") and the known
errors whose workaround can go into the description.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.severity import Severity
from console.domain.triage import DuplicateCandidate, KnownError, KnownErrorMatch, MajorTrigger
from console.services.triage import DUPLICATE_WINDOW, TriageSession
from console.views.triage.pages import PAGE_TITLES, Page
from console.views.triage.widgets import (
    ChoiceRow,
    Option,
    TypeAheadEdit,
    bullets,
    escape_html,
    fit_list,
    plain_label,
    rich_label,
    section_label,
)


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


PROBLEM_ARTICLE = "problem "
"""How a problem's published known error names it (``article: "problem PRB-000002"``)."""


def problem_of(known: KnownError) -> str | None:
    """The problem number behind a known error a problem published, or None."""
    article = known.article or ""
    if article.startswith(PROBLEM_ARTICLE):
        return article[len(PROBLEM_ARTICLE) :].strip() or None
    return None


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
        problem = problem_of(known)
        link = (
            f"<br>Known error of <b>{escape_html(problem)}</b>: Alt+L opens it in Problems "
            "(the call is kept as a draft)."
            if problem
            else ""
        )
        self.workaround.setText(
            f"<b>Workaround ({escape_html(known.id)}):</b> {escape_html(known.workaround)}{link}"
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

    def show_triage(self, triage: TriageSession, final: Severity | None) -> None:
        """Fill the page from the triage: duplicates, known errors, the trigger, the summary."""
        service = triage.service_value()
        hours = int(DUPLICATE_WINDOW.total_seconds() // 3600)
        self.duplicates_heading.setText(
            f"Possible duplicates (open, same service or similar text, last {hours} h)"
        )
        self.set_duplicates(
            triage.duplicates(),
            triage.service_name,
            f"No open incident on {triage.service_name(service)} or with similar text "
            f"in the last {hours} h.",
        )
        empty = triage.known_problem or "No known error matches this report."
        self.set_known_errors(triage.known_error_matches(), empty)
        self.set_trigger(triage.computed.trigger)
        self.show_summary(triage, final)
        self.set_triage(final, bool(triage.computed.trigger))

    def show_summary(self, triage: TriageSession, severity: Severity | None) -> None:
        """The line that says what Ctrl+Enter creates."""
        if severity is None:
            return
        routing = triage.computed.routing
        team = routing.team_name if routing is not None else "no team"
        major = (
            " · <b>major incident</b>, commander "
            + escape_html(self.banner.commander_name() or "?")
            if triage.declared_major()
            else ""
        )
        service = triage.service_name(triage.service_value())
        self.summary.setText(
            f"Ctrl+Enter creates <b>{severity.style.glyph} {severity.code} "
            f"{escape_html(severity.label)}</b> on {escape_html(service)} "
            f"for {escape_html(team)}{major}."
        )
