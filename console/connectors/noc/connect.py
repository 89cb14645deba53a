"""How the registry opens our own server (``https://…``, ``http://…``).

The :class:`~console.connectors.base.Opener` functions of :mod:`console.connectors.registry`.
"""

from __future__ import annotations

from datetime import timedelta

from console.config.settings import Settings
from console.connectors.base import Backend, OpenOptions
from console.connectors.noc.backend import NocBackend, normalise_url

address = normalise_url


def open_backend(url: str, token: str | None, settings: Settings, options: OpenOptions) -> Backend:
    """A :class:`NocBackend` (our server needs none of the settings)."""
    return NocBackend(url, token, ca_bundle=options.ca_bundle)


def poll_interval(settings: Settings) -> timedelta:
    """``poll_interval_seconds``: for when the event stream is down."""
    return settings.poll_interval
