"""``python -m console`` is the same as the ``noc-console`` command."""

import sys

from console.cli.main import main

sys.exit(main())
