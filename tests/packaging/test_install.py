"""install.sh: what a site runs from the unpacked bundle.

The bundle here is staged by ``packaging/linux/stage.sh`` exactly as a build
stages it, around a stand-in executable (a shell script answering
``--version``): building the real one takes a minute, and
``packaging/smoke.sh`` installs that one the same way.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import contents
import pytest

from console import __version__
from tests.helpers.packaging import PACKAGING, require_tool

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "unpacked" / "noc-console"
    (folder / "_internal").mkdir(parents=True)
    executable = folder / "noc-console"
    executable.write_text(f'#!/bin/sh\necho "noc-console {__version__}"\n', encoding="utf-8")
    executable.chmod(0o755)
    subprocess.run(["bash", str(PACKAGING / "linux" / "stage.sh"), str(folder)], check=True)
    return folder


def install(bundle: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env["HOME"] = str(home)
    return subprocess.run(
        ["bash", str(bundle / "install.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_install_into_a_prefix_and_remove(bundle: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    result = install(bundle, "--prefix", str(prefix), home=tmp_path)
    assert result.returncode == 0, result.stderr
    command = prefix / "bin" / "noc-console"
    assert (
        subprocess.run(
            [str(command), "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        == f"noc-console {__version__}"
    )
    entry = prefix / "share" / "applications" / f"{contents.APP_ID}.desktop"
    text = entry.read_text(encoding="utf-8")
    # The menu starts the installed command by its full path, the wall action too.
    assert f"Exec={command}\n" in text
    assert f"Exec={command} --wall\n" in text
    validator = require_tool("desktop-file-validate", "desktop-file-utils")
    checked = subprocess.run([validator, str(entry)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    assert not checked.stdout.strip(), checked.stdout
    icons = prefix / "share" / "icons" / "hicolor"
    assert (icons / "scalable" / "apps" / f"{contents.APP_ID}.svg").is_file()
    for size in SIZES:
        assert (icons / f"{size}x{size}" / "apps" / f"{contents.APP_ID}.png").is_file()
    assert (prefix / "share" / "metainfo" / f"{contents.APP_ID}.metainfo.xml").is_file()

    removed = install(bundle, "--prefix", str(prefix), "--uninstall", home=tmp_path)
    assert removed.returncode == 0, removed.stderr
    # Only the desktop's own caches (refreshed, not owned by the app) remain.
    left = [
        p for p in prefix.rglob("*") if (p.is_file() or p.is_symlink()) and p.suffix != ".cache"
    ]
    assert left == []


def test_install_for_one_user(bundle: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = install(bundle, "--user", home=home)
    assert result.returncode == 0, result.stderr
    assert (home / ".local" / "bin" / "noc-console").resolve() == (
        home / ".local" / "lib" / "noc-console" / "noc-console"
    )
    assert (home / ".local" / "share" / "applications" / f"{contents.APP_ID}.desktop").is_file()


def test_install_from_the_wrong_folder_says_so(tmp_path: Path) -> None:
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "install.sh").write_bytes((PACKAGING / "linux" / "install.sh").read_bytes())
    result = install(stray, "--prefix", str(tmp_path / "prefix"), home=tmp_path)
    assert result.returncode == 2
    assert "run it from the unpacked NOC Console folder" in result.stderr
