"""Keyboard-first dialogs that edit reviews and problems, and the controller behind their actions.

Each dialog is a form (Tab between fields, Ctrl+Enter or Enter on the button
to confirm, Esc to cancel). Confirming hands the form to
:class:`~console.sync.edits.LocalEdits` (its review methods,
:mod:`console.sync.review_edits`): a refusal (a due date in the past, an owner
not in the directory, a root cause past the limit, a problem that does not
exist) is shown in the dialog's error line and the dialog stays open with
everything typed, so nothing is lost; an accepted edit is shown at once and
queued in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDateTime, QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from console.domain.errors import DomainError
from console.domain.pir import BLAMELESS_PROMPT, PROBLEM_MOVES
from console.services.reviews import PENDING_MARK
from console.store import CacheError
from console.sync.review_edits import ReviewEdits
from console.views.dialogs import _Dialog, _note_box

Doc = dict[str, Any]


ReviewEditing = ReviewEdits
"""The review and problem edits the dialogs make (:class:`LocalEdits` in the app)."""


Submit = Callable[[], str | None]
"""Performs the dialog's edit; the refusal in the operator's words, or None when queued."""


class _EditDialog(_Dialog):
    """A form whose confirmation performs the edit; a refusal keeps it open with its text."""

    submit: Submit | None = None

    def accept(self) -> None:
        problem = self.problem()
        if problem is None and self.submit is not None:
            problem = self.submit()
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        QDialog.accept(self)


def _text_box(parent: QWidget, text: str, placeholder: str) -> QPlainTextEdit:
    box = _note_box(parent, placeholder)
    box.setPlainText(text)
    return box


class ReviewDialog(_EditDialog):
    """The review's narrative: root cause (blameless), factors, what went well, what to improve."""

    def __init__(self, doc: Mapping[str, Any], parent: QWidget | None) -> None:
        number = str(doc.get("incident_number", ""))
        super().__init__(f"Review of {number}", "Save", parent)
        self.setObjectName("reviewDialog")
        waiting = (
            f"<br><i>Edited here, {PENDING_MARK}: the form shows your unsent edits.</i>"
            if doc.get("pending")
            else ""
        )
        self.heading.setText(
            f"<b>{number}</b> — {doc.get('title', '')}<br><i>{BLAMELESS_PROMPT}</i>{waiting}"
        )
        self.root_cause = _text_box(
            self, str(doc.get("root_cause", "")), "Which systems and conditions let this happen"
        )
        self.known = QCheckBox("Root cause &known (untick: unknown so far — suggests a problem)")
        self.known.setChecked(bool(doc.get("root_cause_known", True)))
        self.factors = _text_box(
            self,
            "\n".join(doc.get("contributing_factors", []) or []),
            "Contributing factors, one a line",
        )
        self.went_well = _text_box(self, str(doc.get("went_well", "")), "What went well")
        self.improve = _text_box(self, str(doc.get("could_improve", "")), "What could be improved")
        self.form.addRow("&Root cause", self.root_cause)
        self.form.addRow("", self.known)
        self.form.addRow("&Contributing", self.factors)
        self.form.addRow("Went &well", self.went_well)
        self.form.addRow("&Improve", self.improve)
        self.root_cause.setFocus()

    def fields(self) -> dict[str, Any]:
        return {
            "root_cause": self.root_cause.toPlainText(),
            "root_cause_known": self.known.isChecked(),
            "contributing_factors": self.factors.toPlainText().splitlines(),
            "went_well": self.went_well.toPlainText(),
            "could_improve": self.improve.toPlainText(),
        }


class ActionItemDialog(_EditDialog):
    """A new action item: what, who (from the directory), by when, and a tracker link."""

    def __init__(
        self, doc: Mapping[str, Any], people: Sequence[str], now: datetime, parent: QWidget | None
    ) -> None:
        super().__init__(f"Action item for {doc.get('incident_number', '')}", "Add", parent)
        self.setObjectName("actionItemDialog")
        self.heading.setText(f"<b>{doc.get('incident_number', '')}</b> — {doc.get('title', '')}")
        self.title = QLineEdit(self)
        self.title.setPlaceholderText("What is to be done")
        self.owner = QComboBox(self)
        self.owner.setEditable(True)
        self.owner.addItems(list(people))
        self.owner.setCurrentText("")
        self.due = QDateTimeEdit(self)
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.due.setDateTime(
            QDateTime.fromSecsSinceEpoch(int((now + timedelta(days=14)).timestamp()))
        )
        self.tracker = QLineEdit(self)
        self.tracker.setPlaceholderText("https://tracker.example.com/OPS-123 (optional)")
        self.form.addRow("&What", self.title)
        self.form.addRow("&Owner", self.owner)
        self.form.addRow("&Due", self.due)
        self.form.addRow("&Tracker", self.tracker)

    def problem(self) -> str | None:
        if not self.title.text().strip():
            return "Say what is to be done."
        if not self.owner.currentText().strip():
            return "Choose who owns it (a person in the directory)."
        return None

    def due_at(self) -> datetime:
        return datetime.fromtimestamp(self.due.dateTime().toSecsSinceEpoch(), UTC)


class ItemStateDialog(_EditDialog):
    """Complete, drop (with the reason) or reopen an action item."""

    def __init__(self, doc: Mapping[str, Any], parent: QWidget | None) -> None:
        super().__init__("Update an action item", "Update", parent)
        self.heading.setText(f"<b>{doc.get('incident_number', '')}</b> — action items")
        self.item = QComboBox(self)
        for item in doc.get("action_items", []) or []:
            label = f"{item.get('title', '')} · {item.get('owner', '')} · {item.get('state', '')}"
            self.item.addItem(label, str(item.get("id", "")))
        self.state = QComboBox(self)
        for label, value in (("Done", "done"), ("Dropped (say why)", "dropped"), ("Open", "open")):
            self.state.addItem(label, value)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("Why it is dropped (required when dropping)")
        self.form.addRow("&Item", self.item)
        self.form.addRow("&State", self.state)
        self.form.addRow("&Reason", self.reason)

    def problem(self) -> str | None:
        if self.item.count() == 0:
            return "This review has no action items yet; add one first."
        return None


class TimelineMarkDialog(_EditDialog):
    """Mark a reconstructed timeline entry key or hidden, and note on it."""

    def __init__(self, doc: Mapping[str, Any], parent: QWidget | None) -> None:
        super().__init__("Mark a timeline entry", "Mark", parent)
        self.heading.setText(f"<b>{doc.get('incident_number', '')}</b> — the review's timeline")
        self.entries: list[Mapping[str, Any]] = list(doc.get("timeline", []) or [])
        self.entry = QComboBox(self)
        for entry in self.entries:
            at = str(entry.get("at", ""))[11:16]
            self.entry.addItem(f"{at} {entry.get('kind', '')}: {entry.get('summary', '')}"[:90])
        self.key = QCheckBox("&Key moment", self)
        self.hidden = QCheckBox("&Hidden from the report", self)
        self.note = QLineEdit(self)
        self.form.addRow("&Entry", self.entry)
        self.form.addRow("", self.key)
        self.form.addRow("", self.hidden)
        self.form.addRow("&Note", self.note)
        self.entry.currentIndexChanged.connect(self._load)
        self._load()

    def _load(self, *_: object) -> None:
        if not self.entries:
            return
        entry = self.entries[max(self.entry.currentIndex(), 0)]
        self.key.setChecked(bool(entry.get("key")))
        self.hidden.setChecked(bool(entry.get("hidden")))
        self.note.setText(str(entry.get("note", "")))

    def problem(self) -> str | None:
        if not self.entries:
            return "The timeline arrives with the draft from the server; try again once it is sent."
        return None

    def source_id(self) -> str:
        return str(self.entries[max(self.entry.currentIndex(), 0)].get("source_id", ""))


class ProblemDialog(_EditDialog):
    """Open a new problem for an incident, or link it to an existing one."""

    NEW = ""

    def __init__(
        self,
        incident_number: str,
        problems: Sequence[Mapping[str, Any]],
        parent: QWidget | None,
        *,
        reasons: Sequence[str] = (),
        statement: str = "",
    ) -> None:
        super().__init__(f"Problem for {incident_number}", "Open / link", parent)
        self.setObjectName("problemDialog")
        why = "".join(f"<br>• {r}" for r in reasons)
        self.heading.setText(f"<b>{incident_number}</b>: open a problem or link one{why}")
        self.choice = QComboBox(self)
        self.choice.addItem("New problem", self.NEW)
        for p in problems:
            if p.get("state") != "closed":
                self.choice.addItem(f"{p.get('number')} · {p.get('statement', '')}"[:90], p["id"])
        self.statement = QLineEdit(statement, self)
        self.statement.setPlaceholderText("What the problem is, in one line")
        self.form.addRow("&Problem", self.choice)
        self.form.addRow("&Statement", self.statement)
        self.choice.currentIndexChanged.connect(
            lambda *_: self.statement.setEnabled(self.chosen() == self.NEW)
        )

    def chosen(self) -> str:
        return str(self.choice.currentData() or self.NEW)

    def problem(self) -> str | None:
        if self.chosen() == self.NEW and not self.statement.text().strip():
            return "Say what the problem is (one line), or pick an existing problem to link."
        return None


class ProblemStateDialog(_EditDialog):
    """Move a problem on; moving to known error publishes its workaround."""

    def __init__(self, doc: Mapping[str, Any], parent: QWidget | None) -> None:
        super().__init__(f"Move {doc.get('number', '')}", "Move", parent)
        current = str(doc.get("state", "open"))
        self.heading.setText(
            f"<b>{doc.get('number', '')}</b> is {current.replace('_', ' ')} — "
            f"{doc.get('statement', '')}<br>A known error publishes its workaround to the "
            "triage wizard."
        )
        self.state = QComboBox(self)
        for state in PROBLEM_MOVES.get(current, ()):
            self.state.addItem(state.replace("_", " "), state)
        self.workaround = _text_box(self, str(doc.get("workaround", "")), "The workaround")
        self.root_cause = _text_box(self, str(doc.get("root_cause", "")), "The root cause")
        self.fix = _text_box(self, str(doc.get("permanent_fix", "")), "The permanent fix")
        self.change = QLineEdit(str(doc.get("change_ref", "")), self)
        self.change.setPlaceholderText("CHG-1234")
        self.form.addRow("&State", self.state)
        self.form.addRow("&Workaround", self.workaround)
        self.form.addRow("&Root cause", self.root_cause)
        self.form.addRow("Permanent &fix", self.fix)
        self.form.addRow("&Change", self.change)

    def problem(self) -> str | None:
        if self.state.count() == 0:
            return "A closed problem stays closed; open a new one."
        return None


class ReviewActions(QObject):
    """What the Review menu's actions do; reports like the incident actions."""

    done = Signal(str)
    refused = Signal(str)

    def __init__(
        self,
        edits: ReviewEditing,
        *,
        current_incident: Callable[[], tuple[str, str] | None],
        current_problem: Callable[[], str | None],
        people: Callable[[], Sequence[str]] = lambda: (),
        problems: Callable[[], Sequence[Mapping[str, Any]]] = lambda: (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        dialog_parent: QWidget | None = None,
    ) -> None:
        super().__init__(dialog_parent)
        self._edits = edits
        self._incident = current_incident
        self._problem = current_problem
        self._people = people
        self._problems = problems
        self._clock = clock
        self._parent = dialog_parent
        self.suggested: dict[str, list[str]] = {}
        """Incidents a problem was suggested for at closure (once each), with the reasons."""
        self.dialog: QDialog | None = None
        """The dialog open right now (tests drive it)."""

    # ------------------------------------------------------------ helpers

    def _attempt(self, edit: Callable[[], object], done: str) -> str | None:
        try:
            edit()
        except (DomainError, CacheError, ValueError) as exc:
            return str(exc)
        self.done.emit(done)
        return None

    def _run(self, edit: Callable[[], object], done: str) -> None:
        problem = self._attempt(edit, done)
        if problem:
            self.refused.emit(problem)

    def _review(self) -> tuple[str, str, Doc] | None:
        target = self._incident()
        if target is None:
            self.refused.emit("Select a resolved incident or a review first.")
            return None
        incident_id, number = target
        doc = self._edits.review_of(incident_id)
        if doc is None:
            self.refused.emit(f"{number} has no review yet: draft one (Ctrl+Shift+D).")
            return None
        return incident_id, number, doc

    def _show(self, dialog: _EditDialog, submit: Submit) -> None:
        dialog.submit = submit
        self.dialog = dialog
        dialog.finished.connect(lambda *_: setattr(self, "dialog", None))
        dialog.open()

    # ------------------------------------------------------------ reviews

    def draft(self) -> None:
        target = self._incident()
        if target is None:
            self.refused.emit("Select a resolved incident to draft its review.")
            return
        incident_id, number = target
        self._run(lambda: self._edits.draft_review(incident_id), f"Review of {number} drafted")

    def edit(self) -> None:
        found = self._review()
        if found is None:
            return
        incident_id, number, doc = found
        dialog = ReviewDialog(doc, self._parent)
        self._show(
            dialog,
            lambda: self._attempt(
                lambda: self._edits.edit_review(incident_id, **dialog.fields()),
                f"Review of {number} saved",
            ),
        )

    def add_item(self) -> None:
        found = self._review()
        if found is None:
            return
        incident_id, number, doc = found
        dialog = ActionItemDialog(doc, self._people(), self._clock(), self._parent)
        self._show(
            dialog,
            lambda: self._attempt(
                lambda: self._edits.add_action_item(
                    incident_id,
                    title=dialog.title.text(),
                    owner=dialog.owner.currentText(),
                    due=dialog.due_at(),
                    tracker_url=dialog.tracker.text() or None,
                ),
                f"Action item added to the review of {number}",
            ),
        )

    def update_item(self) -> None:
        found = self._review()
        if found is None:
            return
        incident_id, number, doc = found
        dialog = ItemStateDialog(doc, self._parent)
        self._show(
            dialog,
            lambda: self._attempt(
                lambda: self._edits.set_item_state(
                    incident_id,
                    str(dialog.item.currentData()),
                    str(dialog.state.currentData()),
                    dialog.reason.text(),
                ),
                f"Action item of {number} updated",
            ),
        )

    def mark_timeline(self) -> None:
        found = self._review()
        if found is None:
            return
        incident_id, number, doc = found
        dialog = TimelineMarkDialog(doc, self._parent)
        self._show(
            dialog,
            lambda: self._attempt(
                lambda: self._edits.mark_timeline(
                    incident_id,
                    dialog.source_id(),
                    key=dialog.key.isChecked(),
                    hidden=dialog.hidden.isChecked(),
                    note=dialog.note.text(),
                ),
                f"Timeline of the review of {number} marked",
            ),
        )

    def hold(self) -> None:
        found = self._review()
        if found is not None:
            incident_id, number, _doc = found
            self._run(lambda: self._edits.hold_review(incident_id), f"Review of {number} held")

    def approve(self) -> None:
        found = self._review()
        if found is not None:
            incident_id, number, _doc = found
            self._run(
                lambda: self._edits.approve_review(incident_id), f"Review of {number} approved"
            )

    # ------------------------------------------------------------ problems

    def open_or_link(self, reasons: Sequence[str] = ()) -> None:
        """Open a problem for the selected incident, or link it to an existing one."""
        target = self._incident()
        if target is None:
            self.refused.emit("Select an incident to open or link a problem for.")
            return
        incident_id, number = target
        review = self._edits.review_of(incident_id) or {}
        dialog = ProblemDialog(
            number,
            self._problems(),
            self._parent,
            reasons=reasons,
            statement=str(review.get("title", "")),
        )

        def submit() -> str | None:
            chosen = dialog.chosen()
            if chosen == ProblemDialog.NEW:
                return self._attempt(
                    lambda: self._edits.open_problem(
                        dialog.statement.text(),
                        [incident_id],
                        root_cause=str(review.get("root_cause", "")),
                    ),
                    f"Problem opened for {number}",
                )
            return self._attempt(
                lambda: self._edits.link_problem(chosen, incident_id),
                f"{number} linked to the problem",
            )

        self._show(dialog, submit)

    def move_problem(self) -> None:
        ref = self._problem()
        doc = self._edits.problem(ref) if ref else None
        if doc is None:
            self.refused.emit("Select a problem in Problems (Ctrl+7) first.")
            return
        dialog = ProblemStateDialog(doc, self._parent)

        def submit() -> str | None:
            state = str(dialog.state.currentData())
            fields = {
                "workaround": dialog.workaround.toPlainText(),
                "root_cause": dialog.root_cause.toPlainText(),
                "permanent_fix": dialog.fix.toPlainText(),
                "change_ref": dialog.change.text(),
            }
            return self._attempt(
                lambda: (
                    self._edits.edit_problem(str(doc["id"]), **fields),
                    self._edits.move_problem(str(doc["id"]), state),
                ),
                f"{doc.get('number')} moved to {state.replace('_', ' ')}",
            )

        self._show(dialog, submit)

    def publish_known_error(self) -> None:
        """Move the selected problem to known error (publishing its workaround)."""
        ref = self._problem()
        doc = self._edits.problem(ref) if ref else None
        if doc is None:
            self.refused.emit("Select a problem in Problems (Ctrl+7) first.")
            return
        self._run(
            lambda: self._edits.move_problem(str(doc["id"]), "known_error"),
            f"{doc.get('number')} published as a known error",
        )
