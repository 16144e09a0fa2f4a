"""gunicorn's gthread worker, but a request reaches a thread only once it has fully arrived.

gthread hands a connection to one of its few threads as soon as the first byte arrives, and the
thread then blocks until the headers and the body are in. A client that sends
`GET /health HTTP/1.1\\r\\nHost: x\\r\\n` and stops, or a body announced as 100000 bytes and sent a
few at a time, holds a thread for as long as it likes: workers x threads such clients stopped the
gateway (issue 19). This worker reads every request in its event loop first, as nginx does in front
of a server: the headers must be complete within HEADER_TIMEOUT, the body (Content-Length or
chunked) may not pause longer than BODY_IDLE_TIMEOUT, and only then is the connection handed to a
thread, which parses what was read with gunicorn's own parser, never waiting for the client.
A slow client costs a socket and its bytes, not a thread; the number of sockets is gunicorn's
worker_connections. Bytes past BODY_MEMORY go to a temporary file; a body past BODY_SPOOL_MAX (more
than anything the gateway accepts) is handed over as it is and refused by the application.

Not for TLS or HTTP/2 (gunicorn terminates neither here: a front does), which keep gthread's way.
"""
from __future__ import annotations

import selectors
import tempfile
import time
from functools import partial

from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import ThreadWorker

from avitogw.gunicorn_errors import write_json_error

HEADER_TIMEOUT = 10.0  # seconds from a request's first byte (or the connection) to its last header
BODY_IDLE_TIMEOUT = 10.0  # seconds a body may go without a byte
BODY_MEMORY = 256 * 1024  # per connection; the rest of a body waits on disk
BODY_SPOOL_MAX = 64 * 1024 * 1024  # the staff reply's upload (the largest body) is far below
READ_SIZE = 64 * 1024


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

    def __init__(self, head_limit: int, now: float):
        self.head, self.head_limit = bytearray(), head_limit
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
            if not self._read_framing():
                self.body.write(data)  # the next requests, if the client pipelined them
                return True
        self.body.write(data)
        if self.body.tell() > BODY_SPOOL_MAX:
            return True
        if self.chunked is not None:
            try:
                return self.chunked.feed(data)
            except ValueError:
                return True
        self.body_left = max(0, self.body_left - len(data))
        return self.body_left == 0

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

    def expired(self, now: float) -> bool:
        if not self.head_done:
            return now - self.started > HEADER_TIMEOUT
        return now - self.last_byte > BODY_IDLE_TIMEOUT


class ReadAheadUnreader(SocketUnreader):
    """gunicorn's socket reader that first gives back what the event loop already read."""

    def __init__(self, sock, head: bytes, body):
        super().__init__(sock)
        self.unread(head)
        body.seek(0)
        self.read_ahead = body

    def chunk(self, size_hint=None):
        if self.read_ahead is not None:
            data = self.read_ahead.read(max(self.mxchunk, min(size_hint or 0, self.max_body_chunk)))
            if data:
                return data
            self.forget_read_ahead()
        return super().chunk(size_hint)

    def forget_read_ahead(self):
        """After a response: what is left (the next pipelined request) joins the buffer gunicorn checks."""
        if self.read_ahead is None:
            return
        rest = self.read_ahead.read()
        self.read_ahead.close()
        self.read_ahead = None
        if rest:
            self.buf.seek(0, 2)
            self.buf.write(rest)


class BufferingThreadWorker(ThreadWorker):
    """gthread with the requests read in the event loop (see the module's docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.incoming: dict = {}  # connection -> IncomingRequest, while its request arrives
        self.arrived: set = set()  # connections whose request is complete, on their way to a thread

    def _buffers(self, conn) -> bool:
        return not (self.cfg.is_ssl or conn.is_http2 or self.cfg.http2_cleartext != "off")

    def enqueue_req(self, conn):
        """In the event loop: a connection with something to read. Read its request before a thread takes it."""
        if conn in self.arrived or not self._buffers(conn):
            self.arrived.discard(conn)
            return super().enqueue_req(conn)
        cfg = self.cfg
        request = IncomingRequest(cfg.limit_request_line + cfg.limit_request_fields * (cfg.limit_request_field_size + 2),
                                  time.monotonic())
        pipelined = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        if pipelined and request.feed(pipelined, time.monotonic()):
            return self._arrived(conn, request)
        self.incoming[conn] = request
        conn.sock.setblocking(False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn, sock):
        request = self.incoming[conn]
        try:
            data = sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client gave up
            return self._drop(conn)
        was_head_done = request.head_done
        complete = request.feed(data, time.monotonic())
        if request.head_done and not was_head_done and request.continue_expected and not complete:
            try:  # the client waits for this before it sends the body; gunicorn would send it too late
                sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            except OSError:
                return self._drop(conn)
        if complete:
            self.poller.unregister(sock)
            del self.incoming[conn]
            self._arrived(conn, request)

    def _arrived(self, conn, request):
        conn.init()  # the parser (no TLS, no HTTP/2 here: nothing is read)
        conn.parser.unreader = ReadAheadUnreader(conn.sock, bytes(request.head), request.body)
        conn.data_ready = True
        self.arrived.add(conn)
        self.enqueue_req(conn)

    def _drop(self, conn, answer: tuple[int, str] | None = None):
        request = self.incoming.pop(conn)
        request.body.close()
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        if answer:
            try:
                write_json_error(conn.sock, *answer, "")
            except OSError:
                pass
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        """Every loop: also close connections whose request stopped arriving in time: 408 to one that
        started a request, silently (as gthread does) for one that never sent a byte."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [conn for conn, request in self.incoming.items() if request.expired(now)]:
            self._drop(conn, (408, "Request Timeout") if self.incoming[conn].head else None)

    def handle(self, conn):
        """In a thread: serve the request, then put any pipelined bytes where gunicorn looks for them."""
        result = super().handle(conn)
        unreader = getattr(conn.parser, "unreader", None)
        if isinstance(unreader, ReadAheadUnreader):
            unreader.forget_read_ahead()
        return result
