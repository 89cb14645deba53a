"""The PyInstaller spec: every resource goes in, unused Qt stays out.

The spec is executed for real, with PyInstaller's four build steps (Analysis,
PYZ, EXE, COLLECT) replaced by recorders: running them takes a minute and is
what ``packaging/smoke.sh`` does. Here only the spec's own decisions are
checked, in a second.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import contents
import pytest

from console.cli.main import SUBCOMMANDS
from tests.helpers.packaging import PACKAGING, REPO

SPEC = PACKAGING / "pyinstaller" / "noc-console.spec"
HOOKS = PACKAGING / "pyinstaller" / "hooks"


class Recorder:
    """Stands in for one PyInstaller build step and keeps what the spec passed."""

    calls: dict[str, list[Recorder]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs
        self.binaries: list[tuple[str, str, str]] = []
        self.datas: list[tuple[str, str, str]] = []
        self.pure: list[Any] = []
        self.scripts: list[Any] = []
        type(self).calls.setdefault(type(self).__name__, []).append(self)


@pytest.fixture(scope="module")
def spec() -> dict[str, list[Recorder]]:
    calls: dict[str, list[Recorder]] = {}
    steps = {
        name: type(name, (Recorder,), {"calls": calls})
        for name in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")
    }
    namespace: dict[str, Any] = {"SPECPATH": str(SPEC.parent), "__file__": str(SPEC), **steps}
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    return calls


def analysis(spec: dict[str, list[Recorder]]) -> dict[str, Any]:
    (step,) = spec["Analysis"]
    return step.kwargs


def test_every_resource_folder_is_listed() -> None:
    """A new folder under resources/ must be added to contents.RESOURCE_DIRS to be shipped."""
    on_disk = {p.name for p in (REPO / "resources").iterdir() if p.is_dir()} - {"__pycache__"}
    assert set(contents.RESOURCE_DIRS) == on_disk


def test_the_spec_ships_every_resource_file(spec: dict[str, list[Recorder]]) -> None:
    datas = analysis(spec)["datas"]
    shipped = {Path(dest) / Path(src).name for src, dest in datas}
    root = REPO / "resources"
    for folder in contents.RESOURCE_DIRS:
        for path in (root / folder).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            expected = Path("resources") / path.relative_to(root)
            if path.suffix in contents.RESOURCE_SKIP_SUFFIXES:
                assert expected not in shipped, f"{expected} is a maintainer's script"
            else:
                assert expected in shipped, f"{expected} is not in the bundle"
    # The lookup the frozen app uses: <bundle>/_internal/resources/<folder>/...
    assert all(Path(dest).parts[0] == "resources" for _, dest in datas)


def test_the_spec_finds_the_subcommands(spec: dict[str, list[Recorder]]) -> None:
    """Sub-commands are imported by name at run time; the analysis cannot see them."""
    hidden = set(analysis(spec)["hiddenimports"])
    assert {module for module, _ in SUBCOMMANDS.values()} <= hidden


def test_the_spec_leaves_out_unused_qt(spec: dict[str, list[Recorder]]) -> None:
    excludes = set(analysis(spec)["excludes"])
    for module in (
        "PySide6.QtWebEngineCore",
        "PySide6.QtWebEngineWidgets",
        "PySide6.QtQml",
        "PySide6.QtQuick",
        "PySide6.Qt3DCore",
        "PySide6.QtMultimediaWidgets",
    ):
        assert module in excludes
    assert str(HOOKS) in analysis(spec)["hookspath"]
    (collect,) = spec["COLLECT"]
    assert collect.kwargs["name"] == "noc-console"


def qt_modules_imported_by_the_console() -> set[str]:
    """``PySide6.X`` modules imported anywhere in console/, statically or by importlib."""
    found: set[str] = set()
    for path in (REPO / "console").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        found.update(re.findall(r"import_module\(\s*\"(PySide6\.\w+)\"", text))
    return {m for m in found if m.startswith("PySide6.")}


def test_nothing_the_console_imports_is_excluded() -> None:
    used = qt_modules_imported_by_the_console()
    assert {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets"} <= used
    assert not used & set(contents.EXCLUDED_MODULES)


def test_every_qt_module_the_console_imports_has_a_trimming_hook() -> None:
    """Without one, PyInstaller's own hook would bring back the plugins the bundle leaves out."""
    hooks = {p.name.removeprefix("hook-").removesuffix(".py") for p in HOOKS.glob("hook-*.py")}
    assert qt_modules_imported_by_the_console() <= hooks
    # QtNetwork and QtDBus come along because every PySide6 module links them.
    assert {"PySide6.QtNetwork", "PySide6.QtDBus"} <= hooks


@pytest.mark.parametrize(
    ("relative", "dropped"),
    [
        ("plugins/platforms/libqxcb.so", False),
        ("plugins/platforms/libqwayland.so", False),
        ("plugins/platforms/libqoffscreen.so", False),
        ("plugins/iconengines/libqsvgicon.so", False),
        ("plugins/imageformats/libqsvg.so", False),
        ("plugins/printsupport/libcupsprintersupport.so", False),
        ("plugins/platforms/libqeglfs.so", True),
        ("plugins/platformthemes/libqgtk3.so", True),
        ("plugins/tls/libqopensslbackend.so", True),
        ("plugins/generic/libqevdevmouseplugin.so", True),
        ("translations/qtbase_de.qm", True),
    ],
)
def test_which_qt_files_stay_out(relative: str, dropped: bool) -> None:
    assert contents.qt_file_dropped(relative) is dropped
