"""Avito messages in the one shape n8n receives (contract §4), table-driven per message type.

Used for webhook deliveries and for `/api/messages/unread/all`, so both look the same.
Each Avito message type has one pure function in BY_TYPE turning its `content` into
Parts (the text and which media it carries); a type missing from the table (Avito may add
one) is delivered with empty text rather than dropped, and `meta.original_media_type`
still names it. A media id Avito could not have made (a voice_id with `/` in it) leaves that
media unresolved and says why in `meta.media_error`; the message is delivered. Nothing here does I/O: the caller resolves the client's name and the
voice URL. Avito documents every content member as nullable, so each function copes with
missing or null members.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from messenger.avito.ids import avito_id_valid

Content = Mapping[str, Any]
# What every normalized message says it is. The gateway POSTs other signed bodies too (a bulk job's
# callback is "bulk_job.finished"), and the n8n trigger starts its workflow for messages only.
MESSAGE_EVENT = "message"


@dataclass(frozen=True)
class Parts:
    """What one message carries, whatever its Avito type."""

    text: str = ""
    image_url: str | None = None
    voice: bool = False
    video: bool = False
    document: bool = False


def _part(content: Content, key: str) -> Mapping[str, Any]:
    value = content.get(key)
    return value if isinstance(value, Mapping) else {}


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def largest_image_url(content: Content | None) -> str | None:
    """The URL of the biggest size Avito offers ("1280x960" beats "640x480")."""
    sizes = _part(_part(content or {}, "image"), "sizes")

    def area(size: str) -> int:
        width, _, height = size.partition("x")
        return int(width) * int(height) if width.isdigit() and height.isdigit() else 0

    urls = {size: url for size, url in sizes.items() if isinstance(url, str) and url}
    return urls[max(urls, key=area)] if urls else None


def _text(content: Content) -> Parts:
    return Parts(text=_string(content.get("text")))


def _image(content: Content) -> Parts:
    return Parts(image_url=largest_image_url(content))


def _voice(content: Content) -> Parts:
    return Parts(voice=True)


def _link(content: Content) -> Parts:
    link = _part(content, "link")
    return Parts(text=_string(link.get("url")) or _string(link.get("text")))


def _item(content: Content) -> Parts:
    item = _part(content, "item")
    return Parts(text=" ".join(part for part in (_string(item.get("title")), _string(item.get("item_url"))) if part))


def _location(content: Content) -> Parts:
    location = _part(content, "location")
    return Parts(text=_string(location.get("text")) or _string(location.get("title")))


def _nothing(content: Content) -> Parts:
    return Parts()


def _file(content: Content) -> Parts:
    return Parts(document=True)


def _video(content: Content) -> Parts:
    return Parts(video=True)


# Avito's webhook `type` enum, one function each. call, deleted and appCall carry nothing
# n8n can use beyond their type; Avito sends file, video and appCall with empty content.
BY_TYPE: dict[str, Callable[[Content], Parts]] = {
    "text": _text,
    "system": _text,  # Avito's own bot messages keep their words in `text`
    "image": _image,
    "voice": _voice,
    "link": _link,
    "item": _item,
    "location": _location,
    "call": _nothing,
    "deleted": _nothing,
    "appCall": _nothing,
    "file": _file,
    "video": _video,
}


def message_parts(message_type: str, content: Content | None) -> Parts:
    content = content if isinstance(content, Mapping) else {}
    return BY_TYPE.get(message_type, _nothing)(content)


def message_text(message_type: str, content: Content | None) -> str:
    """The readable text of a message of any type ("" when the type has none)."""
    return message_parts(message_type, content).text


def _voice_id_given(content: Content | None) -> Any:
    return _part(content if isinstance(content, Mapping) else {}, "voice").get("voice_id")


def voice_id(content: Content | None) -> str | None:
    """The voice file's id, when it is one Avito could have made (only such an id is looked up)."""
    value = _voice_id_given(content)
    return value if avito_id_valid(value) else None


def media_error(message_type: str, content: Content | None) -> str | None:
    """Why the message's media cannot be resolved, or None. The message itself is still delivered:
    a media id only fails its own look-up (the chat and message ids, which go into URLs, are checked
    before processing; webhooks.notification_checks)."""
    if message_type == "voice" and _voice_id_given(content) is not None and voice_id(content) is None:
        return "voice_id is not an Avito id"
    return None


def unix_time(unix_seconds: Any) -> datetime | None:
    """Avito's Unix seconds as a UTC datetime; None when absent, not a number, or outside what a
    datetime holds (years 1-9999): an odd value from Avito is unknown, never a crash."""
    if isinstance(unix_seconds, bool) or not isinstance(unix_seconds, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(int(unix_seconds), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):  # inf, nan, and beyond year 9999 or before year 1
        return None


def iso_time(unix_seconds: Any) -> str | None:
    when = unix_time(unix_seconds)
    return when.isoformat() if when else None


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
                      voice_url: str | None = None, source: str = "webhook") -> dict:
    """One Avito message (a v3 list entry or a webhook `payload.value`) in n8n's shape; `source` says
    how it came: "webhook" (Avito's notification) or "poll" (read from Avito's lists)."""
    message_type = message.get("type") or "text"
    parts = message_parts(message_type, message.get("content"))
    direction = message_direction(message, account_user_id)
    other_user = message.get("author_id") if direction == "in" else client_user_id
    normalized = {
        "event": MESSAGE_EVENT,
        "channel": "avito",
        "event_id": event_id_for(message["id"]),
        "external_user_id": str(other_user) if other_user is not None else None,
        "external_chat_id": chat_id,
        "text": parts.text,
        "timestamp": iso_time(message.get("created")),
        "client_name": client_name or None,
        "media": {
            "has_voice": parts.voice,
            "voice_url": (voice_url or None) if parts.voice else None,
            "has_images": parts.image_url is not None,
            "images": [{"url": parts.image_url}] if parts.image_url else [],
            "has_video": parts.video,
            "has_document": parts.document,
        },
        "meta": {
            "external_message_id": message["id"],
            "ad_id": ad_id,
            "original_media_type": message_type,
            "chat_type": chat_type or (chat_id.split("-", 1)[0] if "-" in chat_id else None),
            "direction": direction,
            "source": source,
        },
    }
    problem = media_error(message_type, message.get("content"))
    if problem:
        normalized["meta"]["media_error"] = problem
    return normalized
