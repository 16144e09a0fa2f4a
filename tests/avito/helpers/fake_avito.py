"""A tiny real HTTP server standing in for Avito, for tests that need real sockets.

`responses` mocks the HTTP seam in-process; this one is for what only a real server shows:
the timeout on the wire, the per-process cap on calls in flight, and several OS processes
racing for one token. It counts requests per path and the most handled at once.
"""
from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlsplit

from tests.avito.helpers.loopback import JsonHandler, LoopbackServer


class FakeAvito(LoopbackServer):
    def __init__(self, *, delay: float = 0.0, token_delay: float = 0.0):
        self.delay, self.token_delay = delay, token_delay
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.token_forms: list[dict] = []
        self.active = self.max_active = 0
        self.issued = 0
        self.connections: set[int] = set()  # client ports: one per TCP connection
        super().__init__(self._handler())

    def count(self, path: str) -> int:
        with self.lock:
            return self.counts.get(path, 0)

    def _handler(self):
        fake = self

        class Handler(JsonHandler):
            def _serve(self) -> None:
                path = urlsplit(self.path).path
                raw = self._body()
                with fake.lock:
                    fake.connections.add(self.client_address[1])
                    fake.counts[path] = fake.counts.get(path, 0) + 1
                    fake.active += 1
                    fake.max_active = max(fake.max_active, fake.active)
                try:
                    if path == "/token":
                        time.sleep(fake.token_delay)
                        with fake.lock:
                            fake.token_forms.append({k: v[0] for k, v in parse_qs(raw.decode()).items()})
                            fake.issued += 1
                            token = f"tok-{fake.issued}"
                        self._answer({"access_token": token, "expires_in": 86400, "token_type": "Bearer"})
                    else:
                        time.sleep(fake.delay)
                        self._answer({"chats": [], "meta": {"has_more": False}})
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): what some tests want
                finally:
                    with fake.lock:
                        fake.active -= 1

            do_GET = do_POST = _serve

        return Handler
