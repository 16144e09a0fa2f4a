"""``GET /core/v1/accounts/self``: who the token is for, with the same token checks as the messenger calls."""

from sandbox_testkit import ACCOUNT_ID, WsgiClient, account_path

SELF = "/core/v1/accounts/self"


def test_self_names_the_tokens_account(client):
    answer = client.get(SELF)
    assert answer.status == 200
    me = answer.json()
    assert me == {"id": ACCOUNT_ID, "name": "Магазин «Техно Плюс»", "email": f"account{ACCOUNT_ID}@example.com",
                  "phone": f"79{ACCOUNT_ID:09d}", "profile_url": me["profile_url"]}
    # The profile is the one the account shows in its chats.
    chat = client.get(account_path("/chats", version="v2")).json()["chats"][0]
    own = next(user for user in chat["users"] if user["id"] == ACCOUNT_ID)
    assert me["profile_url"] == own["public_user_profile"]["url"] and me["name"] == own["name"]
    assert client.get("/_sandbox/stats").json()["requests"]["getUserInfoSelf"] == 1


def test_each_account_sees_itself(make_app):
    app = make_app(account_count=3)
    for user_id in (ACCOUNT_ID, ACCOUNT_ID + 1, ACCOUNT_ID + 2):
        client = WsgiClient(app)
        client.login(client_id=f"client-{user_id}", client_secret=f"secret-{user_id}")
        assert client.get(SELF).json()["id"] == user_id
    names = {entry["name"] for entry in WsgiClient(app).get("/_sandbox/accounts").json()["accounts"]}
    assert len(names) == 3


def test_no_bad_expired_and_revoked_tokens(client, clock):
    anonymous = WsgiClient(client.app)
    missing = anonymous.get(SELF)
    assert missing.status == 401 and missing.json()["error"]["code"] == 401
    anonymous.token = "made-up"
    assert anonymous.get(SELF).status == 401
    assert client.post(SELF).status == 405
    client.post(f"/_sandbox/accounts/{ACCOUNT_ID}/revoke")
    assert client.get(SELF).status == 401
    client.post(f"/_sandbox/accounts/{ACCOUNT_ID}/restore")
    clock.advance(86400)
    expired = client.get(SELF)
    assert expired.status == 403 and "expired" in expired.json()["error"]["message"]


def test_rate_limited_like_every_api_call(make_app):
    client = WsgiClient(make_app(rate=(1, 60)))
    client.login()
    assert [client.get(SELF).status for _ in range(2)] == [200, 429]
