"""HTTP plumbing every connector shares: TLS verification, a JSON session, ``Retry-After``.

Both connectors talk JSON over ``requests``; what they have in common lives
here, so neither imports the other. :func:`check_transport` is the rule for
every backend URL: no API token in clear text to another machine.
"""

from __future__ import annotations

import email.utils
import ipaddress
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests


def parse_retry_after(value: str | None, default: float | None) -> float | None:
    """``Retry-After`` as seconds from now: a number of seconds or an HTTP date."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        return default
    return max(0.0, when.timestamp() - time.time())


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_verify(ca_bundle: str | Path | None) -> bool | str:
    """What ``requests`` verifies against: the system's CAs, or the PEM bundle given.

    Verification itself can never be turned off. ValueError when the bundle is missing.
    """
    if ca_bundle is None:
        return True
    if not Path(ca_bundle).is_file():
        raise ValueError(f"the CA bundle {ca_bundle} does not exist; give a PEM file")
    return str(ca_bundle)


def http_session(verify: bool | str, url: str) -> requests.Session:
    """A session for talking JSON to a backend at ``url`` (our server or Request Tracker)."""
    session = requests.Session()
    session.verify = verify
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = "noc-console"
    if _is_loopback(urlsplit(url).hostname or ""):
        # A proxy from the environment must not capture the embedded or a
        # local server (NO_PROXY rarely lists 127.0.0.1).
        session.trust_env = False
    return session


def _is_loopback_host(host: str) -> bool:
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def plain_http_host(url: str) -> str | None:
    """The host of a plain-HTTP URL that leaves this machine (``rt+http://`` too), else None."""
    scheme, sep, rest = url.partition("://")
    # A connector's scheme wraps the transport's: rt+http://… is http:// underneath.
    inner = f"{scheme.rpartition('+')[2]}{sep}{rest}" if sep else url
    parts = urlsplit(inner)
    if parts.scheme.lower() != "http" or not parts.hostname:
        return None
    return None if _is_loopback_host(parts.hostname) else parts.hostname


def check_transport(url: str, *, insecure_http: bool) -> str | None:
    """Refuse a plain ``http://`` backend off this machine (ValueError saying what to do).

    Loopback (the embedded server, a tunnel) is fine. With ``insecure_http``
    the URL is accepted and the warning to keep showing is returned.
    """
    host = plain_http_host(url)
    if host is None:
        return None
    if not insecure_http:
        raise ValueError(
            f"refusing to send the API token in clear text to {url}: anyone on the network "
            f"between here and {host} could read it and act as you. Use https:// (the server "
            "needs --tls-cert and --tls-key, or a TLS proxy in front), or pass --insecure-http "
            "if this network is trusted"
        )
    return (
        f"Insecure connection: the API token and all incident data go to {url} unencrypted "
        "(--insecure-http). Use https:// as soon as the server offers it."
    )
