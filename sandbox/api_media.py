"""Images and voice messages: uploadImages, getVoiceFiles, and the files their links point to.

Avito takes one image per upload in the multipart field ``uploadfile[]`` (JPEG, HEIC, GIF,
BMP or PNG, at most 24 MB) and answers ``{image_id: {size: url}}``. Voice links live an
hour. The links lead to ``/_sandbox/files/...`` on the sandbox itself: an uploaded image is
served as uploaded (at every size), a seeded one as a small PNG, a voice as a stand-in MP4
container with no audio track.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

from sandbox.content import UPLOAD_SIZES, image_sizes
from sandbox.errors import ApiError, validation_error
from sandbox.http import Request, Response, json_response
from sandbox.multipart import parse_multipart
from sandbox.query import int_param, list_param

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

MAX_IMAGE_BYTES = 24 * 1024 * 1024
VOICE_LINK_TTL = 3600
UPLOAD_FIELD = "uploadfile[]"
HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")


def image_kind(data: bytes) -> str | None:
    """The image format by its magic bytes, or None when it is not one Avito takes."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data.startswith(b"BM") and len(data) > 26:
        return "image/bmp"
    if data[4:8] == b"ftyp" and data[8:12] in HEIC_BRANDS:
        return "image/heic"
    return None


def upload_images(app: SandboxApp, request: Request) -> Response:
    if request.content_type != "multipart/form-data":
        raise validation_error({UPLOAD_FIELD: "send multipart/form-data with one file in uploadfile[]"})
    files = [part for part in parse_multipart(request.header("Content-Type"), request.body())
             if part.name == UPLOAD_FIELD]
    if len(files) != 1:
        raise validation_error({UPLOAD_FIELD: f"exactly one file is required, got {len(files)}"})
    data = files[0].data
    if len(data) > MAX_IMAGE_BYTES:
        raise validation_error({UPLOAD_FIELD: f"the file must be at most 24 MB, got {len(data)} bytes"})
    if image_kind(data) is None:
        raise validation_error({UPLOAD_FIELD: "the file must be a JPEG, PNG, GIF, BMP or HEIC image"})
    state = request.account.state
    image_id = state.register_image(data)
    return json_response({image_id: image_sizes(state.base_url, image_id, UPLOAD_SIZES)})


def get_voice_files(app: SandboxApp, request: Request) -> Response:
    voice_ids = list_param(request.query, "voice_ids")
    if not voice_ids:
        raise validation_error({"voice_ids": "is required"})
    state = request.account.state
    expires = state.now() + VOICE_LINK_TTL
    with state.lock:
        known = [voice_id for voice_id in voice_ids if voice_id in state.voices]
    # Ids that are not voices of this account are left out rather than failing the whole call.
    urls = {voice_id: f"{state.base_url}/_sandbox/files/voices/{voice_id}.mp4?expires={expires}"
            for voice_id in known}
    return json_response({"voices_urls": urls})


def serve_image(app: SandboxApp, request: Request) -> Response:
    image_id = request.path_params["image_id"]
    # The links carry no account; image ids are unique across the accounts' stores.
    for account in list(app.accounts.values()):
        with account.state.lock:
            if image_id in account.state.images:
                data = account.state.images[image_id] or placeholder_png()
                break
    else:
        raise ApiError(404, f"Not found: image {image_id}")
    return Response(200, data, content_type=image_kind(data) or "application/octet-stream")


def serve_voice(app: SandboxApp, request: Request) -> Response:
    voice_id = request.path_params["voice_id"]
    expires = int_param(request.query, "expires", default=0, minimum=0, maximum=2**62)
    if not any(voice_id in account.state.voices for account in list(app.accounts.values())):
        raise ApiError(404, f"Not found: voice {voice_id}")
    if expires <= app.state.now():
        raise ApiError(403, "Forbidden: this voice link has expired, ask getVoiceFiles for a new one")
    return Response(200, voice_stand_in(), content_type="audio/mp4")


def placeholder_png(width: int = 32, height: int = 24) -> bytes:
    """A small grey PNG, built here so no binary file has to ship with the sandbox."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xb0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def voice_stand_in() -> bytes:
    """An MP4 ``ftyp`` box and an empty ``mdat``: the right container, no audio in it."""
    ftyp = b"ftyp" + b"M4A " + struct.pack(">I", 0) + b"M4A mp42isom"
    return struct.pack(">I", 8 + len(ftyp)) + ftyp + struct.pack(">I", 8) + b"mdat"
