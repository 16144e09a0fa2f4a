"""The sandbox's in-memory records: users, items, chats and messages.

Plain dataclasses, not Django models: the sandbox keeps everything in memory and
renders Avito's JSON from these (see ``render.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class User:
    id: int
    name: str
    profile_hash: str  # Avito profile URLs carry a hash, not the numeric id
    avatar_stub: int  # which of Avito's stub avatars this user shows


@dataclass
class Item:
    id: int
    title: str
    price_string: str
    status_id: int  # 10 = active; Avito's spec: 20 = deleted
    url: str
    user_id: int  # the item's author
    image_count: int
    image_key: int


@dataclass
class Message:
    id: str
    chat_id: str
    author_id: int
    created: int
    type: str
    content: dict
    # When the recipient read it: the customer for our messages, the account for theirs.
    read_at: int | None = None
    quote_id: str | None = None
    # How it was written, for the sandbox's own records (never rendered as Avito's JSON):
    # "api" (a send call), "app" (typed in Avito's app), "control" (POST /_sandbox/messages), None (seeded).
    via: str | None = None


@dataclass
class Chat:
    id: str
    chat_type: str  # "u2i", "u2u" or "a2u"
    created: int
    updated: int
    peer_id: int  # the other participant (the customer, another user, or Avito)
    item: Item | None = None  # u2i chats only
    messages: list[Message] = field(default_factory=list)  # oldest first

    def message(self, message_id: str) -> Message | None:
        for message in reversed(self.messages):
            if message.id == message_id:
                return message
        return None
