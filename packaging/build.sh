#!/usr/bin/env bash
# Build NOC Console as a one-folder Linux desktop app: dist/noc-console/.
#
#   bash packaging/build.sh [--dist DIR] [--clean] [--tar]
#
# 1. checks this machine (packaging/check_system.py): the tools PyInstaller
#    needs and the system libraries Qt's plugins link against, naming the
#    Debian packages to install;
# 2. runs PyInstaller with packaging/pyinstaller/noc-console.spec;
# 3. adds the desktop entry, AppStream metainfo, icons and install.sh next to
#    the executable, so the folder (or its tarball, --tar) is what a site installs;
# 4. checks that every binary in the bundle finds its libraries;
# 5. prints the bundle's size and the build time.
#
# Python: $PYTHON, else .venv/bin/python. PyInstaller comes from the
# `packaging` extra, installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=dist
CLEAN=()
TAR=0
while (($#)); do
    case "$1" in
        --dist) DIST="$2"; shift 2 ;;
        --clean) CLEAN=(--clean); shift ;;
        --tar) TAR=1; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

PY="${PYTHON:-.venv/bin/python}"
if [[ ! -x "$PY" ]]; then
    echo "build.sh: no Python at $PY; create the environment first:" >&2
    echo "  python3 -m venv .venv && .venv/bin/pip install -e '.[packaging]'" >&2
    exit 2
fi
started=$(date +%s.%N)

echo "== checking this machine"
"$PY" packaging/check_system.py

if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    echo "== installing the packaging extra (PyInstaller)"
    "$PY" -m pip install -q -e '.[packaging]'
fi

VERSION=$("$PY" -c "import console; print(console.__version__)")
WORK=build/pyinstaller
mkdir -p "$WORK"

echo "== PyInstaller (log: $WORK/pyinstaller.log)"
if ! "$PY" -m PyInstaller --noconfirm "${CLEAN[@]}" --log-level WARN \
        --distpath "$DIST" --workpath "$WORK" \
        packaging/pyinstaller/noc-console.spec >"$WORK/pyinstaller.log" 2>&1; then
    tail -n 30 "$WORK/pyinstaller.log" >&2
    echo "build.sh: PyInstaller failed; the whole log is in $WORK/pyinstaller.log" >&2
    exit 1
fi
grep -E "WARNING|ERROR" "$WORK/pyinstaller.log" \
    | grep -vE 'Hidden import "(pysqlite2|MySQLdb|psycopg2|psycopg_binary\._uuid)" not found|Library (ole32|shell32) required via ctypes' \
    || true

BUNDLE="$DIST/noc-console"
echo "== desktop entry, metainfo, icons and install.sh in $BUNDLE"
bash packaging/linux/stage.sh "$BUNDLE"

echo "== checking the bundle's libraries"
"$PY" packaging/check_system.py --bundle "$BUNDLE"

if ((TAR)); then
    tarball="$DIST/noc-console-$VERSION-linux-$(uname -m).tar.gz"
    tar -C "$DIST" -czf "$tarball" noc-console
    echo "tarball: $tarball ($(du -h "$tarball" | cut -f1))"
fi

finished=$(date +%s.%N)
size_mb=$(du -sb "$BUNDLE" | awk '{printf "%.1f", $1 / 1048576}')
build_s=$(awk -v a="$started" -v b="$finished" 'BEGIN {printf "%.1f", b - a}')
echo "built $BUNDLE/noc-console ($VERSION): $size_mb MB on disk, in $build_s s"
