"""The bundle's entry point: the same as ``noc-console`` and ``python -m console``."""

import sys

from console.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
