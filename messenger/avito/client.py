"""Avito Messenger's API as Python calls: every path and body exactly as in Avito's OpenAPI files.

Chats are v2, the message list v3 (with its trailing slash), subscribe v3, the rest v1 (and the
User API's `/core/v1/accounts/self`, whose account a token is for);
every write is a POST; the token request is form-encoded. All of it goes through
`AvitoTransport.request`. Every id in a path passes through `path_segment`
(messenger.avito.ids): checked against Avito's id shapes and percent-encoded, so no id can
change the path. Sends pass a `verify` that looks for the message among the chat's newest
ones, so an ambiguous failure never leads to a second copy; when it does not show up in
time, the `OutcomeUnknown` raised names what to look for later (`check`).
"""
from __future__ import annotations

import time
from typing import Any, Callable, Collection

from core.errors import OutcomeUnknown
from messenger.avito.errors import AvitoAuthError, AvitoIdInvalid, AvitoNotFound, AvitoRejected
from messenger.avito.ids import account_id_valid, id_list, path_segment
from messenger.avito.token_store import Token
from messenger.avito.transport import AvitoTransport

# Avito stamps `created` in whole seconds with its own clock: look this far back when
# checking whether a send we are unsure of arrived.
SEND_CLOCK_SKEW = 5.0
VERIFY_WINDOW = 20  # newest messages examined when verifying a send
DEFAULT_TOKEN_LIFETIME = 86400.0  # Avito's documented token life, if its answer omits expires_in


def _comma(values) -> str | None:
    return ",".join(str(v) for v in values) if values else None


class AvitoClient:
    def __init__(self, transport: AvitoTransport, *, user_id: int, client_id: str, client_secret: str,
                 clock: Callable[[], float] = time.time):
        self.transport, self.user_id = transport, user_id
        self.client_id, self.client_secret = client_id, client_secret
        self.clock = clock

    @property
    def _account(self) -> str:
        if not account_id_valid(self.user_id):
            raise AvitoIdInvalid(f"AVITO_USER_ID ({self.user_id!r}) is not a configured Avito account id.")
        return f"/accounts/{self.user_id}"

    def _chat(self, chat_id: str) -> str:
        return f"{self._account}/chats/{path_segment(chat_id, kind='chat id')}"

    # --- auth ---------------------------------------------------------------------------------
    def fetch_token(self) -> Token:
        """POST /token (client_credentials, form-encoded): a new access token from Avito."""
        if not (self.client_id and self.client_secret):
            raise AvitoAuthError("AVITO_CLIENT_ID and AVITO_CLIENT_SECRET are not configured.")
        started = self.clock()
        try:
            body = self.transport.request(
                "POST", "/token", auth=False,
                data={"grant_type": "client_credentials", "client_id": self.client_id,
                      "client_secret": self.client_secret},
            )
        except (AvitoRejected, AvitoNotFound) as exc:
            # Avito answers bad credentials with a 400 (invalid_client): that is our configuration's
            # fault, not the API caller's request, so it must not surface as a 400 to them.
            raise AvitoAuthError(f"Avito refused the credentials: {exc.message}", status=exc.status) from exc
        if not isinstance(body, dict) or not body.get("access_token"):
            raise AvitoAuthError("Avito's token answer had no access_token.")
        try:
            lifetime = float(body.get("expires_in", DEFAULT_TOKEN_LIFETIME))
        except (TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_LIFETIME
        return Token(access_token=str(body["access_token"]), expires_at=started + lifetime)

    def account_self(self) -> dict:
        """GET /core/v1/accounts/self: whose account the token is for ({"id", "name", "email", "phone", "profile_url"})."""
        body = self.transport.request("GET", "/core/v1/accounts/self")
        if not isinstance(body, dict):
            raise AvitoRejected("Avito's answer about the account was not an object.")
        return body

    # --- chats --------------------------------------------------------------------------------
    def list_chats(self, *, item_ids=None, unread_only: bool = False, chat_types=None,
                   limit: int = 100, offset: int = 0) -> dict:
        """GET /messenger/v2/accounts/{user_id}/chats -> {"chats": [...], "meta": {"has_more": bool}}."""
        params = {"item_ids": _comma(item_ids), "unread_only": "true" if unread_only else None,
                  "chat_types": _comma(chat_types), "limit": limit, "offset": offset}
        body = self.transport.request("GET", f"/messenger/v2{self._account}/chats",
                                      params={k: v for k, v in params.items() if v is not None})
        chats = body.get("chats") or [] if isinstance(body, dict) else []
        meta = body.get("meta") if isinstance(body, dict) and isinstance(body.get("meta"), dict) else {}
        has_more = meta.get("has_more") if "has_more" in meta else len(chats) >= limit
        return {"chats": chats, "meta": {"has_more": bool(has_more)}}

    def get_chat(self, chat_id: str) -> dict:
        return self.transport.request("GET", f"/messenger/v2{self._chat(chat_id)}")

    def mark_read(self, chat_id: str) -> dict:
        return self.transport.request("POST", f"/messenger/v1{self._chat(chat_id)}/read")

    # --- messages -----------------------------------------------------------------------------
    def list_messages(self, chat_id: str, *, limit: int = 100, offset: int = 0) -> dict:
        """GET .../v3/.../messages/ (newest first). Avito may answer a bare array or {"messages": [...]}."""
        body = self.transport.request("GET", f"/messenger/v3{self._chat(chat_id)}/messages/",
                                      params={"limit": limit, "offset": offset})
        if isinstance(body, list):
            return {"messages": body, "meta": {"has_more": len(body) >= limit}}
        messages = body.get("messages") or []
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        has_more = meta.get("has_more") if "has_more" in meta else len(messages) >= limit
        return {"messages": messages, "meta": {"has_more": bool(has_more)}}

    def send_text(self, chat_id: str, text: str) -> dict:
        return self._send(f"/messenger/v1{self._chat(chat_id)}/messages",
                          {"message": {"text": text}, "type": "text"},
                          check={"chat_id": chat_id, "kind": "text", "text": text, "since": self.clock()})

    def _send(self, path: str, body: dict, *, check: dict) -> dict:
        """POST a message; an ambiguous failure is settled by looking for `check` in the chat, never by resending."""
        try:
            return self.transport.request("POST", path, json=body, idempotent=False,
                                          verify=lambda: self.find_sent(check))
        except OutcomeUnknown as exc:
            exc.check.update(check)
            exc.details = {**(exc.details or {}), "chat_id": check["chat_id"]}
            raise

    def find_sent(self, check: dict) -> dict | None:
        """The message a send described by `check` ({"chat_id", "kind", "text"?, "since"}) left in the chat."""
        return self.find_recent_outgoing(check["chat_id"], since=check["since"], text=check.get("text"),
                                         kind=check.get("kind", "text"))

    def upload_image(self, content: bytes, *, filename: str = "image.jpg",
                     content_type: str = "image/jpeg") -> tuple[str, dict]:
        """POST .../uploadImages with one file in `uploadfile[]` -> (image_id, {"WxH": url})."""
        body = self.transport.request(
            "POST", f"/messenger/v1{self._account}/uploadImages",
            files={"uploadfile[]": (filename, content, content_type)},
        )
        if not isinstance(body, dict) or not body:
            raise AvitoRejected("Avito's upload answer named no image.")
        image_id, sizes = next(iter(body.items()))
        return image_id, sizes if isinstance(sizes, dict) else {}

    def send_image(self, chat_id: str, image_id: str) -> dict:
        path_segment(image_id, kind="image id")  # not in the path, but Avito's id all the same
        return self._send(f"/messenger/v1{self._chat(chat_id)}/messages/image", {"image_id": image_id},
                          check={"chat_id": chat_id, "kind": "image", "since": self.clock()})

    def delete_message(self, chat_id: str, message_id: str) -> dict:
        message = path_segment(message_id, kind="message id")
        return self.transport.request("POST", f"/messenger/v1{self._chat(chat_id)}/messages/{message}")

    def voice_urls(self, voice_ids: list[str]) -> dict[str, str]:
        """GET .../getVoiceFiles?voice_ids=a,b -> {voice_id: url} (each link lives an hour)."""
        if not voice_ids:
            return {}
        body = self.transport.request("GET", f"/messenger/v1{self._account}/getVoiceFiles",
                                      params={"voice_ids": id_list(voice_ids, kind="voice id")})
        urls = body.get("voices_urls") if isinstance(body, dict) else None
        return urls if isinstance(urls, dict) else {}

    def find_recent_outgoing(self, chat_id: str, *, since: float, text: str | None = None,
                             kind: str = "text", exclude: Collection[str] = ()) -> dict | None:
        """Our own message of this kind (and text) sent to the chat since `since`, if Avito has one.

        `exclude` names messages already accounted for (a bulk job sending the same text to
        one chat twice must not take the first copy for the second).
        """
        newest = self.list_messages(chat_id, limit=VERIFY_WINDOW)["messages"]
        for message in newest:
            if message.get("direction") != "out" or message.get("type") != kind:
                continue
            if message.get("id") in exclude:
                continue
            if (message.get("created") or 0) < since - SEND_CLOCK_SKEW:
                continue
            if text is None or (message.get("content") or {}).get("text") == text:
                return message
        return None

    # --- webhooks and blacklist ------------------------------------------------------------------
    def subscribe(self, url: str) -> dict:
        return self.transport.request("POST", "/messenger/v3/webhook", json={"url": url})

    def unsubscribe(self, url: str) -> dict:
        return self.transport.request("POST", "/messenger/v1/webhook/unsubscribe", json={"url": url})

    def subscriptions(self) -> list[dict[str, Any]]:
        body = self.transport.request("POST", "/messenger/v1/subscriptions")
        subscriptions = body.get("subscriptions") if isinstance(body, dict) else None
        return subscriptions if isinstance(subscriptions, list) else []

    def blacklist(self, users: list[dict]) -> dict:
        """POST /messenger/v2/.../blacklist {"users": [{"user_id", "context"?: {"item_id", "reason_id"}}]}."""
        return self.transport.request("POST", f"/messenger/v2{self._account}/blacklist", json={"users": users})
