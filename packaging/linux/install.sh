#!/usr/bin/env bash
# Install (or remove) the NOC Console bundle this script sits in.
#
#   sudo ./install.sh                  # for everyone: /opt/noc-console, /usr/local/{bin,share}
#   ./install.sh --user                # for you: ~/.local/lib/noc-console, ~/.local/{bin,share}
#   ./install.sh --prefix DIR          # DIR/lib/noc-console, DIR/bin, DIR/share
#   ./install.sh [--user|--prefix DIR] --uninstall
#
# It copies the app, links `noc-console` into bin/, and installs the desktop
# entry (with its "Wall Display" action), the AppStream metainfo and the icons.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
app_id=org.nocconsole.NocConsole
mode=system
prefix=""
uninstall=0
while (($#)); do
    case "$1" in
        --user) mode=user; shift ;;
        --prefix) mode=prefix; prefix="$2"; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

case "$mode" in
    system) libdir=/opt/noc-console; bindir=/usr/local/bin; sharedir=/usr/local/share ;;
    user)
        data="${XDG_DATA_HOME:-$HOME/.local/share}"
        libdir="$HOME/.local/lib/noc-console"; bindir="$HOME/.local/bin"; sharedir="$data" ;;
    prefix)
        prefix="$(mkdir -p "$prefix" && cd "$prefix" && pwd)"
        libdir="$prefix/lib/noc-console"; bindir="$prefix/bin"; sharedir="$prefix/share" ;;
esac

installed_files() {
    echo "$sharedir/applications/$app_id.desktop"
    echo "$sharedir/metainfo/$app_id.metainfo.xml"
    (cd "$here/share" && find icons -type f) | sed "s|^|$sharedir/|"
}

refresh_caches() {
    # Menus pick the change up at once. The icon cache is refreshed only where
    # one exists: a new cache would hide icons installed later without one.
    if command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$sharedir/applications" 2>/dev/null || true
    fi
    if [[ -f "$sharedir/icons/hicolor/icon-theme.cache" ]] && command -v gtk-update-icon-cache >/dev/null; then
        gtk-update-icon-cache -q -f "$sharedir/icons/hicolor" 2>/dev/null || true
    fi
}

if ((uninstall)); then
    installed_files | xargs rm -f
    rm -f "$bindir/noc-console"
    rm -rf "$libdir"
    refresh_caches
    echo "removed NOC Console from $libdir"
    exit 0
fi

if [[ ! -x "$here/noc-console" || ! -d "$here/_internal" ]]; then
    echo "install.sh: run it from the unpacked NOC Console folder (noc-console, _internal/)" >&2
    exit 2
fi
if [[ "$mode" == system && ! -w /usr/local ]]; then
    echo "install.sh: installing for everyone needs root: sudo $0 (or $0 --user)" >&2
    exit 2
fi

if [[ "$here" != "$libdir" ]]; then
    rm -rf "$libdir"
    mkdir -p "$libdir"
    cp -a "$here/noc-console" "$here/_internal" "$libdir/"
fi
mkdir -p "$bindir"
ln -sfn "$libdir/noc-console" "$bindir/noc-console"

# The menu entry starts the app by its full path: bindir need not be on PATH.
mkdir -p "$sharedir/applications" "$sharedir/metainfo"
sed -e "s|^Exec=noc-console|Exec=$bindir/noc-console|" \
    -e "s|^TryExec=noc-console|TryExec=$bindir/noc-console|" \
    "$here/share/applications/$app_id.desktop" >"$sharedir/applications/$app_id.desktop"
chmod 644 "$sharedir/applications/$app_id.desktop"
install -m644 "$here/share/metainfo/$app_id.metainfo.xml" "$sharedir/metainfo/"
(cd "$here/share" && find icons -type f) | while read -r icon; do
    install -Dm644 "$here/share/$icon" "$sharedir/$icon"
done
refresh_caches
echo "installed NOC Console $("$libdir/noc-console" --version | cut -d' ' -f2) in $libdir"
echo "  command: $bindir/noc-console (wall display: noc-console --wall)"
echo "  menu entry: $sharedir/applications/$app_id.desktop"
