"""The state every part of the sync engine shares, what it reports, and who it acts as.

:class:`_EngineCore` is the base of :class:`~console.sync.engine.SyncEngine`:
the attributes its constructor sets, the status it reports to the listener
(only when the shown part changes), the thread-safe wake-up, and asking the
backend once per connection who the token belongs to.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import replace
from datetime import datetime
from typing import Any

from console.connectors.base import AuthFailed, Backend, BackendError, RateLimited, Unreachable
from console.domain.severity import PriorityMatrix
from console.store import Cache, CacheError
from console.sync.edits import store_caller, stored_caller
from console.sync.status import SyncListener, SyncState, SyncStatus

log = logging.getLogger(__name__)


class _EngineCore:
    """Shared state, status reports and the caller; the parts of the engine build on it."""

    # Set by SyncEngine.__init__ (which documents them).
    cache: Cache
    backend: Backend
    listener: SyncListener
    page_size: int
    quiet_gc: bool
    _matrix: PriorityMatrix
    _cond: threading.Condition
    _stopping: bool
    _work: bool
    _latest_seen: int | None
    _own_versions: dict[str, dict[int, int]]
    _needs_refresh: set[str]
    _status: SyncStatus | None
    _ask_caller: bool
    _report_next: bool

    @property
    def stopping(self) -> bool:
        return self._stopping

    def wake(self) -> None:
        """There is work: an edit was queued, or the backend has news (thread-safe)."""
        with self._cond:
            self._work = True
            self._cond.notify_all()

    # ------------------------------------------------------------------ status

    def _emit_status(self, state: SyncState, **details: Any) -> None:
        status = SyncStatus(
            state=state,
            backend=self.backend.url,
            data_as_of=self._data_as_of(),
            **details,
        )
        if (
            self._status is None
            or self._report_next
            or _shown_part(status) != _shown_part(self._status)
        ):
            self._report_next = False
            self._status = status
            self.listener.status_changed(status)

    def _data_as_of(self) -> datetime | None:
        try:
            return self.cache.last_synced_at(self.backend.key)
        except CacheError:
            return None

    @property
    def status(self) -> SyncStatus | None:
        """The last status reported."""
        return self._status

    def _outbox_count(self) -> None:
        with contextlib.suppress(CacheError):
            self.listener.outbox_changed(len(self.cache.pending_outbox()))

    # ------------------------------------------------------------------ caller

    def _forget_other_caller(self) -> None:
        """Drop a caller stored for another backend (or the demo): it says nothing here."""
        with contextlib.suppress(CacheError):
            stored = stored_caller(self.cache)
            if stored is not None and stored[0] != self.backend.key:
                store_caller(self.cache, self.backend.key, None)

    def _learn_caller(self) -> None:
        """Ask the backend who the token belongs to and keep the answer in the cache.

        Network and token failures propagate (the cycle would meet them anyway);
        any other failure is logged and leaves the last known answer, because
        syncing matters more than knowing the role.
        """
        try:
            caller = self.backend.whoami()
        except (Unreachable, AuthFailed, RateLimited):
            raise
        except BackendError as exc:
            log.warning("the backend did not say who the console acts as: %s", exc.message)
            self._ask_caller = False
            return
        store_caller(self.cache, self.backend.key, caller)
        self._ask_caller = False


def _shown_part(status: SyncStatus) -> SyncStatus:
    """The part of a status worth telling the GUI about again.

    Every pull moves ``data_as_of``; while live or syncing it is not shown, so
    repeating the status for it would only make noise.
    """
    if status.state in (SyncState.LIVE, SyncState.SYNCING):
        return replace(status, data_as_of=None)
    return status
