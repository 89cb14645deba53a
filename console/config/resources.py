"""Find the files under ``resources/`` wherever the console runs from.

The same lookup serves three layouts:

* a source checkout (or editable install): ``<repo>/resources/``;
* an installed wheel: the build copies ``resources/`` into ``console/_resources/``;
* a PyInstaller bundle: ``<bundle>/resources/`` (``sys._MEIPASS``).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # console/, where _resources is installed


class ResourceMissing(FileNotFoundError):
    """A resource the console ships with is not where it should be."""


@cache
def resources_root() -> Path:
    """The folder holding ``demo/``, ``styles/``, ``icons/`` and ``sounds/``."""
    candidates = [_PACKAGE_DIR / "_resources", _PACKAGE_DIR.parent / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / "resources")
    for candidate in candidates:
        if (candidate / "demo").is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise ResourceMissing(
        f"the console's resources folder is missing (looked in {tried}); reinstall noc-console"
    )


def resource_path(*parts: str) -> Path:
    """The path of one shipped file, e.g. ``resource_path("styles", "dark.qss")``."""
    path = resources_root().joinpath(*parts)
    if not path.exists():
        raise ResourceMissing(f"missing resource {'/'.join(parts)} in {resources_root()}")
    return path


def read_text(*parts: str) -> str:
    """The text of one shipped file (UTF-8)."""
    return resource_path(*parts).read_text(encoding="utf-8")
