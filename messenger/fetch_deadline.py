"""A total deadline for one download, however the host paces it: every socket of it is cut off when time is up.

A per-read timeout alone lets a host that sends a byte every few seconds (in the headers or
the body) hold a web thread for hours: each read gets its byte in time. A timer thread shuts
down, at the deadline, a duplicate of every socket the download opened (shutting down a
duplicate ends the connection itself, TLS or not, in whichever phase it is), so the blocked
read returns at once; the caller then sees `expired` and reports a timeout. The duplicates are
closed when the download ends, so no file descriptor number is ever reused under the timer.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Callable


class Deadline:
    """`with Deadline(30) as deadline:` around a download; `deadline.watch(sock)` for each socket it opens."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = seconds, clock
        self.ends_at = clock() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def remaining(self) -> float:
        return max(0.0, self.ends_at - self.clock())

    def watch(self, sock: socket.socket) -> None:
        duplicate = sock.dup()
        with self._lock:
            self._sockets.append(duplicate)
            if self.expired:
                _cut(duplicate)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _cut(sock)


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed by the peer
        pass
