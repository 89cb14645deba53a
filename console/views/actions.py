"""The main window's actions, in one place: menus, shortcuts, the palette and the cheat sheet.

Every action the operator can take is a :class:`QAction` here, with its
shortcut and a one-line description; the menus, the command palette (Ctrl+K)
and the cheat sheet (?) are all built from :meth:`MainWindowActions.groups`,
so they can never disagree. The actions only say what the operator asked for;
``console.views.main_window`` connects them to the widgets and the actions
controller, and the composition root (``console.app``) connects the Connection
actions to the sync and the Alerts actions to the alert notifier, so this
module stays free of settings and I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from console.domain.severity import Severity
from console.domain.text import duration_text
from console.views.alerts import SNOOZE_CHOICES

HINT_PROPERTY = "shortcutHint"
"""A key handled by the views themselves (Enter, arrows), shown in the palette and cheat sheet."""


@dataclass(frozen=True)
class ActionGroup:
    """A named group of actions (a menu, a section of the cheat sheet).

    ``sections`` lays the menu out when it is more than a list: each is a run of
    actions, set apart by separators, or (with a title) a submenu of its own.
    ``actions`` is then every section's actions in order.
    """

    title: str
    actions: tuple[QAction, ...]
    sections: tuple[tuple[str, tuple[QAction, ...]], ...] = field(default=())

    @classmethod
    def of_sections(
        cls, title: str, sections: tuple[tuple[str, tuple[QAction, ...]], ...]
    ) -> ActionGroup:
        """A group whose menu is ``sections`` (``("", actions)`` or ``("&Submenu", actions)``)."""
        return cls(title, tuple(a for _name, run in sections for a in run), sections)

    def fill(self, menu: QMenu) -> None:
        """Add this group's actions to ``menu``, laid out by its sections."""
        if not self.sections:
            menu.addActions(list(self.actions))
            return
        for index, (name, run) in enumerate(self.sections):
            # A separator after each plain run; a submenu sets itself apart.
            if index and not self.sections[index - 1][0]:
                menu.addSeparator()
            if name:
                menu.addMenu(name).addActions(list(run))
            else:
                menu.addActions(list(run))


def shortcut_text(action: QAction) -> str:
    """The keys that trigger ``action``, as the operator would read them."""
    hint = action.property(HINT_PROPERTY)
    if isinstance(hint, str) and hint:
        return hint
    return " / ".join(
        key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts()
    )


def plain_text(action: QAction) -> str:
    """The action's text without the mnemonic ampersand and the trailing ellipsis."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")


class MainWindowActions(QObject):
    """Every action of the main window, with its shortcut (see the module docstring)."""

    theme_chosen = Signal(str)
    """The operator picked a theme in the View menu (its name)."""

    def __init__(
        self,
        themes: Sequence[tuple[str, str]],
        current_theme: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        # File
        self.new_incident = self._action("&New incident…", "N", "Log a new incident")
        self.settings = self._action(
            "&Settings…", "Ctrl+,", "Your name, theme, backends, alerts and the wall"
        )
        self.connect_backend = self._action(
            "&Connect to backend…", None, "Sync with a ticket server: its URL and your API token"
        )
        # Enabled by the app where it can act on them (not in the read-only demo).
        self.settings.setEnabled(False)
        self.connect_backend.setEnabled(False)
        self.quit = QAction("&Quit", self)
        self.quit.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit.setStatusTip("Close NOC Console")

        # Incident (all act on the selected incident)
        self.open_incident = self._action(
            "&Open incident", None, "Show the selected incident in the detail pane", hint="Enter"
        )
        self.acknowledge = self._action(
            "&Acknowledge", "A", "Record that someone is on it (stops the response clock)"
        )
        self.take = self._action("&Take (assign to me)", "T", "Assign the incident to yourself")
        self.assign = self._action("A&ssign…", "Shift+A", "Choose the person and team")
        self.change_state = self._action(
            "&Change state…", "S", "Move through the lifecycle (triaged, in progress, on hold…)"
        )
        self.resolve = self._action("&Resolve…", "R", "Resolve, with what restored the service")
        self.escalate = self._action(
            "&Escalate…", "E", "Hand to another team or declare a major incident"
        )
        self.declare_major = self._action(
            "Declare / stand down &major…",
            "Shift+M",
            "Declare a major incident (the criterion that holds is the why), or stand one down",
        )
        self.add_note = self._action("Add &work note", "W", "Write a work note on the timeline")
        self.status_update = self._action(
            "Post status &update", "U", "Write a status update for stakeholders"
        )
        self.call_on_call = self._action(
            "Ca&ll on-call…",
            "C",
            "Who is on call now along the incident's escalation path: phones and local times",
        )

        # Connected by the app (it checks the incident is resolved or closed).
        self.record_csat = self._action(
            "Record &CSAT…",
            "Ctrl+Shift+S",
            "Record the caller's satisfaction (1–5) on a resolved or closed incident",
        )
        self.record_csat.setEnabled(False)

        # View
        self.show_queue = self._action("&Queue", "Ctrl+1", "The severity-coloured queue")
        self.show_board = self._action("&Board", "Ctrl+2", "Columns by lifecycle state")
        self.show_matrix = self._action(
            "&Escalation matrix", "Ctrl+3", "Who is on call for each service, with phone numbers"
        )
        # Enabled once the window has a matrix to show (see MainWindow.add_matrix).
        self.show_matrix.setEnabled(False)
        # Post-incident reviews and problem records (issue #20); enabled by MainWindow.add_view.
        self.show_reviews = self._action(
            "Re&views", "Ctrl+5", "Post-incident reviews due, overdue and held; action items"
        )
        self.show_metrics = self._action(
            "&Metrics dashboard",
            "Ctrl+6",
            "MTTA, MTTR, SLA compliance, FCR, reopens, CSAT and volume",
        )
        self.show_metrics.setEnabled(False)
        self.show_problems = self._action(
            "Pro&blems", "Ctrl+7", "Problem records, their linked incidents and known errors"
        )
        self.show_reviews.setEnabled(False)
        self.show_problems.setEnabled(False)
        # Review: edit reviews and problems (connected and enabled by the app's add_reviews).
        self.draft_review = self._action(
            "&Draft review", "Ctrl+Shift+D", "Draft the post-incident review of a resolved incident"
        )
        self.edit_review = self._action(
            "&Edit review…",
            "Ctrl+Shift+E",
            "Root cause (blameless), what went well, what to improve",
        )
        self.add_action_item = self._action(
            "Add action &item…",
            "Ctrl+Shift+I",
            "An action item with owner, due date and tracker link",
        )
        self.update_action_item = self._action(
            "&Update action item…", "Ctrl+Shift+U", "Complete, drop (with the reason) or reopen one"
        )
        self.mark_timeline = self._action(
            "&Mark timeline entry…", "Ctrl+Shift+M", "Mark a review's timeline entry key or hidden"
        )
        self.hold_review = self._action(
            "Review &held", "Ctrl+Shift+H", "Record that the review meeting was held"
        )
        self.approve_review = self._action(
            "Appro&ve review", "Ctrl+Shift+V", "Approve the review (commanders)"
        )
        self.open_problem = self._action(
            "&Open or link problem…", "Ctrl+Shift+B", "Open a problem for the incident or link one"
        )
        self.move_problem = self._action(
            "Move &problem…", "Ctrl+Shift+G", "Move the selected problem on: investigating, fixed …"
        )
        self.publish_known_error = self._action(
            "Publish &known error",
            "Ctrl+Shift+W",
            "Publish the problem's workaround as a known error the triage wizard suggests",
        )
        self.show_known_problem = self._action(
            "Known error's prob&lem",
            "Alt+L",
            "In the triage wizard: open Problems on the problem behind the chosen known error",
        )
        for action in self.review_actions:
            action.setEnabled(False)
        self.next_incident = self._action("&Next incident", "J", "Select the next incident")
        self.previous_incident = self._action(
            "&Previous incident", "K", "Select the previous incident"
        )
        self.focus_filter = self._action("&Filter…", "/", "Type to filter the queue and board")
        self.toggle_mine = self._action("Only &mine", "M", "Show only incidents assigned to you")
        self.toggle_mine.setCheckable(True)
        self.toggle_at_risk = self._action(
            "Only SLA at &risk", None, "Show only incidents whose SLA reads warning or breached"
        )
        self.toggle_at_risk.setCheckable(True)
        self.clear_filter = self._action(
            "&Clear filter", None, "Show every open incident again", hint="Esc in the filter"
        )
        self.save_view = self._action("&Save view…", None, "Keep the current filter under a name")
        self.palette = self._action("Command &palette…", "Ctrl+K", "Find any action by name")

        self.theme_group = QActionGroup(self)
        self.theme_group.setExclusive(True)
        self.themes: dict[str, QAction] = {}
        for name, label in themes:
            action = QAction(label, self)
            action.setCheckable(True)
            action.setChecked(name == current_theme)
            action.setData(name)
            self.theme_group.addAction(action)
            self.themes[name] = action
        self.theme_group.triggered.connect(lambda action: self.theme_chosen.emit(action.data()))

        # The War room menu (major incidents, #19): enabled and connected by
        # views/major_workspace.install; each shows the workspace first.
        self.show_major = self._action(
            "Ma&jor incident workspace",
            "Ctrl+4",
            "Roles, war room, update countdowns and drafts of the running major incidents",
        )
        self.major_summary = self._action(
            "E&xecutive summary…",
            "Ctrl+E",
            "One screen per major incident: what happened, impact, status, ETA, roles, next update",
        )
        self.major_accept_role = self._action(
            "&Accept the offered role holder",
            "Ctrl+Shift+A",
            "Give the first unfilled role to the on-call person the escalation matrix offers",
        )
        self.major_assign_role = self._action(
            "Assign or hand over a &role…",
            "Ctrl+Shift+R",
            "Choose a role and who holds it (on-call people first); a hand-over is on the timeline",
        )
        self.major_call = self._action(
            "&Call a role holder…",
            "Ctrl+Shift+P",
            "The commander's and role holders' phones (tel: links), the commander first",
        )
        self.major_bridge = self._action(
            "Set the &bridge…", "Ctrl+Shift+L", "The war room's conference URL or dial-in with PIN"
        )
        self.major_responder = self._action(
            "Responder &joined / left…",
            "Ctrl+Shift+J",
            "Record who is on the bridge (observers get updates from the Communications Lead)",
        )
        # Keys of the workspace itself: only while it has the focus (install adds
        # them to the workspace), so the detail composer keeps its Ctrl+Return.
        # From a menu or the palette elsewhere, publish and declare only show the
        # workspace: nothing is sent unseen.
        self.major_publish = self._action(
            "&Publish the update",
            "Ctrl+Return",
            "Send the draft to the chosen audience (through the outbox); in the workspace",
        )
        self.major_copy_summary = self._action(
            "C&opy the executive summary",
            "Ctrl+Shift+C",
            "The current major incident's executive summary as text on the clipboard",
        )
        self.major_declare = self._action(
            "&Declare the suggested major incident",
            "Ctrl+D",
            "Declare the incident the workspace suggests; the criterion is noted as the why",
        )
        for action in (self.major_publish, self.major_copy_summary, self.major_declare):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        for action in self.major_actions:
            action.setEnabled(False)

        # Connection: enabled and connected by the app when it syncs with a backend.
        self.enter_token = self._action(
            "Enter API &token…", None, "Give the backend's API token (kept in the OS keyring)"
        )
        self.reconnect = self._action(
            "&Reconnect now", None, "Try the backend again now instead of at the next retry"
        )
        self.enter_token.setEnabled(False)
        self.reconnect.setEnabled(False)

        # Alerts: connected to the alert notifier by the app.
        self.acknowledge_alarms = self._action(
            "&Acknowledge all alarms", None, "Stop re-alarming for everything raised so far"
        )
        self.mute_alerts: dict[Severity, QAction] = {}
        self.snooze_alerts: dict[tuple[Severity, timedelta], QAction] = {}
        for severity in Severity:
            mute = self._action(
                f"Mute {severity.code} {severity.label} sound",
                None,
                f"{severity.code} notifications go on, without sound",
            )
            mute.setCheckable(True)
            self.mute_alerts[severity] = mute
        for severity in Severity:
            for span in SNOOZE_CHOICES:
                span_text = duration_text(span, form="terse")
                self.snooze_alerts[(severity, span)] = self._action(
                    f"Snooze {severity.code} for {span_text}",
                    None,
                    f"Nothing of {severity.code} alarms for {span_text}",
                )
        self.resume_alerts = self._action(
            "&Resume all snoozed alerts", None, "End every snooze now"
        )

        # Help
        self.cheat_sheet = self._action("&Keyboard shortcuts", "?", "Every key at a glance")
        self.about = QAction("&About NOC Console", self)
        self.about.setMenuRole(QAction.MenuRole.AboutRole)

    def _action(
        self, text: str, shortcut: str | None, tip: str, *, hint: str | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if hint:
            action.setProperty(HINT_PROPERTY, hint)
        action.setStatusTip(tip)
        action.setToolTip(f"{plain_text(action)} ({shortcut or hint})" if shortcut or hint else tip)
        return action

    @property
    def incident_actions(self) -> tuple[QAction, ...]:
        """The actions that need a selected incident (disabled when there is none)."""
        return (
            self.open_incident,
            self.acknowledge,
            self.take,
            self.assign,
            self.change_state,
            self.resolve,
            self.escalate,
            self.declare_major,
            self.add_note,
            self.status_update,
            self.call_on_call,
        )

    @property
    def major_actions(self) -> tuple[QAction, ...]:
        """The War room menu: the major incident workspace and what it does."""
        return (
            self.show_major,
            self.major_publish,
            self.major_declare,
            self.major_summary,
            self.major_copy_summary,
            self.major_accept_role,
            self.major_assign_role,
            self.major_call,
            self.major_bridge,
            self.major_responder,
        )

    @property
    def review_actions(self) -> tuple[QAction, ...]:
        """The Review menu: edits of post-incident reviews and problems."""
        return (
            self.draft_review,
            self.edit_review,
            self.add_action_item,
            self.update_action_item,
            self.mark_timeline,
            self.hold_review,
            self.approve_review,
            self.open_problem,
            self.move_problem,
            self.publish_known_error,
            self.show_known_problem,
        )

    def groups(self) -> list[ActionGroup]:
        """Every action by menu, in menu order (the palette and the cheat sheet use this too)."""
        return [
            ActionGroup(
                "File", (self.new_incident, self.settings, self.connect_backend, self.quit)
            ),
            ActionGroup("Incident", (*self.incident_actions, self.record_csat)),
            ActionGroup(
                "View",
                (
                    self.show_queue,
                    self.show_board,
                    self.show_matrix,
                    self.show_reviews,
                    self.show_metrics,
                    self.show_problems,
                    self.next_incident,
                    self.previous_incident,
                    self.focus_filter,
                    self.toggle_mine,
                    self.toggle_at_risk,
                    self.clear_filter,
                    self.save_view,
                    self.palette,
                ),
            ),
            ActionGroup("War room", self.major_actions),
            ActionGroup("Review", self.review_actions),
            ActionGroup("Connection", (self.enter_token, self.reconnect)),
            self.alerts_group(),
            ActionGroup("Help", (self.cheat_sheet, self.about)),
        ]

    def alerts_group(self) -> ActionGroup:
        """The Alerts menu (the menu bar's and the tray icon's)."""
        return ActionGroup.of_sections(
            "Alerts",
            (
                ("", (self.acknowledge_alarms,)),
                ("", tuple(self.mute_alerts.values())),
                ("&Snooze", tuple(self.snooze_alerts.values())),
                ("", (self.resume_alerts,)),
            ),
        )

    def menu(self, group: ActionGroup, parent: QWidget | None = None) -> QMenu:
        """``group`` as a menu of its own (the tray icon's Alerts menu)."""
        menu = QMenu(f"&{group.title}", parent)
        group.fill(menu)
        return menu

    def all_actions(self) -> list[QAction]:
        """Every action, menu order (themes excluded: they are choices, not commands)."""
        return [action for group in self.groups() for action in group.actions]
