"""When the buffering worker hands a request to a thread: only once it is whole, however its bytes are split."""
from __future__ import annotations

import pytest

from avitogw.incoming_request import IncomingRequest

HEAD_LIMIT = 64 * 1024
CHUNKED = (b"POST /w HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n")
LENGTH = b"POST /w HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
NO_BODY = b"GET /health HTTP/1.1\r\nHost: h\r\n\r\n"


def _completes_at(raw: bytes, step: int) -> int | None:
    """The number of bytes fed when the request counts as complete, feeding `step` bytes at a time."""
    request = IncomingRequest(HEAD_LIMIT, 0)
    for at in range(0, len(raw), step):
        if request.feed(raw[at:at + step], 0):
            return min(at + step, len(raw))
    return None


@pytest.mark.parametrize("raw", [CHUNKED, LENGTH, NO_BODY])
@pytest.mark.parametrize("step", [1, 2, 7, 1000])
def test_complete_exactly_when_the_last_byte_arrives(raw, step):
    assert _completes_at(raw, step) == len(raw)
    assert _completes_at(raw[:-1], step) is None


def test_the_next_pipelined_request_is_kept_after_the_body():
    request = IncomingRequest(HEAD_LIMIT, 0)
    assert request.feed(LENGTH + NO_BODY, 0)
    request.body.seek(0)
    assert bytes(request.head) + request.body.read() == LENGTH + NO_BODY


@pytest.mark.parametrize("raw", [
    b"POST /w HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",  # gunicorn refuses these at once
    b"POST /w HTTP/1.1\r\nContent-Length: five\r\n\r\n",
    b"POST /w HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /w HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /" + b"a" * HEAD_LIMIT,  # past gunicorn's header limits: it refuses with 431/414
])
def test_what_gunicorn_will_refuse_goes_to_it_without_waiting(raw):
    assert IncomingRequest(HEAD_LIMIT, 0).feed(raw, 0)


def test_a_stalled_head_expires_after_the_header_timeout_and_a_body_after_its_idle_timeout():
    from avitogw.incoming_request import BODY_IDLE_TIMEOUT, HEADER_TIMEOUT

    request = IncomingRequest(HEAD_LIMIT, 0)
    request.feed(b"GET / HTTP/1.1\r\n", 0)
    request.feed(b"Host: h\r\n", HEADER_TIMEOUT - 1)  # trickling does not extend the head's time
    assert not request.expired(HEADER_TIMEOUT) and request.expired(HEADER_TIMEOUT + 0.1)
    request = IncomingRequest(HEAD_LIMIT, 0)
    request.feed(LENGTH[:-3], 0)
    request.feed(b"r", 50)
    assert not request.expired(50 + BODY_IDLE_TIMEOUT) and request.expired(50 + BODY_IDLE_TIMEOUT + 0.1)


def test_the_expect_line_is_left_out_only_once_the_worker_answered_it():
    raw = b"POST /w HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    request = IncomingRequest(HEAD_LIMIT, 0)
    assert not request.feed(raw, 0) and request.continue_expected
    assert request.head_to_parse(False) == raw
    assert request.head_to_parse(True) == b"POST /w HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n"


def test_a_body_past_the_paths_ceiling_is_handed_over_without_waiting_for_the_rest():
    """The application refuses it (413) by its declared length or once it has read past its cap."""
    ceilings = {"/small": 100}
    ceiling = lambda path: ceilings.get(path, 10_000)  # noqa: E731
    declared = IncomingRequest(HEAD_LIMIT, 0, body_ceiling=ceiling)
    assert declared.feed(b"POST /small?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\nab", 0)
    within = IncomingRequest(HEAD_LIMIT, 0, body_ceiling=ceiling)
    assert not within.feed(b"POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nab", 0)
    chunked = IncomingRequest(HEAD_LIMIT, 0, body_ceiling=ceiling)
    assert not chunked.feed(b"POST /small HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 0)
    assert not chunked.feed(b"40\r\n" + b"x" * 64 + b"\r\n", 0)
    assert chunked.feed(b"40\r\n" + b"x" * 64 + b"\r\n", 0)  # 140 bytes buffered: past the ceiling
    elsewhere = IncomingRequest(HEAD_LIMIT, 0, body_ceiling=ceiling)
    assert not elsewhere.feed(b"POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\nab", 0)
