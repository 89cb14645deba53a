"""Shared set-up for the packaging tests: the packaging scripts on the import path.

``packaging/`` is not a Python package (PyInstaller reads its spec by path),
so its modules are imported by putting their folders on ``sys.path``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.helpers.env import require_or_skip

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
sys.path[:0] = [str(PACKAGING), str(PACKAGING / "pyinstaller")]

TOOLS_ENV = "NOC_REQUIRE_PACKAGING_TOOLS"
"""Set to 1 (as CI does) to fail instead of skip when a Debian tool below is missing."""


def require_tool(command: str, package: str) -> str:
    """The path of ``command``; skip (or fail under NOC_REQUIRE_PACKAGING_TOOLS=1) without it."""
    path = shutil.which(command)
    require_or_skip(
        path is not None,
        f"`{command}` is not installed (Debian package {package})",
        TOOLS_ENV,
    )
    assert path is not None
    return path
