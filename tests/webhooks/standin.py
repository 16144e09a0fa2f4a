"""One local HTTP server playing both Avito (token, getChatByIdV2) and n8n (records deliveries).

For the tests that run the gateway as real processes. The n8n side keeps every POST with
its headers and raw body, can be slow (so a worker is caught mid-POST when it is killed)
and can answer 500 to the first attempt of chosen event ids (n8n failing).
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

CHAT_PATH = re.compile(r"^/messenger/v2/accounts/(\d+)/chats/([^/?]+)$")


@dataclass
class Delivered:
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a worker killed mid-POST drops its connection: expected here, not worth a traceback


class StandIn:
    def __init__(self, *, n8n_delay: float = 0.0, fail_first_attempt: Callable[[str], bool] = lambda _id: False):
        self.n8n_delay, self.fail_first_attempt = n8n_delay, fail_first_attempt
        self.delivered: list[Delivered] = []
        self.refused: list[str] = []
        self.chat_calls: list[str] = []
        self.lock = threading.Lock()
        self.server = QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    @property
    def n8n_url(self) -> str:
        return self.url + "/n8n/avito-in"

    def start(self) -> "StandIn":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivered_ids(self) -> list[str]:
        with self.lock:
            return [item.webhook_id for item in self.delivered]

    def _n8n(self, headers: dict[str, str], body: bytes) -> int:
        time.sleep(self.n8n_delay)
        webhook_id = headers.get("webhook-id", "")
        with self.lock:
            if self.fail_first_attempt(webhook_id) and webhook_id not in self.refused:
                self.refused.append(webhook_id)
                return 500
            self.delivered.append(Delivered(headers, body))
        return 200

    def _avito_chat(self, user_id: str, chat_id: str) -> dict:
        with self.lock:
            self.chat_calls.append(chat_id)
        return {"id": chat_id, "created": 1571412836, "updated": 1571654040,
                "context": {"type": "item", "value": {"id": 1768287444, "title": "Mazda 3 2008"}},
                "users": [{"id": 94235311, "name": f"Клиент {chat_id[-4:]}"}, {"id": int(user_id), "name": "Мы"}]}

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.rstrip("/") == "/token":
                    return self._answer(200, {"access_token": "standin-token", "expires_in": 86400,
                                              "token_type": "Bearer"})
                if self.path.startswith("/n8n/"):
                    status = standin._n8n({k.lower(): v for k, v in self.headers.items()}, body)
                    return self._answer(status, {"ok": status == 200})
                return self._answer(404, {"error": {"code": 404, "message": "Not found"}})

            def do_GET(self):  # noqa: N802
                match = CHAT_PATH.match(self.path)
                if match:
                    return self._answer(200, standin._avito_chat(*match.groups()))
                return self._answer(404, {"error": {"code": 404, "message": "Not found"}})

            def log_message(self, *args):
                pass

        return Handler
