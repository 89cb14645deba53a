"""The test tree mirrors the code: ``tests/<package>/test_<module>.py`` tests
``console/<package>/<module>.py``.

A test file is named for the module it tests (``test_<module>.py``, or
``test_<module>_<aspect>.py`` when one module has several), in the folder that
mirrors that module's package; ``test_<package>*.py`` tests the package itself.
Tests of the test helpers sit next to them in ``tests/helpers/``, and
``tests/tools/`` mirrors the developer tools in ``tools/``. Only the
cross-cutting tests stay at the root; ``e2e/`` and ``packaging/`` are named
for what they exercise. Shared code lives in ``tests/helpers/``: no file imports
from a ``conftest`` or from another test module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
CONSOLE = REPO / "console"

CROSS_CUTTING = {"test_readme.py", "test_dependencies.py", "test_layout.py"}
NAMED_FOR_WHAT_THEY_EXERCISE = {"e2e", "packaging"}


def _mirrored_test_files() -> list[Path]:
    return sorted(
        path
        for path in TESTS.rglob("test_*.py")
        if path.relative_to(TESTS).parts[0] not in NAMED_FOR_WHAT_THEY_EXERCISE
        and not (path.parent == TESTS and path.name in CROSS_CUTTING)
    )


def _modules_under_test(folder: Path) -> set[str]:
    """What a test in ``tests/<folder>/`` may be named for."""
    relative = folder.relative_to(TESTS)
    if relative.parts[:1] == ("helpers",):
        return {p.stem for p in folder.glob("*.py") if not p.stem.startswith("test_")}
    if relative.parts[:1] == ("tools",):  # the developer tools in tools/ (not shipped)
        return {p.stem for p in (REPO / "tools").glob("*.py")}
    package = CONSOLE / relative
    if not relative.parts or not (package / "__init__.py").is_file():
        return set()
    names = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    names |= {p.parent.name for p in package.glob("*/__init__.py")}
    names.add(package.name)  # the package itself (its __init__)
    return names


def _named_for_a_module(path: Path) -> bool:
    name = path.stem.removeprefix("test_")
    return any(name == m or name.startswith(f"{m}_") for m in _modules_under_test(path.parent))


def _imported_modules(path: Path) -> set[str]:
    """Every ``tests.*`` module (or name in one) ``path`` imports, dotted."""
    found: set[str] = set()
    package = ".".join(path.relative_to(REPO).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name == "tests" or name.startswith("tests.")}


def _forbidden(module: str) -> bool:
    parts = module.split(".")
    return "conftest" in parts or any(part.startswith("test_") for part in parts)


def test_the_tree_has_test_files_to_check() -> None:
    assert len(_mirrored_test_files()) > 100


@pytest.mark.parametrize("path", _mirrored_test_files(), ids=lambda p: str(p.relative_to(TESTS)))
def test_every_test_file_is_named_for_a_module_at_the_mirrored_path(path: Path) -> None:
    folder = path.parent.relative_to(TESTS)
    assert _named_for_a_module(path), (
        f"tests/{path.relative_to(TESTS)} names no module of console/{folder}/ "
        f"(expected test_<one of {sorted(_modules_under_test(path.parent))}>[_<aspect>].py)"
    )


def test_no_file_imports_from_a_conftest_or_a_test_module() -> None:
    offenders = {
        f"tests/{path.relative_to(TESTS)}: {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module in _imported_modules(path)
        if _forbidden(module)
    }
    assert not offenders, "import shared code from tests.helpers.* instead:\n" + "\n".join(
        sorted(offenders)
    )
