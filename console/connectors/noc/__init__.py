"""The connector for our own ticket API (``console.server``), over HTTP(S) with ``requests``.

:class:`NocBackend` (:mod:`~console.connectors.noc.backend`) is the connector;
:mod:`~console.connectors.noc.decode` turns the change feed's JSON into domain
records, :mod:`~console.connectors.noc.events` reads the event stream.
"""

from console.connectors.noc.backend import (
    CONNECT_TIMEOUT_S,
    DEFAULT_RETRY_AFTER_S,
    EVENTS_READ_TIMEOUT_S,
    MAX_PAGE,
    READ_TIMEOUT_S,
    REFERENCE_KINDS,
    NocBackend,
    normalise_url,
)
from console.connectors.noc.decode import incident_from_json, timeline_from_json
from console.connectors.noc.events import SseStream

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_RETRY_AFTER_S",
    "EVENTS_READ_TIMEOUT_S",
    "MAX_PAGE",
    "READ_TIMEOUT_S",
    "REFERENCE_KINDS",
    "NocBackend",
    "SseStream",
    "incident_from_json",
    "normalise_url",
    "timeline_from_json",
]
