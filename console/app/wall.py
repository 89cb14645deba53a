"""``noc-console --wall``: the read-only wall display, full screen, synced when not the demo.

The wall never blocks on a dialog: what goes wrong is said on stderr (a refused
token too, for the admin), and ``--screenshot`` saves it at 1920×1080.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from console.app.connection import Connection
from console.app.gui import EXIT_OK, EXIT_USER_ERROR, data_time, fail
from console.config.resources import ResourceMissing
from console.config.settings import Settings
from console.domain.errors import DomainError
from console.domain.sla import SlaPolicy
from console.models.sync_worker import SyncThread
from console.services.demo import DemoDataError, load_demo
from console.store import Cache, CacheError
from console.sync.status import SyncState
from console.views.demo_marker import mark_demo_windows


def run_wall(
    app: QApplication,
    args: argparse.Namespace,
    settings: Settings,
    cache: Cache,
    connection: Connection | None = None,
) -> int:
    """``--wall``: the read-only wall display, full screen; errors go to stderr, never a dialog."""
    from console.views.wall.window import open_wall  # only the wall pays for its imports

    sync: SyncThread | None = None
    try:
        now = datetime.now(UTC)
        try:
            if args.demo:
                load_demo(
                    cache,
                    now,
                    policy=SlaPolicy.default(settings.sla_calendar),
                    operator=settings.operator,
                    cadence=settings.major.cadence_minutes,
                )
            wall = open_wall(cache, settings, show=not args.screenshot)
            if args.demo:
                mark_demo_windows(app, owner=wall)
        except (DemoDataError, ResourceMissing, CacheError, DomainError) as exc:
            return fail(str(exc), interactive=False)
        wall.set_connection(
            "demo" if args.demo else "local",
            data_time(cache, settings, demo=bool(args.demo), loaded=now),
        )
        if connection is not None:
            if connection.insecure:
                print(f"noc-console: warning: {connection.insecure}", file=sys.stderr)
            # Read-only: no outbox, no dialogs; a refused token shows on the banner.
            sync = SyncThread(connection.engine, wall)
            sync.status_changed.connect(wall.on_sync_status)
            sync.changed.connect(wall.apply_update)
            sync.state_changed.connect(
                lambda state, text: _wall_log(state, text, connection.problem)
            )
            sync.start()
        if args.screenshot:
            wall.resize(1920, 1080)
            wall.show()
            path = Path(args.screenshot)

            def capture() -> None:
                path.parent.mkdir(parents=True, exist_ok=True)
                saved = wall.grab().save(str(path), "PNG")
                if saved:
                    print(path.resolve())
                app.exit(EXIT_OK if saved else EXIT_USER_ERROR)

            QTimer.singleShot(500 if sync is None else 3000, capture)
        return app.exec()
    finally:
        if sync is not None:
            sync.stop()
        cache.close()
        if connection is not None:
            connection.close()


def _wall_log(state: str, text: str, problem: str | None) -> None:
    """The wall has no dialogs: a refused token (and why) is said on stderr for the admin."""
    if state == SyncState.AUTH_FAILED.value:
        print(f"noc-console: {text}", file=sys.stderr)
        if problem:
            print(f"noc-console: {problem}", file=sys.stderr)
