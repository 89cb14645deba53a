"""``noc-console export pir --incident ID --format md|pdf|json``: one cached review.

Reads the local cache only (sync first). Markdown and JSON go to stdout (or
``--output``); a PDF needs ``--output FILE`` and is laid out by Qt (an
offscreen Qt is started when there is no display).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.services.pir_report import find_pir, to_json, to_markdown
from console.store import Cache

EXIT_OK = 0
EXIT_USAGE = 2


def run(args: argparse.Namespace, cache_path: Path) -> int:
    """Export one review; 0 on success, 2 on a usage or lookup problem."""
    fmt = "md" if args.format == "csv" else args.format
    if args.incident is None:
        print("noc-console export pir: give --incident ID (e.g. INC-000042)", file=sys.stderr)
        return EXIT_USAGE
    if fmt not in ("md", "pdf", "json"):
        print("noc-console export pir: --format is md, pdf or json", file=sys.stderr)
        return EXIT_USAGE
    output = getattr(args, "output", None)
    if fmt == "pdf" and not output:
        print("noc-console export pir: a PDF needs --output FILE.pdf", file=sys.stderr)
        return EXIT_USAGE
    with Cache.open(cache_path) as cache:
        doc = find_pir(cache.reference("pirs"), args.incident)
    if doc is None:
        print(
            f"noc-console export pir: no cached review for {args.incident!r}; draft one in the "
            "console (Reviews, Ctrl+5) or sync first with `noc-console sync --once`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if fmt == "pdf":
        from console.views.pir_pdf import write_pdf_headless

        write_pdf_headless(doc, Path(str(output)))
        return EXIT_OK
    text = to_markdown(doc) if fmt == "md" else to_json(doc)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK
