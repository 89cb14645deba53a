"""The sync's face in the console: the status line, the token dialog, conflicts and refusals.

Everything here runs on the GUI thread and is fed by the GUI-thread signals
of :class:`~console.models.sync_worker.SyncThread` (through
:class:`~console.models.sync_worker.SyncStatusModel` for the status line); nothing
here talks to a backend or knows how one is built (``console.app.gui`` does).

- :func:`status_line`: the sync state as glyph + words, never colour alone
  (``● Live — …``, ``↻ Syncing 12 400 / 100 000``, ``⟳ Reconnecting — next
  try in 8 s``, ``✖ Offline — data as of 14:02:11``, ``⚠ Sign-in needed — …``).
- :class:`SyncStatusBar`: keeps the window's connection label and data age
  in step with the sync.
- :class:`TokenDialog`: asks for an API token (password echo), non-blocking.
- :class:`ConflictDialog`: both values of each clashing field, mine or theirs.
- :class:`RejectionNotice`: the backend's refusal, with *Discard*.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.clock import utc_now
from console.models.sync_worker import SyncStatusModel
from console.sync.edits import FieldConflict
from console.sync.status import Conflict, Rejection, SyncState, SyncStatus

STATE_GLYPHS: Mapping[str, str] = {
    SyncState.LIVE.value: "●",
    SyncState.SYNCING.value: "↻",
    SyncState.RECONNECTING.value: "⟳",
    SyncState.OFFLINE.value: "✖",
    SyncState.AUTH_FAILED.value: "⚠",
    SyncState.STOPPED.value: "■",
}
"""One shape per sync state, so the state reads without its colour."""


AUTH_FAILED_LINE = (
    "Sign-in needed — the backend did not accept the API token. "
    "Connection ▸ Enter API token…; your edits are kept"
)
TOKEN_REFUSED = (
    "The backend did not accept this token: it may be mistyped, cut short when pasted, "
    "revoked or expired. Paste the whole token again, or ask your administrator for a new one."
)
"""What the token dialog says when it comes back after a refused token."""


def status_line(state: str, text: str) -> str:
    """The status bar's line: the state's glyph, then the engine's words."""
    glyph = STATE_GLYPHS.get(state, "•")
    return f"{glyph} {text}"


class ConnectionDisplay(Protocol):
    """What :class:`SyncStatusBar` needs of the window (``MainWindow`` has it)."""

    def set_connection_state(self, text: str, *, offline: bool = True) -> None: ...

    def set_data_time(self, when: datetime | None) -> None: ...


class SyncStatusBar(QObject):
    """Shows the sync's state in the window's status bar and keeps the data age honest.

    While live the shown data *is* current, so the age reads "just now"
    (refreshed with each :meth:`tick`); otherwise it is the time the cache last
    caught up with the backend, which the engine reports as ``data_as_of``.
    """

    def __init__(
        self,
        status: SyncStatusModel,
        display: ConnectionDisplay,
        *,
        clock: Callable[[], datetime] = utc_now,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._status = status
        self._display = display
        self._clock = clock
        self._pending = 0
        status.text_changed.connect(self._show)
        status.state_changed.connect(self._state_changed)

    @property
    def text(self) -> str:
        """The line as shown now (with the edits still waiting to be sent, if any)."""
        words = self._status.text
        if self._status.state == SyncState.AUTH_FAILED.value:
            # Short and in the operator's words; the server's own reason (written for
            # developers, and long enough to be cut off) goes in the tooltip.
            words = AUTH_FAILED_LINE
        line = status_line(self._status.state, words)
        if self._pending:
            edits = "edit" if self._pending == 1 else "edits"
            line += f" · {self._pending} {edits} waiting to be sent"
        return line

    @Slot(int)
    def set_pending(self, pending: int) -> None:
        """How many edits the outbox still holds (``SyncThread.outbox_changed``)."""
        self._pending = pending
        if self._status.status is not None:
            self._show()

    @property
    def live(self) -> bool:
        return self._status.state == SyncState.LIVE.value

    @Slot()
    def tick(self) -> None:
        """Once a second (the window's ticker): live data is as fresh as now."""
        if self.live:
            self._display.set_data_time(self._clock())

    @Slot(str)
    def _show(self, _text: str = "") -> None:
        self._display.set_connection_state(self.text, offline=not self.live)
        label = getattr(self._display, "connection_label", None)
        if label is not None and self._status.state == SyncState.AUTH_FAILED.value:
            label.setToolTip(self._status.text)
        status: SyncStatus | None = self._status.status
        if self.live:
            self._display.set_data_time(self._clock())
        elif status is not None and status.data_as_of is not None:
            self._display.set_data_time(status.data_as_of)

    @Slot(str)
    def _state_changed(self, _state: str) -> None:
        self._show()


class TokenDialog(QDialog):
    """Asks for the API token of one backend; the text is hidden as it is typed.

    Opened with :meth:`open` (window-modal, never blocks the event loop);
    ``token_entered(str)`` carries the stripped token when the operator
    accepts. ``remembered`` says whether the token will be kept in the OS
    keyring or, when the keyring is unusable, for this session only.
    """

    token_entered = Signal(str)

    def __init__(
        self,
        url: str,
        *,
        reason: str = "",
        remembered: bool = True,
        where_from: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("tokenDialog")
        self.setWindowTitle("API token needed")
        self.url = url
        intro = QLabel(self)
        intro.setWordWrap(True)
        where = (
            "It is kept in the OS keyring for next time."
            if remembered
            else "The OS keyring cannot be used, so it is kept for this session only."
        )
        lines = [f"Enter the API token for <b>{url}</b>."]
        if reason:
            lines.append(reason)
        # ``where_from`` says where this kind of backend's tokens are made.
        lines.append(
            f"{where_from} {where}"
            if where_from
            else "Ask your administrator, or run <code>noc-console token create</code> on the "
            f"server. {where}"
        )
        intro.setText("<p>" + "</p><p>".join(lines) + "</p>")
        self.message = intro
        self.field = QLineEdit(self)
        self.field.setObjectName("tokenField")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setPlaceholderText("API token")
        self.field.setAccessibleName("API token")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Work offline")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.field.textChanged.connect(self._update_ok)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.field)
        layout.addWidget(self.buttons)
        self._update_ok()

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.field.text().strip()))

    def accept(self) -> None:
        token = self.field.text().strip()
        if not token:
            return
        # The secret must not linger in the widget once handed over.
        self.field.clear()
        super().accept()
        self.token_entered.emit(token)


def _value_text(value: object) -> str:
    if value is None or value == "":
        return "(empty)"
    return str(value)


_Item = TypeVar("_Item")


class OneAtATime(Generic[_Item]):
    """Dialogs about things that arrive in bursts (conflicts, refusals), one at a time.

    ``build`` makes the dialog for an item; ``closed`` (optional) hears of each
    dialog as it closes, before the next one opens. Items wait in arrival order.
    """

    def __init__(
        self,
        build: Callable[[_Item], QDialog],
        closed: Callable[[QDialog], None] | None = None,
    ) -> None:
        self._build = build
        self._closed = closed
        self._waiting: deque[_Item] = deque()
        self.current: QDialog | None = None

    def add(self, item: _Item) -> None:
        """Queue ``item``; its dialog opens now if none is open."""
        self._waiting.append(item)
        self._next()

    def _next(self) -> None:
        if self.current is not None or not self._waiting:
            return
        dialog = self._build(self._waiting.popleft())
        dialog.finished.connect(self._finished)
        self.current = dialog
        dialog.open()

    def _finished(self, _result: int) -> None:
        dialog, self.current = self.current, None
        if dialog is not None:
            if self._closed is not None:
                self._closed(dialog)
            dialog.deleteLater()
        self._next()


class ConflictDialog(QDialog):
    """One edit that clashed with someone else's: for each field, keep mine or theirs.

    Nothing is preselected: the operator decides each field, and *Keep these
    values* is enabled once every field has a choice. ``resolved(int record_id,
    dict choices)`` carries ``{"field": "mine" | "theirs"}``; *Decide later*
    leaves the edit waiting (it is listed again at the next start).
    """

    resolved = Signal(int, object)

    def __init__(self, conflict: Conflict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictDialog")
        self.setWindowTitle(f"Conflict on {conflict.number}")
        self.conflict = conflict
        intro = QLabel(
            f"<p><b>{conflict.number}</b> {conflict.title}</p>"
            "<p>Someone else changed these fields while your edit was waiting to be sent. "
            "Choose which value to keep for each.</p>",
            self,
        )
        intro.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(QLabel("<b>Field</b>", self), 0, 0)
        grid.addWidget(QLabel("<b>Yours</b>", self), 0, 1)
        grid.addWidget(QLabel("<b>Theirs (on the server)</b>", self), 0, 2)
        self.groups: dict[str, QButtonGroup] = {}
        self.mine: dict[str, QRadioButton] = {}
        self.theirs: dict[str, QRadioButton] = {}
        for row, (name, clash) in enumerate(conflict.fields.items(), start=1):
            self._add_row(grid, row, name, clash)
        self.buttons = QDialogButtonBox(self)
        self.keep = self.buttons.addButton(
            "Keep these values", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton("Decide later", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(grid)
        layout.addWidget(self.buttons)
        self._update_keep()

    def _add_row(self, grid: QGridLayout, row: int, name: str, clash: FieldConflict) -> None:
        label = name.replace("_", " ").capitalize()
        grid.addWidget(QLabel(label, self), row, 0)
        mine = QRadioButton(_value_text(clash.mine), self)
        theirs = QRadioButton(_value_text(clash.theirs), self)
        mine.setAccessibleName(f"{label}: keep yours")
        theirs.setAccessibleName(f"{label}: keep theirs")
        group = QButtonGroup(self)
        group.addButton(mine)
        group.addButton(theirs)
        group.buttonToggled.connect(self._update_keep)
        grid.addWidget(mine, row, 1)
        grid.addWidget(theirs, row, 2)
        self.groups[name] = group
        self.mine[name] = mine
        self.theirs[name] = theirs

    def choices(self) -> dict[str, str]:
        """The choice made so far for each field (fields not yet decided are left out)."""
        out: dict[str, str] = {}
        for name in self.groups:
            if self.mine[name].isChecked():
                out[name] = "mine"
            elif self.theirs[name].isChecked():
                out[name] = "theirs"
        return out

    def choose(self, name: str, side: str) -> None:
        """Pick ``"mine"`` or ``"theirs"`` for one field (as a click would)."""
        (self.mine if side == "mine" else self.theirs)[name].setChecked(True)

    def _update_keep(self, *_: object) -> None:
        self.keep.setEnabled(len(self.choices()) == len(self.groups))

    def accept(self) -> None:
        choices = self.choices()
        if len(choices) != len(self.groups):
            return
        super().accept()
        self.resolved.emit(self.conflict.record_id, choices)


class RejectionNotice(QMessageBox):
    """An edit the backend refused, with its message; *Discard* drops it from the outbox.

    Non-blocking (opened with :meth:`open`). ``discard_requested(int
    record_id)`` when the operator discards; *Keep* leaves the refused edit in
    the outbox for later (the incident already shows the backend's values).
    """

    discard_requested = Signal(int)

    def __init__(self, rejection: Rejection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rejectionNotice")
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle("Edit refused")
        self.rejection = rejection
        self.setText(rejection.text)
        self.setInformativeText(
            "The incident shows the backend's values again. Discard your edit, "
            "or keep it in the outbox to look at later."
        )
        self.discard_button = self.addButton("Discard my edit", QMessageBox.ButtonRole.AcceptRole)
        self.keep_button = self.addButton("Keep", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.keep_button)
        self.buttonClicked.connect(self._clicked)

    def _clicked(self, button: object) -> None:
        if button is self.discard_button:
            self.discard_requested.emit(self.rejection.record_id)
