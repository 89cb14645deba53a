"""Where outgoing webhooks may go: the egress policy against server-side request forgery.

An admin registers a webhook URL and the server POSTs to it, so without a
policy the server could be pointed at what only it can reach: the cloud
metadata service, a database on loopback, the LAN. The policy:

- **By default** only ``https://`` to public unicast addresses. Refused:
  loopback (in every spelling: ``127.1``, ``2130706433``, ``0x7f.0.0.1``,
  ``[::1]``, ``localhost``), private and shared ranges, link-local (and so
  the metadata services), multicast, unspecified (``0.0.0.0``), reserved and
  documentation ranges, and IPv6 forms that embed an IPv4 address
  (IPv4-mapped ``::ffff:…``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``),
  which could reach an internal IPv4 host through a translator. URLs with
  credentials (``https://user:pass@…``) are refused too.
- **The allow-list** (``Settings.webhook_allow``, ``serve --webhook-allow``):
  networks (``10.20.0.0/16``, ``127.0.0.1``) or host names (``chat.noc.lan``)
  a site trusts, e.g. its internal chat or paging gateway. An allowed
  destination may also use plain ``http://``. The cloud metadata addresses
  stay refused even when a wider network is allowed.

The policy is checked twice: at registration (:meth:`EgressPolicy.check_url`,
on the URL as written, without DNS) and at every send, after resolving the
name (:meth:`EgressPolicy.destination`). The sender then connects to the
address that was checked (see ``webhooks.py``), so a name that resolves to a
public address at the check and to ``127.0.0.1`` a moment later (DNS
rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) → addresses``; the default asks the system resolver."""

# Never a webhook target, allow-list or not: the instance metadata services
# (AWS, GCP, Azure, OpenStack: 169.254.169.254; AWS over IPv6; Alibaba Cloud).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "instance-data"})
# IPv6 prefixes that carry an IPv4 address inside (NAT64, 6to4).
_EMBEDDING_V4 = tuple(
    ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16")
)
# What inet_aton would read as an IPv4 address: 127.1, 2130706433, 0x7f.1, 0177.0.0.1.
_LEGACY_V4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


class EgressRefused(ValueError):
    """A destination the policy refuses; the message says why and what to do."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver; blocking)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise EgressRefused(f"cannot resolve {host!r}: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def parse_ip(host: str) -> IpAddress | None:
    """``host`` as an IP address, reading the legacy IPv4 spellings too; None for a name."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        pass
    if _LEGACY_V4.match(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def address_problem(address: IpAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is."""
    if address in METADATA_ADDRESSES:
        return "is a cloud metadata service"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return "is an IPv4-mapped IPv6 address"
        if any(address in net for net in _EMBEDDING_V4):
            return "embeds an IPv4 address (NAT64 / 6to4)"
    checks = (
        (address.is_unspecified, "is the unspecified address"),
        (address.is_loopback, "is a loopback address"),
        (address.is_link_local, "is a link-local address"),
        (address.is_multicast, "is a multicast address"),
        (address.is_private, "is a private address"),
        (address.is_reserved, "is a reserved address"),
        (not address.is_global, "is not a public address"),
    )
    for bad, why in checks:
        if bad:
            return why
    return None


def _name_problem(name: str) -> str | None:
    host = name.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost") or host == "localhost.localdomain":
        return "is this machine (loopback)"
    if host in METADATA_NAMES:
        return "is a cloud metadata service"
    return None


@dataclass(frozen=True)
class Destination:
    """A checked send target: connect to ``address``, and speak to ``host`` over TLS/HTTP."""

    scheme: str
    host: str
    port: int
    address: str


@dataclass
class EgressPolicy:
    """The webhook egress rules: public https by default, plus the site's allow-list."""

    allow: tuple[str, ...] = ()
    resolver: Resolver = system_resolver
    _networks: list[IpNetwork] = field(init=False, default_factory=list)
    _names: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        for entry in self.allow:
            text = entry.strip()
            try:
                self._networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
            except ValueError:
                if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", text):
                    raise ValueError(
                        f"webhook allow-list entry {entry!r} is neither a network "
                        "(10.0.0.0/8, 127.0.0.1) nor a host name (chat.noc.lan)"
                    ) from None
                self._names.add(text.rstrip(".").lower())

    @staticmethod
    def parse_allow(entries: Iterable[str]) -> tuple[str, ...]:
        """Validate allow-list entries (ValueError naming a bad one); returns them as given."""
        kept = tuple(entries)
        EgressPolicy(kept)
        return kept

    def _allowed_address(self, address: IpAddress) -> bool:
        return address not in METADATA_ADDRESSES and any(
            address.version == net.version and address in net for net in self._networks
        )

    def _allowed_name(self, host: str) -> bool:
        return host.rstrip(".").lower() in self._names

    def check_url(self, url: str) -> None:
        """Refuse a URL the policy would never send to (at registration; no DNS)."""
        self._split(url)

    def _split(self, url: str) -> tuple[str, str, int]:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise EgressRefused(f"the URL is not usable ({exc})") from None
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        if scheme not in ("http", "https") or not host:
            raise EgressRefused("use an https:// URL with a host name")
        if parts.username is not None or parts.password is not None:
            raise EgressRefused(
                "the URL carries credentials (user:password@); the receiver checks "
                "X-NOC-Signature instead"
            )
        port = port or (443 if scheme == "https" else 80)
        literal = parse_ip(host)
        if literal is not None:
            allowed = self._allowed_address(literal)
            if not allowed:
                problem = address_problem(literal)
                if problem is not None:
                    raise EgressRefused(self._refusal(host, problem))
        else:
            allowed = self._allowed_name(host)
            problem = _name_problem(host)
            # A metadata name stays refused; "localhost" only when allow-listed by name.
            if problem is not None and (not allowed or host.rstrip(".").lower() in METADATA_NAMES):
                raise EgressRefused(self._refusal(host, problem))
        if scheme == "http" and not allowed:
            raise EgressRefused(
                "plain http:// would send the signed events unencrypted; use https://, "
                "or allow-list an internal gateway (serve --webhook-allow)"
            )
        return scheme, host, port

    def destination(self, url: str) -> Destination:
        """Resolve ``url``'s host and check every address (at send time); what to connect to.

        Every address must pass, not just the first: a name answering with a
        public and a private address is refused.
        """
        scheme, host, port = self._split(url)
        literal = parse_ip(host)
        if literal is not None:
            return Destination(scheme, host, port, str(literal))
        addresses = list(self.resolver(host, port))
        if not addresses:
            raise EgressRefused(f"{host!r} resolves to no address")
        name_allowed = self._allowed_name(host)
        for text in addresses:
            address = parse_ip(text)
            if address is None:
                raise EgressRefused(f"{host!r} resolved to something odd: {text!r}")
            if address in METADATA_ADDRESSES or not (
                name_allowed or self._allowed_address(address)
            ):
                problem = address_problem(address)
                if problem is not None:
                    raise EgressRefused(self._refusal(f"{host} ({address})", problem))
        return Destination(scheme, host, port, addresses[0])

    @staticmethod
    def _refusal(what: str, problem: str) -> str:
        return (
            f"webhooks may not be sent to {what}: it {problem}. Webhooks go to public "
            "https:// receivers; an internal gateway must be allow-listed by the server's "
            "operator (serve --webhook-allow)"
        )
