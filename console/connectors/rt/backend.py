"""The RT connector's facade: :class:`RtBackend`, composed from the parts of this package.

Each part is one concern of the connector, stacked so that each uses only what
is below it: :mod:`~console.connectors.rt.core` (state, notices),
:mod:`~console.connectors.rt.client` (HTTP), :mod:`~console.connectors.rt.queue`
(the queue, who), :mod:`~console.connectors.rt.timezone`,
:mod:`~console.connectors.rt.history` (tickets as incidents), then
:mod:`~console.connectors.rt.pull` and :mod:`~console.connectors.rt.writes`.
"""

from __future__ import annotations

from console.connectors.rt.pull import RtPull
from console.connectors.rt.writes import RtWrites


class RtBackend(RtPull, RtWrites):
    """One Request Tracker queue as a :class:`~console.connectors.base.Backend`.

    ``url`` is ``rt+https://rt.example.org`` (RT's web address with ``rt+``
    in front). ``key`` (for the cache's cursor) defaults to the URL and the
    queue, so each queue has its own position. Methods are meant for one
    thread at a time (the sync engine's); the connector runs a few requests
    of its own in parallel inside a call.
    """
