"""File ▸ Settings…: the operator's settings in the app, written back to ``settings.toml``.

Who you are (the name on your work notes and what *Mine* means), the look,
the backends and the Request Tracker queue, what alarms and how often, the
wall's rotation, key services and metrics page, and major incident command (extra roles,
the internal update cadence per severity, the update templates per severity
and audience; a template with an unknown field or a loop is refused on
*Save*, naming it). *Save* validates everything exactly as
the next start would (:func:`console.config.settings.save_settings`) and writes only
the keys shown here, keeping the file's comments; a bad value keeps the dialog
open and says which field and what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.config.settings import (
    MAX_CADENCE_MINUTES,
    MAX_POLL_SECONDS,
    MAX_WALL_ROTATE_SECONDS,
    MIN_POLL_SECONDS,
    MIN_WALL_ROTATE_SECONDS,
    Settings,
    SettingsError,
    Theme,
    save_settings,
)
from console.domain.alert_rules import MIN_REPEAT_SECONDS
from console.domain.major import AUDIENCES
from console.domain.severity import Severity
from console.services.major import DEFAULT_TEMPLATE_KEY, DEFAULT_TEMPLATES, check_templates

Saver = Callable[[Path, Mapping[str, object]], Settings]


def _severity_boxes(chosen: frozenset[Severity], parent: QWidget) -> dict[Severity, QCheckBox]:
    return {s: _checked(QCheckBox(s.code, parent), s in chosen) for s in Severity}


def _checked(box: QCheckBox, on: bool) -> QCheckBox:
    box.setChecked(on)
    return box


def _row(boxes: Mapping[Severity, QCheckBox]) -> QHBoxLayout:
    row = QHBoxLayout()
    for box in boxes.values():
        row.addWidget(box)
    row.addStretch(1)
    return row


class SettingsDialog(QDialog):
    """The settings as a form; ``saved(Settings)`` after a successful *Save*."""

    saved = Signal(object)

    def __init__(
        self,
        settings: Settings,
        path: Path,
        parent: QWidget | None = None,
        *,
        saver: Saver = save_settings,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.path = path
        self._saver = saver
        self.result_settings: Settings | None = None
        tabs = QTabWidget(self)

        general = QWidget(tabs)
        form = QFormLayout(general)
        self.operator = QLineEdit(settings.operator or "", general)
        self.operator.setPlaceholderText("your contact id or name, e.g. lfernandez")
        self.operator.setToolTip("Signs your work notes; what Mine and Take mean")
        form.addRow("&Your name:", self.operator)
        self.theme = QComboBox(general)
        for theme in Theme:
            self.theme.addItem(theme.label, theme.value)
        self.theme.setCurrentIndex(list(Theme).index(settings.theme))
        form.addRow("&Theme:", self.theme)
        tabs.addTab(general, "&General")

        connection = QWidget(tabs)
        form = QFormLayout(connection)
        self.backends = QPlainTextEdit("\n".join(settings.backends), connection)
        self.backends.setPlaceholderText(
            "one URL a line: https://noc.example.com, or rt+https://rt.example.com\n"
            "(empty: the built-in server on this computer)"
        )
        self.backends.setTabChangesFocus(True)
        self.backends.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        form.addRow("&Backends:", self.backends)
        self.poll = QSpinBox(connection)
        self.poll.setRange(MIN_POLL_SECONDS, MAX_POLL_SECONDS)
        self.poll.setSuffix(" s")
        self.poll.setValue(round(settings.poll_interval.total_seconds()))
        form.addRow("Ask for changes &every:", self.poll)
        rt = settings.table("rt")  # kept raw by config; only its text keys are shown here
        self.rt_queue = QLineEdit(_text(rt.get("queue")), connection)
        self.rt_queue.setPlaceholderText("e.g. NOC (for an rt+https:// backend)")
        form.addRow("Request Tracker &queue:", self.rt_queue)
        self.rt_directory = QLineEdit(_text(rt.get("directory")), connection)
        self.rt_directory.setPlaceholderText("our server's URL or a JSON file (on-call, matrix)")
        form.addRow("RT &directory:", self.rt_directory)
        tabs.addTab(connection, "&Connection")

        alerts_page = QWidget(tabs)
        form = QFormLayout(alerts_page)
        rules = settings.alerts
        self.alerts_enabled = _checked(QCheckBox("Alarms on", alerts_page), rules.enabled)
        self.alerts_sound = _checked(QCheckBox("Play a sound", alerts_page), rules.sound)
        self.alerts_notify = _checked(QCheckBox("Desktop notifications", alerts_page), rules.notify)
        switches = QHBoxLayout()
        for box in (self.alerts_enabled, self.alerts_sound, self.alerts_notify):
            switches.addWidget(box)
        switches.addStretch(1)
        form.addRow(switches)
        self.new_incident = _severity_boxes(rules.new_incident, alerts_page)
        form.addRow("New incident alarms:", _row(self.new_incident))
        self.muted = _severity_boxes(rules.muted, alerts_page)
        form.addRow("Silent (no sound):", _row(self.muted))
        self.repeat: dict[Severity, QSpinBox] = {}
        repeats = QHBoxLayout()
        for severity in Severity:
            spin = QSpinBox(alerts_page)
            spin.setRange(0, 3600)
            spin.setSpecialValueText("once")
            spin.setSuffix(" s")
            every = rules.repeat_every.get(severity)
            spin.setValue(0 if every is None else round(every.total_seconds()))
            spin.setToolTip(
                f"{severity.code}: alarm again every … until acknowledged "
                f"(0 = once; at least {MIN_REPEAT_SECONDS} s)"
            )
            repeats.addWidget(QLabel(severity.code, alerts_page))
            repeats.addWidget(spin)
            self.repeat[severity] = spin
        repeats.addStretch(1)
        form.addRow("Alarm again every:", repeats)
        tabs.addTab(alerts_page, "&Alerts")

        wall = QWidget(tabs)
        form = QFormLayout(wall)
        self.rotate = QSpinBox(wall)
        self.rotate.setRange(MIN_WALL_ROTATE_SECONDS, MAX_WALL_ROTATE_SECONDS)
        self.rotate.setSuffix(" s")
        self.rotate.setValue(settings.wall.rotate_seconds)
        form.addRow("Each panel &stays:", self.rotate)
        self.wall_services = QLineEdit(", ".join(settings.wall.services), wall)
        self.wall_services.setPlaceholderText("service ids, e.g. payments-api, checkout")
        form.addRow("&Key services (on call now):", self.wall_services)
        self.wall_metrics = QCheckBox("Show a &metrics page (SLA this week, backlog by age)", wall)
        self.wall_metrics.setChecked(settings.wall.metrics)
        form.addRow("", self.wall_metrics)
        tabs.addTab(wall, "&Wall")

        major_page = QWidget(tabs)
        form = QFormLayout(major_page)
        self._major = settings.major
        self.extra_roles = QLineEdit(", ".join(settings.major.extra_roles), major_page)
        self.extra_roles.setPlaceholderText("beside the three standard roles, e.g. Scribe, Liaison")
        form.addRow("E&xtra roles:", self.extra_roles)
        self.cadence: dict[Severity, QSpinBox] = {}
        cadence_row = QHBoxLayout()
        for severity in Severity:
            spin = QSpinBox(major_page)
            spin.setRange(0, MAX_CADENCE_MINUTES)
            spin.setSpecialValueText("none")
            spin.setSuffix(" min")
            spin.setValue(settings.major.cadence_minutes.get(int(severity), 0))
            spin.setToolTip(f"{severity.code}: internal (and customer) updates every … minutes")
            cadence_row.addWidget(QLabel(severity.code, major_page))
            cadence_row.addWidget(spin)
            self.cadence[severity] = spin
        cadence_row.addStretch(1)
        form.addRow("Internal update &every:", cadence_row)
        self._templates: dict[tuple[str, str], str] = {
            (key, audience): text
            for key, by_audience in settings.major.templates.items()
            for audience, text in by_audience.items()
        }
        self.template_severity = QComboBox(major_page)
        self.template_severity.addItem("Every severity (default)", DEFAULT_TEMPLATE_KEY)
        for severity in Severity:
            self.template_severity.addItem(severity.code, severity.code)
        self.template_audience = QComboBox(major_page)
        for audience in AUDIENCES:
            self.template_audience.addItem(audience.capitalize(), audience)
        which = QHBoxLayout()
        which.addWidget(self.template_severity)
        which.addWidget(self.template_audience)
        which.addStretch(1)
        form.addRow("&Template for:", which)
        self.template = QPlainTextEdit(major_page)
        self.template.setObjectName("majorTemplate")
        self.template.setTabChangesFocus(True)
        self.template.setFixedHeight(self.fontMetrics().lineSpacing() * 6 + 12)
        form.addRow("Te&xt:", self.template)
        fields = QLabel(
            "Empty: the built-in text. Fields: {{ title }} {{ service }} {{ severity }} "
            "{{ impact }} {{ started }} {{ status }} {{ doing }} {{ next_update }}; "
            "no loops.",
            major_page,
        )
        fields.setWordWrap(True)
        fields.setObjectName("dialogHint")
        form.addRow(fields)
        self._template_key = self._chosen_template()
        self._show_template()
        self.template_severity.currentIndexChanged.connect(lambda _i: self._switch_template())
        self.template_audience.currentIndexChanged.connect(lambda _i: self._switch_template())
        tabs.addTab(major_page, "Ma&jor incidents")

        self.tabs = tabs
        self.error = QLabel(self)
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        self.error.hide()
        note = QLabel(
            f"Saved to {path}. Your name and the theme apply at once; "
            "backends, alerts, the wall and major incidents at the next start.",
            self,
        )
        note.setWordWrap(True)
        note.setObjectName("dialogHint")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.error)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def updates(self) -> dict[str, object]:
        """The form as dotted settings keys (None: back to the default)."""
        repeats = {s.code: spin.value() for s, spin in self.repeat.items() if spin.value()}
        backends = [line.strip() for line in self.backends.toPlainText().splitlines()]
        services = [s.strip() for s in self.wall_services.text().split(",")]
        return {
            "operator": self.operator.text().strip() or None,
            "theme": self.theme.currentData(),
            "backends": [b for b in backends if b],
            "poll_interval_seconds": self.poll.value(),
            "rt.queue": self.rt_queue.text().strip() or None,
            "rt.directory": self.rt_directory.text().strip() or None,
            "alerts.enabled": self.alerts_enabled.isChecked(),
            "alerts.sound": self.alerts_sound.isChecked(),
            "alerts.notify": self.alerts_notify.isChecked(),
            "alerts.new_incident": [s.code for s, b in self.new_incident.items() if b.isChecked()],
            "alerts.muted": [s.code for s, b in self.muted.items() if b.isChecked()],
            # The whole table: a severity left out alarms once.
            "alerts.repeat_seconds": repeats,
            "wall.rotate_seconds": self.rotate.value(),
            "wall.services": [s for s in services if s],
            "wall.metrics": self.wall_metrics.isChecked(),
            **self._major_updates(),
        }

    # -- the Major incidents tab ------------------------------------------------

    def _chosen_template(self) -> tuple[str, str]:
        return str(self.template_severity.currentData()), str(self.template_audience.currentData())

    def _show_template(self) -> None:
        key = self._template_key
        self.template.setPlainText(self._templates.get(key, ""))
        self.template.setPlaceholderText(DEFAULT_TEMPLATES[key[1]])

    def _switch_template(self) -> None:
        """Keep the text being edited, then show the chosen severity and audience's template."""
        self._keep_template()
        self._template_key = self._chosen_template()
        self._show_template()

    def _keep_template(self) -> None:
        text = self.template.toPlainText()
        if text.strip():
            self._templates[self._template_key] = text
        else:
            self._templates.pop(self._template_key, None)

    def choose_template(self, severity: str, audience: str) -> None:
        """Show the template of ``severity`` ("SEV-1" … or "default") and ``audience``."""
        self.template_severity.setCurrentIndex(self.template_severity.findData(severity))
        self.template_audience.setCurrentIndex(self.template_audience.findData(audience))

    def _major_updates(self) -> dict[str, object]:
        """Only the [major] keys that changed, so the rest of the table keeps its layout."""
        self._keep_template()
        out: dict[str, object] = {}
        roles = [r.strip() for r in self.extra_roles.text().split(",") if r.strip()]
        if tuple(roles) != self._major.extra_roles:
            out["major.extra_roles"] = roles
        for severity, spin in self.cadence.items():
            if spin.value() != self._major.cadence_minutes.get(int(severity), 0):
                out[f"major.cadence_minutes.{severity.code}"] = spin.value()
        before = {
            (key, audience): text
            for key, by_audience in self._major.templates.items()
            for audience, text in by_audience.items()
        }
        for key in sorted(set(before) | set(self._templates)):
            if before.get(key) != self._templates.get(key):
                out[f"major.templates.{key[0]}.{key[1]}"] = self._templates.get(key)
        return out

    def template_problems(self) -> dict[str, str]:
        """Each template that would be refused (unknown field, loop, bad syntax), and why."""
        self._keep_template()
        nested: dict[str, dict[str, str]] = {}
        for (key, audience), text in self._templates.items():
            nested.setdefault(key, {})[audience] = text
        return check_templates(nested)

    def save(self) -> None:
        """Validate and write; on a bad value say which and stay open."""
        problems = self.template_problems()
        if problems:
            dotted, why = next(iter(problems.items()))
            _major, _templates, severity, audience = dotted.split(".")
            self.choose_template(severity, audience)
            self._show_error(f"Template ({severity}, {audience}): {why}. Nothing was saved.")
            return
        try:
            settings = self._saver(self.path, self.updates())
        except SettingsError as exc:
            self._show_error(_field_problem(exc))
            return
        except OSError as exc:
            self._show_error(f"{self.path} could not be written: {exc.strerror or exc}")
            return
        self.result_settings = settings
        self.saved.emit(settings)
        self.accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


def _text(value: object) -> str:
    """A text setting for a line edit ("" when unset or not text)."""
    return value.strip() if isinstance(value, str) else ""


_KEY_LABELS = {
    "operator": "Your name",
    "backends": "Backends",
    "rt.queue": "Request Tracker queue",
    "rt.directory": "RT directory",
    "wall.services": "Key services",
    "alerts.repeat_seconds": "Alarm again every",
    "major.extra_roles": "Extra roles",
    "major.cadence_minutes": "Internal update every",
    "major.templates": "Template",
}


def _field_problem(exc: SettingsError) -> str:
    """``Backends (line 2): 'htp://x' is not a URL; allowed: …``: the field as the form says."""
    key = exc.key or ""
    base, _, rest = key.partition("[")
    label = next((v for k, v in _KEY_LABELS.items() if base.startswith(k)), key or "Settings")
    if rest:
        label += f" (line {int(rest.rstrip(']')) + 1})" if rest.rstrip("]").isdigit() else ""
    message = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
    return f"{label}: {message}. Nothing was saved."
