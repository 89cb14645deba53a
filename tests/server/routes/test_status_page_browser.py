"""The public status page in a real browser: headless Chromium from Debian's packages.

Chromium loads ``/status`` from a real server on loopback (no token), dumps
the rendered DOM and takes a phone-sized screenshot. The page must show the
customer update and never an internal or executive one. Skips without
Chromium unless ``NOC_REQUIRE_CHROMIUM=1`` (set by ``.ci/run``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.helpers.env import require_or_skip
from tests.helpers.majors import SEV1, _publish, _seed_service
from tests.helpers.servers import Api

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Keep the browser on loopback: no updates, sync, metrics or safe-browsing lookups.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--metrics-recording-only",
    "--window-size=390,844",
]


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_status_page_in_chromium(api: Api, tmp_path: Path) -> None:
    require_or_skip(CHROMIUM is not None, "chromium is not installed", "NOC_REQUIRE_CHROMIUM")
    _seed_service(api, customer_facing=True)
    incident = api.create(**SEV1)
    _publish(api, incident, text="INTERNAL: failover of db-07")
    _publish(api, incident, audience="executive", text="EXEC: revenue at risk")
    assert (
        _publish(
            api, incident, audience="customer", text="Payments are failing for some customers."
        ).status_code
        == 201
    )

    dom = _chromium(tmp_path, "--dump-dom", f"{api.url}/status")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Payments are failing for some customers." in dom.stdout
    assert "Checkout" in dom.stdout
    assert "INTERNAL" not in dom.stdout
    assert "EXEC" not in dom.stdout

    shot = tmp_path / "status.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", f"{api.url}/status")
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.exists()
    assert shot.stat().st_size > 2_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
