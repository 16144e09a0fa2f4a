"""Webhook subscriptions: subscribe (v3), unsubscribe (v1) and list (v1), all POST (avito-api.md §5.1-5.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.errors import validation_error
from sandbox.http import Request, Response, json_response

if TYPE_CHECKING:
    from sandbox.app import SandboxApp


def _url(request: Request) -> str:
    url = request.json_object().get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise validation_error({"url": "is required and must be an http(s) URL"})
    return url


def subscribe(app: SandboxApp, request: Request) -> Response:
    url = _url(request)
    added = request.account.state.subscribe(url)
    if added and app.options.probe_webhooks:
        app.notifier.probe(url)
    return json_response({"ok": True})


def unsubscribe(app: SandboxApp, request: Request) -> Response:
    request.account.state.unsubscribe(_url(request))
    return json_response({"ok": True})


def list_subscriptions(app: SandboxApp, request: Request) -> Response:
    with request.account.state.lock:
        urls = list(request.account.state.subscriptions)
    # "3": the API version the URL was registered through, which fixes the payload format.
    return json_response({"subscriptions": [{"url": url, "version": "3"} for url in urls]})
