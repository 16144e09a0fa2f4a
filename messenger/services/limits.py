"""Avito's documented limits, checked here before any call reaches Avito (contract §2).

Serializers and services both import these, so the API, the bulk workers and the docs
agree on one number each.
"""
from __future__ import annotations

from django.conf import settings

from core.errors import InvalidInput
from messenger.avito import ids

MAX_TEXT_LENGTH = 1000          # postSendMessage: "at most 1000 characters"
LIMIT_MIN, LIMIT_MAX = 1, 100   # getChatsV2 / getMessagesV3 `limit`
OFFSET_MAX = 1000               # getChatsV2 / getMessagesV3 `offset`: nothing past it is reachable
REASON_IDS = (1, 2, 3, 4)       # postBlacklistV2: spam, fraud, insults, other
CHAT_TYPES = ("u2i", "u2u", "a2u")
DEFAULT_CHAT_TYPES = ("u2i", "u2u")  # Avito's own default is u2i only: customers in u2u chats would be missed
MAX_IMAGE_BYTES = 24 * 1024 * 1024   # uploadImages: at most 24 MB
# Id shapes and the int64 limit have one home: messenger.avito.ids.


def account_user_id() -> int:
    return settings.AVITO_USER_ID


def invalid(field: str, message: str) -> InvalidInput:
    """The validation error a service raises for one bad field (same shape as a serializer's)."""
    return InvalidInput(f"Invalid input: {field}.", details={field: [message]})


def require_avito_id(value: str, *, field: str) -> str:
    if not ids.avito_id_valid(value):
        raise invalid(field, f"Must be an Avito id: {ids.ID_RULE}.")
    return value


def require_text(text: str, *, field: str = "text") -> str:
    if not isinstance(text, str) or not text.strip():
        raise invalid(field, "Must be a non-empty string.")
    if len(text) > MAX_TEXT_LENGTH:
        raise invalid(field, f"Avito accepts at most {MAX_TEXT_LENGTH} characters; this has {len(text)}.")
    return text
