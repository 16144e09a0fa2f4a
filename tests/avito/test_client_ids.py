"""Every id that goes into an Avito URL is checked against Avito's id shapes and percent-encoded.

Whatever its source (the API, a webhook, Avito's own answer), an id that could change the
path (`../../etc/passwd`, `a/b`, `?x`, `%2e`) never reaches Avito: the client refuses it
before any call, so the bearer token is never sent to another path.
"""
from __future__ import annotations

import pytest

from messenger.avito.errors import AvitoIdInvalid
from messenger.avito.ids import avito_id_valid, path_segment
from tests.conftest import AVITO, USER_ID

pytestmark = pytest.mark.django_db

REAL_IDS = ["u2i-YvRiaEtf8Qn~N4sh3mMKkA", "u2i-y9ykWR1EkNOJJMaE9i9m8w", "u2u-u19PNvVypwmAXTQXzmjArw",
            "bdcc5bac2d00345f1cc66fa657813958", "12345.12345abcdefghijklm", "a2u-1_2~3"]
HOSTILE = ["../../etc/passwd", "..", ".", "a/b", "a?b=1", "a#b", "%2e%2e", "a b", "a\nb", "", "x" * 129,
           "чат", "a%2Fb", "a\\b", ".hidden"]


@pytest.mark.parametrize("value", REAL_IDS)
def test_every_real_avito_id_shape_is_accepted(value):
    assert avito_id_valid(value)
    assert path_segment(value) == value  # unreserved characters only: encoding leaves them as they are


@pytest.mark.parametrize("value", HOSTILE)
def test_ids_that_could_change_the_path_are_refused(value):
    assert not avito_id_valid(value)
    with pytest.raises(AvitoIdInvalid):
        path_segment(value)


@pytest.mark.parametrize("call", [
    lambda c, bad: c.get_chat(bad),
    lambda c, bad: c.mark_read(bad),
    lambda c, bad: c.list_messages(bad),
    lambda c, bad: c.send_text(bad, "hi"),
    lambda c, bad: c.send_image(bad, "1.abc"),
    lambda c, bad: c.send_image("u2i-abc", bad),
    lambda c, bad: c.delete_message(bad, "m1"),
    lambda c, bad: c.delete_message("u2i-abc", bad),
    lambda c, bad: c.voice_urls(["ok-voice", bad]),
])
@pytest.mark.parametrize("bad", ["../../etc/passwd", "x/../../y", "a,b"])
def test_the_client_refuses_a_malformed_id_before_calling_avito(avito, client, call, bad):
    with pytest.raises(AvitoIdInvalid):
        call(client, bad)
    assert [c.request.url for c in avito.calls] == []  # not even a token request


def test_a_bad_account_id_is_refused_too(avito, client):
    client.user_id = 0
    with pytest.raises(AvitoIdInvalid):
        client.get_chat("u2i-abc")
    assert not avito.calls


def test_a_chat_id_with_a_tilde_reaches_avito_as_one_segment(avito, client):
    chat_id = "u2i-YvRiaEtf8Qn~N4sh3mMKkA"
    url = f"{AVITO}/messenger/v2/accounts/{USER_ID}/chats/{chat_id}"
    avito.get(url, json={"id": chat_id})
    assert client.get_chat(chat_id) == {"id": chat_id}
    assert avito.calls[-1].request.url == url
