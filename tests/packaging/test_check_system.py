"""The build's system check names the Debian package for whatever is missing.

A missing library is made for real: a copy of one of the wheel's Qt plugins
whose list of needed libraries is edited in place, so ``ldd`` (the same
loader a desk would run) cannot find one of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import check_system
import pytest

from tests.helpers.env import require_or_skip
from tests.helpers.packaging import PACKAGING, TOOLS_ENV, require_tool

SCRIPT = PACKAGING / "check_system.py"


def run_check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def installed_sonames() -> set[str]:
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in listing.stdout.splitlines()[1:] if line.strip()}


def plugin_needing(tmp_path: Path, missing: str) -> Path:
    """A copy of the wheel's minimal platform plugin that needs ``missing`` instead of FreeType."""
    files, _ = check_system.pyside6_files()
    (original,) = [f for f in files if f.name == "libqminimal.so"]
    data = original.read_bytes()
    old = b"libfreetype.so.6\0"
    new = missing.encode() + b"\0"
    assert data.count(old) == 1
    assert len(new) <= len(old)
    patched = tmp_path / "libqminimal.so"
    patched.write_bytes(data.replace(old, new.ljust(len(old), b"\0")))
    return patched


def test_this_machine_can_build() -> None:
    """What CI's smoke test needs installed is installed (see docs/packaging.md).

    On a developer's machine without the build's libraries this skips, showing
    the check's message (the packages to install); CI makes it fail instead.
    """
    require_tool("objdump", "binutils")
    result = run_check()
    require_or_skip(result.returncode == 0, result.stderr.strip(), TOOLS_ENV)


def test_a_missing_library_names_its_debian_package(tmp_path: Path) -> None:
    require_tool("ldd", "libc-bin")
    absent = installed_sonames()
    candidates = [
        soname
        for soname in check_system.DEBIAN_PACKAGES
        if soname not in absent
        and not check_system.DESKTOP_PROVIDED.match(soname)
        and len(soname) <= len("libfreetype.so.6")
    ]
    if not candidates:
        pytest.skip("every library in the table is installed here")
    soname = candidates[0]
    package = check_system.DEBIAN_PACKAGES[soname]
    result = run_check(str(plugin_needing(tmp_path, soname)))
    assert result.returncode == 1
    assert f"{soname} (Debian package {package}), needed by libqminimal.so" in result.stderr
    assert f"sudo apt-get install {package}" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_library_says_how_to_find_its_package(tmp_path: Path) -> None:
    require_tool("ldd", "libc-bin")
    result = run_check(str(plugin_needing(tmp_path, "libnocgone.so.7")))
    assert result.returncode == 1
    assert "libnocgone.so.7, needed by libqminimal.so" in result.stderr
    assert "apt-file search libnocgone.so.7" in result.stderr


def test_a_library_the_desktop_provides_does_not_stop_the_build(tmp_path: Path) -> None:
    """PyInstaller never bundles the graphics stack; the desk's own copy is used."""
    require_tool("ldd", "libc-bin")
    result = run_check(str(plugin_needing(tmp_path, "libxcb-dri9.so.0")))
    assert result.returncode == 0, result.stderr
    assert "libxcb-dri9.so.0" in result.stdout
    assert "not needed to build" in result.stdout


def test_a_missing_tool_names_its_package(tmp_path: Path) -> None:
    """Without objdump (binutils) PyInstaller cannot analyse binaries."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ldd = require_tool("ldd", "libc-bin")
    (bin_dir / "ldd").symlink_to(ldd)
    for shell in ("bash", "sh"):  # ldd is a shell script
        found = shutil.which(shell)
        if found:
            (bin_dir / shell).symlink_to(found)
    result = run_check(env=dict(os.environ, PATH=str(bin_dir)))
    assert result.returncode == 1
    assert "the `objdump` command (Debian package binutils)" in result.stderr
    assert "sudo apt-get install binutils" in result.stderr


def test_the_table_agrees_with_dpkg() -> None:
    """Each library installed here really comes from the package the table names."""
    dpkg = require_tool("dpkg", "dpkg")
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True)
    paths: dict[str, str] = {}
    for line in listing.stdout.splitlines()[1:]:
        name, _, path = line.strip().partition(" => ")
        if name and path:
            paths.setdefault(name.split()[0], path)
    checked = 0
    for soname, package in check_system.DEBIAN_PACKAGES.items():
        path = paths.get(soname)
        if path is None:
            continue
        owner = subprocess.run(
            [dpkg, "-S", os.path.realpath(path)], capture_output=True, text=True, check=False
        )
        if owner.returncode != 0:
            continue  # a library not from a package (a local build): nothing to compare
        owners = {entry.split(":")[0] for entry in owner.stdout.split(", ")}
        assert package in owners, f"{soname}: the table says {package}, dpkg says {owners}"
        checked += 1
    assert checked >= 10
