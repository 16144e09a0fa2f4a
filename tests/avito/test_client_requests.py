"""What each AvitoClient method sends to Avito, and how it reads the answer.

Every call is checked against Avito's own OpenAPI files: the method and path are an
operation there, the query parameters and JSON fields are ones it declares, and the body
has the declared content type.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from responses import matchers

from tests.conftest import AVITO, USER_ID

SPEC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "avito-spec"  # shared/ lies beside the checkout
ACCOUNT = f"{AVITO}/messenger/v{{}}/accounts/{USER_ID}"
CHAT = "u2i-y9ykWR1EkNOJJMaE9i9m8w"
BEARER = {"Authorization": "Bearer tok-1"}

pytestmark = pytest.mark.django_db


def last_call(avito, path_end: str):
    matching = [call for call in avito.calls if urlsplit(call.request.url).path.endswith(path_end)]
    assert matching, f"no call to ...{path_end}"
    return matching[-1].request


def test_token_is_a_form_encoded_client_credentials_post(avito, client):
    token = client.fetch_token()

    request = last_call(avito, "/token")
    assert (request.method, request.url) == ("POST", f"{AVITO}/token")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body) == {"grant_type": ["client_credentials"], "client_id": ["test-client"],
                                      "client_secret": ["test-secret"]}
    assert "Authorization" not in request.headers
    assert token.access_token == "tok-1" and token.seconds_left(client.clock()) > 86000


def test_list_chats_sends_filters_as_comma_lists(avito, client):
    avito.get(f"{ACCOUNT.format(2)}/chats", json={"chats": [{"id": CHAT}], "meta": {"has_more": True}},
              match=[matchers.query_param_matcher({"item_ids": "11,22", "unread_only": "true",
                                                   "chat_types": "u2i,u2u", "limit": "50", "offset": "100"}),
                     matchers.header_matcher(BEARER)])

    page = client.list_chats(item_ids=[11, 22], unread_only=True, chat_types=["u2i", "u2u"], limit=50, offset=100)

    assert page == {"chats": [{"id": CHAT}], "meta": {"has_more": True}}


def test_list_chats_leaves_out_unset_filters_and_guesses_has_more_without_meta(avito, client):
    avito.get(f"{ACCOUNT.format(2)}/chats", json={"chats": [{"id": "a"}, {"id": "b"}]},
              match=[matchers.query_param_matcher({"limit": "2", "offset": "0"})])

    assert client.list_chats(limit=2) == {"chats": [{"id": "a"}, {"id": "b"}], "meta": {"has_more": True}}


def test_get_chat_and_mark_read(avito, client):
    avito.get(f"{ACCOUNT.format(2)}/chats/{CHAT}", json={"id": CHAT}, match=[matchers.header_matcher(BEARER)])
    avito.post(f"{ACCOUNT.format(1)}/chats/{CHAT}/read", json={"ok": True})

    assert client.get_chat(CHAT) == {"id": CHAT}
    assert client.mark_read(CHAT) == {"ok": True}
    assert last_call(avito, "/read").body is None


@pytest.mark.parametrize("answer", [
    [{"id": "m2"}, {"id": "m1"}],
    {"messages": [{"id": "m2"}, {"id": "m1"}], "meta": {"has_more": True}},
], ids=["bare-array", "object"])
def test_list_messages_uses_v3_with_trailing_slash_and_reads_both_shapes(avito, client, answer):
    avito.get(f"{ACCOUNT.format(3)}/chats/{CHAT}/messages/", json=answer,
              match=[matchers.query_param_matcher({"limit": "2", "offset": "10"})])

    page = client.list_messages(CHAT, limit=2, offset=10)

    assert page == {"messages": [{"id": "m2"}, {"id": "m1"}], "meta": {"has_more": True}}


def test_list_messages_short_page_has_no_more(avito, client):
    avito.get(f"{ACCOUNT.format(3)}/chats/{CHAT}/messages/", json=[{"id": "m1"}])

    assert client.list_messages(CHAT, limit=100)["meta"] == {"has_more": False}


def test_send_text_posts_avitos_text_body(avito, client):
    sent = {"id": "m1", "created": 1, "direction": "out", "type": "text", "content": {"text": "Привет"}}
    avito.post(f"{ACCOUNT.format(1)}/chats/{CHAT}/messages", json=sent,
               match=[matchers.json_params_matcher({"message": {"text": "Привет"}, "type": "text"}),
                      matchers.header_matcher(BEARER)])

    assert client.send_text(CHAT, "Привет") == sent


def test_upload_image_sends_one_file_in_uploadfile_brackets(avito, client):
    avito.post(f"{ACCOUNT.format(1)}/uploadImages",
               json={"12345.abc": {"1280x960": "https://img/1280.jpg", "140x105": "https://img/140.jpg"}})

    image_id, sizes = client.upload_image(b"\xff\xd8jpeg-bytes", filename="cat.png", content_type="image/png")

    request = last_call(avito, "/uploadImages")
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    body = request.body
    assert b'Content-Disposition: form-data; name="uploadfile[]"; filename="cat.png"' in body
    assert b"Content-Type: image/png" in body and b"\xff\xd8jpeg-bytes" in body
    assert body.count(b"Content-Disposition") == 1
    assert (image_id, sizes) == ("12345.abc", {"1280x960": "https://img/1280.jpg", "140x105": "https://img/140.jpg"})


def test_send_image_and_delete_message(avito, client):
    avito.post(f"{ACCOUNT.format(1)}/chats/{CHAT}/messages/image", json={"id": "m9", "type": "image"},
               match=[matchers.json_params_matcher({"image_id": "12345.abc"})])
    avito.post(f"{ACCOUNT.format(1)}/chats/{CHAT}/messages/m9", body="")

    assert client.send_image(CHAT, "12345.abc") == {"id": "m9", "type": "image"}
    assert client.delete_message(CHAT, "m9") == {}
    assert last_call(avito, "/messages/m9").method == "POST"


def test_voice_urls_joins_ids_and_skips_the_call_for_none(avito, client):
    avito.get(f"{ACCOUNT.format(1)}/getVoiceFiles", json={"voices_urls": {"v1": "https://a", "v2": "https://b"}},
              match=[matchers.query_param_matcher({"voice_ids": "v1,v2"})])

    assert client.voice_urls(["v1", "v2"]) == {"v1": "https://a", "v2": "https://b"}
    assert client.voice_urls([]) == {}
    assert len([c for c in avito.calls if "getVoiceFiles" in c.request.url]) == 1


def test_webhook_calls_use_their_mixed_versions(avito, client):
    url = {"url": "https://gw.example/webhook/avito/s3cret"}
    avito.post(f"{AVITO}/messenger/v3/webhook", json={"ok": True}, match=[matchers.json_params_matcher(url)])
    avito.post(f"{AVITO}/messenger/v1/webhook/unsubscribe", json={"ok": True},
               match=[matchers.json_params_matcher(url)])
    avito.post(f"{AVITO}/messenger/v1/subscriptions", json={"subscriptions": [{"url": url["url"], "version": "3"}]})

    assert client.subscribe(url["url"]) == {"ok": True}
    assert client.unsubscribe(url["url"]) == {"ok": True}
    assert client.subscriptions() == [{"url": url["url"], "version": "3"}]


def test_blacklist_posts_users_with_context(avito, client):
    users = [{"user_id": 94235311, "context": {"item_id": 1768287444, "reason_id": 1}}]
    avito.post(f"{ACCOUNT.format(2)}/blacklist", body="", match=[matchers.json_params_matcher({"users": users})])

    assert client.blacklist(users) == {}


# --- against Avito's OpenAPI files ------------------------------------------------------------

def every_call(client):
    """Each client method once, with its answer: (call, Avito's answer)."""
    users = [{"user_id": 1, "context": {"item_id": 2, "reason_id": 4}}]
    return [
        (lambda: client.list_chats(item_ids=[1], unread_only=True, chat_types=["u2i"], limit=5, offset=1),
         {"chats": []}),
        (lambda: client.get_chat(CHAT), {"id": CHAT}),
        (lambda: client.mark_read(CHAT), {"ok": True}),
        (lambda: client.list_messages(CHAT, limit=5, offset=1), []),
        (lambda: client.send_text(CHAT, "hi"), {"id": "m1"}),
        (lambda: client.upload_image(b"x"), {"1.a": {"32x32": "https://i"}}),
        (lambda: client.send_image(CHAT, "1.a"), {"id": "m2"}),
        (lambda: client.delete_message(CHAT, "m2"), {}),
        (lambda: client.voice_urls(["v1"]), {"voices_urls": {}}),
        (lambda: client.subscribe("https://gw/x"), {"ok": True}),
        (lambda: client.unsubscribe("https://gw/x"), {"ok": True}),
        (lambda: client.subscriptions(), {"subscriptions": []}),
        (lambda: client.blacklist(users), {}),
    ]


def load_spec(name: str) -> dict:
    path = SPEC_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} is not on this machine")
    return json.loads(path.read_text())


def spec_operations(spec: dict) -> dict[tuple[str, str], dict]:
    """{(METHOD, path regex): operation with the path's parameters merged in}."""
    operations = {}
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                params = item.get("parameters", []) + operation.get("parameters", [])
                operations[(method.upper(), pattern)] = {**operation, "parameters": params}
    return operations


def ref_parts(ref: str) -> list[str]:
    return ref.lstrip("#/").split("/")


def deref(spec: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in ref_parts(node["$ref"]):
            target = target[part]
        node = target
    return node


def undeclared_fields(spec: dict, schema: dict, value, where: str = "") -> list[str]:
    """JSON fields of `value` that `schema` does not declare (recursively)."""
    schema = deref(spec, schema)
    if isinstance(value, dict):
        declared = schema.get("properties", {})
        wrong = [f"{where}{key}" for key in value if key not in declared]
        for key, inner in value.items():
            if key in declared:
                wrong += undeclared_fields(spec, declared[key], inner, f"{where}{key}.")
        return wrong
    if isinstance(value, list) and "items" in schema:
        return [w for inner in value for w in undeclared_fields(spec, schema["items"], inner, f"{where}[].")]
    return []


def check_against_spec(spec: dict, operation: dict, sent) -> None:
    """The query parameters, content type and JSON fields of `sent` are those `operation` declares."""
    url = urlsplit(sent.url)
    query_names = {deref(spec, p)["name"] for p in operation["parameters"] if deref(spec, p)["in"] == "query"}
    assert set(parse_qs(url.query)) <= query_names, (url.path, url.query)
    content = deref(spec, operation.get("requestBody", {})).get("content", {})
    if not content:
        assert not sent.body, f"{url.path} takes no body"
        return
    media = sent.headers["Content-Type"].split(";")[0]
    assert media in content, (url.path, media)
    schema = deref(spec, content[media]["schema"])
    if media == "application/json":
        assert undeclared_fields(spec, schema, json.loads(sent.body)) == [], url.path
    else:
        for field in schema.get("required", []):
            assert f'name="{field}"'.encode() in sent.body, (url.path, field)


def test_every_client_call_is_an_operation_of_avitos_openapi(avito, client):
    spec = load_spec("messenger.openapi.json")
    operations = spec_operations(spec)
    answer = {}
    anything = re.compile(re.escape(AVITO) + "/messenger/.*")
    for method in ("GET", "POST"):
        avito.add_callback(method, anything, callback=lambda request: (200, {}, json.dumps(answer["body"])))
    used = set()
    for call, body in every_call(client):
        answer["body"] = body
        avito.calls.reset()
        call()
        sent = [c.request for c in avito.calls if "/messenger/" in c.request.url]
        assert len(sent) == 1
        path = urlsplit(sent[0].url).path
        key = next((k for k in operations if k[0] == sent[0].method and re.match(k[1], path)), None)
        assert key, f"{sent[0].method} {path} is not an operation in messenger.openapi.json"
        assert sent[0].headers["Authorization"] == "Bearer tok-1"
        check_against_spec(spec, operations[key], sent[0])
        used.add(key)
    assert used == set(operations), f"spec operations the client never calls: {set(operations) - used}"


def test_token_call_matches_avitos_auth_openapi(avito, client):
    spec = load_spec("auth.openapi.json")
    operation = spec["paths"]["/token"]["post"]
    schema = deref(spec, operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"])

    client.fetch_token()

    form = parse_qs(last_call(avito, "/token").body)
    assert set(form) <= set(schema["properties"]) and set(schema["required"]) <= set(form)

