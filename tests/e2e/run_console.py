"""``python -m tests.e2e.run_console ARGS``: ``python -m console ARGS`` for the tests.

Makes sure the ``sync`` and ``export`` sub-commands are registered (they are
added to ``console.cli.main.SUBCOMMANDS`` in the project; until then this registers
them the same way), then runs the real entry point.
"""

from __future__ import annotations

import sys

from console.cli import main as cli

cli.SUBCOMMANDS.setdefault(
    "sync", ("console.cli.sync", "sync the local cache with a backend (--once: catch up and exit)")
)
cli.SUBCOMMANDS.setdefault(
    "export", ("console.cli.export", "print the cached incidents as JSON or CSV")
)

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
