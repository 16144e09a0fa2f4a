"""Seeded data: deterministic for a seed, realistic, and covering every chat and message type."""

import re

from sandbox.content import WEBHOOK_TYPES
from sandbox.render import chat_json, message_json

INT32_MAX = 2**31 - 1


def snapshot(app) -> list:
    state = app.state
    with state.lock:
        return [(chat_json(state, chat), [message_json(state, chat, m) for m in chat.messages])
                for chat in state.chats.values()]


def test_same_seed_same_data_other_seed_other_data(make_app):
    assert snapshot(make_app(seed=7)) == snapshot(make_app(seed=7))
    assert snapshot(make_app(seed=7)) != snapshot(make_app(seed=8))


def test_reset_reseeds_identically(make_app):
    app = make_app(seed=3)
    before = snapshot(app)
    app.reset()
    assert snapshot(app) == before


def test_chat_kinds_types_and_unread(app):
    chats = list(app.state.chats.values())
    assert len(chats) == 30
    kinds = [chat.chat_type for chat in chats]
    assert kinds.count("u2i") > kinds.count("u2u") > kinds.count("a2u") >= 1
    types = {message.type for chat in chats for message in chat.messages}
    assert types == set(WEBHOOK_TYPES)
    unread = [chat for chat in chats if app.state.is_unread(chat)]
    assert 0 < len(unread) < len(chats)


def test_names_items_and_ids_look_real(app):
    state = app.state
    people = [user for user in state.users.values() if user.id != state.account_id]
    assert all(re.fullmatch(r"[А-ЯЁ][а-яё]+( [А-ЯЁ][а-яё]+| [А-ЯЁ]\.)?", user.name) for user in people)
    items = [chat.item for chat in state.chats.values() if chat.item]
    assert any(item.id > INT32_MAX for item in items)  # real item ids no longer fit in int32
    assert all(item.price_string.endswith("₽") or item.price_string == "Цена не указана" for item in items)
    assert any(item.user_id != state.account_id for item in items)  # the account also buys
    assert all(re.fullmatch(r"u2[iu]-[A-Za-z0-9_-]{22}|a2u-[A-Za-z0-9_-]{22}", chat_id) for chat_id in state.chats)


def test_small_and_empty_seeds_still_cover_every_type(make_app):
    one = make_app(chats=1)
    [chat] = one.state.chats.values()
    assert {message.type for message in chat.messages} == set(WEBHOOK_TYPES)
    assert make_app(chats=0).state.chats == {}
