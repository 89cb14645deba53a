"""Where the console keeps its settings and its local cache.

Defaults follow each platform's conventions (platformdirs). ``--data-dir`` and
``--config-dir`` on the command line, or ``NOC_CONSOLE_DATA_DIR`` and
``NOC_CONSOLE_CONFIG_DIR`` in the environment, move them, which is how tests
keep away from the real user's files.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "noc-console"
APP_ID = "org.nocconsole.NocConsole"
"""The application id: the desktop entry's and AppStream file's name (packaging/linux/)."""


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder for the cache database and the embedded server's database."""
    chosen = override or os.environ.get("NOC_CONSOLE_DATA_DIR")
    return Path(chosen) if chosen else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


DEMO_FOLDER = "demo"
"""The demo's own folder inside the data folder: its cache, outbox and drafts never
mix with real use's, and nothing in it is ever synced."""


def demo_data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where ``--demo`` keeps its cache: ``demo/`` inside :func:`data_dir`."""
    return data_dir(override) / DEMO_FOLDER


def config_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder for ``settings.toml``."""
    chosen = override or os.environ.get("NOC_CONSOLE_CONFIG_DIR")
    return Path(chosen) if chosen else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


class DataDirUnusable(OSError):
    """The data folder cannot be created or written; the message says where and why."""


def ensure_writable(folder: Path) -> Path:
    """Create ``folder`` if needed and prove it is writable, or raise with a clear message."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DataDirUnusable(
            f"cannot write to the data folder {folder} ({exc.strerror or exc}); "
            "make it writable, or choose another folder with --data-dir DIR "
            "(or the NOC_CONSOLE_DATA_DIR environment variable)"
        ) from exc
    return folder
