"""gunicorn's gthread worker, but a request reaches a thread only once it has fully arrived.

gthread hands a connection to one of its few threads as soon as the first byte arrives, and the
thread then blocks until the headers and the body are in. A client that sends
`GET /health HTTP/1.1\\r\\nHost: x\\r\\n` and stops, or a body announced as 100000 bytes and sent a
few at a time, holds a thread for as long as it likes: workers x threads such clients stopped the
gateway (issue 19). This worker reads every request in its event loop first, as nginx does in front
of a server (avitogw.incoming_request): the headers must be complete within HEADER_TIMEOUT, the body (Content-Length or
chunked) may not pause longer than BODY_IDLE_TIMEOUT, and only then is the connection handed to a
thread, which parses what was read with gunicorn's own parser, never waiting for the client.
A slow client costs a socket and its bytes, not a thread; the number of sockets is gunicorn's
worker_connections. Bytes past BODY_MEMORY go to a temporary file; a body past BODY_SPOOL_MAX (more
than the path accepts, avitogw.body_cap.body_ceiling) is handed over as it is and refused by the application
without waiting for the rest.

Not for TLS or HTTP/2 (gunicorn terminates neither here: a front does), which keep gthread's way.
"""
from __future__ import annotations

import selectors
import time
from functools import partial

from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, ThreadWorker

from avitogw.gunicorn_errors import write_json_error
from avitogw.incoming_request import IncomingRequest

READ_SIZE = 64 * 1024


def _body_ceiling(path: str) -> int:
    from avitogw.body_cap import body_ceiling  # here, not at import: gunicorn imports the worker before Django is set up

    return body_ceiling(path)


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
        self.continued: set = set()  # connections told "100 Continue" by this worker for their request
        self.stopping_since: float | None = None  # when this worker began to stop (max_requests, a signal)

    def _buffers(self, conn) -> bool:
        return not (self.cfg.is_ssl or conn.is_http2 or self.cfg.http2_cleartext != "off")

    def enqueue_req(self, conn):
        """In the event loop: a connection with something to read. Read its request before a thread takes it."""
        if conn in self.arrived or not self._buffers(conn):
            self.arrived.discard(conn)
            return super().enqueue_req(conn)
        cfg = self.cfg
        request = IncomingRequest(cfg.limit_request_line + cfg.limit_request_fields * (cfg.limit_request_field_size + 2),
                                  time.monotonic(), body_ceiling=_body_ceiling)
        pipelined = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        if pipelined and request.feed(pipelined, time.monotonic()):
            return self._arrived(conn, request)
        self.incoming[conn] = request
        conn.sock.setblocking(False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn, sock):
        try:
            self._read_more(conn, sock)
        except Exception:  # the event loop is the whole worker: one connection's failure stays its own
            self.log.exception("Error reading a request")
            if conn in self.incoming:
                self._drop(conn)

    def _read_more(self, conn, sock):
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
            self.continued.add(conn)
        if complete:
            self.poller.unregister(sock)
            del self.incoming[conn]
            self._arrived(conn, request)

    def _arrived(self, conn, request):
        conn.init()  # the parser (no TLS, no HTTP/2 here: nothing is read)
        continue_sent = conn in self.continued
        self.continued.discard(conn)
        conn.parser.unreader = ReadAheadUnreader(conn.sock, request.head_to_parse(continue_sent), request.body)
        conn.data_ready = True
        self.arrived.add(conn)
        self.enqueue_req(conn)

    def _drop(self, conn, answer: tuple[int, str] | None = None):
        request = self.incoming.pop(conn)
        request.body.close()
        self.continued.discard(conn)
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
        # A stopping worker waits for connections that have not begun a request no longer than gthread
        # lingers on its kept-alive ones: a client may have sent its next request already (it is on the
        # wire), and dropping the connection at once broke it (seen at every max_requests recycle under
        # load). A request that arrives meanwhile is answered with "Connection: close".
        if not self.alive and self.stopping_since is None:
            self.stopping_since = now
        lingered = self.stopping_since is not None and now - self.stopping_since >= STOP_KEEPALIVE_LINGER
        for conn in [conn for conn, request in self.incoming.items()
                     if request.expired(now) or (lingered and not request.head)]:
            self._drop(conn, (408, "Request Timeout") if self.incoming[conn].head else None)

    def handle(self, conn):
        """In a thread: serve the request, then put any pipelined bytes where gunicorn looks for them."""
        result = super().handle(conn)
        unreader = getattr(conn.parser, "unreader", None)
        if isinstance(unreader, ReadAheadUnreader):
            unreader.forget_read_ahead()
        return result
