"""``python -m bench [NAME ...]``: run every benchmark, or the named ones.

Names are the module names in ``bench/`` (``python -m bench --list`` shows them).
Options after a single name go to that benchmark: ``python -m bench server --vs-rt URL``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

import bench


def available() -> list[str]:
    """Benchmark module names, in a stable order."""
    return sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    # Options after the names go to the benchmark (e.g. ``server --vs-rt URL``).
    args, extra = parser.parse_known_args(argv)
    names = available()
    if args.list:
        print("\n".join(names))
        return 0
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(names)}")
    failed: list[str] = []
    for name in args.names or names:
        module = importlib.import_module(f"bench.{name}")
        bench.note(f"bench {name}")
        started = time.perf_counter()
        try:
            if extra:
                if len(args.names) != 1:
                    parser.error(f"options {' '.join(extra)} need exactly one benchmark name")
                module.run(extra)
            else:
                module.run()
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(name)
        bench.note(f"bench {name} took {time.perf_counter() - started:.1f} s")
    if failed:
        print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
