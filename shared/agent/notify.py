"""The optional notification webhook (a Slack incoming webhook, say), sent without SSRF exposure.

A user-supplied URL is a request the service makes on the user's behalf from inside its network,
so before anything is sent :func:`vet_url` checks:

1. the URL: ``https`` only, a host, no user-info, port 443 or 8443, at most 2,048 characters;
2. the host name: refused outright when it names the metadata service (``metadata.google.internal``,
   ``metadata``, ``instance-data``...) or this machine (``localhost`` and ``*.localhost``);
3. every address the name resolves to (or the literal address, in any form ``inet_aton`` reads,
   such as ``2130706433`` or ``0x7f.1``): it must be a public unicast address. Refused: private,
   loopback, link-local (169.254.0.0/16 holds 169.254.169.254), carrier-grade NAT
   (100.64.0.0/10), multicast, reserved, unspecified, documentation and benchmarking ranges, IPv6
   unique-local (fd00:ec2::254 is AWS's metadata address), and IPv6 forms that embed an IPv4
   address (mapped, 6to4, Teredo, NAT64) when the embedded one is refused. One bad address refuses
   the whole name: a name resolving to a public and a private address would let the connection go
   to either.

The request then goes to the vetted address itself, not to the name: the URL carries the IP, the
``Host`` header and the TLS server name (SNI, checked against the certificate) carry the name. A
DNS answer that changes after the check (rebinding) cannot move the connection. Redirects are not
followed blindly: each ``Location`` is vetted the same way, up to ``max_redirects`` hops. Proxies
from the environment are ignored (a proxy would make the pinning moot).

Errors: :class:`~shared.agent.errors.UnsafeWebhookUrl` (400, names the rule, never the address)
and :class:`~shared.agent.errors.NotificationFailed` (502) when the endpoint does not answer 2xx.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from shared.agent.errors import NotificationFailed, UnsafeWebhookUrl

logger = logging.getLogger(__name__)

Resolver = Callable[[str, int], Sequence[str]]

ALLOWED_PORTS = frozenset({443, 8443})
MAX_URL_LENGTH = 2048
_BLOCKED_NAMES = frozenset({
    "metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal",
    "metadata.azure.internal", "localhost",
})
_BLOCKED_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")
_EXTRA_BLOCKED_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
    "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (A and AAAA), via the system resolver."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``address`` may not be contacted, or ``None`` if it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(embedded)
        if address.scope_id:
            return "a link-local address"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local or metadata address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (any(address in network for network in _EXTRA_BLOCKED_NETWORKS if network.version == address.version),
         "a non-public address"),
        (not address.is_global, "a non-public address"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return None


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, in any notation a resolver would accept."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if host and all(part and (part.isdigit() or part.lower().startswith("0x")) for part in host.split(".")):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))  # 2130706433, 0x7f.1, 0177.0.0.1
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class VettedUrl:
    """A URL that passed the checks, and the address to connect to."""

    url: str
    host: str
    port: int
    address: str
    path: str  # path and query, as sent

    def pinned_url(self) -> str:
        ip = f"[{self.address}]" if ":" in self.address else self.address
        return f"https://{ip}:{self.port}{self.path}"

    def host_header(self) -> str:
        return self.host if self.port == 443 else f"{self.host}:{self.port}"


def vet_url(url: object, resolver: Resolver = system_resolver) -> VettedUrl:
    """Check ``url`` against the rules of the module doc; return it with its vetted address."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookUrl("it is not a URL")
    try:
        parts = urlsplit(url.strip())
        port = parts.port or 443
    except ValueError:
        raise UnsafeWebhookUrl("it is not a valid URL") from None
    if parts.scheme.lower() != "https":
        raise UnsafeWebhookUrl("only https is allowed")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeWebhookUrl("credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeWebhookUrl("it has no host")
    if port not in ALLOWED_PORTS:
        raise UnsafeWebhookUrl("only ports 443 and 8443 are allowed")
    if host in _BLOCKED_NAMES or host.endswith(_BLOCKED_SUFFIXES):
        raise UnsafeWebhookUrl("the host is internal")
    literal = _literal(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            host.encode("idna")
        except UnicodeError:
            raise UnsafeWebhookUrl("the host name is invalid") from None
        addresses = list(resolver(host, port))
        if not addresses:
            raise UnsafeWebhookUrl("the host name does not resolve")
    for raw in addresses:
        try:
            address = ipaddress.ip_address(raw)
        except ValueError:
            raise UnsafeWebhookUrl("the host resolves to an invalid address") from None
        reason = refusal(address)
        if reason is not None:
            logger.warning("notification webhook refused: host resolves to %s", reason)
            raise UnsafeWebhookUrl(f"the host resolves to {reason}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return VettedUrl(url=url.strip(), host=host, port=port, address=addresses[0], path=path)


@dataclass(frozen=True)
class Delivered:
    """A notification the endpoint accepted."""

    status_code: int
    hops: int  # redirects followed


class WebhookNotifier:
    """Posts a JSON message to a vetted URL (see the module doc)."""

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 5.0,
        max_redirects: int = 3,
    ) -> None:
        self._resolver = resolver
        self._transport = transport
        self._timeout = timeout
        self._max_redirects = max_redirects

    async def vet(self, url: object) -> VettedUrl:
        return await asyncio.to_thread(vet_url, url, self._resolver)

    async def send(self, url: str, message: dict[str, Any]) -> Delivered:
        """POST ``message`` to ``url``; raise UnsafeWebhookUrl or NotificationFailed."""
        target = await self.vet(url)
        async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout, follow_redirects=False,
                                     trust_env=False) as client:
            for hop in range(self._max_redirects + 1):
                try:
                    response = await client.post(
                        target.pinned_url(),
                        json=message,
                        headers={"Host": target.host_header(), "User-Agent": "planner-notifications/1"},
                        extensions={"sni_hostname": target.host},
                    )
                except httpx.HTTPError as exc:
                    logger.warning("notification webhook unreachable: %s", type(exc).__name__)
                    raise NotificationFailed("The notification webhook could not be reached.") from None
                if response.is_redirect and "location" in response.headers:
                    if hop == self._max_redirects:
                        break
                    target = await self.vet(urljoin(target.url, response.headers["location"]))
                    continue
                if response.is_success:
                    return Delivered(status_code=response.status_code, hops=hop)
                logger.warning("notification webhook answered %s", response.status_code)
                raise NotificationFailed(f"The notification webhook answered {response.status_code}.")
        raise NotificationFailed("The notification webhook redirected too many times.")
