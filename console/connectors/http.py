"""HTTP plumbing every connector shares: TLS verification, a JSON session, ``Retry-After``.

Both connectors talk JSON over ``requests``; what they have in common lives
here, so neither imports the other.
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
