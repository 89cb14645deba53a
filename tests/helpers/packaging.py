"""Packaging-test helpers: the repository's paths, a Debian tool or a skip.

``packaging/`` is not a Python package (PyInstaller reads its spec by path),
so ``tests/packaging/conftest.py`` puts its folders on ``sys.path``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers.env import require_or_skip

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"

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
