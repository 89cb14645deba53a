"""The desktop entry, the AppStream metainfo and the icons a site installs.

Validated with the same tools distributions use: ``desktop-file-validate``
(desktop-file-utils) and ``appstreamcli validate`` (appstream).
"""

from __future__ import annotations

import configparser
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET

import contents
import pytest
from PySide6.QtGui import QImage

from console import __version__
from console.cli.main import gui_parser
from console.config import paths
from tests.helpers.packaging import PACKAGING, REPO, require_tool

LINUX = PACKAGING / "linux"
DESKTOP = LINUX / f"{contents.APP_ID}.desktop"
METAINFO = LINUX / f"{contents.APP_ID}.metainfo.xml"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def desktop_entry() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser


def test_the_desktop_entry_validates() -> None:
    validator = require_tool("desktop-file-validate", "desktop-file-utils")
    result = subprocess.run([validator, str(DESKTOP)], capture_output=True, text=True)
    # It prints hints and warnings as well as errors; the entry must have none.
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_the_metainfo_validates() -> None:
    appstreamcli = require_tool("appstreamcli", "appstream")
    result = subprocess.run(
        [appstreamcli, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation was successful" in result.stdout
    # Infos are allowed (0.16 does not know the newer <developer> tag); warnings and errors not.
    assert "W:" not in result.stdout, result.stdout
    assert "E:" not in result.stdout, result.stdout


def test_the_desktop_entry_starts_the_console_and_offers_the_wall() -> None:
    entry = desktop_entry()
    main = entry["Desktop Entry"]
    assert main["Exec"] == "noc-console"
    assert main["Icon"] == contents.APP_ID
    assert "wall" in main["Actions"].split(";")
    wall = entry["Desktop Action wall"]
    assert wall["Exec"] == "noc-console --wall"
    # Every action's options are ones the command accepts.
    for section in entry.sections():
        if section.startswith("Desktop Action "):
            options = entry[section]["Exec"].split()[1:]
            gui_parser().parse_args(options)


def test_one_application_id_everywhere() -> None:
    """The id names the desktop entry, the metainfo and the icons, and the app announces it."""
    assert contents.APP_ID == paths.APP_ID
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == contents.APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == "noc-console"
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert "noc-console" in scripts


def test_the_metainfo_lists_the_current_version() -> None:
    """A version bump without a release entry would show software centres the old one."""
    root = ET.parse(METAINFO).getroot()
    releases = [r.get("version") for r in root.iterfind("releases/release")]
    assert releases, "no <release> in the metainfo"
    assert releases[0] == __version__


@pytest.mark.parametrize("size", ICON_SIZES)
def test_the_icon_exists_at_every_size(size: int) -> None:
    icon = QImage(str(REPO / "resources" / "icons" / f"noc-console-{size}.png"))
    assert not icon.isNull()
    assert (icon.width(), icon.height()) == (size, size)
    assert icon.hasAlphaChannel()
    # Not blank: the middle of the icon is the dark screen.
    assert icon.pixelColor(size // 2, size // 2).alpha() == 255


def test_the_committed_pngs_match_the_svg() -> None:
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "icons.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


KIOSK = LINUX / "kiosk"


def test_the_kiosk_autostart_entry_validates() -> None:
    validator = require_tool("desktop-file-validate", "desktop-file-utils")
    entry = KIOSK / "noc-console-wall.desktop"
    result = subprocess.run([validator, str(entry)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_the_kiosk_files_start_the_wall_with_a_token_from_the_environment() -> None:
    """The autostart entry and the systemd unit both start --wall with --token-env."""
    autostart = configparser.ConfigParser(interpolation=None)
    autostart.optionxform = str  # type: ignore[assignment,method-assign]
    autostart.read(KIOSK / "noc-console-wall.desktop", encoding="utf-8")
    service = configparser.ConfigParser(interpolation=None)
    service.optionxform = str  # type: ignore[assignment,method-assign]
    service.read(KIOSK / "noc-console-wall.service", encoding="utf-8")
    commands = [autostart["Desktop Entry"]["Exec"], service["Service"]["ExecStart"]]
    for command in commands:
        program, *options = command.split()
        assert program.endswith("noc-console")
        args = gui_parser().parse_args(options)
        assert args.wall
        assert args.token_env == "NOC_WALL_TOKEN"
