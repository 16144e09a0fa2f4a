"""Webhook subscriptions at Avito: register the gateway's incoming URL, remove it, list what is registered."""
from __future__ import annotations

from django.conf import settings

from messenger.avito import get_client
from messenger.services.limits import invalid

INCOMING_PATH = "/webhook/avito"


def webhook_default_url() -> str | None:
    """PUBLIC_BASE_URL + the incoming path, with AVITO_WEBHOOK_SECRET as its last part when set."""
    if not settings.PUBLIC_BASE_URL:
        return None
    secret = f"/{settings.AVITO_WEBHOOK_SECRET}" if settings.AVITO_WEBHOOK_SECRET else ""
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{INCOMING_PATH}{secret}"


def _url_or_default(url: str | None) -> str:
    chosen = url or webhook_default_url()
    if not chosen:
        raise invalid("url", "Give a url, or set PUBLIC_BASE_URL so the gateway can build its own webhook URL.")
    return chosen


def webhook_subscribe(*, url: str | None = None) -> dict:
    if not url and settings.WEBHOOK_SECRET_REQUIRED and not settings.AVITO_WEBHOOK_SECRET:
        # The bare path refuses every notification under production settings (webhooks.views).
        raise invalid("url", "Set AVITO_WEBHOOK_SECRET first: without it the gateway refuses Avito's notifications.")
    chosen = _url_or_default(url)
    get_client().subscribe(chosen)
    return {"ok": True, "url": chosen}


def webhook_unsubscribe(*, url: str | None = None) -> dict:
    chosen = _url_or_default(url)
    get_client().unsubscribe(chosen)
    return {"ok": True, "url": chosen}


def webhook_subscriptions() -> dict:
    """{"subscriptions": [{"url", "version"}]} as Avito lists them."""
    listed = get_client().subscriptions()
    return {"subscriptions": [
        {"url": str(entry.get("url") or ""), "version": str(entry.get("version") or "")}
        for entry in listed if isinstance(entry, dict)
    ]}
