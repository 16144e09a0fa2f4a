"""The in-memory store of one Avito account: its chats, messages, media, webhooks and blacklist.

Every method takes ``lock`` (re-entrant, so a handler may hold it around several calls
and the rendering of their result). Time comes from an injectable ``clock`` and ids from
an injectable ``rng``, so tests control both.
"""

from __future__ import annotations

import random
import string
import threading
import time
import uuid
from typing import Callable

from sandbox.errors import ApiError
from sandbox.records import Chat, Message, User

DELETE_WINDOW_SECONDS = 3600  # Avito lets a message be deleted for one hour after sending
_CHAT_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


class SandboxState:
    def __init__(self, *, account_id: int, base_url: str, clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None):
        self.lock = threading.RLock()
        self.account_id = account_id
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.rng = rng or random.Random()
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.users: dict[int, User] = {}
            self.chats: dict[str, Chat] = {}
            self.images: dict[str, bytes | None] = {}  # None: a seeded image, served as a stand-in
            self.voices: set[str] = set()
            self.subscriptions: list[str] = []
            self.blacklist: list[dict] = []

    def now(self) -> int:
        return int(self.clock())

    # --- ids, shaped like Avito's ---------------------------------------------------------
    def new_message_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def new_chat_id(self, chat_type: str) -> str:
        return chat_type + "-" + "".join(self.rng.choice(_CHAT_ID_ALPHABET) for _ in range(22))

    def new_event_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def register_image(self, data: bytes | None) -> str:
        with self.lock:
            image_id = f"{self.rng.randrange(10**9, 10**10)}.{self.rng.getrandbits(128):032x}"
            self.images[image_id] = data
            return image_id

    def register_voice(self) -> str:
        with self.lock:
            voice_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            self.voices.add(voice_id)
            return voice_id

    # --- reads ----------------------------------------------------------------------------
    def get_chat(self, chat_id: str) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError(404, f"Not found: chat {chat_id} does not exist")
        return chat

    def is_unread(self, chat: Chat) -> bool:
        return any(m.author_id != self.account_id and m.read_at is None for m in chat.messages)

    def list_chats(self, *, chat_types: list[str], item_ids: list[int], unread_only: bool,
                   limit: int, offset: int) -> tuple[list[Chat], bool]:
        with self.lock:
            wanted_items = set(item_ids)
            chats = [chat for chat in self.chats.values()
                     if chat.chat_type in chat_types
                     and (not wanted_items or (chat.item is not None and chat.item.id in wanted_items))
                     and (not unread_only or self.is_unread(chat))]
            chats.sort(key=lambda chat: (chat.updated, chat.id), reverse=True)
            return chats[offset:offset + limit], offset + limit < len(chats)

    def list_messages(self, chat: Chat, *, limit: int, offset: int) -> tuple[list[Message], bool]:
        with self.lock:
            newest_first = chat.messages[::-1]
            return newest_first[offset:offset + limit], offset + limit < len(newest_first)

    # --- writes ---------------------------------------------------------------------------
    def add_chat(self, chat: Chat, *users: User) -> Chat:
        with self.lock:
            for user in users:
                self.users[user.id] = user
            self.chats[chat.id] = chat
            return chat

    def add_message(self, chat: Chat, *, author_id: int, type: str, content: dict,
                    created: int | None = None, read_at: int | None = None,
                    quote_id: str | None = None, via: str | None = None) -> Message:
        with self.lock:
            message = Message(id=self.new_message_id(), chat_id=chat.id, author_id=author_id,
                              created=self.now() if created is None else created, type=type,
                              content=content, read_at=read_at, quote_id=quote_id, via=via)
            chat.messages.append(message)
            chat.updated = max(chat.updated, message.created)
            return message

    def mark_read(self, chat: Chat) -> int:
        """Mark the customer's messages read by the account; returns how many changed."""
        with self.lock:
            now, changed = self.now(), 0
            for message in chat.messages:
                if message.author_id != self.account_id and message.read_at is None:
                    message.read_at, changed = now, changed + 1
            return changed

    def delete_message(self, chat: Chat, message_id: str) -> Message:
        with self.lock:
            message = chat.message(message_id)
            if message is None:
                raise ApiError(404, f"Not found: message {message_id} is not in chat {chat.id}")
            if message.type == "deleted":
                return message  # deleting twice changes nothing, like a retried call should
            if message.author_id != self.account_id:
                raise ApiError(400, "Bad Request: only your own messages can be deleted")
            if self.now() - message.created > DELETE_WINDOW_SECONDS:
                raise ApiError(400, "Bad Request: a message can be deleted only within 1 hour of sending")
            message.type, message.content = "deleted", {}
            return message

    def subscribe(self, url: str) -> bool:
        with self.lock:
            if url in self.subscriptions:
                return False
            self.subscriptions.append(url)
            return True

    def unsubscribe(self, url: str) -> bool:
        with self.lock:
            if url not in self.subscriptions:
                return False
            self.subscriptions.remove(url)
            return True
