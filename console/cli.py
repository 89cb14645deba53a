"""The ``noc-console`` command: the desktop console, and headless sub-commands.

``noc-console [options]`` opens the console. ``noc-console SUBCOMMAND ...`` runs
a headless job (``serve``, ``token``, ``sync``, ``export``,
``metrics``). Sub-commands are
imported only when used, so opening the console does not pay for the server's
imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from console import __version__

# name → (module, one-line help). Each module has ``add_arguments(parser)``
# and ``run(args) -> int``.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("console.server.cli_serve", "run the reference ticket API server"),
    "token": ("console.server.cli_token", "create, list and revoke API tokens"),
    "sync": ("console.cli_sync", "sync the local cache with a backend (--once: catch up and exit)"),
    "export": (
        "console.cli_export",
        "print the cached incidents, or their timelines, as JSON or CSV",
    ),
    "metrics": (
        "console.cli_metrics",
        "MTTA, MTTR, SLA compliance, FCR, reopens, CSAT and volume over the local cache",
    ),
}


def gui_parser() -> argparse.ArgumentParser:
    """Options for opening the desktop console."""
    # The connection options are shared with `noc-console sync` (headless, no Qt).
    from console.cli_sync import add_connection_arguments

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
        module = importlib.import_module(module_name)
        parser = argparse.ArgumentParser(prog=f"noc-console {name}", description=text)
        module.add_arguments(parser)
        return int(module.run(parser.parse_args(args_list[1:])))
    args = gui_parser().parse_args(args_list)
    from console.app import run_gui

    return run_gui(args)
