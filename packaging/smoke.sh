#!/usr/bin/env bash
# Smoke test of the desktop bundle, as CI runs it:
#
#   bash packaging/smoke.sh [--keep]
#
# Builds the bundle into a temporary folder (packaging/build.sh), then runs
# the built executable offscreen (packaging/smoke.py): --version, the demo
# board and the wall to PNG (checked against the severity colours and against
# the same picture rendered from the source tree), the built-in server, an
# unwritable data folder, a headless export and install.sh. Prints the
# bundle size, build time and cold start. --keep leaves the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen

KEEP=0
[[ "${1:-}" == "--keep" ]] && KEEP=1
PY="${PYTHON:-.venv/bin/python}"
WORK="$(mktemp -d -t noc-console-smoke-XXXXXX)"
cleanup() { if ((KEEP)); then echo "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

started=$(date +%s.%N)
bash packaging/build.sh --dist "$WORK/dist"
finished=$(date +%s.%N)
build_s=$(awk -v a="$started" -v b="$finished" 'BEGIN {printf "%.1f", b - a}')

"$PY" packaging/smoke.py --bundle "$WORK/dist/noc-console" --work "$WORK" --build-seconds "$build_s"
