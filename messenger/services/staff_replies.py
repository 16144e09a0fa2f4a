"""A staff member's reply from the admin: the API's own sends, made once per rendered form.

The text goes through `message_send_text` and an image through `message_send_image`, the
services behind `/api/messages/send` and `/api/messages/send/image`, so Avito's limits, the
shared rate limit and the client's never-send-twice rule hold here too. Each form carries
its own idempotency key: a double click or a resubmitted form finds the first answer
(`idempotent_call`, as an `Idempotency-Key` on the API) instead of sending again. With both
an image and a text, the image goes first (a wrong file then stops the whole reply), and
each part has its key, so resubmitting after one part failed sends only the missing part.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from messenger.services.idempotency import idempotent_call, request_body_hash
from messenger.services.limits import invalid, require_text
from messenger.services.messages import message_send_check, message_send_image, message_send_text


@dataclass(frozen=True)
class StaffImage:
    content: bytes
    filename: str
    content_type: str = ""


@dataclass
class ReplyOutcome:
    sent: list[dict] = field(default_factory=list)      # the send answers, in the order sent
    replayed: list[dict] = field(default_factory=list)  # answers found for an already-submitted form

    @property
    def message_ids(self) -> list[str]:
        return [answer.get("message_id") or "" for answer in self.sent + self.replayed]


def reply_scope(*, chat_id: str, staff_user_id: int) -> str:
    """Keys belong to one staff member and one chat: another user's key never replays here."""
    return f"admin-reply {chat_id} staff-{staff_user_id}"


def _once(perform, *, key: str | None, scope: str, part: str, fields: dict, files: dict | None = None):
    if not key:  # a form without its key (a script): sent as the API sends without Idempotency-Key
        return perform(), False
    check = message_send_check(chat_id=fields["chat_id"], kind=part, text=fields.get("text"))
    return idempotent_call(key=f"{key}:{part}", scope=scope, perform=perform, check=check,
                           body_hash=request_body_hash(fields=fields, files=files))


def staff_reply_send(*, chat_id: str, staff_user_id: int, text: str = "", image: StaffImage | None = None,
                     form_key: str | None = None) -> ReplyOutcome:
    """Send the image (if any), then the text (if any), each at most once per `form_key`."""
    text = text or ""
    if not text.strip() and image is None:
        raise invalid("text", "Write a reply or attach an image.")
    if text.strip():
        require_text(text)  # before the image is sent: a too-long text stops the whole reply
    scope = reply_scope(chat_id=chat_id, staff_user_id=staff_user_id)
    outcome = ReplyOutcome()
    parts = []
    if image is not None:
        parts.append(("image", lambda: message_send_image(
            chat_id=chat_id, upload=(image.content, image.filename, image.content_type)),
            {"chat_id": chat_id}, {"file": image.content}))
    if text.strip():
        parts.append(("text", lambda: message_send_text(chat_id=chat_id, text=text),
                      {"chat_id": chat_id, "text": text}, None))
    for part, perform, fields, files in parts:
        answer, replayed = _once(perform, key=form_key, scope=scope, part=part, fields=fields, files=files)
        (outcome.replayed if replayed else outcome.sent).append(answer)
    return outcome
