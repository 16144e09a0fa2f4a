"""Bodies and methods that once made the API answer 500: each gets a 4xx in the JSON envelope.

JSON that no database column can hold (`NaN`, unpaired surrogates such as `"\\ud800"`),
nesting deep enough to exhaust Python's recursion, and methods the docs pages do not have.
"""
from __future__ import annotations

import pytest

from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db

JSON_ROUTES = ["/api/messages/send", "/api/messages/send/link", "/api/messages/send/image",
               "/api/messages/send/bulk", "/api/webhook/subscribe", "/api/blacklist"]
BODIES = [
    '{"chat_id": "u2i-a", "text": "\\ud800"}',
    '{"chat_id": "u2i-a", "text": "ok", "\\udc00": 1}',
    '{"chat_id": "u2i-a", "text": NaN}',
    '{"chat_id": "u2i-a", "text": "x", "n": Infinity}',
    "[" * 10000 + "]" * 10000,
    '{"a": ' * 10000 + "1" + "}" * 10000,
]


@pytest.mark.parametrize("body", BODIES, ids=["surrogate", "surrogate-key", "nan", "infinity", "brackets", "objects"])
@pytest.mark.parametrize("path", JSON_ROUTES)
def test_unstorable_or_too_deep_json_gets_400(api, avito, path, body):
    response = api.post(path, data=body, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert error_of(response)["code"] == "parse_error"
    assert [c.request.url for c in avito.calls] == []


def test_an_emoji_escaped_as_a_surrogate_pair_is_text(api, avito):
    from tests.api.conftest import V1, sent_obj

    avito.post(f"{V1}/chats/u2i-a/messages", json=sent_obj(text="\U0001F600"))
    response = api.post("/api/messages/send", data='{"chat_id": "u2i-a", "text": "\\ud83d\\ude00"}',
                        content_type="application/json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
@pytest.mark.parametrize("method", ["OPTIONS", "POST", "PUT", "DELETE", "TRACE"])
def test_the_docs_answer_other_methods_with_405_in_the_envelope(api, path, method):
    response = api.generic(method, path)
    assert response.status_code == 405, response.content[:200]
    assert error_of(response)["code"] == "method_not_allowed"
