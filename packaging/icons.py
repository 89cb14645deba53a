"""Render the app icon's PNG sizes from ``resources/icons/noc-console.svg``.

The PNGs are committed next to the SVG (``resources/icons/noc-console-<N>.png``)
so a checkout, the wheel and the desktop bundle all have them without running
Qt at build time. After changing the SVG, run::

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/icons.py

``--check`` only compares: it exits 1, naming the stale files, when a
committed PNG no longer matches the SVG (the packaging tests run it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG = ICONS / "noc-console.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
"""The sizes desktops look for in the hicolor icon theme."""

# Anti-aliasing may differ by a step between Qt releases; a changed drawing
# moves far more than this.
MAX_CHANNEL_DIFFERENCE = 24


def png_path(size: int) -> Path:
    """Where the PNG of one size lives."""
    return ICONS / f"noc-console-{size}.png"


def render(size: int) -> QImage:
    """The SVG drawn on a transparent ``size`` × ``size`` image."""
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG} is not a valid SVG file")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def differs(committed: QImage, fresh: QImage) -> bool:
    """True when the two images differ by more than anti-aliasing noise."""
    if committed.size() != fresh.size():
        return True
    a = committed.convertToFormat(QImage.Format.Format_ARGB32)
    b = fresh.convertToFormat(QImage.Format.Format_ARGB32)
    for y in range(a.height()):
        for x in range(a.width()):
            pa, pb = a.pixel(x, y), b.pixel(x, y)
            for shift in (0, 8, 16, 24):
                if abs(((pa >> shift) & 0xFF) - ((pb >> shift) & 0xFF)) > MAX_CHANNEL_DIFFERENCE:
                    return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="compare the committed PNGs, write nothing"
    )
    args = parser.parse_args(argv)
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (QPainter needs one)
    stale = []
    for size in SIZES:
        path = png_path(size)
        fresh = render(size)
        if args.check:
            committed = QImage(str(path))
            if committed.isNull() or differs(committed, fresh):
                stale.append(path.name)
            continue
        if not fresh.save(str(path), b"PNG"):
            print(f"cannot write {path}", file=sys.stderr)
            return 1
        print(path)
    if stale:
        print(
            f"out of date with {SVG.name}: {', '.join(stale)}; "
            "run `QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/icons.py`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
