"""The one HTTP client for arbitrary image hosts: fetches an `image_url` safely before upload to Avito,
and a stored message's image for staff to see through the gateway (messenger.services.chat_images).

`image_url` comes from whoever calls the API, so fetching it must not become a way into
the gateway's own network (SSRF). Every hop is checked before it is requested: only
http/https, every address the host resolves to must be public (unless
IMAGE_URL_ALLOW_PRIVATE), and redirects are followed by hand, each one checked again.
The connection itself checks the address it actually reached, so a DNS answer that
changes between the check and the connect (rebinding) is refused too. The body is read
in chunks and abandoned as soon as it passes the size limit. This module and the Avito
transport are the only ones that import `requests`.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
IMAGE_CONTENT_TYPES = {
    "image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/gif",
    "image/bmp", "image/x-ms-bmp", "image/heic", "image/heif",
}


class ImageFetchError(Exception):
    """The image could not be fetched (host unreachable, HTTP error, timeout)."""


class ImageAddressRefused(ImageFetchError):
    """The URL points at an address the gateway must not call (loopback, private, link-local...)."""


class ImageRejected(ImageFetchError):
    """The host answered, but not with an acceptable image (type or size)."""


@dataclass(frozen=True)
class FetchedImage:
    content: bytes
    content_type: str
    filename: str


def address_refused(address: str, *, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_unspecified or ip.is_multicast:
        return True
    # `is_global` is false for loopback, RFC 1918, link-local (cloud metadata), CGNAT,
    # documentation and reserved ranges alike: none of them is a public image host.
    return not allow_private and not ip.is_global


def _guarded_pools(allow_private: bool) -> dict:
    """Connection pools whose sockets refuse a forbidden peer right after connecting."""

    def checked(sock: socket.socket) -> socket.socket:
        peer = sock.getpeername()[0]
        if address_refused(peer, allow_private=allow_private):
            sock.close()
            raise ImageAddressRefused(f"The image host resolved to {peer}, which is not a public address.")
        return sock

    class GuardedHTTP(HTTPConnection):
        def _new_conn(self):
            return checked(super()._new_conn())

    class GuardedHTTPS(HTTPSConnection):
        def _new_conn(self):
            return checked(super()._new_conn())

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTP

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPS

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}


class ImageFetcher:
    def __init__(self, *, timeout: float, max_bytes: int, allow_private: bool,
                 resolve: Callable[..., list] = socket.getaddrinfo,
                 content_types: frozenset[str] | set[str] = frozenset(IMAGE_CONTENT_TYPES)):
        self.timeout, self.max_bytes, self.allow_private = timeout, max_bytes, allow_private
        self.content_types = content_types
        self.resolve = resolve
        self.session = requests.Session()
        self.session.trust_env = False  # a proxy would hide the real peer from the address check
        adapter = HTTPAdapter(max_retries=0)
        adapter.poolmanager.pool_classes_by_scheme = _guarded_pools(allow_private)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": "avitogw-image-fetcher", "Accept": "image/*"})

    def check_url(self, url: str) -> None:
        """Refuse a URL that is not http(s) or whose host resolves to a forbidden address."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ImageAddressRefused("Only http:// and https:// URLs with a host are accepted.")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            infos = self.resolve(parts.hostname, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, ValueError) as exc:
            raise ImageFetchError(f"Could not resolve the image host {parts.hostname!r}: {exc}.") from None
        addresses = {info[4][0] for info in infos}
        refused = sorted(a for a in addresses if address_refused(a, allow_private=self.allow_private))
        if refused or not addresses:
            raise ImageAddressRefused(
                f"The image host {parts.hostname!r} resolves to {', '.join(refused) or 'nothing'}, "
                "which is not a public address (set IMAGE_URL_ALLOW_PRIVATE to allow it)."
            )

    def fetch(self, url: str) -> FetchedImage:
        for _ in range(MAX_REDIRECTS + 1):
            self.check_url(url)
            try:
                response = self.session.get(url, stream=True, allow_redirects=False, timeout=self.timeout)
            except requests.exceptions.Timeout:
                raise ImageFetchError(f"The image host did not answer within {self.timeout:g} s.") from None
            except requests.exceptions.RequestException as exc:
                raise ImageFetchError(f"Could not fetch the image: {exc.__class__.__name__}.") from None
            with response:
                if response.is_redirect and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])
                    continue
                return self._read(url, response)
        raise ImageFetchError(f"The image URL redirected more than {MAX_REDIRECTS} times.")

    def _read(self, url: str, response: requests.Response) -> FetchedImage:
        if response.status_code != 200:
            raise ImageFetchError(f"The image host answered HTTP {response.status_code}.")
        content_type = (response.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if content_type not in self.content_types:
            raise ImageRejected(
                f"The URL is not a JPEG, PNG, GIF, BMP or HEIC image (Content-Type {content_type or 'missing'!r})."
            )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ImageRejected(f"The image is {int(declared)} bytes; at most {self.max_bytes} are accepted.")
        body = bytearray()
        try:
            for chunk in response.iter_content(CHUNK):
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    raise ImageRejected(f"The image is larger than {self.max_bytes} bytes, the limit.")
        except requests.exceptions.RequestException as exc:
            raise ImageFetchError(f"The image download broke off: {exc.__class__.__name__}.") from None
        name = urlsplit(url).path.rsplit("/", 1)[-1] or "image"
        return FetchedImage(content=bytes(body), content_type=content_type, filename=name[:100])
