"""The guard for every URL a caller makes the gateway call: `image_url` and the bulk `callback_url` (SSRF).

A URL is allowed when it is http(s) and every address its host resolves to is public.
`UrlPolicy` widens that in two ways only:
- `allow_private` (IMAGE_URL_ALLOW_PRIVATE, image_url only) also allows the private ranges
  (RFC 1918, CGNAT 100.64/10, IPv6 ULA fc00::/7), never loopback, link-local (cloud
  metadata at 169.254.169.254), unspecified, multicast or reserved addresses;
- `allowed_hosts` (CALLBACK_ALLOWED_HOSTS, plus N8N_WEBHOOK_URL's host for callbacks) are
  hosts, by name or IP, that may be reached whatever they resolve to.
`check_url` checks before a request; `guarded_pools` makes the connection check the peer it
actually reached too, so a DNS answer that changes in between (rebinding) is refused.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

PRIVATE_RANGES = tuple(ipaddress.ip_network(net) for net in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))


class UrlRefused(Exception):
    """The URL points at an address the gateway must not call (loopback, private, link-local...)."""


class UrlUnresolvable(Exception):
    """The URL's host could not be resolved."""


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class UrlPolicy:
    allow_private: bool = False
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, allow_private: bool = False, allowed_hosts=()) -> "UrlPolicy":
        return cls(allow_private, frozenset(_normal_host(host) for host in allowed_hosts if host and host.strip()))

    def host_allowed(self, host: str | None) -> bool:
        return bool(host) and _normal_host(host) in {_normal_host(h) for h in self.allowed_hosts}


def address_refused(address: str, *, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_unspecified or ip.is_multicast or ip.is_loopback or ip.is_link_local:
        return True
    if ip.is_global:
        return False
    # Not global: RFC 1918 and friends, but also documentation, benchmarking and reserved ranges.
    return not (allow_private and any(ip in net for net in PRIVATE_RANGES if net.version == ip.version))


def check_url(url: str, policy: UrlPolicy, *, what: str = "URL",
              resolve: Callable[..., list] = socket.getaddrinfo) -> None:
    """Refuse (UrlRefused) a URL that is not http(s) or whose host resolves to a forbidden address."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # "http://[0]": brackets around something that is not an IPv6 address
        raise UrlRefused("The URL's host is not a valid name or address.") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise UrlRefused("Only http:// and https:// URLs with a host are accepted.")
    if policy.host_allowed(parts.hostname):
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = resolve(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise UrlUnresolvable(f"Could not resolve the {what}'s host {parts.hostname!r}: {exc}.") from None
    addresses = {info[4][0] for info in infos}
    refused = sorted(a for a in addresses if address_refused(a, allow_private=policy.allow_private))
    if refused or not addresses:
        raise UrlRefused(f"The {what}'s host {parts.hostname!r} resolves to {', '.join(refused) or 'nothing'}, "
                         "which is not a public address (CALLBACK_ALLOWED_HOSTS can name hosts to allow).")


def guarded_pools(policy: UrlPolicy, refused: type[Exception] = UrlRefused) -> dict:
    """urllib3 pool classes whose sockets refuse a forbidden peer right after connecting."""

    def checked(sock: socket.socket, host: str) -> socket.socket:
        peer = sock.getpeername()[0]
        if not policy.host_allowed(host) and address_refused(peer, allow_private=policy.allow_private):
            sock.close()
            raise refused(f"The host resolved to {peer}, which is not a public address.")
        return sock

    class GuardedHTTP(HTTPConnection):
        def _new_conn(self):
            return checked(super()._new_conn(), self.host)

    class GuardedHTTPS(HTTPSConnection):
        def _new_conn(self):
            return checked(super()._new_conn(), self.host)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTP

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPS

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}
