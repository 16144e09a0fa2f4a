"""Writing messages: send text, send an uploaded image, delete (avito-api.md §4.2, §4.4, §4.5).

Each stored message also goes to webhook subscribers, the account's own included:
Avito echoes a sender's messages back (``author_id == user_id``), and clients must cope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.content import UPLOAD_SIZES, image_sizes
from sandbox.errors import validation_error
from sandbox.http import Request, Response, json_response
from sandbox.render import send_image_answer, send_text_answer

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

MAX_TEXT_LENGTH = 1000


def _text_problems(body: dict) -> dict[str, str]:
    problems = {}
    if body.get("type") != "text":
        problems["type"] = "is required and must be \"text\": only text messages can be sent"
    message = body.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str) or not text.strip():
        problems["message.text"] = "is required and must be a non-empty string"
    elif len(text) > MAX_TEXT_LENGTH:
        problems["message.text"] = f"must be at most {MAX_TEXT_LENGTH} characters, got {len(text)}"
    return problems


def send_message(app: SandboxApp, request: Request) -> Response:
    body = request.json_object()
    problems = _text_problems(body)
    if problems:
        raise validation_error(problems)
    state = request.account.state
    with state.lock:
        chat = state.get_chat(request.path_params["chat_id"])
        message = state.add_message(chat, author_id=state.account_id, type="text",
                                    content={"text": body["message"]["text"]}, via="api")
        answer = send_text_answer(message)
    app.stats.incr("sends", account=request.account.user_id)
    app.publish(request.account, chat, message)
    return json_response(answer)


def send_image(app: SandboxApp, request: Request) -> Response:
    image_id = request.json_object().get("image_id")
    if not isinstance(image_id, str) or not image_id:
        raise validation_error({"image_id": "is required"})
    state = request.account.state
    with state.lock:
        chat = state.get_chat(request.path_params["chat_id"])
        if image_id not in state.images:
            raise validation_error({"image_id": f"unknown image {image_id!r}: upload it with uploadImages first"})
        content = {"image": {"sizes": image_sizes(state.base_url, image_id, UPLOAD_SIZES)}}
        message = state.add_message(chat, author_id=state.account_id, type="image", content=content, via="api")
        answer = send_image_answer(message)
    app.stats.incr("sends", account=request.account.user_id)
    app.publish(request.account, chat, message)
    return json_response(answer)


def delete_message(app: SandboxApp, request: Request) -> Response:
    state = request.account.state
    with state.lock:
        chat = state.get_chat(request.path_params["chat_id"])
        state.delete_message(chat, request.path_params["message_id"])
    return json_response({})
