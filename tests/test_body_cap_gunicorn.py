"""Through real gunicorn: a large body to /admin/login/ is refused before it is read.

A client that declares a 60 MB file upload, sends a made-up CSRF cookie and a first few
kilobytes gets 413 straight away, without the server waiting for the rest (before the cap,
Django's CSRF check began to spool the file); one that streams a chunked body
gets 413 once the general cap is passed, and the connection closes instead of the server
swallowing the rest. The checks per path are tests/test_body_cap.py.
"""
from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

import pytest

from tests.gunicorn_alone import gunicorn_alone

pytestmark = pytest.mark.e2e

DECLARED = 60 * 1024 * 1024


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    with gunicorn_alone(tmp_path_factory.mktemp("body-cap") / "data") as (url, _):
        parts = urlsplit(url)
        yield parts.hostname, parts.port


BOUNDARY = "b0undary"
FILE_PART = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n").encode() + b"\0" * 4096


def post_head(host: str, port: int, framing: str, content_type: str = "application/x-www-form-urlencoded") -> bytes:
    return (f"POST /admin/login/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Cookie: csrftoken={'f' * 32}\r\nContent-Type: {content_type}\r\n"
            f"{framing}\r\n\r\n").encode()


def status_of(connection: socket.socket) -> bytes:
    answer = b""
    while b"\r\n" not in answer:
        chunk = connection.recv(4096)
        assert chunk, f"closed without an answer: {answer!r}"
        answer += chunk
    return answer.split(b" ", 2)[1]  # the status code


@pytest.mark.timeout(120)
def test_a_declared_60_mb_upload_gets_413_before_the_body_is_sent(web):
    host, port = web
    with socket.create_connection(web, timeout=10) as connection:
        connection.sendall(post_head(host, port, f"Content-Length: {DECLARED}",
                                     f"multipart/form-data; boundary={BOUNDARY}") + FILE_PART)
        assert status_of(connection) == b"413"  # within the 10 s socket timeout


@pytest.mark.timeout(120)
def test_a_chunked_body_is_cut_off_at_the_cap(web):
    host, port = web
    sent, stop = [0], threading.Event()

    def stream(connection):
        chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
        try:
            while not stop.is_set() and sent[0] < DECLARED:
                connection.sendall(chunk)
                sent[0] += 65536
        except OSError:  # the server closed the connection: what it should do
            pass

    with socket.create_connection(web, timeout=10) as connection:
        connection.sendall(post_head(host, port, "Transfer-Encoding: chunked"))
        sender = threading.Thread(target=stream, args=(connection,), daemon=True)
        sender.start()
        try:
            assert status_of(connection) == b"413"
        finally:
            stop.set()
            sender.join(timeout=30)
    assert sent[0] < DECLARED  # refused long before the client could send it all
