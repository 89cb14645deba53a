"""The ``noc-console`` command: the desktop console, and headless sub-commands.

``noc-console [options]`` opens the console. ``noc-console SUBCOMMAND ...`` runs
a headless job (``serve``, ``token``, ``sync``, ``export``, ``metrics``,
``doctor``). Sub-commands are imported only when used, so opening the console
does not pay for the server's imports. A word that is no sub-command is refused
with the list of those there are (not taken for the console's options).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from console import __version__

# name → (module, one-line help). Each module has ``add_arguments(parser)``
# and ``run(args) -> int``.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("console.server.cli.serve", "run the reference ticket API server"),
    "token": ("console.server.cli.token", "create, list and revoke API tokens"),
    "sync": ("console.cli.sync", "sync the local cache with a backend (--once: catch up and exit)"),
    "export": (
        "console.cli.export",
        "print the cached incidents, or their timelines, as JSON or CSV",
    ),
    "doctor": (
        "console.cli.doctor",
        "check that this machine can open the window (names missing system libraries)",
    ),
    "metrics": (
        "console.cli.metrics",
        "MTTA, MTTR, SLA compliance, FCR, reopens, CSAT and volume over the local cache",
    ),
}
EXIT_USAGE = 2


def gui_parser() -> argparse.ArgumentParser:
    """Options for opening the desktop console."""
    # The connection options are shared with `noc-console sync` (headless, no Qt).
    from console.cli.options import add_connection_arguments

    parser = argparse.ArgumentParser(
        prog="noc-console",
        description="NOC Console: the live incident queue, board and escalation matrix.",
        epilog="Headless commands: "
        + "; ".join(f"noc-console {name} — {text}" for name, (_, text) in SUBCOMMANDS.items()),
    )
    parser.add_argument("--version", action="version", version=f"noc-console {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="load the demo NOC (services, contacts, incidents); stays offline, no syncing",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        help="render the window to PATH (PNG) once data is shown, then exit",
    )
    parser.add_argument(
        "--wall",
        action="store_true",
        help="open the read-only wall display full screen (a viewer token is enough)",
    )
    parser.add_argument(
        "--backend",
        metavar="URL",
        help="the backend to sync with: our server's URL, or rt+https://… for Request Tracker "
        "(with --queue) (default: the first of `backends` in settings.toml; with none, a "
        "built-in server on 127.0.0.1 over a database in the data folder)",
    )
    add_connection_arguments(parser)
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder for the local cache (default: the user data folder)",
    )
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        help="folder for settings.toml (default: the user config folder)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``noc-console`` and ``python -m console``."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in SUBCOMMANDS:
        name = args_list[0]
        module_name, text = SUBCOMMANDS[name]
        if name == "serve":
            problem = check_serve_database(args_list[1:])
            if problem:
                print(f"noc-console serve: {problem}", file=sys.stderr)
                return EXIT_USAGE
            args_list = [a for a in args_list if a != "--create"]
        module = importlib.import_module(module_name)
        parser = argparse.ArgumentParser(prog=f"noc-console {name}", description=text)
        module.add_arguments(parser)
        if name == "serve":
            parser.add_argument(
                "--create",
                action="store_true",
                help="create the SQLite file's folder if it does not exist yet",
            )
        return int(module.run(parser.parse_args(args_list[1:])))
    if args_list and not args_list[0].startswith("-"):
        print(unknown_command(args_list[0]), file=sys.stderr)
        return EXIT_USAGE
    args = gui_parser().parse_args(args_list)
    from console.app.gui import run_gui

    return run_gui(args)


def unknown_command(word: str) -> str:
    """``noc-console frob``: what there is instead (and the likeliest one meant)."""
    import difflib

    lines = [f"noc-console: {word!r} is not a command."]
    close = difflib.get_close_matches(word, list(SUBCOMMANDS), n=1)
    if close:
        lines.append(f"Did you mean `noc-console {close[0]}`?")
    lines.append("The commands are:")
    width = max(len(name) for name in SUBCOMMANDS)
    lines += [f"  {name.ljust(width)}  {text}" for name, (_, text) in SUBCOMMANDS.items()]
    lines.append("Without a command, `noc-console` opens the console (see noc-console --help).")
    return "\n".join(lines)


def check_serve_database(args: Sequence[str]) -> str | None:
    """``serve --db PATH``: refuse a SQLite file whose folder is missing, unless ``--create``.

    Without the check a typo (``/srv/noc/noc.db`` for ``/srv/nocdata/noc.db``)
    silently made new folders and an empty database, and the server answered
    with no incidents. With ``--create`` the folder is made here. A PostgreSQL
    URL and the default (the data folder) are left to the server.
    """
    value: str | None = None
    for position, arg in enumerate(args):
        if arg == "--db" and position + 1 < len(args):
            value = args[position + 1]
        elif arg.startswith("--db="):
            value = arg.split("=", 1)[1]
    if not value:
        return None
    if value.startswith("sqlite:///"):
        value = value[len("sqlite:///") :]
    elif "://" in value:
        return None
    folder = Path(value).expanduser().parent
    if folder.is_dir():
        return None
    if "--create" in args:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"cannot create the folder {folder} ({exc.strerror or exc})"
        return None
    return (
        f"the folder {folder} for the database {value} does not exist. Check the path; "
        "to start a new, empty database there, add --create"
    )
