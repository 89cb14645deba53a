"""The console runs on its declared dependencies alone, without the test or PostgreSQL extras.

The README's launch command installs ``pip install -e .``: nothing from the
``test`` extra (pytest, httpx's test uses, psycopg, cryptography …). A module
the app or the embedded server imports at the top but that only an extra
provides would make the plain ``noc-console`` fail at start-up, while the whole
suite (which installs ``.[test]``) stays green. This test imports the app's
modules and starts the embedded server in a child process where every
extra-only package is made unimportable.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", item, maxsplit=1)[0].lower() for item in requirements}


def _extra_only_modules() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = _names(project["dependencies"])
    extras: set[str] = set()
    for requirements in project["optional-dependencies"].values():
        extras |= _names(requirements)
    # Import names of the distributions (where they differ).
    import_names = {"import-linter": "importlinter", "pytest-qt": "pytestqt"}
    return sorted(import_names.get(name, name).replace("-", "_") for name in extras - base)


def test_the_app_and_the_embedded_server_need_no_extra(tmp_path: Path) -> None:
    blocked = _extra_only_modules()
    # The check checks something: the PostgreSQL driver and the test tools are blocked.
    assert "psycopg" in blocked
    assert "pytest" in blocked
    child = textwrap.dedent(
        f"""
        import sys
        for name in {blocked!r}:
            sys.modules[name] = None  # `import name` now raises ImportError
        import console.app.gui, console.cli.main, console.cli.sync, console.cli.export
        import console.views.triage.wizard, console.views.wall.window, console.views.matrix.view
        from pathlib import Path
        from console.connectors.embedded import start_embedded
        embedded = start_embedded(Path({str(tmp_path)!r}))
        try:
            print("started", embedded.backend.url)
        finally:
            embedded.stop()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "started http://127.0.0.1:" in result.stdout
