"""Set-up for the packaging tests: the packaging scripts on the import path.

``packaging/`` is not a Python package (PyInstaller reads its spec by path),
so its modules are imported by putting its folders on ``sys.path``.
"""

from __future__ import annotations

import sys

from tests.helpers.packaging import PACKAGING

sys.path[:0] = [str(PACKAGING), str(PACKAGING / "pyinstaller")]
