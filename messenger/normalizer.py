"""Avito messages in the one shape n8n receives (contract §4), table-driven per message type.

Used for webhook deliveries and for `/api/messages/unread/all`, so both look the same.
Each Avito type has a row in TEXT_OF (what `text` holds) and MEDIA_KIND (which media
flag it sets); a type missing from the tables is delivered with empty text rather than
dropped. The function is pure: the caller resolves the client's name and the voice URL.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Mapping

Content = Mapping[str, Any]


def _part(content: Content, key: str) -> Mapping[str, Any]:
    value = content.get(key)
    return value if isinstance(value, Mapping) else {}


def _item_text(content: Content) -> str:
    item = _part(content, "item")
    return " ".join(part for part in (item.get("title"), item.get("item_url")) if part)


TEXT_OF: dict[str, Callable[[Content], str]] = {
    "text": lambda c: c.get("text") or "",
    "system": lambda c: c.get("text") or "",
    "link": lambda c: _part(c, "link").get("url") or _part(c, "link").get("text") or "",
    "item": _item_text,
    "location": lambda c: _part(c, "location").get("text") or _part(c, "location").get("title") or "",
}
# image, voice, call, deleted, file, video and appCall carry no text.

MEDIA_KIND = {"image": "image", "voice": "voice", "video": "video", "file": "document"}


def message_text(message_type: str, content: Content | None) -> str:
    """The readable text of a message of any type ("" when the type has none)."""
    extract = TEXT_OF.get(message_type)
    return extract(content or {}) if extract else ""


def largest_image_url(content: Content | None) -> str | None:
    """The URL of the biggest size Avito offers ("1280x960" beats "640x480")."""
    sizes = _part(_part(content or {}, "image"), "sizes")

    def area(size: str) -> int:
        width, _, height = size.partition("x")
        return int(width) * int(height) if width.isdigit() and height.isdigit() else 0

    return sizes[max(sizes, key=area)] if sizes else None


def voice_id(content: Content | None) -> str | None:
    return _part(content or {}, "voice").get("voice_id")


def iso_time(unix_seconds: int | float | None) -> str | None:
    if unix_seconds is None:
        return None
    return datetime.fromtimestamp(int(unix_seconds), tz=timezone.utc).isoformat()


def message_direction(message: Mapping[str, Any], account_user_id: int) -> str:
    """Avito's `direction` when the message has one (v3 lists), else derived from the author (webhooks)."""
    if message.get("direction") in ("in", "out"):
        return message["direction"]
    return "out" if str(message.get("author_id")) == str(account_user_id) else "in"


def event_id_for(message_id: str) -> str:
    """Stable per message: the same on every retry and from webhook or polling alike."""
    return f"avito-msg-{message_id}"


def normalize_message(message: Mapping[str, Any], *, account_user_id: int, chat_id: str, chat_type: str | None,
                      ad_id: int | None, client_user_id: int | None, client_name: str | None,
                      voice_url: str | None = None) -> dict:
    """One Avito message (a v3 list entry or a webhook `payload.value`) in n8n's shape."""
    message_type = message.get("type") or "text"
    content = message.get("content") or {}
    image_url = largest_image_url(content) if message_type == "image" else None
    kind = MEDIA_KIND.get(message_type)
    direction = message_direction(message, account_user_id)
    other_user = message.get("author_id") if direction == "in" else client_user_id
    return {
        "channel": "avito",
        "event_id": event_id_for(message["id"]),
        "external_user_id": str(other_user) if other_user is not None else None,
        "external_chat_id": chat_id,
        "text": message_text(message_type, content),
        "timestamp": iso_time(message.get("created")),
        "client_name": client_name or None,
        "media": {
            "has_voice": kind == "voice",
            "voice_url": voice_url if kind == "voice" else None,
            "has_images": bool(image_url),
            "images": [{"url": image_url}] if image_url else [],
            "has_video": kind == "video",
            "has_document": kind == "document",
        },
        "meta": {
            "external_message_id": message["id"],
            "ad_id": ad_id,
            "original_media_type": message_type,
            "chat_type": chat_type or (chat_id.split("-", 1)[0] if "-" in chat_id else None),
            "direction": direction,
        },
    }
