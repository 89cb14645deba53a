"""Settings, the Major incidents tab: roles, cadence and templates, written with comments."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from console.config.settings import load_settings
from console.domain.severity import Severity
from console.views.settings_dialog import SettingsDialog

FILE = """\
# The floor's settings.
[major]
extra_roles = ["Scribe"]  # our site's role
[major.templates.SEV-1]
internal = "[{{ severity }}] {{ service }}"  # short, for chat
"""


def _dialog(qtbot: QtBot, tmp_path: Path) -> tuple[SettingsDialog, Path]:
    path = tmp_path / "settings.toml"
    path.write_text(FILE, encoding="utf-8")
    dialog = SettingsDialog(load_settings(path), path)
    qtbot.addWidget(dialog)
    return dialog, path


def test_roles_cadence_and_a_template_are_saved_and_the_comments_kept(
    qtbot: QtBot, tmp_path: Path
) -> None:
    dialog, path = _dialog(qtbot, tmp_path)
    assert dialog.extra_roles.text() == "Scribe"
    assert dialog.cadence[Severity.SEV1].value() == 15
    assert dialog.cadence[Severity.SEV3].specialValueText() == "none"
    dialog.choose_template("SEV-1", "internal")
    assert dialog.template.toPlainText() == "[{{ severity }}] {{ service }}"
    dialog.extra_roles.setText("Scribe, Liaison")
    dialog.cadence[Severity.SEV2].setValue(20)
    dialog.choose_template("SEV-2", "customer")
    dialog.template.setPlainText("We are {{ status }} {{ service }}.")
    dialog.choose_template("SEV-1", "internal")  # switching keeps what was typed
    dialog.save()
    assert dialog.result_settings is not None, dialog.error.text()
    major = load_settings(path).major
    assert major.extra_roles == ("Scribe", "Liaison")
    assert major.cadence_minutes == {1: 15, 2: 20}
    assert major.templates["SEV-2"]["customer"] == "We are {{ status }} {{ service }}."
    text = path.read_text(encoding="utf-8")
    assert "# our site's role" in text
    assert "# short, for chat" in text  # the untouched template keeps its comment


def test_a_template_with_an_unknown_field_or_a_loop_is_refused_naming_it(
    qtbot: QtBot, tmp_path: Path
) -> None:
    dialog, path = _dialog(qtbot, tmp_path)
    dialog.choose_template("default", "executive")
    dialog.template.setPlainText("{{ customer_password }}")
    dialog.choose_template("SEV-1", "internal")
    dialog.save()
    assert dialog.result_settings is None
    message = dialog.error.text()
    assert "Template (default, executive)" in message
    assert "unknown field 'customer_password'" in message
    assert "Nothing was saved" in message
    assert dialog.template.toPlainText() == "{{ customer_password }}"  # shown where it is wrong
    dialog.template.setPlainText("{% for s in service %}{{ s }}{% endfor %}")
    dialog.save()
    assert "loops" in dialog.error.text()
    assert path.read_text(encoding="utf-8") == FILE  # nothing written

    dialog.extra_roles.setText("Incident Commander")
    dialog.template.setPlainText("")  # back to the built-in
    dialog.save()
    assert "Extra roles" in dialog.error.text()
    assert "standard role" in dialog.error.text()
