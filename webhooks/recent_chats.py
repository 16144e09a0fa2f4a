"""A worker's short memory of the chats it has seen with Avito's details (their client's name).

A conversation's messages come in bursts, and between them a chat's client, type and item
do not change; so the worker reads the chat's row once per MEMORY_SECONDS rather than
once per message (the read and the JSON it carries were a tenth of an event's processing:
docs/benchmarks.md). A client name changed on Avito meanwhile reaches n8n at most that
much later. Per process (a Celery pool process handles one task at a time), bounded.
"""
from __future__ import annotations

import time
from typing import Callable

from messenger.models import Chat

MEMORY_SECONDS = 60.0
MEMORY_SIZE = 5000  # chats; past it the memory starts afresh


class RecentChats:
    def __init__(self, *, seconds: float = MEMORY_SECONDS, size: int = MEMORY_SIZE,
                 clock: Callable[[], float] = time.monotonic):
        self.seconds, self.size, self.clock = seconds, size, clock
        self._chats: dict[str, tuple[float, Chat]] = {}

    def get(self, chat_id: str) -> Chat | None:
        found = self._chats.get(chat_id)
        if found is None or found[0] < self.clock():
            return None
        return found[1]

    def remember(self, chat: Chat) -> None:
        if len(self._chats) >= self.size:
            self._chats.clear()
        self._chats[chat.id] = (self.clock() + self.seconds, chat)

    def clear(self) -> None:
        self._chats.clear()


RECENT_CHATS = RecentChats()
