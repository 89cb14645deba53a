#!/usr/bin/env bash
# Add what a site installs besides the executable to a built bundle folder:
#
#   bash packaging/linux/stage.sh dist/noc-console
#
# share/applications/<id>.desktop, share/metainfo/<id>.metainfo.xml, the icons
# in share/icons/hicolor/ (SVG and PNG 16…512, named by the application id),
# and install.sh. packaging/build.sh runs it after PyInstaller.
set -euo pipefail
bundle="$(cd "${1:?usage: stage.sh BUNDLE_DIR}" && pwd)"
cd "$(dirname "$0")/../.."
app_id=org.nocconsole.NocConsole

share="$bundle/share"
rm -rf "$share"
install -Dm644 "packaging/linux/$app_id.desktop" "$share/applications/$app_id.desktop"
install -Dm644 "packaging/linux/$app_id.metainfo.xml" "$share/metainfo/$app_id.metainfo.xml"
install -Dm644 resources/icons/noc-console.svg "$share/icons/hicolor/scalable/apps/$app_id.svg"
for png in resources/icons/noc-console-*.png; do
    size=${png##*-}
    size=${size%.png}
    install -Dm644 "$png" "$share/icons/hicolor/${size}x${size}/apps/$app_id.png"
done
install -m755 packaging/linux/install.sh "$bundle/install.sh"
