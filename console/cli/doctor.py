"""``noc-console doctor``: can the console open a window on this machine? If not, what to install.

Qt's own message when a system library of its X11 (xcb) platform plugin is
missing is "could not load the Qt platform plugin "xcb" … reinstalling the
application may fix this", which sends people the wrong way. ``doctor`` runs
the system's loader check (``ldd``) on the Qt libraries and plugins the window
needs, names each missing library with its Debian/Ubuntu package and prints
the ``apt-get install`` line; it also says whether there is a display to open
a window on, and whether the OS keyring can keep API tokens.

Standard library only (it must run where Qt cannot load). Exit code 0:
nothing missing; 1: something is missing (the message says what to install).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_MISSING = 1

DEBIAN_PACKAGES: Mapping[str, str] = {
    # Shared libraries the PySide6 wheel's Qt links against, by soname, with
    # the Debian 12 (bookworm) package that provides each; Ubuntu uses the same
    # names. One table for `noc-console doctor` and the bundle's build check
    # (packaging/check_system.py imports it).
    "libatk-1.0.so.0": "libatk1.0-0",
    "libbrotlicommon.so.1": "libbrotli1",
    "libbrotlidec.so.1": "libbrotli1",
    "libcairo-gobject.so.2": "libcairo-gobject2",
    "libcairo.so.2": "libcairo2",
    "libcups.so.2": "libcups2",
    "libdbus-1.so.3": "libdbus-1-3",
    "libdrm.so.2": "libdrm2",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libgbm.so.1": "libgbm1",
    "libgcc_s.so.1": "libgcc-s1",
    "libgdk-3.so.0": "libgtk-3-0",
    "libgdk_pixbuf-2.0.so.0": "libgdk-pixbuf-2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libGL.so.1": "libgl1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgtk-3.so.0": "libgtk-3-0",
    "libharfbuzz.so.0": "libharfbuzz0b",
    "libICE.so.6": "libice6",
    "libOpenGL.so.0": "libopengl0",
    "libpango-1.0.so.0": "libpango-1.0-0",
    "libpangocairo-1.0.so.0": "libpangocairo-1.0-0",
    "libpng16.so.16": "libpng16-16",
    "libSM.so.6": "libsm6",
    "libstdc++.so.6": "libstdc++6",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
}

# The window side of Qt: the libraries and the X11/Wayland platform plugins.
QT_FILES = (
    "Qt/lib/libQt6Core.so.6",
    "Qt/lib/libQt6Gui.so.6",
    "Qt/lib/libQt6Widgets.so.6",
    "Qt/lib/libQt6XcbQpa.so.6",
    "Qt/plugins/platforms/libqxcb.so",
)

_LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``noc-console doctor``."""
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="check these shared libraries instead of Qt's (for support)",
    )


def qt_files() -> tuple[list[Path], Path | None]:
    """The installed PySide6's window-side files, and its Qt library folder."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return [], None
    root = Path(next(iter(spec.submodule_search_locations)))
    return [root / name for name in QT_FILES if (root / name).exists()], root / "Qt" / "lib"


def missing_libraries(
    files: Iterable[Path], library_path: Sequence[Path] = ()
) -> dict[str, set[str]]:
    """``ldd`` each file; missing soname → the files that need it."""
    env = dict(os.environ)
    extra = os.pathsep.join(str(p) for p in library_path)
    if extra:
        env["LD_LIBRARY_PATH"] = extra + (
            os.pathsep + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else ""
        )
    missing: dict[str, set[str]] = {}
    for path in files:
        result = subprocess.run(
            ["ldd", str(path)], capture_output=True, text=True, env=env, check=False
        )
        for match in map(_LDD_LINE.match, result.stdout.splitlines()):
            if match:
                missing.setdefault(match.group(1), set()).add(path.name)
    return missing


def report(missing: Mapping[str, set[str]]) -> tuple[list[str], list[str]]:
    """The lines to print and the Debian packages to install."""
    lines: list[str] = []
    packages: list[str] = []
    for soname in sorted(missing):
        needed_by = ", ".join(sorted(missing[soname]))
        package = DEBIAN_PACKAGES.get(soname)
        if package is None:
            lines.append(
                f"✖ missing {soname}, needed by {needed_by} "
                f"(find its package with: apt-file search {soname})"
            )
        else:
            lines.append(f"✖ missing {soname} (package {package}), needed by {needed_by}")
            if package not in packages:
                packages.append(package)
    return lines, packages


def _display_line() -> str:
    if os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY"):
        return "✔ a display to open the window on"
    if os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"):
        return f"• no display: QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']} (no window shown)"
    return (
        "• no display (neither DISPLAY nor WAYLAND_DISPLAY is set): start the console from a "
        "desktop session; `noc-console --screenshot out.png` works with QT_QPA_PLATFORM=offscreen"
    )


def _keyring_line() -> str:
    try:
        import keyring
        import keyring.backends.fail
    except ImportError:
        return "• the keyring package is not installed: API tokens cannot be kept"
    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        return (
            "• no OS keyring to keep API tokens in (on Linux: a Secret Service such as "
            "gnome-keyring); the console asks for the token each session"
        )
    return f"✔ the OS keyring keeps API tokens ({type(backend).__name__})"


def run(args: argparse.Namespace) -> int:
    """Check and print; 0 when nothing is missing, 1 otherwise."""
    if not sys.platform.startswith("linux"):
        print("noc-console doctor: the library check is for Linux; nothing to check here.")
        return EXIT_OK
    if shutil.which("ldd") is None:
        print(
            "noc-console doctor: the `ldd` command is missing (package libc-bin); "
            "install it and run this again",
            file=sys.stderr,
        )
        return EXIT_MISSING
    files: list[Path] = list(args.files)
    library_dir: Path | None = None
    if not files:
        files, library_dir = qt_files()
        if not files:
            print(
                "noc-console doctor: PySide6 (Qt) is not installed for this Python; "
                "reinstall NOC Console (pip install noc-console)",
                file=sys.stderr,
            )
            return EXIT_MISSING
    missing = missing_libraries(files, [library_dir] if library_dir else [])
    lines, packages = report(missing)
    if not missing:
        print(f"✔ Qt finds every system library it needs ({len(files)} files checked)")
    for line in lines:
        print(line)
    print(_display_line())
    print(_keyring_line())
    if missing:
        if packages:
            print(f"Install them with:  sudo apt-get install {' '.join(packages)}")
        return EXIT_MISSING
    return EXIT_OK
