"""The one HTTP client for arbitrary image hosts: fetches an `image_url` safely before upload to Avito,
and a stored message's image for staff to see through the gateway (messenger.services.chat_images).

`image_url` comes from whoever calls the API, so fetching it must not become a way into
the gateway's own network (SSRF). Every hop is checked before it is requested: only
http/https, every address the host resolves to must be public (core.url_guard: private
ranges with IMAGE_URL_ALLOW_PRIVATE, any address for a host in CALLBACK_ALLOWED_HOSTS),
and redirects are followed by hand, each one checked again. The connection itself checks
the address it actually reached, so a DNS answer that changes between the check and the
connect (rebinding) is refused too. The body is read
in chunks and abandoned as soon as it passes the size limit. Besides the timeout of each
read, the whole fetch (every hop, headers and body) has a deadline (messenger.fetch_deadline):
a host that sends a byte every few seconds is cut off then (ImageFetchTimeout). This module and
the Avito transport are the only ones that import `requests`.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from core.url_guard import UrlPolicy, UrlRefused, UrlUnresolvable, check_url, guarded_pools
from messenger.fetch_deadline import Deadline

MAX_REDIRECTS = 5
DEFAULT_DEADLINE = 30.0  # seconds for a whole fetch, redirects included
CHUNK = 64 * 1024
IMAGE_CONTENT_TYPES = {
    "image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/gif",
    "image/bmp", "image/x-ms-bmp", "image/heic", "image/heif",
}


class ImageFetchError(Exception):
    """The image could not be fetched (host unreachable, HTTP error, timeout)."""


class ImageAddressRefused(ImageFetchError):
    """The URL points at an address the gateway must not call (loopback, private, link-local...)."""


class ImageFetchTimeout(ImageFetchError):
    """The host was too slow: a read got nothing within the timeout, or the whole fetch passed its deadline."""


class ImageRejected(ImageFetchError):
    """The host answered, but not with an acceptable image (type or size)."""


@dataclass(frozen=True)
class FetchedImage:
    content: bytes
    content_type: str
    filename: str


class ImageFetcher:
    """One fetch at a time: `deadline` (seconds) bounds each `fetch` as a whole, `timeout` each read."""

    def __init__(self, *, timeout: float, max_bytes: int, allow_private: bool, allowed_hosts=(),
                 deadline: float = DEFAULT_DEADLINE, resolve: Callable[..., list] = socket.getaddrinfo,
                 content_types: frozenset[str] | set[str] = frozenset(IMAGE_CONTENT_TYPES)):
        self.timeout, self.max_bytes, self.deadline = timeout, max_bytes, deadline
        self._running: Deadline | None = None
        self.policy = UrlPolicy.of(allow_private=allow_private, allowed_hosts=allowed_hosts)
        self.content_types = content_types
        self.resolve = resolve
        self.session = requests.Session()
        self.session.trust_env = False  # a proxy would hide the real peer from the address check
        adapter = HTTPAdapter(max_retries=0)
        adapter.poolmanager.pool_classes_by_scheme = guarded_pools(self.policy, refused=ImageAddressRefused,
                                                                   connected=self._connected)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": "avitogw-image-fetcher", "Accept": "image/*"})

    def check_url(self, url: str) -> None:
        """Refuse a URL that is not http(s) or whose host resolves to a forbidden address."""
        try:
            check_url(url, self.policy, what="image", resolve=self.resolve)
        except UrlRefused as exc:
            raise ImageAddressRefused(f"{exc} IMAGE_URL_ALLOW_PRIVATE allows private ranges.") from None
        except UrlUnresolvable as exc:
            raise ImageFetchError(str(exc)) from None

    def _connected(self, sock: socket.socket) -> None:
        if self._running is not None:
            self._running.watch(sock)

    def fetch(self, url: str) -> FetchedImage:
        with Deadline(self.deadline) as deadline:
            self._running = deadline
            try:
                image = self._hops(url, deadline)
            except ImageFetchError:
                if deadline.expired:  # the cut-off surfaces as whatever the broken read raised
                    raise self._too_slow() from None
                raise
            finally:
                self._running = None
                self.session.close()  # no kept-alive socket outlives its deadline
            if deadline.expired:  # a body without Content-Length simply ends when its socket is cut off
                raise self._too_slow()
            return image

    def _too_slow(self) -> ImageFetchTimeout:
        return ImageFetchTimeout(f"The image host did not give the whole image within {self.deadline:g} s; "
                                 "the download was cut off.")

    def _hops(self, url: str, deadline: Deadline) -> FetchedImage:
        for _ in range(MAX_REDIRECTS + 1):
            self.check_url(url)
            timeout = min(self.timeout, deadline.remaining())
            if timeout <= 0:
                raise self._too_slow()
            try:
                response = self.session.get(url, stream=True, allow_redirects=False, timeout=timeout)
            except requests.exceptions.Timeout:
                raise ImageFetchTimeout(f"The image host did not answer within {timeout:g} s.") from None
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
        except requests.exceptions.ConnectionError as exc:
            if exc.args and isinstance(exc.args[0], ReadTimeoutError):  # requests' wording of a stalled body
                raise ImageFetchTimeout(f"The image host stopped sending for {self.timeout:g} s.") from None
            raise ImageFetchError(f"The image download broke off: {exc.__class__.__name__}.") from None
        except requests.exceptions.RequestException as exc:
            raise ImageFetchError(f"The image download broke off: {exc.__class__.__name__}.") from None
        name = urlsplit(url).path.rsplit("/", 1)[-1] or "image"
        return FetchedImage(content=bytes(body), content_type=content_type, filename=name[:100])
