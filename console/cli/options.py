"""Command-line options shared by the desktop console and ``noc-console sync``.

:func:`add_connection_arguments` adds how to reach the backend (token source,
CA bundle, RT queue, plain HTTP) to both parsers, so they read alike.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--token-env``, ``--ca-bundle`` and ``--queue``, shared with the GUI's command line."""
    parser.add_argument(
        "--token-env",
        metavar="VAR",
        help="read the API token from the environment variable VAR instead of the OS keyring "
        "(for kiosks without a keyring)",
    )
    parser.add_argument(
        "--ca-bundle",
        metavar="PEM",
        type=Path,
        help="trust the CA certificates in this PEM file for the backend's TLS certificate "
        "(a private CA); verification is always on",
    )
    parser.add_argument(
        "--queue",
        metavar="NAME",
        help="with a Request Tracker backend (rt+https://…): the RT queue to work "
        "(default: queue under [rt] in settings.toml)",
    )
    parser.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow a plain http:// backend on another machine: the API token then crosses "
        "the network unencrypted (only on a trusted network; the console shows a warning)",
    )
