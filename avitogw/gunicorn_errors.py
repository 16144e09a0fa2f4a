"""gunicorn's own refusals (a request line too long, bad headers) in the JSON error envelope.

gunicorn answers a request it cannot parse before Django sees it, with an HTML page
(`gunicorn.util.write_error`). The contract wants the envelope from every layer, so
gunicorn.conf.py replaces that one function. The message is the reason only: gunicorn's
detail can quote the request line, and with it the webhook's path secret.
"""
from __future__ import annotations

import json

from gunicorn import util

CODES = {400: "bad_request", 403: "forbidden", 408: "request_timeout", 414: "uri_too_long", 417: "expectation_failed",
         431: "request_header_fields_too_large", 500: "internal_error"}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    body = json.dumps({"error": {"code": CODES.get(status_int, "bad_request"), "message": f"{reason}.",
                                 "details": None}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin1")
    util.write_nonblock(sock, head + body)


def install() -> None:
    util.write_error = write_json_error
