"""Check that this machine can build the NOC Console bundle, naming what to install.

``packaging/build.sh`` runs this first. PyInstaller copies the system libraries
Qt's plugins link against (the X11/xcb libraries, fontconfig, D-Bus, CUPS...)
into the bundle; when one is missing here it only warns, and the app then
fails on every desk with "could not load the Qt platform plugin". So the build
stops before it starts, with the Debian package to install.

    python packaging/check_system.py                 # before a build
    python packaging/check_system.py --bundle DIR    # after: every ELF file in
                                                     # the bundle finds its libraries
    python packaging/check_system.py FILE...         # only these ELF files

Exit code 0: nothing missing; 1: something is missing (the message says
what, and the ``apt-get install`` line); 2: bad arguments. Standard library
only, so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "pyinstaller"))
import contents

# The soname → Debian package table is one, shared with `noc-console doctor`.
from console.cli.doctor import DEBIAN_PACKAGES

TOOLS = {
    # PyInstaller reads every binary's dependencies with these.
    "ldd": "libc-bin",
    "objdump": "binutils",
}

DESKTOP_PROVIDED = re.compile(
    # PyInstaller never copies these (its list of Unix excludes): the C
    # library, and the graphics stack, which must match the desk's drivers.
    # They come from the desktop the app runs on, so a build machine without
    # them can still build.
    r"^(ld-linux.*|lib(c|dl|m|pthread|rt|util|resolv|crypt|nsl|anl)\.so.*"
    r"|libE?(Open)?GLX?(ESv1_CM|ESv2)?(dispatch)?\.so.*|libdrm\.so.*|libgbm\.so.*"
    r"|libxcb\.so.*|libxcb-dri.*|libwayland-(client|cursor|egl|server)\.so.*)$"
)

QT_LIBRARIES = (
    "Core",
    "Gui",
    "Widgets",
    "DBus",
    "Network",
    "OpenGL",
    "PrintSupport",
    "Svg",
    "XcbQpa",
    "WaylandClient",
)
"""The Qt libraries the bundle ships (``PySide6/Qt/lib/libQt6<name>.so.6``)."""

PYSIDE_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtNetwork", "QtDBus", "QtPrintSupport")
"""The PySide6 extension modules the bundle ships."""

QT_PLUGIN_DIRS = (
    "iconengines",
    "imageformats",
    "platforminputcontexts",
    "platforms",
    "platformthemes",
    "printsupport",
    "wayland-decoration-client",
    "wayland-graphics-integration-client",
    "wayland-shell-integration",
    "xcbglintegrations",
)
"""The Qt plugin folders the bundle ships (less ``contents.EXCLUDED_QT_FILES``)."""

_LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")


@dataclass
class Findings:
    """What this machine lacks for the build."""

    tools: dict[str, str] = field(default_factory=dict)
    """Missing command → Debian package."""
    libraries: dict[str, set[str]] = field(default_factory=dict)
    """Missing soname → the files that need it."""
    problems: list[str] = field(default_factory=list)
    """Anything else, as a sentence saying what to do."""

    def blocking_libraries(self) -> dict[str, set[str]]:
        return {n: f for n, f in self.libraries.items() if not DESKTOP_PROVIDED.match(n)}

    def desktop_libraries(self) -> dict[str, set[str]]:
        return {n: f for n, f in self.libraries.items() if DESKTOP_PROVIDED.match(n)}

    @property
    def ok(self) -> bool:
        return not (self.tools or self.blocking_libraries() or self.problems)


def missing_libraries(
    files: Iterable[Path],
    library_path: Sequence[Path] = (),
    *,
    skip_without_qt: bool = False,
) -> dict[str, set[str]]:
    """Run ``ldd`` on each file; soname → names of the files that cannot find it.

    ``skip_without_qt``: leave out a Qt plugin that needs a Qt library the
    wheel does not have (a virtual keyboard plugin without Qt Virtual
    Keyboard, say), as PyInstaller leaves it out of the bundle.
    """
    env = dict(os.environ)
    if library_path:
        extra = os.pathsep.join(str(p) for p in library_path)
        env["LD_LIBRARY_PATH"] = extra + (
            os.pathsep + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else ""
        )
    missing: dict[str, set[str]] = {}
    for path in files:
        result = subprocess.run(
            ["ldd", str(path)], capture_output=True, text=True, env=env, check=False
        )
        names = [m.group(1) for m in map(_LDD_LINE.match, result.stdout.splitlines()) if m]
        if skip_without_qt and any(name.startswith("libQt6") for name in names):
            continue
        for name in names:
            missing.setdefault(name, set()).add(path.name)
    return missing


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def pyside6_files() -> tuple[list[Path], list[Path]]:
    """The installed PySide6 files the bundle takes, and the folders their Qt libraries are in."""
    spec = importlib.util.find_spec("PySide6")  # finds the package without loading Qt
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(
            "PySide6 is not installed in this Python; run "
            "`.venv/bin/pip install -e '.[packaging]'` and build with .venv/bin/python"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    qt = package / "Qt"
    files = [qt / "lib" / f"libQt6{name}.so.6" for name in QT_LIBRARIES]
    files = [f for f in files if f.exists()]
    for folder in QT_PLUGIN_DIRS:
        for plugin in sorted((qt / "plugins" / folder).glob("*.so")):
            relative = plugin.relative_to(qt).as_posix()
            if not contents.qt_file_dropped(relative):
                files.append(plugin)
    files += [package / f"{name}.abi3.so" for name in PYSIDE_MODULES]
    files += sorted(package.glob("libpyside6*.so*"))
    return files, [qt / "lib", package]


def bundle_files(bundle: Path) -> tuple[list[Path], list[Path]]:
    """Every ELF file in a built bundle, and the folders the bundle loads libraries from."""
    internal = bundle / "_internal"
    files = [p for p in sorted(bundle.rglob("*")) if p.is_file() and is_elf(p)]
    return files, [internal, internal / "PySide6" / "Qt" / "lib", internal / "PySide6"]


def python_library_problem() -> str | None:
    """PyInstaller needs the Python interpreter as a shared library."""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        return (
            f"this Python ({sys.executable}) has no shared library (libpython{version}.so), "
            f"which PyInstaller needs: use Debian's python{version} with the package "
            f"libpython{version}, or build Python with --enable-shared "
            "(pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install ...)"
        )
    return None


def check(files: Sequence[Path] | None = None, *, bundle: Path | None = None) -> Findings:
    """Everything this machine lacks for the build (or a built bundle lacks to run)."""
    findings = Findings()
    for tool, package in TOOLS.items():
        if shutil.which(tool) is None:
            findings.tools[tool] = package
    if "ldd" in findings.tools:
        return findings  # nothing more can be checked without it
    library_path: list[Path] = []
    from_wheel = False
    if bundle is not None:
        if not (bundle / "_internal").is_dir():
            findings.problems.append(f"{bundle} is not a built bundle (no _internal folder)")
            return findings
        targets, library_path = bundle_files(bundle)
    elif files:
        targets = list(files)
        for target in targets:
            if not target.is_file():
                findings.problems.append(f"{target} does not exist")
        targets = [t for t in targets if t.is_file()]
        with contextlib.suppress(LookupError):  # the wheel's Qt libraries, as bundled
            library_path = pyside6_files()[1]
    else:
        problem = python_library_problem()
        if problem:
            findings.problems.append(problem)
        try:
            targets, library_path = pyside6_files()
        except LookupError as exc:
            findings.problems.append(str(exc))
            return findings
        from_wheel = True
    findings.libraries = missing_libraries(targets, library_path, skip_without_qt=from_wheel)
    return findings


def package_for(soname: str) -> str | None:
    """The Debian package that provides ``soname``, when known."""
    return DEBIAN_PACKAGES.get(soname)


def report(findings: Findings, *, bundle: Path | None = None) -> str:
    """The message for the operator: what is missing, and the apt-get line that fixes it."""
    lines: list[str] = []
    packages: list[str] = []
    unknown: list[str] = []
    for tool, package in sorted(findings.tools.items()):
        lines.append(f"  the `{tool}` command (Debian package {package})")
        packages.append(package)
    for soname, users in sorted(findings.blocking_libraries().items()):
        needed_by = ", ".join(sorted(users)[:3]) + (" ..." if len(users) > 3 else "")
        known = package_for(soname)
        if known:
            lines.append(f"  {soname} (Debian package {known}), needed by {needed_by}")
            if known not in packages:
                packages.append(known)
        else:
            lines.append(f"  {soname}, needed by {needed_by}")
            unknown.append(soname)
    out: list[str] = []
    if lines:
        what = "the bundle in " + str(bundle) if bundle else "this machine"
        out.append(f"noc-console packaging: {what} is missing:")
        out.extend(lines)
        if packages:
            out.append("Install with:")
            out.append(f"  sudo apt-get install {' '.join(packages)}")
        for soname in unknown:
            out.append(f"Find the package that provides {soname} with: apt-file search {soname}")
    out.extend(f"noc-console packaging: {problem}" for problem in findings.problems)
    desktop = findings.desktop_libraries()
    if desktop:
        names = ", ".join(
            f"{n} ({package_for(n)})" if package_for(n) else n for n in sorted(desktop)
        )
        out.append(
            "Note: not needed to build, but the desks that run the app must have "
            f"(every X11 or Wayland desktop does): {names}"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_system.py",
        description="Check that this machine can build the NOC Console bundle.",
    )
    parser.add_argument(
        "--bundle", type=Path, metavar="DIR", help="check a built bundle (dist/noc-console)"
    )
    parser.add_argument("files", nargs="*", type=Path, help="check only these ELF files")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("check_system.py checks Linux builds; see docs/packaging.md for other systems")
        return 0
    findings = check(args.files or None, bundle=args.bundle)
    text = report(findings, bundle=args.bundle)
    if text:
        print(text, file=sys.stderr if not findings.ok else sys.stdout)
    return 0 if findings.ok else 1


if __name__ == "__main__":
    sys.exit(main())
