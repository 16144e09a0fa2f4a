"""One HTTP/1.1 request as its bytes arrive, for avitogw.buffering_worker: when it is complete (head, then
a Content-Length or chunked body), and when its client has taken too long.

It only decides when to stop waiting; gunicorn's parser still reads and checks the request itself, so
anything odd (two lengths, a bad chunk line, headers past gunicorn's limits) counts as complete and goes
straight to gunicorn, which refuses it.
"""
from __future__ import annotations

import tempfile
from typing import Callable

HEADER_TIMEOUT = 10.0  # seconds from a request's first byte (or the connection) to its last header
BODY_IDLE_TIMEOUT = 10.0  # seconds a body may go without a byte
BODY_MEMORY = 256 * 1024  # per connection; the rest of a body waits on disk
BODY_SPOOL_MAX = 64 * 1024 * 1024  # the default ceiling: the staff reply's upload (the largest body) is far below


class ChunkedBodyEnd:
    """Finds where a chunked body ends, fed its bytes piece by piece (RFC 9112 section 7.1). It only
    decides when to stop waiting; gunicorn's parser still reads and checks the body itself."""

    LINE_MAX = 8192

    def __init__(self):
        self.state, self.left, self.line = "size", 0, bytearray()

    def feed(self, data: bytes) -> bool:
        """True once the last chunk and the trailers are in. ValueError when it is no chunked body."""
        at = 0
        while at < len(data):
            if self.state in ("data", "crlf"):
                taken = min(self.left, len(data) - at)
                at, self.left = at + taken, self.left - taken
                if not self.left:
                    self.state, self.left = ("crlf", 2) if self.state == "data" else ("size", 0)
                continue
            end = data.find(b"\n", at)
            self.line += data[at:] if end < 0 else data[at:end]
            if len(self.line) > self.LINE_MAX:
                raise ValueError("chunk line too long")
            if end < 0:
                return False
            at, text = end + 1, bytes(self.line).rstrip(b"\r")
            self.line.clear()
            if self.state == "trailer":
                if not text:
                    return True
            else:  # a chunk-size line: hex digits, maybe ";extensions"
                size = int(text.split(b";")[0].strip() or b"x", 16)
                self.state, self.left = ("trailer", 0) if size == 0 else ("data", size)
        return False


class IncomingRequest:
    """The bytes of one request as they arrive: its head in memory, the rest in a spooled file."""

    def __init__(self, head_limit: int, now: float, body_ceiling: Callable[[str], int] = lambda path: BODY_SPOOL_MAX):
        # body_ceiling(path): the largest body the application takes at that path. A body declared or grown
        # past it is handed over at once, for the application to refuse (413) without waiting for the rest.
        self.head, self.head_limit, self.body_ceiling = bytearray(), head_limit, body_ceiling
        self.body_max = BODY_SPOOL_MAX
        self.body = tempfile.SpooledTemporaryFile(max_size=BODY_MEMORY)
        self.head_done = False
        self.body_left: int | None = 0  # bytes still due (Content-Length), None for a chunked body
        self.chunked: ChunkedBodyEnd | None = None
        self.started = self.last_byte = now
        self.continue_expected = False

    def feed(self, data: bytes, now: float) -> bool:
        """True when the request is complete (or malformed or too large: gunicorn then refuses it)."""
        self.last_byte = now
        if not self.head_done:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return len(self.head) > self.head_limit
            data, self.head = bytes(self.head[end + 4:]), self.head[:end + 4]
            self.head_done = True
            self.body_max = self.body_ceiling(self._target_path())
            if not self._read_framing() or (self.body_left or 0) > self.body_max:
                self.body.write(data)  # the next requests, if the client pipelined them
                return True
        self.body.write(data)
        if self.body.tell() > self.body_max:
            return True
        if self.chunked is not None:
            try:
                return self.chunked.feed(data)
            except ValueError:
                return True
        self.body_left = max(0, self.body_left - len(data))
        return self.body_left == 0

    def _target_path(self) -> str:
        """The request line's path (without the query), or "" when the line is not one."""
        parts = bytes(self.head).split(b"\r\n", 1)[0].split(b" ")
        target = parts[1] if len(parts) == 3 else b""
        return target.split(b"?", 1)[0].decode("latin-1")

    def _read_framing(self) -> bool:
        """How the body ends, from the head: False when gunicorn should see the request right away
        (no body, or framing it will refuse: both lengths, two lengths, a length that is no number)."""
        fields = [line.partition(b":") for line in bytes(self.head).split(b"\r\n")[1:] if line]
        names = [name.strip().lower() for name, _, _ in fields]
        lengths = [value.strip() for name, _, value in fields if name.strip().lower() == b"content-length"]
        self.continue_expected = any(name.strip().lower() == b"expect" and value.strip().lower() == b"100-continue"
                                     for name, _, value in fields)
        if b"transfer-encoding" in names:
            if lengths:
                return False
            self.chunked, self.body_left = ChunkedBodyEnd(), None
            return True
        if len(lengths) > 1 or (lengths and not lengths[0].isdigit()):
            return False
        self.body_left = int(lengths[0]) if lengths else 0
        return self.body_left > 0

    def head_to_parse(self, continue_sent: bool) -> bytes:
        """The head for gunicorn: without `Expect: 100-continue` once the worker has answered it, so the
        client is not told "100 Continue" twice."""
        if not continue_sent:
            return bytes(self.head)
        lines = bytes(self.head).split(b"\r\n")
        return b"\r\n".join(line for line in lines
                             if line.partition(b":")[0].strip().lower() != b"expect")

    def expired(self, now: float) -> bool:
        if not self.head_done:
            return now - self.started > HEADER_TIMEOUT
        return now - self.last_byte > BODY_IDLE_TIMEOUT
