"""Fills a ``SandboxState`` with realistic, deterministic data for a given seed.

Mostly u2i chats (customers asking about the account's items, one in ten the other way
round), some u2u chats and, from six chats on, a2u chats with Avito. Every message type
appears at least once, some chats end with unread customer messages, and names, items
and phrases are Russian. The same seed and the same clock give the same data, ids included:
seeding re-seeds ``state.rng``, which also makes later ids repeatable.
"""

from __future__ import annotations

from sandbox import seed_data
from sandbox.content import WEBHOOK_TYPES, format_price, make_content
from sandbox.records import Chat, Item, User
from sandbox.state import SandboxState

DAY = 86400
# Types beyond plain text that must each appear somewhere in the seeded history.
SPECIAL_TYPES = tuple(kind for kind in WEBHOOK_TYPES if kind != "text")


def seed_state(state: SandboxState, *, chats: int, seed: int, account_name: str = seed_data.ACCOUNT_NAME) -> None:
    state.rng.seed(seed)
    rng, now = state.rng, state.now()
    account = User(state.account_id, account_name, f"{rng.getrandbits(128):032x}", 7)
    avito = avito_user()
    state.users[account.id] = account
    items = _account_items(state, count=max(1, min(len(seed_data.ITEMS), chats // 3 + 1)))
    built = []
    for index, chat_type in enumerate(_chat_types(chats)):
        created = now - rng.randint(2 * 3600, 30 * DAY)
        if chat_type == "a2u":
            chat = Chat(state.new_chat_id("a2u"), "a2u", created, created, avito.id)
            state.add_chat(chat, avito)
            _a2u_history(state, chat, now)
            continue
        peer = new_person(state)
        item = None
        if chat_type == "u2i":
            # One chat in ten: the account asks about somebody else's item.
            item = new_item(state, owner=peer.id) if index % 10 == 9 else rng.choice(items)
        chat = Chat(state.new_chat_id(chat_type), chat_type, created, created, peer.id, item)
        state.add_chat(chat, peer)
        _conversation(state, chat, now, unread=index % 3 == 1)
        built.append(chat)
    for position, kind in enumerate(SPECIAL_TYPES):
        if built:
            _insert_special(state, built[position % len(built)], kind)


def _chat_types(count: int) -> list[str]:
    a2u = 0 if count < 6 else (1 if count < 20 else 2)
    u2u = round(count * 0.2) if count >= 3 else 0
    return ["u2i"] * (count - a2u - u2u) + ["u2u"] * u2u + ["a2u"] * a2u


def avito_user() -> User:
    """Avito itself, the other side of every a2u chat."""
    return User(seed_data.AVITO_USER[0], seed_data.AVITO_USER[1], "avito", 1)


def new_person(state: SandboxState) -> User:
    rng = state.rng
    female = rng.random() < 0.5
    first = rng.choice(seed_data.FEMALE_FIRST if female else seed_data.MALE_FIRST)
    surname = rng.choice(seed_data.SURNAMES) + ("а" if female else "")
    name = rng.choice([f"{first} {surname}", first, f"{first} {surname[0]}."])
    user_id = rng.randrange(10_000_000, 400_000_000)
    while user_id in state.users:
        user_id += 1
    return User(user_id, name, f"{rng.getrandbits(128):032x}", rng.randint(1, 20))


def new_item(state: SandboxState, *, owner: int, spec: tuple | None = None) -> Item:
    rng = state.rng
    title, price, category, slug = spec or rng.choice(seed_data.ITEMS)
    # Real item ids no longer fit in int32, so some seeded ones do not either.
    item_id = rng.randrange(1_500_000_000, 4_900_000_000)
    url = f"https://www.avito.ru/{rng.choice(seed_data.CITIES)}/{category}/{slug}_{item_id}"
    price_string = format_price(price) or "Цена не указана"
    return Item(item_id, title, price_string, 10, url, owner, rng.randint(1, 10), rng.randrange(10**9, 10**10))


def _account_items(state: SandboxState, *, count: int) -> list[Item]:
    items = [new_item(state, owner=state.account_id, spec=spec) for spec in seed_data.ITEMS[:count]]
    if len(items) >= 4:
        items[-1].status_id = 20  # an item removed since; its chats remain
    return items


def _timeline(state: SandboxState, chat: Chat, now: int, count: int) -> list[int]:
    end = max(chat.created + count, now - state.rng.randint(60, 3 * DAY))
    times = sorted(state.rng.randint(chat.created, end) for _ in range(count))
    return [t + i for i, t in enumerate(times)]  # strictly increasing, so order is unambiguous


def _conversation(state: SandboxState, chat: Chat, now: int, *, unread: bool) -> None:
    rng, account = state.rng, state.account_id
    customer_first = chat.item is None or chat.item.user_id == account
    first, second = (chat.peer_id, account) if customer_first else (account, chat.peer_id)
    count = rng.randint(2, 8)
    times = _timeline(state, chat, now, count)
    used: set[str] = set()

    def pick(pool: list[str]) -> str:  # no phrase twice in one chat
        phrase = rng.choice([p for p in pool if p not in used] or pool)
        used.add(phrase)
        return phrase

    for i, created in enumerate(times):
        author = first if i % 2 == 0 else second
        if unread and i == count - 1:
            author = chat.peer_id  # the customer wrote last and nobody has read it yet
        if chat.chat_type == "u2u":
            text = pick(seed_data.U2U_PHRASES)
        elif author == first:  # the buyer, whoever it is, opens and asks
            text = pick(seed_data.CUSTOMER_OPENERS if i == 0 else seed_data.CUSTOMER_FOLLOWUPS)
        else:
            text = pick(seed_data.SELLER_REPLIES)
        # Read when the next message came, or, for the last one, soon after -- unless left unread.
        read_at = times[i + 1] if i + 1 < count else min(now, created + rng.randint(60, 3600))
        quote = chat.messages[-1].id if chat.messages and rng.random() < 0.15 else None
        state.add_message(chat, author_id=author, type="text", content={"text": text}, created=created,
                          read_at=None if unread and i == count - 1 else read_at, quote_id=quote)


def _a2u_history(state: SandboxState, chat: Chat, now: int) -> None:
    for created in _timeline(state, chat, now, state.rng.randint(1, 3)):
        content = make_content("system", state=state, chat=chat, rng=state.rng)
        state.add_message(chat, author_id=chat.peer_id, type="system", content=content, created=created,
                          read_at=min(now, created + 600))


def _insert_special(state: SandboxState, chat: Chat, kind: str) -> None:
    """Put a message of ``kind`` into the history just before the chat's last message."""
    last = chat.messages[-1]
    created = last.created - 1 if len(chat.messages) > 1 else last.created
    author = state.account_id if kind == "image" and state.rng.random() < 0.5 else chat.peer_id
    content = make_content(kind, state=state, chat=chat, rng=state.rng)
    message = state.add_message(chat, author_id=author, type=kind, content=content, created=created,
                                read_at=created + 30)
    chat.messages.remove(message)
    chat.messages.insert(len(chat.messages) - 1, message)
