"""Shipped resources load the same from a source checkout and from an installed wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from console.config import resources
from console.views.theme import THEMES

REPO = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: import the console, find its resources, read a
# demo file and a style sheet, and report where they came from.
PROBE = """
import json, console, console.config.resources as r
root = r.resources_root()
services = json.loads(r.read_text("demo", "services.json"))
style = r.read_text("styles", "dark.qss")
print(json.dumps({
    "package": console.__file__,
    "root": str(root),
    "services": len(services),
    "style": "QTableView" in style,
    "icon": r.resource_path("icons", "noc-console.svg").is_file(),
}))
"""


def test_resources_load_from_the_source_checkout() -> None:
    assert resources.resources_root() == REPO / "resources"
    services = json.loads(resources.read_text("demo", "services.json"))
    assert len(services) == 15
    for theme in THEMES:
        assert "QTableView" in resources.read_text("styles", f"{theme}.qss")
    assert (
        resources.resource_path("icons", "noc-console.svg")
        .read_text(encoding="utf-8")
        .startswith("<?xml")
    )


def test_a_missing_resource_says_which() -> None:
    with pytest.raises(resources.ResourceMissing, match=r"styles/nope\.qss"):
        resources.resource_path("styles", "nope.qss")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_resources_load_from_an_installed_wheel(tmp_path: Path) -> None:
    """Build the wheel as a release would (pip with hatchling), unpack it, and import from it."""
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheels),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("noc_console-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    assert (site / "console" / "_resources" / "demo" / "incidents.json").is_file()

    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,  # not the checkout, whose folder would shadow the wheel
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert Path(found["package"]).parent == site / "console"
    assert Path(found["root"]) == site / "console" / "_resources"
    assert found["services"] == 15
    assert found["style"]
    assert found["icon"]
