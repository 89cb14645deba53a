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


# Databases hold incidents, contacts' phone numbers and token hashes: on
# POSIX the folders we create are 0700 and the database files 0600. On
# Windows chmod cannot say that; files inherit the folder's ACL, and the
# default data folder (under %LOCALAPPDATA%) is readable by the user, the
# administrators and SYSTEM only.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _posix() -> bool:
    return os.name == "posix"


def private_folder(folder: Path) -> Path:
    """Create ``folder`` (and missing parents) 0700; tighten the console's own data folder.

    A folder that already exists is tightened only when it is the data folder
    (the default or ``NOC_CONSOLE_DATA_DIR``): a folder the operator named
    (``--data-dir``, ``--db /srv/noc/server.db``) may be shared on purpose.
    """
    missing = [parent for parent in (folder, *folder.parents) if not parent.exists()]
    for parent in reversed(missing):
        parent.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        if _posix():
            os.chmod(parent, PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask
    if _posix() and not missing and folder.is_dir():
        try:
            own = folder.stat().st_uid == os.getuid()
            if own and folder.resolve() == data_dir().resolve():
                os.chmod(folder, PRIVATE_DIR_MODE)
        except OSError:
            pass  # not ours to change; the files inside are still 0600
    return folder


def private_database(path: Path) -> None:
    """Create the SQLite file ``path`` 0600 if missing, and tighten it and its -wal/-shm.

    SQLite creates the -wal and -shm files with the database file's
    permissions, so a database created here never has looser ones.
    """
    if not _posix():
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(descriptor)
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_SIDE_FILES)):
        try:
            info = candidate.stat()
            if info.st_uid == os.getuid() and info.st_mode & 0o077:
                os.chmod(candidate, PRIVATE_FILE_MODE)
        except OSError:
            pass  # missing side file, or not ours to change


def ensure_writable(folder: Path) -> Path:
    """Create ``folder`` if needed and prove it is writable, or raise with a clear message."""
    try:
        private_folder(folder)
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
