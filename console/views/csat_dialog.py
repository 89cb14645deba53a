"""Record the caller's satisfaction (CSAT, 1–5) on a resolved or closed incident."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.metrics import DEFINITIONS

LABELS = {1: "1 · poor", 2: "2", 3: "3 · OK", 4: "4", 5: "5 · excellent"}


class CsatDialog(QDialog):
    """The score (keys 1–5 pick it) and, optionally, the caller's words."""

    def __init__(self, number: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"CSAT for {number}")
        intro = QLabel(
            f"How satisfied was the caller with the handling of {number}? "
            "Enter what they said, or an imported survey answer."
        )
        intro.setWordWrap(True)
        intro.setToolTip(DEFINITIONS["csat"])
        self.group = QButtonGroup(self)
        row = QHBoxLayout()
        for score, text in LABELS.items():
            button = QRadioButton(text)
            button.setShortcut(str(score))
            self.group.addButton(button, score)
            row.addWidget(button)
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("The caller's words (optional)")
        self.comment.setMaxLength(500)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(False)
        self.group.idToggled.connect(lambda _id, _on: ok.setEnabled(self.score is not None))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.comment)
        layout.addWidget(self.buttons)

    @property
    def score(self) -> int | None:
        chosen = self.group.checkedId()
        return chosen if chosen in LABELS else None
