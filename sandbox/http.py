"""The thin HTTP layer of the sandbox: a request read from a WSGI environ, and JSON responses.

The sandbox is a plain WSGI app (no framework in the request path), so this module
does the little a framework would: decode the query string, read the body once,
parse JSON and form bodies, and build the response tuple.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from sandbox.errors import ApiError

# uploadImages takes files up to 24 MB; anything much larger is refused before reading it.
MAX_BODY_BYTES = 25 * 1024 * 1024


@dataclass
class Response:
    status: int
    body: dict | list | bytes | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json; charset=utf-8"

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Request:
    """One HTTP request; the body is read lazily and only once."""

    def __init__(self, environ: dict):
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        raw_path = environ.get("PATH_INFO", "") or "/"
        # WSGI hands PATH_INFO over as latin-1 decoded bytes; chat ids are ASCII anyway.
        self.path = raw_path.encode("latin-1").decode("utf-8", "replace")
        self.query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.path_params: dict[str, str] = {}
        self.operation = ""
        self.account = None  # the token's sandbox.accounts.Account, set before an API handler runs
        self._body: bytes | None = None

    def header(self, name: str, default: str = "") -> str:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            return self.environ.get(key, default) or default
        return self.environ.get("HTTP_" + key, default)

    @property
    def content_type(self) -> str:
        return self.header("Content-Type").split(";")[0].strip().lower()

    def body(self) -> bytes:
        if self._body is None:
            try:
                length = int(self.environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                raise ApiError(400, "Bad Request: invalid Content-Length")
            if length > MAX_BODY_BYTES:
                raise ApiError(413, "Request Entity Too Large: the body exceeds 25 MB")
            stream = self.environ.get("wsgi.input")
            if stream is None:
                self._body = b""
            elif "chunked" in self.header("Transfer-Encoding").lower():
                # No Content-Length to go by: read to the end, but never more than the cap.
                self._body = stream.read(MAX_BODY_BYTES + 1)
                if len(self._body) > MAX_BODY_BYTES:
                    raise ApiError(413, "Request Entity Too Large: the body exceeds 25 MB")
            else:
                self._body = stream.read(length) if length > 0 else b""
        return self._body

    def json(self, *, required: bool = True) -> dict | list | None:
        """The JSON body; a missing body is ``None`` (or 400 when required), bad JSON is 400."""
        raw = self.body()
        if not raw.strip():
            if required:
                raise ApiError(400, "Bad Request: a JSON body is required")
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Bad Request: the body is not valid JSON")

    def json_object(self, *, required: bool = True) -> dict:
        data = self.json(required=required)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ApiError(400, "Bad Request: the JSON body must be an object")
        return data

    def form(self) -> dict[str, str]:
        """An ``application/x-www-form-urlencoded`` body; the last value wins for repeats."""
        pairs = parse_qs(self.body().decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[-1] for name, values in pairs.items()}


def json_response(body, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status=status, body=body, headers=list(headers or []))
