"""The guard for every URL a caller makes the gateway call: `image_url` and the bulk `callback_url` (SSRF).

A URL is allowed when it is http(s) and every address its host resolves to is public.
`UrlPolicy` widens that in two ways only:
- `allow_private` (IMAGE_URL_ALLOW_PRIVATE, image_url only) also allows the private ranges
  (RFC 1918, CGNAT 100.64/10, IPv6 ULA fc00::/7), never loopback, link-local (cloud
  metadata at 169.254.169.254), unspecified, multicast or reserved addresses;
- `allowed_hosts` (CALLBACK_ALLOWED_HOSTS, plus N8N_WEBHOOK_URL's host and port for callbacks)
  are `host[:port]` entries, by name or IP (`[::1]:8080` for IPv6), that may be reached
  whatever they resolve to, on that port only. An entry without a port allows the URL's
  default port (80 for http, 443 for https): `127.0.0.1` opens http://127.0.0.1/, not
  Redis on http://127.0.0.1:6379/.
An IPv6 address that carries an IPv4 one (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4
2002::/16) is judged by that IPv4 address, which is where it leads. Refused whatever they carry:
the local-use NAT64 prefix 64:ff9b:1::/48 (it leads wherever the local network says) and the
deprecated IPv4-compatible ::/96 (never public; ::1 and :: are in it).
`check_url` checks before a request; `guarded_pools` makes the connection check the peer it
actually reached too, so a DNS answer that changes in between (rebinding) is refused.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

PRIVATE_RANGES = tuple(ipaddress.ip_network(net) for net in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
DEFAULT_PORTS = {"http": 80, "https": 443}
_BRACKETED = re.compile(r"\[([^\[\]]+)\](?::([0-9]+))?")
_NAME_PORT = re.compile(r"([^\s:/@\[\]?#]+)(?::([0-9]+))?")


class UrlRefused(Exception):
    """The URL points at an address the gateway must not call (loopback, private, link-local...)."""


class UrlUnresolvable(Exception):
    """The URL's host could not be resolved."""


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def allowed_host_parse(entry: str) -> tuple[str, int | None]:
    """One allowlist entry, `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address, as
    (host, port or None); ValueError with the reason for anything else (a URL, a bad port)."""
    text = entry.strip()
    found = _BRACKETED.fullmatch(text) or (None if text.count(":") > 1 else _NAME_PORT.fullmatch(text))
    host, port = found.groups() if found else (text, None)
    try:
        if found is None or found.re is _BRACKETED:  # a bare or bracketed IPv6 address, and nothing else
            ipaddress.IPv6Address(host.split("%", 1)[0])
    except ValueError:
        raise ValueError(f"{entry!r} is not host[:port] (a name or an IP; [IPv6]:port; not a URL)") from None
    if port is not None and not 0 < int(port) < 65536:
        raise ValueError(f"{entry!r} names port {port}, which is not between 1 and 65535")
    return _normal_host(host), int(port) if port is not None else None


def allowed_host_entry(url: str) -> str | None:
    """The entry that allows exactly this URL's host on its port (N8N_WEBHOOK_URL's, for callbacks)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in DEFAULT_PORTS:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{parts.port or DEFAULT_PORTS[parts.scheme]}"


@dataclass(frozen=True)
class UrlPolicy:
    allow_private: bool = False
    allowed_hosts: frozenset[tuple[str, int | None]] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, allow_private: bool = False, allowed_hosts=()) -> "UrlPolicy":
        """`allowed_hosts` as written in CALLBACK_ALLOWED_HOSTS (ValueError for an entry that is not host[:port])."""
        return cls(allow_private, frozenset(allowed_host_parse(entry) for entry in allowed_hosts
                                            if entry and entry.strip()))

    def host_allowed(self, host: str | None, port: int | None, scheme: str) -> bool:
        """Whether an entry names this host on this port (an entry without one: the scheme's default port)."""
        if not host or scheme not in DEFAULT_PORTS:
            return False
        port = port or DEFAULT_PORTS[scheme]
        return (_normal_host(host), port) in self.allowed_hosts or (
            port == DEFAULT_PORTS[scheme] and (_normal_host(host), None) in self.allowed_hosts)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition address leads to, or None when it carries none."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour  # 2002:AABB:CCDD::/48 is the 6to4 site of AA.BB.CC.DD


def address_refused(address: str, *, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64 or ip in IPV4_COMPATIBLE:
            return True  # nothing public there: ::/96 holds ::, ::1 and the deprecated ::a.b.c.d
        ip = _embedded_ipv4(ip) or ip  # ::ffff:127.0.0.1, 64:ff9b::7f00:1 and 2002:7f00:1:: are 127.0.0.1
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
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:  # "http://host:99999/"
        raise UrlRefused("The URL's port is not a valid port number.") from None
    if policy.host_allowed(hostname, port, parts.scheme):
        return
    try:
        infos = resolve(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise UrlUnresolvable(f"Could not resolve the {what}'s host {parts.hostname!r}: {exc}.") from None
    addresses = {info[4][0] for info in infos}
    refused = sorted(a for a in addresses if address_refused(a, allow_private=policy.allow_private))
    if refused or not addresses:
        raise UrlRefused(f"The {what}'s host {parts.hostname!r} resolves to {', '.join(refused) or 'nothing'}, "
                         "which is not a public address (CALLBACK_ALLOWED_HOSTS can name a host[:port] to allow).")


def guarded_pools(policy: UrlPolicy, refused: type[Exception] = UrlRefused,
                  connected: Callable[[socket.socket], None] | None = None) -> dict:
    """urllib3 pool classes whose sockets refuse a forbidden peer right after connecting; `connected`, if
    given, is shown every socket that passed (the image fetcher's deadline cuts them off when time is up)."""

    def checked(sock: socket.socket, host: str, port: int, scheme: str) -> socket.socket:
        peer = sock.getpeername()[0]
        if not policy.host_allowed(host, port, scheme) and address_refused(peer, allow_private=policy.allow_private):
            sock.close()
            raise refused(f"The host resolved to {peer}, which is not a public address.")
        if connected is not None:
            connected(sock)
        return sock

    class GuardedHTTP(HTTPConnection):
        def _new_conn(self):
            return checked(super()._new_conn(), self.host, self.port, "http")

    class GuardedHTTPS(HTTPSConnection):
        def _new_conn(self):
            return checked(super()._new_conn(), self.host, self.port, "https")

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTP

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPS

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}
