"""URL scheme → connector: the one place that knows which backends exist.

Each :class:`Connector` entry names its URL schemes, the module that opens it
(imported only when a backend of that kind is used, so choosing a backend loads
no connector it does not need), its table in settings.toml and the wording of
the token prompt. :func:`open_backend` is the one path by which the desktop
console and ``noc-console sync`` open a backend; with no backend configured the
GUI starts the embedded server (:func:`start_embedded`). A new backend is one
folder under ``console/connectors/`` plus one :func:`register` call here (and,
if it reads a table of settings.toml, the table's name in
:data:`console.config.settings.CONNECTOR_TABLES`, which keeps it raw).

A connector's entry module provides what :class:`~console.connectors.base.Opener`
lists: ``address`` (the URL as the console keeps it), ``open_backend`` and
``poll_interval``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from console.config.settings import Settings
from console.connectors.base import Backend, Opener, OpenOptions
from console.connectors.http import check_transport

if TYPE_CHECKING:
    from console.connectors.embedded import EmbeddedBackend


@dataclass(frozen=True)
class Connector:
    """One kind of backend: its schemes, where its code is, its settings table, its token."""

    name: str  # for the operator: "our server", "Request Tracker"
    schemes: tuple[str, ...]  # "https", "rt+https" … (lower case, without "://")
    module: str  # the module providing the Opener functions, imported on first use
    token_hint: str  # where the operator gets a token, for the prompt
    settings_table: str | None = None  # its table in settings.toml; None: it needs none
    # "module:function" parsing that table (light: no connector code), so a typo is
    # reported when the settings load, not when a backend of this kind is first opened.
    settings_parser: str | None = None

    def opener(self) -> Opener:
        """The connector's entry module (imported now, the first time)."""
        return cast(Opener, importlib.import_module(self.module))


CONNECTORS: dict[str, Connector] = {}
"""Scheme → connector, filled by :func:`register`."""


def register(connector: Connector) -> None:
    """Make ``connector`` open the URLs of its schemes (a scheme already taken is replaced)."""
    for scheme in connector.schemes:
        CONNECTORS[scheme.lower()] = connector


register(
    Connector(
        name="our server",
        schemes=("https", "http"),
        module="console.connectors.noc.connect",
        token_hint="from `noc-console token create`",
    )
)
register(
    Connector(
        name="Request Tracker",
        schemes=("rt+https", "rt+http"),
        module="console.connectors.rt.connect",
        token_hint="an RT auth token: in RT, Logged in as → Settings → Auth Tokens",
        settings_table="rt",
        settings_parser="console.connectors.rt.settings:rt_settings",
    )
)


def check_settings(settings: Settings) -> None:
    """Parse every connector's table present in ``settings``.

    Raises :class:`~console.config.settings.SettingsError` naming the file and key, as
    loading the settings does for the console's own tables.
    """
    seen: set[str] = set()
    for connector in CONNECTORS.values():
        table, parser = connector.settings_table, connector.settings_parser
        if table is None or parser is None or table in seen or table not in settings.tables:
            continue
        seen.add(table)
        module, _, function = parser.partition(":")
        getattr(importlib.import_module(module), function)(settings)


def known_schemes() -> str:
    """``https://… or http://… (our server); rt+https://… or …`` for messages."""
    by_connector: dict[Connector, list[str]] = {}
    for scheme, connector in CONNECTORS.items():
        by_connector.setdefault(connector, []).append(f"{scheme}://…")
    return "; ".join(f"{' or '.join(s)} ({c.name})" for c, s in by_connector.items())


def connector_for(url: str) -> Connector:
    """The connector that opens ``url``, by its scheme; ValueError naming the schemes there are."""
    scheme, sep, _ = url.strip().partition("://")
    connector = CONNECTORS.get(scheme.lower()) if sep else None
    if connector is None:
        raise ValueError(f"{url!r} is not a backend URL the console knows; use {known_schemes()}")
    return connector


def backend_address(text: str) -> str:
    """A backend URL as the console keeps it (ValueError when it is not one)."""
    return connector_for(text).opener().address(text.strip())


def open_backend(
    url: str,
    token: str | None,
    settings: Settings,
    *,
    queue: str | None = None,
    ca_bundle: Path | None = None,
    known_reference: Callable[[str], list[str]] | None = None,
    known_incidents: Callable[[], Iterable[str]] | None = None,
    insecure_http: bool = False,
) -> Backend:
    """The connector for ``url``, opened (the GUI's and ``noc-console sync``'s one path).

    ValueError (with what to do) for a setting the operator must fix: a plain
    ``http://`` backend off this machine without ``insecure_http``, a missing
    CA bundle, a bad connector table in settings.toml (a
    :class:`~console.config.settings.SettingsError` naming the key), and what
    the connector itself needs (RT: a queue, a usable directory source).
    """
    check_transport(url, insecure_http=insecure_http)
    connector = connector_for(url)

    def open_peer(peer: str, peer_token: str) -> Backend:
        return open_backend(
            peer, peer_token, Settings(), ca_bundle=ca_bundle, insecure_http=insecure_http
        )

    options = OpenOptions(
        address=backend_address,
        open_peer=open_peer,
        queue=queue,
        ca_bundle=ca_bundle,
        known_reference=known_reference,
        known_incidents=known_incidents,
        insecure_http=insecure_http,
    )
    return connector.opener().open_backend(url, token, settings, options)


def poll_interval_for(url: str, settings: Settings) -> float:
    """Seconds between asks for changes when the backend cannot push (each connector says)."""
    return connector_for(url).opener().poll_interval(settings).total_seconds()


def token_hint(url: str) -> str:
    """Where the operator gets a token for ``url``, for the prompt."""
    return connector_for(url).token_hint


def needs_settings(url: str) -> bool:
    """Whether the connector for ``url`` reads its own table of settings.toml."""
    return connector_for(url).settings_table is not None


def start_embedded(data_dir: Path, cadence: Mapping[int, int] | None = None) -> EmbeddedBackend:
    """The embedded default: our server inside this process (its imports paid only here)."""
    from console.connectors.embedded import start_embedded as start

    return start(data_dir, cadence=cadence)
