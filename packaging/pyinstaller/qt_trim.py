"""PySide6 hook body that leaves out the Qt plugins and translations in contents.py.

The files in ``hooks/`` replace PyInstaller's own hooks for the PySide6 modules
the console loads. Each collects what PyInstaller's hook would, minus
``contents.EXCLUDED_QT_FILES``. Trimming here, before PyInstaller follows the
plugins' shared-library dependencies, also keeps out whatever only those
plugins needed (GTK for the GTK theme, for instance).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import contents
from PyInstaller.utils.hooks.qt import add_qt6_dependencies

Collected = list[tuple[str, str]]


def _under_qt(source: str, destination: str) -> str | None:
    """``destination/basename(source)`` relative to PySide6/Qt/, or None outside Qt/."""
    parts = PurePosixPath(Path(destination).as_posix()).parts
    if len(parts) < 2 or parts[0] != "PySide6" or parts[1] != "Qt":
        return None
    return "/".join([*parts[2:], Path(source).name])


def _keep(entries: Collected) -> Collected:
    kept = []
    for source, destination in entries:
        relative = _under_qt(source, destination)
        if relative is not None and contents.qt_file_dropped(relative):
            continue
        kept.append((source, destination))
    return kept


def trimmed_qt6_dependencies(hook_file: str) -> tuple[list[str], Collected, Collected]:
    """``(hiddenimports, binaries, datas)`` for one PySide6 module, trimmed."""
    hiddenimports, binaries, datas = add_qt6_dependencies(hook_file)
    return list(hiddenimports), _keep(binaries), _keep(datas)
