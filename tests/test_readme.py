"""The README tells the truth: its settings example loads, and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

from console.config.settings import Theme, load_settings

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_settings_example_in_the_readme_loads(tmp_path: Path) -> None:
    (block,) = re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL)
    path = tmp_path / "settings.toml"
    path.write_text(block, encoding="utf-8")
    settings = load_settings(path)
    assert settings.theme is Theme.DARK
    assert settings.backends == ("https://noc.example.org",)
    assert settings.sla_calendar.time_zone == "Europe/Madrid"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    (command,) = re.findall(r'^TEST_COMMAND="(.*)"$', ci, flags=re.MULTILINE)
    assert command in README
