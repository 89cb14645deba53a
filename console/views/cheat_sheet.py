"""``?``: every keyboard shortcut at a glance, grouped as in the menus."""

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
        self.text.setText(self.html(actions))
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

    @classmethod
    def html(cls, actions: MainWindowActions) -> str:
        parts = ["<table cellspacing='0' cellpadding='3'>"]
        group = None
        for title, keys, what in cls.rows(actions):
            if title != group:
                group = title
                parts.append(f"<tr><td colspan='2'><br><b>{escape(title)}</b></td></tr>")
            parts.append(
                f"<tr><td align='right'><code><b>{escape(keys)}</b></code>&nbsp;&nbsp;</td>"
                f"<td>{escape(what)}</td></tr>"
            )
        parts.append("</table>")
        return "".join(parts)
