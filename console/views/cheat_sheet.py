"""``?``: every keyboard shortcut at a glance, grouped as in the menus.

Built from :meth:`MainWindowActions.groups`, like the menus and the palette:
each group's keys one per row, then the group's actions that have no key, named
on one line (Ctrl+K finds them), so the sheet lists every action the menus hold.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from console.views.actions import MainWindowActions, plain_text
from console.views.command_palette import key_label

# Keys the views handle themselves, with no action of their own.
VIEW_KEYS: tuple[tuple[str, str], ...] = (
    ("↑ / ↓", "Move in the queue or a board column"),
    ("← / → or h / l", "Board: move to the next column"),
    ("Drag a card", "Board: change the state (refused with the reason if not allowed)"),
    ("Ctrl+Enter", "Add the note being written / confirm a dialog"),
    ("Esc", "Filter: clear it; dialog: cancel"),
)


class CheatSheet(QDialog):
    """A two-column table of keys and what they do, from the actions themselves."""

    def __init__(self, actions: MainWindowActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cheatSheet")
        self.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(self)
        self.text = QLabel(self)
        self.text.setObjectName("cheatSheetText")
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 36)
        self.text.setText(self.html(actions))
        self._actions = actions
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @staticmethod
    def rows(actions: MainWindowActions) -> list[tuple[str, str, str]]:
        """(group, keys, what) for every action with a key, then the view keys."""
        out: list[tuple[str, str, str]] = []
        for group in actions.groups():
            for action in group.actions:
                keys = key_label(action)
                if keys:
                    out.append((group.title, keys, plain_text(action).rstrip("…")))
        out += [("Views", keys, what) for keys, what in VIEW_KEYS]
        return out

    @staticmethod
    def keyless(actions: MainWindowActions) -> list[tuple[str, list[str]]]:
        """(group, names) of the actions without a key, per group that has any."""
        out: list[tuple[str, list[str]]] = []
        for group in actions.groups():
            names = [plain_text(a).rstrip("…") for a in group.actions if not key_label(a)]
            if names:
                out.append((group.title, names))
        return out

    def entries(self) -> list[str]:
        """Every action the sheet names, with a key or without (as shown: no "…")."""
        view_keys = {what for _keys, what in VIEW_KEYS}
        named = [what for _g, _k, what in self.rows(self._actions) if what not in view_keys]
        return named + [name for _group, names in self.keyless(self._actions) for name in names]

    @classmethod
    def html(cls, actions: MainWindowActions) -> str:
        keyless = dict(cls.keyless(actions))
        parts = ["<table cellspacing='0' cellpadding='3'>"]
        group = None

        def close(title: str | None) -> None:
            names = keyless.pop(title, []) if title is not None else []
            if names:
                parts.append(
                    "<tr><td align='right'><i>Ctrl+K</i>&nbsp;&nbsp;</td>"
                    f"<td><i>{escape(', '.join(names))}</i></td></tr>"
                )

        for title, keys, what in cls.rows(actions):
            if title != group:
                close(group)
                group = title
                parts.append(f"<tr><td colspan='2'><br><b>{escape(title)}</b></td></tr>")
            parts.append(
                f"<tr><td align='right'><code><b>{escape(keys)}</b></code>&nbsp;&nbsp;</td>"
                f"<td>{escape(what)}</td></tr>"
            )
        close(group)
        for title, names in keyless.items():  # groups with no key at all
            parts.append(f"<tr><td colspan='2'><br><b>{escape(title)}</b></td></tr>")
            parts.append(
                "<tr><td align='right'><i>Ctrl+K</i>&nbsp;&nbsp;</td>"
                f"<td><i>{escape(', '.join(names))}</i></td></tr>"
            )
        parts.append("</table>")
        return "".join(parts)
