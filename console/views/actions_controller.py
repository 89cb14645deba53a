"""What the incident actions do: acknowledge, assign, change state, resolve, note, escalate, log.

Every action is checked against the ITIL rules first (:mod:`console.domain`:
the lifecycle's allowed moves, acknowledgement only while open) so a refusal
names the reason at once, then performed through :class:`IncidentEdits` —
in the app that is :class:`console.sync.edits.LocalEdits`, which writes the
edited record and its outbox entry in one cache transaction. The edited
record is handed to the queue straight away, so the change shows at once
(queue, board and detail pane); the sync engine sends it later.

The controller knows no widgets except as the parent of its dialogs; it
reports through two signals: :attr:`IncidentActions.done` (what was queued)
and :attr:`IncidentActions.refused` (why not, in the operator's words).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QInputDialog, QWidget

from console.domain.errors import DomainError
from console.domain.incident import Incident, TimelineEvent
from console.domain.lifecycle import ALLOWED, HoldReason, IllegalTransition, State
from console.domain.major import declare_criteria
from console.models.projection import ProjectionModel
from console.services.queue import DisplayNames
from console.services.triage_context import (
    AddCaller,
    CallerLike,
    NewIncident,
    TriageContext,
    TriageOutcome,
)
from console.views.dialogs import (
    AssignDialog,
    EscalateDialog,
    ResolveDialog,
    StateDialog,
)


class IncidentEdits(Protocol):
    """How edits are made: shown locally and queued for the backend in one step.

    :class:`console.sync.edits.LocalEdits` is the implementation; each method
    raises :class:`DomainError` for an edit the rules refuse and the cache's
    error when nothing could be written (then nothing was queued).
    """

    def create(
        self,
        *,
        title: str,
        service: str,
        impact: str,
        urgency: str,
        category: str | None = None,
        subcategory: str | None = None,
        description: str = "",
        reporter: str | None = None,
        source: str = "phone",
        assignment_group: str | None = None,
        severity: str | None = None,
        severity_reason: str | None = None,
        major: bool = False,
        commander: str | None = None,
        major_reason: str | None = None,
    ) -> Incident: ...

    def caller(self) -> CallerLike | None:
        """Who the console acts as on the backend (None: not known yet)."""
        ...

    def patch(self, incident_id: str, fields: Mapping[str, object]) -> Incident: ...

    def add_note(
        self, incident_id: str, body: str, *, kind: str = "work_note"
    ) -> TimelineEvent: ...

    def engage(self, incident_id: str, tiers: Sequence[int], reason: str) -> TimelineEvent: ...


class ReadOnlyEdits:
    """The edits of a console that cannot write (no cache to queue in): every edit is refused."""

    REASON = "This console is read-only: there is no local cache to queue edits in."

    def create(self, **_fields: object) -> Incident:
        raise DomainError(self.REASON)

    def caller(self) -> CallerLike | None:
        return None

    def patch(self, incident_id: str, fields: Mapping[str, object]) -> Incident:
        raise DomainError(self.REASON)

    def add_note(self, incident_id: str, body: str, *, kind: str = "work_note") -> TimelineEvent:
        raise DomainError(self.REASON)

    def engage(self, incident_id: str, tiers: Sequence[int], reason: str) -> TimelineEvent:
        raise DomainError(self.REASON)


class IncidentActions(QObject):
    """Performs the operator's actions on incidents (see the module docstring)."""

    done = Signal(str)
    """An edit was shown and queued: a one-line summary for the status bar."""
    refused = Signal(str)
    """An action was refused or failed: what happened and what to do."""
    created = Signal(str)
    """A new incident was logged (its placeholder id), so the view can select it."""
    select_requested = Signal(str)
    """The operator's action is about this incident (a caller added to it): select it."""

    def __init__(
        self,
        edits: IncidentEdits,
        model: ProjectionModel,
        *,
        current: Callable[[], Incident | None],
        operator: str | None = None,
        dialog_parent: QWidget | None = None,
        triage: TriageContext | None = None,
    ) -> None:
        super().__init__(dialog_parent)
        self._edits = edits
        self._model = model
        self._current = current
        self._operator = operator
        self._dialog_parent = dialog_parent
        self._triage = triage
        self.dialog: QDialog | None = None
        self.wizard_actions: list[QAction] = []
        """Registry actions that also work inside the triage wizard (Alt+L: a known error's
        problem), added to each wizard so their keys reach it over the window."""
        """The dialog open right now, if any (for tests and for closing it)."""

    @property
    def names(self) -> DisplayNames:
        return self._model.queue.names

    # ---------------------------------------------------------- the actions

    def set_operator(self, operator: str | None) -> None:
        """Who *Take* assigns to from now on (the Settings dialog's name)."""
        self._operator = operator

    def set_share_threshold(self, percent: int) -> None:
        """The share of users above which the next triage suggests a major incident."""
        if self._triage is not None:
            self._triage = dataclasses.replace(self._triage, share_threshold=percent)

    def acknowledge(self, incident: Incident | None = None) -> None:
        """Record the acknowledgement (stops the response clock)."""
        target = self._target(incident)
        if target is None:
            return
        if target.acknowledged_at is not None:
            at = target.acknowledged_at.astimezone().strftime("%H:%M")
            self.refused.emit(f"{target.number} was already acknowledged at {at}.")
            return
        if not target.is_open:
            self.refused.emit(
                f"{target.number} is {target.state.label.lower()}; "
                "only open incidents can be acknowledged."
            )
            return
        self._patch(target, {"acknowledged": True}, f"{target.number} acknowledged")

    def assign(self, incident: Incident, assignee: str | None, group: str | None) -> None:
        """Give the incident to a person and/or a team (None clears)."""
        fields: dict[str, object] = {}
        if assignee != incident.assignee:
            fields["assignee"] = assignee
        if group != incident.assignment_group:
            fields["assignment_group"] = group
        if not fields:
            self.refused.emit(f"{incident.number} is already assigned that way.")
            return
        who = self.names.person(assignee) if assignee else "nobody"
        self._patch(incident, fields, f"{incident.number} assigned to {who}")

    def take(self, incident: Incident | None = None) -> None:
        """Assign the incident to the operator ("I've got it")."""
        target = self._target(incident)
        if target is None:
            return
        if not self._operator:
            self.refused.emit(
                'Taking an incident needs your name: add operator = "<your contact id>" '
                "to settings.toml."
            )
            return
        self.assign(target, self._operator, target.assignment_group)

    def change_state(
        self,
        incident: Incident,
        state: State,
        hold_reason: HoldReason | None = None,
        note: str = "",
    ) -> bool:
        """Move the incident under the lifecycle rules; False (and the reason) when refused."""
        if state is incident.state and state is not State.ON_HOLD:
            return False
        if state not in ALLOWED[incident.state]:
            self.refused.emit(f"{incident.number}: {IllegalTransition(incident.state, state)}")
            return False
        if state is State.ON_HOLD and hold_reason is None:
            self.refused.emit(f"{incident.number}: going on hold needs a reason.")
            return False
        fields: dict[str, object] = {"state": state.value}
        if hold_reason is not None:
            fields["hold_reason"] = hold_reason.value
        if not self._patch(incident, fields, f"{incident.number} moved to {state.label.lower()}"):
            return False
        if note:
            self.add_note(incident, note, quiet=True)
        return True

    def resolve(self, incident: Incident, resolution: str) -> bool:
        """Resolve with the resolution documented on the timeline."""
        return self.change_state(incident, State.RESOLVED, note=f"Resolution: {resolution}")

    def add_note(
        self, incident: Incident, body: str, kind: str = "work_note", *, quiet: bool = False
    ) -> bool:
        """Add a work note or a status update to the timeline."""
        if not body.strip():
            self.refused.emit("The note is empty; write something first.")
            return False
        try:
            self._edits.add_note(incident.id, body.strip(), kind=kind)
        except Exception as exc:  # every failure is told; none is lost silently
            self.refused.emit(_failure(incident, "The note", exc))
            return False
        self._model.queue.note_timelines([incident.id])
        if not quiet:
            what = "Status update" if kind == "status_update" else "Work note"
            self.done.emit(f"{what} added to {incident.number}")
        return True

    def escalate(
        self, incident: Incident, group: str | None, declare_major: bool, reason: str
    ) -> bool:
        """Hand to another team (functional) and/or declare a major incident (hierarchical).

        Both go through the incident's own fields (``assignment_group``, ``major``);
        the backend writes the escalation and assignment entries on the timeline.
        The reason is added as a work note so the next team reads it first.
        """
        fields: dict[str, object] = {}
        parts: list[str] = []
        if group is not None and group != incident.assignment_group:
            fields["assignment_group"] = group
            # A new team picks its own person; the previous assignee is off the hook.
            if incident.assignee is not None:
                fields["assignee"] = None
            parts.append(f"to {self.names.team(group)}")
        if declare_major and not incident.major:
            fields["major"] = True
            if reason.strip():
                fields["major_reason"] = reason.strip()  # the why on the declaration entry
            parts.append("as a major incident")
        if not fields:
            self.refused.emit(f"{incident.number}: nothing to escalate.")
            return False
        if not self._patch(incident, fields, f"{incident.number} escalated {' and '.join(parts)}"):
            return False
        if reason:
            self.add_note(incident, f"Escalated {' and '.join(parts)}: {reason}", quiet=True)
        return True

    def engage(self, incident: Incident, tiers: list[int], reason: str) -> bool:
        """Engage several tiers at once (swarming): shown at once, sent by the sync.

        Only commanders may swarm; anyone else's request is refused by the
        backend and reported like every refused edit.
        """
        try:
            self._edits.engage(incident.id, tiers, reason)
        except Exception as exc:  # every failure is told; none is lost silently
            self.refused.emit(_failure(incident, "Engaging teams", exc))
            return False
        self._model.queue.note_timelines([incident.id])
        levels = ", ".join(f"L{level}" for level in tiers)
        self.done.emit(f"{incident.number}: engaging {levels} (commanders only)")
        return True

    def create(self, fields: Mapping[str, object]) -> Incident | None:
        """Log a new incident (numbered by the backend when it is sent)."""
        try:
            placeholder = self._log(fields)
        except Exception as exc:
            self.refused.emit(f"The new incident was not logged: {_reason(exc)}")
            return None
        self._logged(placeholder)
        return placeholder

    def _log(self, fields: Mapping[str, object]) -> Incident:
        """Create through the edits (shown at once, queued); raises when refused or not saved."""
        return self._edits.create(
            title=str(fields["title"]),
            service=str(fields["service"]),
            impact=str(fields["impact"]),
            urgency=str(fields["urgency"]),
            category=_optional(fields.get("category")),
            subcategory=_optional(fields.get("subcategory")),
            description=str(fields.get("description") or ""),
            reporter=_optional(fields.get("reporter")),
            source=str(fields.get("source") or "phone"),
            assignment_group=_optional(fields.get("assignment_group")),
            severity=_optional(fields.get("severity")),
            severity_reason=_optional(fields.get("severity_reason")),
            major=fields.get("major") is True,
            commander=_optional(fields.get("commander")),
            major_reason=_optional(fields.get("major_reason")),
        )

    def _logged(self, placeholder: Incident) -> None:
        self._model.upsert([placeholder])
        where = self.names.service(placeholder.service)
        team = (
            f" for {self.names.team(placeholder.assignment_group)}"
            if placeholder.assignment_group
            else ""
        )
        major = " as a major incident" if placeholder.major else ""
        self.done.emit(
            f"New {placeholder.severity.code} logged on {where}{team}{major}; queued to send"
        )
        self.created.emit(placeholder.id)

    def perform_triage(self, outcome: TriageOutcome) -> str | None:
        """Do what the triage wizard decided; None when done, else why not (it stays open)."""
        if isinstance(outcome, AddCaller):
            incident = self._model.queue.get(outcome.incident.id) or outcome.incident
            try:
                self._edits.add_note(incident.id, outcome.body)
            except Exception as exc:  # told in the wizard, which keeps what was typed
                return _failure(incident, "The note", exc)
            self._model.queue.note_timelines([incident.id])
            self.done.emit(f"Caller added to {incident.number} as a work note; queued to send")
            self.select_requested.emit(incident.id)
            return None
        assert isinstance(outcome, NewIncident)
        try:
            placeholder = self._log(outcome.fields)
        except Exception as exc:  # told in the wizard, which keeps what was typed
            return f"The incident was not logged: {_reason(exc)}"
        self._logged(placeholder)
        if outcome.workaround:
            self._record_workaround(placeholder, outcome.workaround)
        return None

    def _record_workaround(self, incident: Incident, known_error_id: str) -> None:
        """Applying a known error's workaround is recorded on the incident (a work note)."""
        record = getattr(self._edits, "apply_workaround", None)
        if not callable(record):
            return  # edits without known errors (read-only): the description says it
        try:
            record(incident.id, known_error_id)
        except Exception as exc:  # the incident is logged; say what was not recorded
            self.refused.emit(f"{incident.number}: the applied workaround was not recorded: {exc}")
            return
        self._model.queue.note_timelines([incident.id])

    def move(self, incident_id: str, state: State) -> None:
        """A card was dropped on a column: change the state, asking what the move needs."""
        incident = self._model.queue.get(incident_id)
        if incident is None:
            self.refused.emit("That incident is no longer in the local cache.")
            return
        if state is incident.state or (
            state is State.IN_PROGRESS and incident.state is State.REOPENED
        ):
            return  # dropped back where it was
        if state not in ALLOWED[incident.state]:
            self.refused.emit(f"{incident.number}: {IllegalTransition(incident.state, state)}")
            return
        if state is State.ON_HOLD:
            self.ask_state(incident, target=State.ON_HOLD)
        elif state is State.RESOLVED:
            self.ask_resolve(incident)
        else:
            self.change_state(incident, state)

    # ------------------------------------------------- the asking versions

    def ask_assign(self, incident: Incident | None = None) -> None:
        target = self._target(incident)
        if target is not None:
            dialog = AssignDialog(target, self.names, self._dialog_parent)
            self._open(dialog, lambda: self.assign(target, *dialog.choice()))

    def ask_state(self, incident: Incident | None = None, *, target: State | None = None) -> None:
        chosen = self._target(incident)
        if chosen is None:
            return
        if not ALLOWED[chosen.state]:
            self.refused.emit(f"{chosen.number} is {chosen.state.label.lower()}: that is final.")
            return
        dialog = StateDialog(chosen, self._dialog_parent, target=target)
        self._open(dialog, lambda: self.change_state(chosen, *dialog.choice()))

    def ask_resolve(self, incident: Incident | None = None) -> None:
        target = self._target(incident)
        if target is None:
            return
        if State.RESOLVED not in ALLOWED[target.state]:
            self.refused.emit(f"{target.number}: {IllegalTransition(target.state, State.RESOLVED)}")
            return
        dialog = ResolveDialog(target, self._dialog_parent)
        self._open(dialog, lambda: self.resolve(target, dialog.resolution()))

    def ask_escalate(self, incident: Incident | None = None) -> None:
        target = self._target(incident)
        if target is None:
            return
        if not target.is_open:
            self.refused.emit(
                f"{target.number} is {target.state.label.lower()}; nothing to escalate."
            )
            return
        dialog = EscalateDialog(target, self.names, self._dialog_parent)
        self._open(dialog, lambda: self._escalate_as_chosen(target, dialog))

    def _escalate_as_chosen(self, incident: Incident, dialog: EscalateDialog) -> None:
        """Do what the escalate dialog asked: hand over / declare major, and/or swarm."""
        group, declare_major, reason = dialog.choice()
        if group is not None or declare_major:
            self.escalate(incident, group, declare_major, reason)
        tiers = dialog.swarm_tiers()
        if tiers:
            self.engage(incident, tiers, reason)

    def ask_declare_major(self, incident: Incident | None = None) -> None:
        """Declare the incident major (``Shift+M``), or stand a major one down (#19).

        When a criterion holds (SEV-1, security) one key declares it, the
        criterion written as the why; otherwise, and to stand down, the
        operator says why first. Either is an escalation entry with who and why,
        sent from the outbox like every edit.
        """
        target = self._target(incident)
        if target is None:
            return
        if not target.is_open:
            self.refused.emit(
                f"{target.number} is {target.state.label.lower()}; it stays as it is."
            )
            return
        reasons = declare_criteria(target)
        if reasons:
            self.declare_major(target, True, "; ".join(reasons))
            return
        dialog = QInputDialog(self._dialog_parent)
        dialog.setWindowTitle("Stand down" if target.major else "Declare a major incident")
        dialog.setLabelText(
            f"Why stand {target.number} down as a major incident?"
            if target.major
            else f"No major-incident criterion holds for {target.number}. Why declare it?"
        )
        dialog.setTextValue("")
        self._open(dialog, lambda: self.declare_major(target, not target.major, dialog.textValue()))

    def declare_major(self, incident: Incident, declare: bool, reason: str) -> bool:
        """Declare (``declare``) or stand down ``incident`` with ``reason`` as the why."""
        why = reason.strip()
        if not why:
            self.refused.emit(
                f"{incident.number}: say why it is {'declared' if declare else 'stood down'} "
                "(it goes on the timeline)."
            )
            return False
        if incident.major == declare:
            self.refused.emit(
                f"{incident.number} is {'already' if declare else 'not'} a major incident."
            )
            return False
        summary = (
            f"{incident.number} declared a major incident ({why})"
            if declare
            else f"{incident.number} stood down as a major incident ({why})"
        )
        return self._patch(incident, {"major": declare, "major_reason": why}, summary)

    def ask_new(self) -> None:
        """Open the triage wizard for a new call (``n``)."""
        # Loaded on first use: most of a shift never opens it, and it is ~6 MB.
        from console.views.triage.wizard import TriageWizard

        wizard = TriageWizard(
            self._triage or self._plain_triage(), self.perform_triage, self._dialog_parent
        )
        wizard.addActions(self.wizard_actions)
        self._open(wizard, lambda: None)  # the wizard performs through perform_triage

    def _plain_triage(self) -> TriageContext:
        """A triage over what the queue knows, for a window built without the cache's context."""
        return TriageContext(
            reference=_NamesReference(self.names),
            incidents=self._model.incidents,
            policy=self._model.queue.policy,
            caller=self._caller,
        )

    def _caller(self) -> CallerLike | None:
        try:
            return self._edits.caller()
        except Exception:  # an unreadable cache: the role is as good as unknown
            return None

    # ------------------------------------------------------------ internals

    def _target(self, incident: Incident | None) -> Incident | None:
        target = incident or self._current()
        if target is None:
            self.refused.emit("Select an incident first (j/k or the arrow keys move).")
            return None
        # Act on the newest local copy, not a stale one held by a view.
        return self._model.queue.get(target.id) or target

    def _patch(self, incident: Incident, fields: Mapping[str, object], summary: str) -> bool:
        try:
            shown = self._edits.patch(incident.id, fields)
        except Exception as exc:  # every failure is told; none is lost silently
            self.refused.emit(_failure(incident, summary, exc))
            return False
        self._model.upsert([shown])
        self._model.queue.note_timelines([incident.id])
        self.done.emit(f"{summary}; queued to send")
        return True

    def _open(self, dialog: QDialog, on_accept: Callable[[], object]) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.accepted.connect(on_accept)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        dialog.open()

    def _closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None


def _optional(value: object) -> str | None:
    return str(value) if value else None


class _NamesReference:
    """Reference documents rebuilt from the queue's display names (services, teams, people)."""

    def __init__(self, names: DisplayNames) -> None:
        self._names = names

    def reference(self, kind: str) -> list[dict[str, object]]:
        table = {
            "services": self._names.services,
            "teams": self._names.teams,
            "contacts": self._names.people,
        }.get(kind, {})
        return [{"id": key, "name": name} for key, name in table.items()]


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[0].upper() + text[1:] if text else text


def _failure(incident: Incident, what: str, exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return f"{incident.number}: {exc}"
    # The cache could not be written: nothing was queued, nothing is lost.
    return f"{what} was not saved: {_reason(exc)}. Nothing was queued; try again."
