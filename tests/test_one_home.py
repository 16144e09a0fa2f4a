"""Meanings written once (issue 21): one id rule text on every path, one refusal formatter."""
from __future__ import annotations

import pytest

from core.errors import InvalidInput, details_text, refusal_text
from messenger.api.serializers import SendTextRequest
from messenger.avito.ids import ID_RULE
from messenger.services.limits import require_avito_id


def test_a_bad_chat_id_gets_one_message_from_the_serializer_and_the_service():
    serializer = SendTextRequest(data={"chat_id": "u2i-a/b", "text": "hi"})
    assert not serializer.is_valid()
    with pytest.raises(InvalidInput) as refused:
        require_avito_id("u2i-a/b", field="chat_id")
    assert [str(m) for m in serializer.errors["chat_id"]] == refused.value.details["chat_id"] == [
        f"Must be an Avito id: {ID_RULE}."]


def test_one_refusal_formatter_for_the_inbox_and_bulk():
    exc = InvalidInput("Invalid input: image_url.", details={"image_url": ["The image is empty."], "text": "Too long."})
    assert details_text(exc.details) == "image_url: The image is empty.; text: Too long."
    assert refusal_text(exc) == "Invalid input: image_url. image_url: The image is empty.; text: Too long."
    assert refusal_text(InvalidInput("No such chat.")) == "No such chat."
