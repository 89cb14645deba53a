"""Re-render the README's screenshots from the demo NOC: ``python docs/screenshots/render.py``.

Offscreen, in a throw-away data folder, with the light theme (the wall with its
own): the main window at the default size and at a 1280×720 laptop's, the
board, the detail pane, the escalation matrix, the ``c`` dialog, and the wall
live and with its backend unreachable. The pictures are written next to this
file; look at them before committing. ``render.py reviews`` renders only the
Reviews and Problems pictures (and the review dialog).
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from console.app.gui import WINDOW_SIZE, _build_window  # noqa: E402
from console.config.settings import Settings, WallSettings, load_settings  # noqa: E402
from console.models.wall_metrics import WallMetricsLoader  # noqa: E402
from console.services.demo import load_demo  # noqa: E402
from console.store import Cache  # noqa: E402
from console.views.theme import apply_theme  # noqa: E402
from console.views.wall.metrics import MetricsPanel  # noqa: E402
from console.views.wall.window import Panel, open_wall  # noqa: E402


def _save(widget: QWidget, name: str) -> None:
    QApplication.processEvents()
    path = HERE / name
    if not widget.grab().save(str(path), "PNG"):
        raise SystemExit(f"could not write {path}")
    print(path)


def _save_wall_metrics(cache: Cache) -> None:
    """The wall's optional metrics page (``[wall] metrics = true``), figures computed."""
    wall = open_wall(cache, Settings(wall=WallSettings(metrics=True)), show=False)
    panel = wall.findChild(MetricsPanel)
    loader = panel.findChild(WallMetricsLoader) if panel is not None else None
    if loader is not None:
        loader.wait()
    wall.resize(1920, 1080)
    wall.show()
    wall.set_connection("live", datetime.now(UTC))
    wall.show_panel(Panel.METRICS)
    _save(wall, "wall-metrics.png")
    wall.close()


def main() -> int:
    app = QApplication([sys.argv[0]])
    apply_theme(app, "light")
    folder = Path(tempfile.mkdtemp(prefix="noc-screens-"))
    cache = Cache.open(folder / "cache.db")
    window = _build_window(app, load_settings(folder / "settings.toml"), cache, demo=True)
    window.resize(*WINDOW_SIZE)
    window.show()
    _save(window, "main-window.png")
    window.menu_actions.show_board.trigger()
    _save(window, "board.png")
    window.menu_actions.show_matrix.trigger()
    _save(window, "escalation-matrix.png")
    window.menu_actions.show_queue.trigger()
    QApplication.processEvents()
    _save(window.detail, "detail.png")
    window.resize(1280, 720)  # a laptop: the queue keeps its title column
    _save(window, "laptop-1280x720.png")
    window.open_on_call()
    dialog = window.on_call_dialog
    if dialog is not None:
        _save(dialog, "on-call.png")
        dialog.close()
    window.close()
    cache.close()

    apply_theme(app, "wall")
    wall_cache = Cache.open(folder / "wall.db")
    load_demo(wall_cache, datetime.now(UTC))
    wall = open_wall(wall_cache, Settings(), show=False)
    wall.resize(1920, 1080)
    wall.show()
    wall.set_connection("live", datetime.now(UTC))
    wall.show_panel(Panel.MAJOR)
    _save(wall, "wall.png")
    wall.set_connection("offline", datetime.now(UTC) - timedelta(minutes=7))
    wall.show_panel(Panel.ON_CALL)
    _save(wall, "wall-offline.png")
    wall.close()
    _save_wall_metrics(wall_cache)
    wall_cache.close()
    return 0


def reviews() -> int:
    """``render.py reviews``: only the Reviews and Problems pictures (docs/reviews.md)."""
    from console.views.reviews import ReviewsView

    app = QApplication([sys.argv[0]])
    apply_theme(app, "light")
    folder = Path(tempfile.mkdtemp(prefix="noc-screens-"))
    cache = Cache.open(folder / "cache.db")
    window = _build_window(app, load_settings(folder / "settings.toml"), cache, demo=True)
    window.resize(*WINDOW_SIZE)
    window.show()
    window.menu_actions.show_reviews.trigger()
    view = window.tabs.currentWidget()
    _save(window, "reviews.png")
    window.resize(1280, 720)
    _save(window, "reviews-1280.png")
    window.resize(*WINDOW_SIZE)
    if isinstance(view, ReviewsView):
        view.review_table.setFocus()
        window.menu_actions.edit_review.trigger()
        dialog = getattr(view.review_actions, "dialog", None)
        if isinstance(dialog, QWidget):
            dialog.resize(900, 620)
            _save(dialog, "review-dialog.png")
            dialog.close()
    window.menu_actions.show_problems.trigger()
    _save(window, "problems.png")
    window.close()
    cache.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(reviews() if sys.argv[1:] == ["reviews"] else main())
