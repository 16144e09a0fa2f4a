"""Message content for every Avito message type (avito-api.md §4.4, MessageContent in the spec).

Avito models content as one object where only the member matching the message type is
set; ``appCall``, ``file`` and ``video`` (and deleted messages) carry an empty object.
Media links point back at the sandbox (``/_sandbox/files/...``) so that whoever follows
them, the gateway or n8n, gets a real answer.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sandbox import seed_data

if TYPE_CHECKING:
    from sandbox.records import Chat
    from sandbox.state import SandboxState

# Types the v3 message list documents, and the longer list the webhook documents.
LISTED_TYPES = ("text", "image", "link", "item", "location", "call", "deleted", "voice", "system")
WEBHOOK_TYPES = ("text", "image", "system", "item", "call", "link", "location", "deleted",
                 "appCall", "file", "video", "voice")
EMPTY_CONTENT_TYPES = ("deleted", "appCall", "file", "video")

IMAGE_SIZES = ("1280x960", "640x480", "140x105", "32x32")
UPLOAD_SIZES = ("1280x960", "140x105", "32x32")  # what uploadImages answers, per the spec example


def image_sizes(base_url: str, image_id: str, sizes: tuple[str, ...] = IMAGE_SIZES) -> dict[str, str]:
    return {size: f"{base_url}/_sandbox/files/images/{image_id}/{size}.jpg" for size in sizes}


def make_content(kind: str, *, state: SandboxState, chat: Chat, rng: random.Random,
                 text: str | None = None) -> dict:
    """Content of a new message of type ``kind``; ``text`` is used where the type has text."""
    builder = _BUILDERS.get(kind)
    if builder is None:
        return {}
    return builder(state, chat, rng, text)


def _text(state, chat, rng, text):
    return {"text": text if text is not None else rng.choice(seed_data.CUSTOMER_FOLLOWUPS)}


def _image(state, chat, rng, text):
    image_id = state.register_image(None)
    return {"image": {"sizes": image_sizes(state.base_url, image_id)}}


def _voice(state, chat, rng, text):
    return {"voice": {"voice_id": state.register_voice()}}


def _link(state, chat, rng, text):
    domain, url, title, description = rng.choice(seed_data.LINKS)
    if text:  # a customer pasting their own link: Avito shows it without a preview
        return {"link": {"text": text, "url": text, "preview": None}}
    preview = {"title": title, "description": description, "domain": domain, "url": url,
               "images": {"140x105": f"https://{domain}/favicon-140x105.png"}}
    return {"link": {"text": domain, "url": url, "preview": preview}}


def _item(state, chat, rng, text):
    title, price, category, slug = rng.choice(seed_data.ITEMS)
    item_id = rng.randrange(2_000_000_000, 4_900_000_000)
    city = rng.choice(seed_data.CITIES)
    return {"item": {"title": title, "price_string": format_price(price),
                     "item_url": f"https://www.avito.ru/{city}/{category}/{slug}_{item_id}",
                     "image_url": f"https://00.img.avito.st/image/1/1.{item_id}.webp"}}


def _location(state, chat, rng, text):
    lat, lon, kind, place = rng.choice(seed_data.LOCATIONS)
    return {"location": {"lat": lat, "lon": lon, "kind": kind, "text": text or place, "title": place}}


def _call(state, chat, rng, text):
    return {"call": {"status": "missed", "target_user_id": state.account_id}}


def _system(state, chat, rng, text):
    flow_id, default_text = rng.choice(seed_data.SYSTEM_FLOWS)
    return {"flow_id": flow_id, "text": text or default_text}


_BUILDERS = {"text": _text, "image": _image, "voice": _voice, "link": _link, "item": _item,
             "location": _location, "call": _call, "system": _system}


def format_price(price: int | None) -> str | None:
    """Avito's price string: ``52000`` -> ``"52 000 ₽"``; no price -> ``None``."""
    if price is None:
        return None
    return f"{price:,}".replace(",", " ") + " ₽"
