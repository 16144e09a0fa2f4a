"""A real HTTP server on loopback standing in for Avito's messenger when it is slow to store a send.

It plays issue 11's Avito: a send (`POST .../chats/{id}/messages`) is held for `store_after`
seconds, past the client's timeout, and only then stored in the chat; the answer goes to a
client that has long given up. The chat's history (`GET .../v3/.../messages/`) shows what is
stored, newest first, so the test counts the copies a customer would see.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from urllib.parse import urlsplit

from tests.avito.helpers.loopback import JsonHandler, LoopbackServer

SEND = re.compile(r"^/messenger/v1/accounts/\d+/chats/([^/]+)/messages$")
HISTORY = re.compile(r"^/messenger/v3/accounts/\d+/chats/([^/]+)/messages/$")


class SlowMessenger(LoopbackServer):
    def __init__(self, *, store_after: float):
        self.store_after = store_after
        self.lock = threading.Lock()
        self.chats: dict[str, list[dict]] = {}
        self.sends = 0  # POSTs received, whether or not the answer reached the client
        self.ids = itertools.count(1)
        super().__init__(self._handler())

    def copies(self, chat_id: str, text: str) -> list[dict]:
        with self.lock:
            return [m for m in self.chats.get(chat_id, []) if m["content"].get("text") == text]

    def _store(self, chat_id: str, text: str) -> dict:
        with self.lock:
            message = {"id": f"m-{next(self.ids)}", "author_id": 1234567, "created": int(time.time()),
                       "direction": "out", "type": "text", "content": {"text": text}, "is_read": True}
            self.chats.setdefault(chat_id, []).append(message)
            return message

    def _handler(self):
        fake = self

        class Handler(JsonHandler):
            def _serve(self) -> None:
                path = urlsplit(self.path).path
                raw = self._body()
                try:
                    if path == "/token":
                        self._answer({"access_token": "tok-1", "expires_in": 86400, "token_type": "Bearer"})
                    elif self.command == "POST" and (send := SEND.match(path)):
                        with fake.lock:
                            fake.sends += 1
                        time.sleep(fake.store_after)  # Avito still working on it; the client times out
                        self._answer(fake._store(send.group(1), json.loads(raw)["message"]["text"]))
                    elif history := HISTORY.match(path):
                        with fake.lock:
                            newest_first = list(reversed(fake.chats.get(history.group(1), [])))
                        self._answer({"messages": newest_first[:20], "meta": {"has_more": False}})
                    else:
                        self.send_error(404)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: exactly the case under test

            do_GET = do_POST = _serve

        return Handler
