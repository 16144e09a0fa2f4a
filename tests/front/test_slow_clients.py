"""Slow clients do not stop the web process (issue 19, finding 2), through real gunicorn.

gthread gave a connection to a thread at its first byte; `workers x threads` clients that never finish
their headers, or announce a body they never send, then held every thread. gunicorn.conf.py's worker
(avitogw/buffering_worker.py) reads each request in its event loop first. Here one worker with its 4
threads faces 50 such clients while /health, the webhook and the API must still answer in a couple of
seconds; then the same worker must still serve chunked, `Expect: 100-continue`, pipelined and large
bodies correctly, and close a stalled client with 408.
"""
from __future__ import annotations

import contextlib
import json
import re
import socket
import time

import pytest
import requests

from tests.front.processes import gunicorn

KEY = "slow-clients-key-91c2"
SECRET = "x" * 12
WEBHOOK = f"/webhook/avito/{SECRET}"
SLOW = 50  # > workers (1) x threads (4), many times over
FINAL = re.compile(rb"HTTP/1\.1 [2-5]\d\d ")


def _message(number: int) -> bytes:
    return json.dumps({"id": f"slow-{number}", "version": "v3.0.0", "timestamp": 1718000000, "payload": {
        "type": "message", "value": {"id": f"m-slow-{number}", "chat_id": "u2i-slow", "user_id": 1234567,
                                     "author_id": 94235311, "created": 1718000000, "type": "text",
                                     "chat_type": "u2i", "content": {"text": "hi"}}}}).encode()


def _partial_headers(port: int) -> list[bytes]:
    return [b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"]


def _slow_body(path: str):
    def start(port: int) -> list[bytes]:
        return [f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: csrftoken={'a' * 32}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n".encode(), b"csrf"]
    return start


def _slow_chunks(port: int) -> list[bytes]:
    return [f"POST {WEBHOOK} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".encode(), b"10\r\n{\"a\": "]


OPENINGS = [_partial_headers, _slow_body("/admin/login/"), _slow_body(WEBHOOK), _slow_chunks]


@contextlib.contextmanager
def slow_clients(port: int, count: int):
    """`count` connections, each sending the start of a request and then nothing; all closed on the way out."""
    opened = []
    try:
        for number in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            opened.append(sock)
            for piece in OPENINGS[number % len(OPENINGS)](port):
                sock.sendall(piece)
        time.sleep(0.5)  # let every one of them reach the worker
        yield opened
    finally:
        for sock in opened:
            sock.close()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("slow"), migrate=True, API_KEY=KEY, AVITO_WEBHOOK_SECRET=SECRET,
                  WEB_CONCURRENCY="1") as port:
        yield f"http://127.0.0.1:{port}", port


@pytest.mark.timeout(120)
def test_health_the_webhook_and_the_api_answer_while_slow_clients_hang(web):
    url, port = web
    with slow_clients(port, SLOW):
        for attempt in range(3):  # more than the worker's threads, one after the other
            started = time.monotonic()
            assert requests.get(f"{url}/health", timeout=3).status_code == 200
            webhook = requests.post(url + WEBHOOK, data=_message(attempt), timeout=3,
                                    headers={"Content-Type": "application/json"})
            assert webhook.status_code == 200 and webhook.json() == {"ok": True}
            assert requests.get(f"{url}/api/deliveries", headers={"X-API-Key": KEY}, timeout=3).status_code == 200
            assert time.monotonic() - started < 3


def _exchange(port: int, raw: bytes, *, wait_for: bytes = b"", then: bytes = b"") -> bytes:
    """Send `raw` (then, once `wait_for` came back, `then`); read until the server closes (the last
    request asks it to) or 10 s have passed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        deadline = time.monotonic() + 10
        if wait_for:
            while wait_for not in received and time.monotonic() < deadline:
                received += sock.recv(65536)
            sock.sendall(then)
        while time.monotonic() < deadline:
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
        return received


@pytest.mark.timeout(60)
def test_bodies_in_every_framing_still_arrive_whole(web):
    _, port = web
    body = _message(100)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:])) + b"0\r\n\r\n"
    # The chunked body reaches the webhook whole (avitogw.body_cap hands Django a counted body), and it is
    # read to its end: the request behind it on the same connection is answered.
    answer = _exchange(port, f"POST {WEBHOOK} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                             f"Content-Type: application/json\r\n\r\n".encode() + chunked
                       + b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert [m.group() for m in FINAL.finditer(answer)] == [b"HTTP/1.1 200 ", b"HTTP/1.1 200 "], answer

    head = (f"POST {WEBHOOK} HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    answer = _exchange(port, head, wait_for=b"100 Continue", then=body)
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ") and answer.endswith(b'{"ok": true}'), answer

    two = (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
           b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    answer = _exchange(port, two)
    assert answer.count(b"HTTP/1.1 200") == 2, answer

    large = json.dumps({"pad": "a" * 600_000}).encode()  # past what the worker keeps in memory
    answer = requests.post(f"{web[0]}{WEBHOOK}", data=large, headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 200 and answer.json() == {"ok": True}


@pytest.mark.timeout(60)
def test_a_client_that_stops_sending_is_closed_with_408_and_a_silent_one_without_an_answer(web):
    _, port = web
    with socket.create_connection(("127.0.0.1", port), timeout=20) as stalled, \
            socket.create_connection(("127.0.0.1", port), timeout=20) as silent:
        stalled.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        answer = stalled.recv(65536)
        assert 9 < time.monotonic() - started < 15
        assert silent.recv(65536) == b""  # closed, nothing said: it asked nothing
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b'"request_timeout"' in answer
