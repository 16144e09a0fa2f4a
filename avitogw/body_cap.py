"""Request bodies capped by size before anything reads them: past the cap, 413 and nothing parsed.

Django parses a form the moment something asks for `request.POST`, and the CSRF check asks
for it on any POST that carries a CSRF cookie, however made up: without a cap, anyone could
make the admin's login page parse a 25 MB form or spool a 60 MB file. The cap depends on
the path (`body_limit`):

- `/api/*`: DATA_UPLOAD_MAX_MEMORY_SIZE (one Avito image and the form around it: the image
  send), after the API guard has let the caller in;
- the staff reply URL (`/admin/messenger/chat/<id>/reply/`): the same, since a reply may
  carry an image, but only for an active staff member who may reply (messenger.reply_chat);
- everything else (the admin's other forms, the login page, the incoming webhook, /health):
  REQUEST_BODY_MAX_BYTES (Django's own 2.5 MB); the webhook keeps its own smaller cap.

A declared Content-Length over the cap is refused without reading a byte. A chunked body
(no Content-Length, which Django would otherwise read as empty) is read here up to the cap:
one byte more is refused, and a body within it is handed on as if its length had been
declared. The refusal is the JSON envelope (contract §2), and a short plain page under
/admin/. gunicorn closes a connection whose body was left unread instead of draining it.

Placed after the session and authentication middleware (the reply URL's cap depends on who
asks), which read no body, and before any view or `process_view` (CSRF) can.
"""
from __future__ import annotations

import io
import re

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse, JsonResponse

from core.errors import error_body
from inbox.chat_actions import REPLY_PERMISSION

API_PREFIX = "/api/"
ADMIN_PREFIX = "/admin/"
STAFF_REPLY_PATH = re.compile(r"^/admin/messenger/chat/.+/reply/$")
READ_CHUNK = 64 * 1024


def body_ceiling(path: str) -> int:
    """The largest body anyone may send to `path`, in bytes (before knowing who asks): what the web
    worker waits for at most (avitogw.buffering_worker) before handing a request over to be refused."""
    if path.startswith(API_PREFIX) or STAFF_REPLY_PATH.match(path):
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return settings.REQUEST_BODY_MAX_BYTES


def body_limit(request) -> int:
    """The largest body this request may carry, in bytes."""
    path = request.path_info
    if STAFF_REPLY_PATH.match(path) and not (request.user.is_staff and request.user.has_perm(REPLY_PERMISSION)):
        return settings.REQUEST_BODY_MAX_BYTES
    return body_ceiling(path)


def _declared_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _is_chunked(request) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_chunked(request, limit: int) -> bytes | None:
    """The chunked body, read up to `limit`; None once it proves longer."""
    source, body = request.META["wsgi.input"], bytearray()
    while len(body) <= limit:
        chunk = source.read(min(READ_CHUNK, limit + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body += chunk
    return None


def too_large(request, limit: int) -> HttpResponse:
    message = f"The request body is larger than {limit} bytes, the most this address accepts."
    if request.path_info.startswith(ADMIN_PREFIX):
        return HttpResponse(f"413 Payload Too Large\n\n{message}\n", status=413, content_type="text/plain; charset=utf-8")
    return JsonResponse(error_body("payload_too_large", message), status=413)


class BodyCapMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = _declared_length(request)
        if length is not None:
            # The small cap first: only a body past it costs the reply URL's session look-up.
            if length > settings.REQUEST_BODY_MAX_BYTES and length > (limit := body_limit(request)):
                return too_large(request, limit)
        elif _is_chunked(request):
            limit = body_limit(request)
            body = _read_chunked(request, limit)
            if body is None:
                return too_large(request, limit)
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))  # what Django reads the body from
        return self.get_response(request)
