"""The widgets the triage wizard is built from, each usable on its own.

* :class:`ChoiceRow` — a question answered with one key (``1``-``4``,
  ``y``/``n``/``p``) or a click; one Tab stop.
* :class:`TypeAheadEdit` — a text field offering matching entries as one
  types, ignoring case and accents; Tab or Enter takes the highlighted one.
* :class:`MatrixGrid` — the impact × urgency matrix with one cell marked
  (colour, border, bold and ▶ ◀, never colour alone).
* :class:`KeyBar` — an inline question answered by letter keys ("Restore? R / F").
* Small helpers for labels, forms and lists that size themselves by the font.

:data:`WIDGET_STYLE` is the style sheet these widgets expect from the window
that holds them (focus ring, chosen option, key bar).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSize, Qt, Signal
from PySide6.QtGui import (
    QFocusEvent,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCompleter,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.domain.severity import Impact, PriorityMatrix, Urgency
from console.services.directory import fold

WIDGET_STYLE = """
    QFrame#choiceRow { border: 2px solid transparent; border-radius: 5px; }
    QFrame#choiceRow:focus { border: 2px solid palette(highlight); }
    QPushButton#choiceOption { padding: 0.25em 0.8em; text-align: left; }
    QPushButton#choiceOption:checked {
        background-color: #2F5FD0; color: #FFFFFF; font-weight: bold;
        border: 1px solid #1A3A8A; border-radius: 3px;
    }
    QFrame#keyBar {
        border: 2px solid palette(highlight); border-radius: 6px;
        background-color: rgba(47, 95, 208, 40);
    }
"""
"""Style sheet rules for these widgets; add them to the holding window's style sheet."""


# --------------------------------------------------------------------------
# Text and layout helpers
# --------------------------------------------------------------------------


def line_edit(parent: QWidget, placeholder: str, max_length: int) -> QLineEdit:
    """A one-line text field with a placeholder, taking at most ``max_length`` characters."""
    edit = QLineEdit(parent)
    edit.setPlaceholderText(placeholder)
    edit.setMaxLength(max_length)
    return edit


def plain_label(text: str, parent: QWidget, *, name: str = "", wrap: bool = True) -> QLabel:
    """A label showing ``text`` as it is (never as HTML); ``name`` is its style-sheet name."""
    label = QLabel(text, parent)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def rich_label(parent: QWidget, *, name: str = "", wrap: bool = True) -> QLabel:
    """A label for HTML text (escape what users typed with :func:`escape_html`)."""
    label = QLabel(parent)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return label


def question_label(text: str, parent: QWidget) -> QLabel:
    """A question's label: one line, read left to right before its answers."""
    label = plain_label(text, parent, wrap=False)
    label.setMinimumHeight(round(label.fontMetrics().height() * 1.8))
    return label


def escape_html(text: str) -> str:
    """``text`` safe to put into a rich-text label (``&``, ``<`` and ``>`` escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def bullets(items: Iterable[str], *, escaped: bool = False) -> str:
    """Rich text: one "•" line per item (items escaped unless ``escaped`` says they are)."""
    # Plain "•" lines rather than <ul>: QLabel under-measures the height of
    # rich-text lists and clips the last item.
    return "<br>".join(f"&nbsp;•&nbsp;{item if escaped else escape_html(item)}" for item in items)


def section_label(text: str, parent: QWidget) -> QLabel:
    """A section heading (one line, the theme's ``sectionHeading`` look)."""
    return plain_label(text, parent, name="sectionHeading", wrap=False)


def form_layout(page: QWidget) -> QFormLayout:
    """A form of labelled fields, its spacing in proportion to ``page``'s font."""
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
    spacing = page.fontMetrics().height() // 2
    form.setVerticalSpacing(spacing)
    form.setHorizontalSpacing(spacing * 2)
    return form


def buddy_label(text: str, widget: QWidget, page: QWidget) -> QLabel:
    """A field's label whose ``&`` letter (Alt+letter) puts the focus in ``widget``."""
    label = QLabel(text, page)
    label.setBuddy(widget)
    return label


def fit_list(listing: QListWidget, rows: int = 3) -> None:
    """As tall as its entries, up to ``rows`` of them (then it scrolls)."""
    shown = min(listing.count(), rows)
    height = sum(max(listing.sizeHintForRow(row), 1) for row in range(shown))
    listing.setFixedHeight(height + 2 * listing.frameWidth() + 2)


# --------------------------------------------------------------------------
# A one-key question
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One answer to a question: the key that picks it, its label, its value."""

    key: str
    label: str
    value: object


class _OptionButton(QPushButton):
    """An option's button; with ``fit_bold``, wide enough for its text in bold.

    The chosen option is shown bold: measured from the font the button has
    now (a theme's style sheet may change it after it is built), it never clips.
    """

    fit_bold = False

    def _fitted(self, hint: QSize) -> QSize:
        if self.fit_bold:
            bold = QFont(self.font())
            bold.setBold(True)
            em = self.fontMetrics().height()
            hint.setWidth(
                max(hint.width(), QFontMetrics(bold).horizontalAdvance(self.text()) + 2 * em)
            )
        return hint

    def sizeHint(self) -> QSize:
        return self._fitted(super().sizeHint())

    def minimumSizeHint(self) -> QSize:
        return self._fitted(super().minimumSizeHint())


class ChoiceRow(QFrame):
    """A question answered with one key (``1``-``4``, ``y``/``n``/``p``) or a click.

    The row takes the focus as one Tab stop; its options are buttons the
    mouse can click but Tab skips. Picking with a key emits :attr:`answered`,
    which the page uses to move to the next question. Arrow keys move the
    choice without moving on. Enter and Esc are left to the wizard.
    """

    changed = Signal()
    answered = Signal()

    def __init__(
        self,
        options: Sequence[Option],
        parent: QWidget | None = None,
        *,
        vertical: bool = False,
        value: object = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("choiceRow")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.options = tuple(options)
        self._value: object = None
        self._group = QButtonGroup(self)
        self._group.setExclusive(False)
        self.buttons: list[QPushButton] = []
        layout: QVBoxLayout | QHBoxLayout = QVBoxLayout(self) if vertical else QHBoxLayout(self)
        spacing = max(2, self.fontMetrics().height() // 5)
        layout.setContentsMargins(spacing, spacing, spacing, spacing)
        layout.setSpacing(spacing)
        for option in self.options:
            button = _OptionButton(f"{option.key.upper()}   {option.label}", self)
            button.setObjectName("choiceOption")
            button.setCheckable(True)
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            if vertical:
                button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            else:
                button.fit_bold = True
            button.clicked.connect(lambda _on=False, o=option: self._clicked(o))
            self._group.addButton(button)
            layout.addWidget(button)
            self.buttons.append(button)
        if not vertical:
            layout.addStretch(1)
        self.set_value(value)

    def value(self) -> object:
        """The chosen option's value (None: not answered yet)."""
        return self._value

    def set_value(self, value: object) -> None:
        if value is not None and value not in [o.value for o in self.options]:
            value = None
        changed = value != self._value
        self._value = value
        for option, button in zip(self.options, self.buttons, strict=True):
            button.setChecked(option.value == value and value is not None)
        if changed:
            self.changed.emit()

    def _clicked(self, option: Option) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.set_value(option.value)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if modifiers == Qt.KeyboardModifier.NoModifier:
            text = event.text().lower()
            for option in self.options:
                if text and text == option.key.lower():
                    self.set_value(option.value)
                    self.answered.emit()
                    event.accept()
                    return
            step = {
                Qt.Key.Key_Right: 1,
                Qt.Key.Key_Down: 1,
                Qt.Key.Key_Left: -1,
                Qt.Key.Key_Up: -1,
            }.get(Qt.Key(event.key()))
            if step is not None and self.options:
                values = [o.value for o in self.options]
                at = values.index(self._value) if self._value in values else -step
                self.set_value(values[(at + step) % len(values)])
                event.accept()
                return
        event.ignore()


YES_NO = (Option("y", "Yes", True), Option("n", "No", False))
"""The options of a yes/no question."""


class LinesEdit(QPlainTextEdit):
    """A plain-text box as tall as ``lines`` lines of the font it has now (themes change it)."""

    def __init__(self, lines: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines = lines
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        margins = self.contentsMargins()
        height = (
            self.fontMetrics().lineSpacing() * self.lines
            + round(2 * self.document().documentMargin())
            + margins.top()
            + margins.bottom()
        )
        hint.setHeight(height)
        return hint

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()


# --------------------------------------------------------------------------
# A type-ahead field
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One entry of a type-ahead list: what it is, what it shows, what it is found by."""

    id: str
    label: str
    detail: str = ""
    keys: str = ""


class TypeAheadEdit(QLineEdit):
    """A text field that offers matching entries as the dispatcher types.

    Matching ignores case and accents and looks at the label, the id and any
    extra ``keys`` (a service's owning team, a contact's role); entries
    starting with the text come first. The best match is highlighted, so Tab
    or Enter takes it (↓/↑ choose another). :meth:`chosen` is the entry's id,
    or None while the text names no entry.
    """

    chosen_changed = Signal()

    def __init__(
        self, parent: QWidget | None = None, *, max_shown: int = 8, max_length: int = 120
    ) -> None:
        super().__init__(parent)
        # What is typed may be logged as it is (no entry chosen): keep it to
        # what the backend takes for a name.
        self.setMaxLength(max_length)
        self._choices: list[Choice] = []
        self._chosen: str | None = None
        self._model = QStandardItemModel(self)
        self._completer = QCompleter(self._model, self)
        self._completer.setWidget(self)
        self._completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self._completer.setCompletionRole(Qt.ItemDataRole.EditRole)
        self._completer.setMaxVisibleItems(max_shown)
        self._completer.activated[QModelIndex].connect(  # type: ignore[index]
            self._activated
        )
        self.textEdited.connect(self._edited)
        self.popup.installEventFilter(self)
        # The list is a helper of this field: showing it must not take the
        # window's activation away (the field keeps the keyboard).
        self.popup.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.popup
            and event.type() == QEvent.Type.WindowActivate
            and not self.popup.isVisible()
        ):
            # Some platforms (offscreen among them) activate the list when it
            # opens and leave it active once hidden; give the window back.
            self.window().activateWindow()
            return False
        # Tab and Enter on the open list take the highlighted entry (the best
        # match unless ↓/↑ picked another); Tab then moves on as usual.
        if (
            watched is self.popup
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key()
            in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and self.popup.isVisible()
        ):
            index = self.popup.currentIndex()
            self.popup.hide()
            if index.isValid():
                self._activated(index)
            if event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
                self.event(event)
            return True
        return super().eventFilter(watched, event)

    @property
    def popup(self) -> QAbstractItemView:
        popup = self._completer.popup()
        assert popup is not None  # a completer always has its popup
        return popup

    def set_choices(self, choices: Iterable[Choice]) -> None:
        self._choices = list(choices)
        self._settle_exact()

    @property
    def choices(self) -> list[Choice]:
        return list(self._choices)

    def chosen(self) -> str | None:
        """The chosen entry's id (None while the text names none)."""
        return self._chosen

    def chosen_choice(self) -> Choice | None:
        for choice in self._choices:
            if choice.id == self._chosen:
                return choice
        return None

    def choose(self, choice_id: str | None) -> None:
        """Set the field to an entry (None: clear it)."""
        for choice in self._choices:
            if choice.id == choice_id:
                self.setText(choice.label)
                self._set_chosen(choice.id)
                return
        self.clear()
        self._set_chosen(None)

    def matches(self, text: str | None = None) -> list[Choice]:
        """The entries matching ``text`` (default: the field's), best first."""
        query = fold((self.text() if text is None else text).strip())
        if not query:
            return []
        words = query.split()
        ranked: list[tuple[int, str, Choice]] = []
        for choice in self._choices:
            label = fold(choice.label)
            hay = f"{label} {fold(choice.id)} {fold(choice.keys)}"
            if not all(word in hay for word in words):
                continue
            if label.startswith(query) or fold(choice.id).startswith(query):
                rank = 0
            elif any(part.startswith(words[0]) for part in label.replace("(", " ").split()):
                rank = 1
            else:
                rank = 2
            ranked.append((rank, label, choice))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [choice for _, _, choice in ranked]

    def _edited(self, _text: str) -> None:
        self._settle_exact()
        found = self.matches()
        self._model.clear()
        for choice in found:
            item = QStandardItem(
                f"{choice.label}   —   {choice.detail}" if choice.detail else choice.label
            )
            item.setData(choice.label, Qt.ItemDataRole.EditRole)
            item.setData(choice.id, Qt.ItemDataRole.UserRole)
            item.setData(
                f"{choice.label}   —   {choice.detail}" if choice.detail else choice.label,
                Qt.ItemDataRole.DisplayRole,
            )
            self._model.appendRow(item)
        if found and (self.hasFocus() or self.window().focusWidget() is self):
            self._completer.complete()
            # The best match is taken by Tab or Enter unless ↓/↑ picks another.
            shown = self.popup.model()
            if shown is not None:
                self.popup.setCurrentIndex(shown.index(0, 0))
        else:
            self.popup.hide()

    def _activated(self, index: QModelIndex) -> None:
        choice_id = index.data(Qt.ItemDataRole.UserRole)
        for choice in self._choices:
            if choice.id == choice_id:
                self.setText(choice.label)
                self._set_chosen(choice.id)
                return

    def _settle_exact(self) -> None:
        """The text names an entry exactly (label or id, any case or accents): choose it."""
        query = fold(self.text().strip())
        for choice in self._choices:
            if query and query in (fold(choice.label), fold(choice.id)):
                self._set_chosen(choice.id)
                return
        self._set_chosen(None)

    def settle(self) -> None:
        """Leaving the field: a text that matches exactly one entry chooses it."""
        if self._chosen is None:
            found = self.matches()
            if len(found) == 1:
                self.setText(found[0].label)
                self._set_chosen(found[0].id)

    def _set_chosen(self, choice_id: str | None) -> None:
        if choice_id != self._chosen:
            self._chosen = choice_id
            self.chosen_changed.emit()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        if not self.popup.isVisible():
            self.settle()
        super().focusOutEvent(event)

    def problem(self, what: str) -> str | None:
        """Why the field names no entry yet, in words (None: it does)."""
        if self._chosen is not None:
            return None
        text = self.text().strip()
        if not text:
            return f"Choose the {what}: type part of its name."
        found = self.matches()
        if not found:
            return f"No {what} matches “{text}”; type part of its name or its id."
        names = ", ".join(c.label for c in found[:4]) + (" …" if len(found) > 4 else "")
        return f"“{text}” matches several: {names}. Type more, or pick one with ↓ and Tab."


# --------------------------------------------------------------------------
# The priority matrix
# --------------------------------------------------------------------------


class MatrixGrid(QWidget):
    """The impact × urgency matrix with the chosen cell marked (colour, border, bold, ▶)."""

    def __init__(self, matrix: PriorityMatrix, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("matrixGrid")
        self.matrix = matrix
        self.cells: dict[tuple[Impact, Urgency], QLabel] = {}
        grid = QGridLayout(self)
        spacing = max(2, self.fontMetrics().height() // 6)
        grid.setSpacing(spacing)
        grid.setContentsMargins(0, 0, 0, 0)
        corner = plain_label("impact ↓  urgency →", self, name="fieldName", wrap=False)
        grid.addWidget(corner, 0, 0)
        for column, urgency in enumerate(Urgency, start=1):
            header = plain_label(
                urgency.value.capitalize(), self, name="sectionHeading", wrap=False
            )
            header.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(header, 0, column)
        width = self.fontMetrics().horizontalAdvance("▶ SEV-0 Moderate ◀") + 4 * spacing
        for row, impact in enumerate(Impact, start=1):
            header = plain_label(impact.value.capitalize(), self, name="sectionHeading", wrap=False)
            header.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(header, row, 0)
            for column, urgency in enumerate(Urgency, start=1):
                cell = QLabel(self)
                cell.setObjectName("matrixCell")
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setMinimumWidth(width)
                cell.setMinimumHeight(self.fontMetrics().height() * 2)
                grid.addWidget(cell, row, column)
                self.cells[(impact, urgency)] = cell
        self.set_chosen(None, None)

    def set_chosen(self, impact: Impact | None, urgency: Urgency | None) -> None:
        for (cell_impact, cell_urgency), cell in self.cells.items():
            severity = self.matrix.severity(cell_impact, cell_urgency)
            style = severity.style
            colour = style.colour.lstrip("#")
            r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
            chosen = cell_impact is impact and cell_urgency is urgency
            cell.setProperty("chosen", chosen)
            if chosen:
                cell.setText(f"▶ {style.glyph} {severity.code} {style.label} ◀")
                cell.setStyleSheet(
                    f"background-color: {style.colour}; color: {style.text_colour};"
                    "font-weight: bold; border: 3px solid palette(highlight);"
                    "border-radius: 4px;"
                )
            else:
                cell.setText(f"{style.glyph} {severity.code}")
                cell.setStyleSheet(
                    f"background-color: rgba({r}, {g}, {b}, 70);"
                    f"border: 1px solid rgba({r}, {g}, {b}, 170); border-radius: 4px;"
                )


# --------------------------------------------------------------------------
# Inline questions: restore a draft, discard what was typed
# --------------------------------------------------------------------------


class KeyBar(QFrame):
    """A strip with a question answered by letter keys; takes the focus while shown."""

    def __init__(
        self,
        parent: QWidget,
        keys: dict[int, Callable[[], None]],
        buttons: Sequence[tuple[str, Callable[[], None]]],
    ) -> None:
        super().__init__(parent)
        self.setObjectName("keyBar")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._keys = keys
        self.text = plain_label("", self)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        for caption, action in buttons:
            button = QPushButton(caption, self)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(action)
            layout.addWidget(button)

    def focusNextPrevChild(self, next: bool) -> bool:
        return True  # Tab stays on the question until it is answered

    def keyPressEvent(self, event: QKeyEvent) -> None:
        action = self._keys.get(event.key())
        if action is not None and event.modifiers() in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.KeypadModifier,
        ):
            event.accept()
            action()
            return
        event.accept()  # nothing else happens while the question is open
