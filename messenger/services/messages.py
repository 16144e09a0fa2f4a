"""Messages: send text, links and images, list a chat's history, delete a sent message, a voice's file.

The send functions are shared by the REST API and the bulk workers. Each checks Avito's
limits first, sends once through the Avito client (which never sends a second copy on an
ambiguous failure), stores the sent message, and returns the contract's answer
`{"ok": true, "chat_id", "message_id", "message"}`. A send whose outcome stayed unknown
raises `OutcomeUnknown`; `message_find_sent` settles it later by looking in the chat.

Once Avito has answered, nothing may turn the send into a failure the caller would retry: when
our database cannot store the message, the write is kept and done when it is back
(core.pending_writes), and the caller still gets Avito's answer. A database outage before
the send reaches Avito fails the request (503 at the API edge), and nothing was sent.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from core.errors import NotFound, OutcomeUnknown
from core.pending_writes import pending_write
from messenger.avito import get_client
from messenger.avito.ids import avito_id_valid
from messenger.models import Message
from messenger.services.images import image_fetch, image_upload
from messenger.services.limits import (
    MAX_TEXT_LENGTH, account_user_id, invalid, require_avito_id, require_text,
)
from messenger.storage import message_upsert, messages_upsert


SENT_MESSAGE = "messenger.sent_message"  # the kind of kept write (core.pending_writes)


def sent_message_store(payload: dict) -> None:
    """Store a message Avito accepted (and its chat): an upsert by Avito's id, so doing it again is harmless."""
    message_upsert(payload["message"], chat_id=payload["chat_id"], account_user_id=payload["account_user_id"])


def _sent(*, chat_id: str, message: dict, **extra) -> dict:
    """Store the message Avito answered with (now, or once the database is back) and build the send answer."""
    message = {"author_id": account_user_id(), "direction": "out", **(message or {})}
    if avito_id_valid(message.get("id")):  # Avito's own answer; an id in no Avito shape cannot be a row's key
        pending_write(SENT_MESSAGE, {"chat_id": chat_id, "message": message, "account_user_id": account_user_id()})
    return {"ok": True, "chat_id": chat_id, "message_id": message.get("id"), "message": message, **extra}


def message_send_text(*, chat_id: str, text: str) -> dict:
    require_avito_id(chat_id, field="chat_id")
    require_text(text)
    return _sent(chat_id=chat_id, message=get_client().send_text(chat_id, text))


def link_message_text(*, url: str, text: str | None = None) -> str:
    """The one text a link send becomes (Avito has no link type): the text, a line break, the URL."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:  # "http://[" and the like
        parts = None
    if not parts or parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("url", "Must be an http:// or https:// URL.")
    if text is not None and not isinstance(text, str):
        raise invalid("text", "Must be a string.")
    body = f"{text.strip()}\n{url}" if text and text.strip() else url
    if len(body) > MAX_TEXT_LENGTH:
        raise invalid("text", f"Text and URL together are {len(body)} characters; Avito accepts at most "
                              f"{MAX_TEXT_LENGTH}.")
    return body


def message_send_link(*, chat_id: str, url: str, text: str | None = None) -> dict:
    require_avito_id(chat_id, field="chat_id")
    body = link_message_text(url=url, text=text)
    return _sent(chat_id=chat_id, message=get_client().send_text(chat_id, body))


def message_send_image(*, chat_id: str, image_id: str | None = None, image_url: str | None = None,
                       upload: tuple[bytes, str, str] | None = None) -> dict:
    """Send an image given as Avito's `image_id`, an `image_url` to fetch, or `upload` (bytes, filename, type)."""
    require_avito_id(chat_id, field="chat_id")
    given = [name for name, value in (("image_id", image_id), ("image_url", image_url), ("file", upload)) if value]
    if len(given) != 1:
        raise invalid("non_field_errors", "Give exactly one of image_id, image_url or file.")
    if image_url:
        fetched = image_fetch(url=image_url)
        image_id, _ = image_upload(content=fetched.content, filename=fetched.filename, field="image_url")
    elif upload:
        content, filename, _content_type = upload  # the type is judged from the bytes, not the claim
        image_id, _ = image_upload(content=content, filename=filename, field="file")
    else:
        require_avito_id(image_id, field="image_id")
    try:
        message = get_client().send_image(chat_id, image_id)
    except OutcomeUnknown as exc:
        exc.check["image_id"] = image_id  # so a later settlement answers like this send would have
        raise
    return _sent(chat_id=chat_id, message=message, image_id=image_id)


def message_send_check(*, chat_id: str, kind: str = "text", text: str | None = None, url: str | None = None) -> dict:
    """What a send will leave in the chat (`message_find_sent`'s `check`, less its time): kept with an
    Idempotency-Key's in-flight row, so a request that dies mid-send can be settled from the chat."""
    if url is not None:
        text = link_message_text(url=url, text=text)
    return {"chat_id": chat_id, "kind": kind, **({"text": text} if text is not None else {})}


def message_find_sent(*, check: dict) -> dict | None:
    """The answer of a send whose outcome was unknown (`OutcomeUnknown.check`), if the chat now shows it."""
    found = get_client().find_sent(check)
    if found is None:
        return None
    extra = {"image_id": check["image_id"]} if check.get("image_id") else {}
    return _sent(chat_id=check["chat_id"], message=found, **extra)


def message_list(*, chat_id: str, limit: int = 100, offset: int = 0) -> dict:
    """One page of a chat's history, newest first, stored as seen: {"messages", "meta": {"has_more"}}."""
    require_avito_id(chat_id, field="chat_id")
    page = get_client().list_messages(chat_id, limit=limit, offset=offset)
    messages_upsert(page["messages"], chat_id=chat_id, account_user_id=account_user_id())
    return page


def message_delete(*, chat_id: str, message_id: str) -> dict:
    """Delete a sent message (Avito allows it within an hour); it stays in history as `deleted`."""
    require_avito_id(chat_id, field="chat_id")
    require_avito_id(message_id, field="message_id")
    get_client().delete_message(chat_id, message_id)
    Message.objects.filter(id=message_id, chat_id=chat_id).update(type="deleted")
    return {"ok": True}


def message_voice_url(*, voice_id: str) -> str:
    """The file of a voice message (getVoiceFiles; Avito's link lives an hour, so it is asked each time)."""
    require_avito_id(voice_id, field="voice_id")
    url = get_client().voice_urls([voice_id]).get(voice_id)
    if not url:
        raise NotFound(f"Avito has no file for voice message {voice_id}.")
    return url
