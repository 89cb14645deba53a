"""The console's local cache: SQLite through SQLAlchemy 2.0 typed tables.

Incidents, timelines and reference data synced from the backend, the sync
cursor per backend, and the durable outbox of edits waiting to be sent. No Qt
here: the sync worker and the GUI thread both call into :class:`Cache`.
"""

from console.store.cache import REFERENCE_KINDS, Cache
from console.store.changes import ChangeSet
from console.store.errors import CacheError, CacheTooNew
from console.store.outbox import OPERATIONS, STATUSES, OutboxEntry, OutboxRecord

__all__ = [
    "OPERATIONS",
    "REFERENCE_KINDS",
    "STATUSES",
    "Cache",
    "CacheError",
    "CacheTooNew",
    "ChangeSet",
    "OutboxEntry",
    "OutboxRecord",
]
