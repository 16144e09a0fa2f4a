"""Images on their way to Avito: fetched from a URL or uploaded, checked, then sent through `uploadImages`.

Avito takes JPEG, HEIC, GIF, BMP and PNG up to 24 MB, one file per upload. The format is
decided by the file's first bytes, not by the name or the Content-Type a client or a
host claims, so a wrong file is refused here with a clear message instead of by Avito.
"""
from __future__ import annotations

from django.conf import settings

from core.errors import GatewayError, InvalidInput
from messenger.avito import get_client
from messenger.image_fetcher import (FetchedImage, ImageAddressRefused, ImageFetcher, ImageFetchError,
                                     ImageFetchTimeout, ImageRejected)
from messenger.services.limits import MAX_IMAGE_BYTES, invalid

HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# The whole download of an image_url, redirects included; never shorter than one read may wait. A send's
# web thread (or bulk worker) is held that long at most, however slowly the host trickles bytes.
IMAGE_FETCH_DEADLINE = 30.0


class ImageHostTimeout(GatewayError):
    """The image_url's host was too slow (no answer in CONNECTION_TIMEOUT, or not the whole image in time)."""

    status = 504
    code = "upstream_timeout"


def image_format(content: bytes) -> tuple[str, str] | None:
    """(extension, content type) of an image Avito accepts, judged by its magic bytes; None otherwise."""
    if content.startswith(b"\xff\xd8\xff"):
        return "jpg", "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "image/png"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "gif", "image/gif"
    if content.startswith(b"BM") and len(content) > 26:
        return "bmp", "image/bmp"
    if content[4:8] == b"ftyp" and content[8:12] in HEIF_BRANDS:
        return "heic", "image/heic"
    return None


def image_fetch(*, url: str) -> FetchedImage:
    """Download `image_url` within the size limit and the deadline, refusing private addresses (InvalidInput,
    or ImageHostTimeout for a host too slow)."""
    fetcher = ImageFetcher(timeout=settings.CONNECTION_TIMEOUT, max_bytes=MAX_IMAGE_BYTES,
                           deadline=max(IMAGE_FETCH_DEADLINE, settings.CONNECTION_TIMEOUT),
                           allow_private=settings.IMAGE_URL_ALLOW_PRIVATE,
                           allowed_hosts=settings.CALLBACK_ALLOWED_HOSTS)
    try:
        return fetcher.fetch(url)
    except ImageFetchTimeout as exc:
        raise ImageHostTimeout(str(exc), details={"image_url": [str(exc)]}) from None
    except ImageAddressRefused as exc:
        raise InvalidInput(str(exc), code="image_url_forbidden", details={"image_url": [str(exc)]}) from None
    except ImageRejected as exc:
        raise invalid("image_url", str(exc)) from None
    except ImageFetchError as exc:
        raise InvalidInput(str(exc), code="image_fetch_failed", details={"image_url": [str(exc)]}) from None


def image_upload(*, content: bytes, filename: str, field: str = "file") -> tuple[str, dict]:
    """Check one image and upload it to Avito: (image_id, {"WxH": url})."""
    if not content:
        raise invalid(field, "The image is empty.")
    if len(content) > MAX_IMAGE_BYTES:
        raise invalid(field, f"The image is {len(content)} bytes; Avito accepts at most {MAX_IMAGE_BYTES}.")
    kind = image_format(content)
    if kind is None:
        raise invalid(field, "Not a JPEG, PNG, GIF, BMP or HEIC image.")
    extension, content_type = kind
    stem = (filename or "image").rsplit(".", 1)[0][:80] or "image"
    return get_client().upload_image(content, filename=f"{stem}.{extension}", content_type=content_type)
