"""A tiny n8n stand-in: an HTTP server that records every webhook delivery it receives.

It can be told to fail (answer 500) to play an n8n that is down, and it keeps each
request's headers and raw body so tests can verify signatures and count deliveries,
and when it arrived (`time.monotonic()`), so the benchmarks can measure delivery rates.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() on arrival

    def json(self):
        return json.loads(self.body)


class N8nStandIn:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.received: list[Received] = []
        self.failing = False
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The answer goes out as two writes (head, then body); with Nagle on, the second
            # waits for the client's delayed ACK, ~40 ms per delivery, as no real n8n does.
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = 500 if standin.failing else 200
                if status == 200:
                    with standin.lock:
                        standin.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                         body, time.monotonic()))
                reply = b'{"ok":true}' if status == 200 else b'{"error":"down"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/webhook/avito-in"

    def start(self) -> "N8nStandIn":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict]:
        with self.lock:
            return [item.json() for item in self.received]
