"""The connector for Request Tracker 5, over its REST2 API (``/REST/2.0``).

``noc-console --backend rt+https://rt.example.org --queue NOC`` syncs the
console with the tickets of one RT queue; :class:`RtBackend`
(:mod:`~console.connectors.rt.backend`) is the connector, composed from this
package's parts, and :mod:`~console.connectors.rt.mapping` the mapping with no
network in it. RT has no change feed and no push, so the connector polls: how
(the cursor, the overlap, rights, time zones, writes and sending again) is
described once, for operators and developers alike, in docs/rt.md ("How
syncing works" and the sections before it); docs/rt-setup.md is the RT admin's
guide.
"""

from console.connectors.rt.backend import RtBackend
from console.connectors.rt.core import PAGE_MAX, TOKEN_HINT
from console.connectors.rt.urls import API_PATH, RT_SCHEME_PREFIX, normalise_rt_url

__all__ = [
    "API_PATH",
    "PAGE_MAX",
    "RT_SCHEME_PREFIX",
    "TOKEN_HINT",
    "RtBackend",
    "normalise_rt_url",
]
