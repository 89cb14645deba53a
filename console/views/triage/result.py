"""The triage wizard's result page: the severity and why, the deadlines, the routing.

The matrix drawn with the chosen cell marked, the SLA deadlines as local
times, the team the incident routes to and who is engaged now, and the
commander's override (a dispatcher is told whom to ask), all shown from the
:class:`TriageSession`'s working out.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from console.domain.severity import PriorityMatrix, Severity
from console.services.routing import Routing
from console.services.triage import TriageSession
from console.services.triage_context import CallerLike
from console.views.detail import SeverityBadge
from console.views.triage.pages import PAGE_TITLES, Page
from console.views.triage.widgets import (
    ChoiceRow,
    MatrixGrid,
    Option,
    buddy_label,
    bullets,
    escape_html,
    form_layout,
    line_edit,
    plain_label,
    rich_label,
    section_label,
)


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

    def show_triage(self, triage: TriageSession, final: Severity | None) -> None:
        """Show what the answers add up to, ``final`` being the severity the incident gets."""
        computed = triage.computed
        if computed.severity is None or computed.impact is None or computed.urgency is None:
            return
        final = final or computed.severity
        self.badge.set_severity(final)
        style = final.style
        overridden = final is not computed.severity
        line = (
            f"<span style='font-size:x-large'><b>{final.code} {escape_html(style.label)}</b></span>"
            f"<br>impact <b>{computed.impact.level.value}</b> × urgency "
            f"<b>{computed.urgency.level.value}</b> → {computed.severity.code} by the matrix"
        )
        if overridden:
            line += f"; <b>overridden to {final.code}</b>"
        self.severity_label.setText(line)
        self.grid.set_chosen(computed.impact.level, computed.urgency.level)
        self.reasons.setText(
            f"<b>Impact {computed.impact.level.value}</b>"
            f"<br>{bullets(computed.impact.reasons)}<br>"
            f"<b>Urgency {computed.urgency.level.value}</b>"
            f"<br>{bullets(computed.urgency.reasons)}"
        )
        self._show_deadlines(triage, final)
        self._show_routing(triage, computed.routing)
        trigger = computed.trigger
        self.major_hint.setVisible(bool(trigger))
        if trigger:
            self.major_hint.setText(
                "⚠ Major incident by the rules ("
                + "; ".join(trigger.reasons)
                + "): the next page asks whether to declare it."
            )

    def _show_deadlines(self, triage: TriageSession, severity: Severity) -> None:
        rows = [
            f"{d.verb} <b>{escape_html(d.when)}</b> ({escape_html(d.target)}"
            + (", business hours" if d.business else "")
            + ")"
            for d in triage.deadlines(severity)
        ]
        self.deadlines.setText(" &nbsp;·&nbsp; ".join(rows))

    def _show_routing(self, triage: TriageSession, routing: Routing | None) -> None:
        if routing is None:
            service = escape_html(triage.service_value())
            why = (
                f"“{service}” is not in the service list"
                if triage.directory.services
                else "the service is not in the reference data in the local cache "
                "(it has not been synced yet)"
            )
            self.routing.setText(
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
        self.routing.setText(text)

    def refusal(self, triage: TriageSession, caller: CallerLike | None) -> str:
        """Why the override is refused to ``caller``, and whom to ask instead."""
        if caller is None:
            who = (
                "The console does not know your role yet (it has not reached the backend "
                "since you signed in)"
            )
        else:
            who = f"You are signed in as {escape_html(caller.name)}, a {escape_html(caller.role)}"
        people = triage.override_contacts()
        ask = (
            "Ask the commander on call: " + "; ".join(escape_html(p) for p in people) + "."
            if people
            else "Ask an incident commander."
        )
        severity = triage.computed.severity
        keep = f" Or log it as {severity.code} and let a commander change it." if severity else ""
        return (
            f"<b>Only a commander (or an admin) can override the severity.</b> {who}. {ask}{keep}"
        )
