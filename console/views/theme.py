"""Apply a theme: the Fusion style plus one of ``resources/styles/*.qss``."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from console.config.resources import read_text

THEMES = ("light", "dark", "wall")
"""Theme names, as in ``settings.toml`` and the View menu."""


def apply_theme(app: QApplication, name: str) -> None:
    """Switch the whole application to theme ``name`` (one of :data:`THEMES`)."""
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; use one of {', '.join(THEMES)}")
    # Fusion looks the same on every platform, so the style sheets (and the
    # screenshots in the docs) match what operators see.
    app.setStyle("Fusion")
    app.setStyleSheet(read_text("styles", f"{name}.qss"))
