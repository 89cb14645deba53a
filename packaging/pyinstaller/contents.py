"""What goes into the desktop bundle, in one place.

Read by the PyInstaller spec (``noc-console.spec``), by the system check that
runs before a build (``packaging/check_system.py``) and by the packaging
tests, so the three never disagree. Plain Python, standard library only.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

APP_NAME = "noc-console"
"""The executable's name and the bundle folder's name in ``dist/``."""

APP_ID = "org.nocconsole.NocConsole"
"""The reverse-DNS application id: desktop entry, AppStream component, icon name."""

RESOURCE_DIRS = ("demo", "icons", "sounds", "styles")
"""Every folder under ``resources/``; each is copied to ``<bundle>/_internal/resources/``.

A new folder under ``resources/`` must be added here (a test checks), so a
release never ships without it.
"""

RESOURCE_SKIP_SUFFIXES = (".py", ".pyc")
"""The generators next to the demo data and the sounds are for maintainers, not users."""

OPTIONAL_QT_MODULES = ("PySide6.QtMultimedia",)
"""Used when installed (distinct alert sounds, console/views/alerts.py); without it the
console plays the same sound files with the desktop's player command, else rings the bell.

PySide6-Essentials has no QtMultimedia; with PySide6-Addons in the build
environment the bundle takes it, with the FFmpeg libraries its plugin needs.
"""

CHART_QT_MODULES = ("PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets")
"""pyqtgraph (the metrics charts) imports these by name at run time, which
PyInstaller's import scan cannot see (about 1 MB; no OpenGL drawing is used)."""

EXCLUDED_MODULES = (
    # Qt modules the console never uses. PyInstaller only follows imports, but
    # saying so keeps a stray import (or a hook's guess) from pulling one of
    # these large modules into every install.
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtWebChannel",
    "PySide6.QtWebSockets",
    "PySide6.QtWebView",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickTest",
    "PySide6.QtQuick3D",
    "PySide6.Qt3DCore",
    "PySide6.Qt3DRender",
    "PySide6.Qt3DInput",
    "PySide6.Qt3DLogic",
    "PySide6.Qt3DExtras",
    "PySide6.Qt3DAnimation",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtSpatialAudio",
    "PySide6.QtTextToSpeech",
    "PySide6.QtCharts",
    "PySide6.QtDataVisualization",
    "PySide6.QtGraphs",
    "PySide6.QtGraphsWidgets",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtBluetooth",
    "PySide6.QtNfc",
    "PySide6.QtLocation",
    "PySide6.QtPositioning",
    "PySide6.QtSensors",
    "PySide6.QtSerialPort",
    "PySide6.QtSerialBus",
    "PySide6.QtRemoteObjects",
    "PySide6.QtScxml",
    "PySide6.QtStateMachine",
    "PySide6.QtHttpServer",
    "PySide6.QtNetworkAuth",
    "PySide6.QtConcurrent",
    "PySide6.QtAxContainer",
    # The rest of Python that a desktop app does not need.
    "tkinter",
    "unittest",
    # not "pydoc": numpy (the metrics charts, via pyqtgraph) imports it at start.
    "lib2to3",
    "yaml",  # uvicorn reads YAML logging configs with it; the console never passes one
    # Test and development tools that share the build environment.
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "schemathesis",
    "mypy",
    "ruff",
    "importlinter",
    "IPython",
)

EXCLUDED_QT_FILES = (
    # Display back-ends for embedded devices and their input plugins; desks
    # and wall PCs run X11 (xcb) or Wayland, and offscreen renders --screenshot.
    "plugins/platforms/libqeglfs.so",
    "plugins/platforms/libqlinuxfb.so",
    "plugins/platforms/libqminimalegl.so",
    "plugins/platforms/libqvnc.so",
    "plugins/platforms/libqvkkhrdisplay.so",
    "plugins/egldeviceintegrations/",
    "plugins/generic/",
    # The GTK theme would drag half of GTK (cairo, pango, atk...) into the
    # bundle, at the build machine's versions; the desktop portal theme and
    # Qt's own style cover GNOME.
    "plugins/platformthemes/libqgtk3.so",
    # Wayland: the desktop shell protocol (xdg-shell) is what every desktop
    # and kiosk compositor (GNOME, KDE, sway, cage) speaks.
    "plugins/wayland-shell-integration/libfullscreen-shell-v1.so",
    "plugins/wayland-shell-integration/libivi-shell.so",
    "plugins/wayland-shell-integration/libqt-shell.so",
    "plugins/wayland-shell-integration/libwl-shell-plugin.so",
    # Buffer sharing for nested compositors, which the console is not.
    "plugins/wayland-graphics-integration-client/libdmabuf-server.so",
    "plugins/wayland-graphics-integration-client/libdrm-egl-server.so",
    "plugins/wayland-graphics-integration-client/libshm-emulation-server.so",
    "plugins/wayland-graphics-integration-client/libvulkan-server.so",
    # Image formats nothing in the console reads (it uses SVG, PNG and ICO).
    "plugins/imageformats/libqpdf.so",
    "plugins/imageformats/libqtiff.so",
    "plugins/imageformats/libqwebp.so",
    "plugins/imageformats/libqtga.so",
    "plugins/imageformats/libqwbmp.so",
    "plugins/imageformats/libqicns.so",
    "plugins/imageformats/libqjpeg.so",
    "plugins/imageformats/libqgif.so",
    # QtNetwork comes along because every PySide6 module links it, but the
    # console talks HTTP through requests: no Qt TLS, no network status.
    "plugins/networkaccess/",
    "plugins/networkinformation/",
    "plugins/tls/",
    # Qt's translations: the console's own text is English only, so Qt's
    # dialogs stay English too (about 14 MB).
    "translations/",
)
"""Files under ``PySide6/Qt/`` the bundle leaves out (a trailing ``/``: the whole folder)."""


def qt_file_dropped(relative: str) -> bool:
    """True for a path under ``PySide6/Qt/`` (``plugins/platforms/libqvnc.so``) left out."""
    for pattern in EXCLUDED_QT_FILES:
        if relative == pattern or (pattern.endswith("/") and relative.startswith(pattern)):
            return True
    return False


FORBIDDEN_IN_BUNDLE = (
    "WebEngine",
    "Qt6Qml",
    "Qt6Quick",
    "Qt63D",
    "QtQml",
    "QtQuick",
    "Qt3D",
    "Qt6Pdf",
    "Qt6Charts",
    "Qt6Designer",
)
"""Name fragments no file in the built bundle may have (checked by the smoke test)."""
