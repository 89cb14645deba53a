"""How the registry opens a Request Tracker queue (``rt+https://…``).

Its ``[rt]`` settings, its queue and its directory source: the
:class:`~console.connectors.base.Opener` functions of :mod:`console.connectors.registry`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from console.config.credentials import CredentialError, resolve_token
from console.config.settings import Settings
from console.connectors.base import Backend, OpenOptions
from console.connectors.http import check_transport
from console.connectors.rt.backend import RtBackend
from console.connectors.rt.directory import DirectoryFile, DirectoryServer, DirectorySource
from console.connectors.rt.mapping import RtMapping
from console.connectors.rt.settings import rt_settings
from console.connectors.rt.urls import normalise_rt_url

address = normalise_rt_url


def open_backend(url: str, token: str | None, settings: Settings, options: OpenOptions) -> Backend:
    """An :class:`RtBackend` for the queue ``--queue`` or ``[rt]`` names.

    ValueError (with what to do): no queue, an unusable directory source, a bad
    ``[rt]`` table (:class:`~console.config.settings.SettingsError` naming the key).
    """
    rt = rt_settings(settings)
    name = options.queue or rt.queue
    if not name:
        raise ValueError(
            "which Request Tracker queue? Pass --queue NAME, or set queue under [rt] in "
            f"{settings.path or 'settings.toml'}"
        )
    directory: DirectorySource | None = None
    if rt.directory:
        directory = _directory(rt.directory, options)
    mapping = RtMapping(queue=name, fields=rt.custom_fields, statuses=rt.statuses)
    try:
        return RtBackend(
            url,
            token,
            mapping=mapping,
            ca_bundle=options.ca_bundle,
            overlap=rt.overlap.total_seconds(),
            directory=directory,
            commander_group=rt.commander_group,
            known_incidents=options.known_incidents,
        )
    except ValueError:
        if directory is not None:
            directory.close()
        raise


def poll_interval(settings: Settings) -> timedelta:
    """``rt.poll_interval_seconds``: RT has no push, so this is how fresh the queue is."""
    return rt_settings(settings).poll_interval


def _directory(where: str, options: OpenOptions) -> DirectorySource:
    """``rt.directory``: our server (by URL, its token from the keyring) or a JSON file."""
    if where.startswith(("http://", "https://")):
        url = options.address(where)
        check_transport(url, insecure_http=options.insecure_http)
        try:
            found = resolve_token(url)
        except CredentialError as exc:
            raise ValueError(f"the directory server {url}: {exc}") from exc
        if found is None:
            raise ValueError(
                f"no API token is stored for the directory server {url} (rt.directory); run "
                f"`noc-console sync --once --backend {url}` once in a terminal to enter a "
                "viewer token (it is kept in the OS keyring)"
            )
        return DirectoryServer(options.open_peer(url, found.secret))
    return DirectoryFile(Path(where), options.known_reference)
