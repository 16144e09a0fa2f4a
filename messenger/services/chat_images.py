"""A stored message's image, fetched for staff so that the chat page loads nothing from Avito's servers.

The URL fetched is the one stored with the message (its largest size), never one a request
names, so the gateway is no open proxy. It goes through the one client for image hosts
(messenger.image_fetcher): the same address guard as `image_url` sends, a timeout per read
and a deadline for the whole download, and a size cap. WebP and AVIF are shown too: Avito's image servers may answer with them. SVG is
never passed on (it can carry script).
"""
from __future__ import annotations

import logging

from django.conf import settings

from core.errors import GatewayError, NotFound
from messenger.image_fetcher import IMAGE_CONTENT_TYPES, FetchedImage, ImageFetcher, ImageFetchError
from messenger.models import Message
from messenger.normalizer import largest_image_url

logger = logging.getLogger(__name__)

SHOWN_CONTENT_TYPES = frozenset(IMAGE_CONTENT_TYPES | {"image/webp", "image/avif"})
MAX_SHOWN_BYTES = 10 * 1024 * 1024  # a chat photo at Avito's largest size is a few hundred KB
MAX_SHOWN_TIMEOUT = 10.0  # a page's images hold web workers: never CONNECTION_TIMEOUT's 30 s each
MAX_SHOWN_DEADLINE = 15.0  # nor longer than this in all, however slowly the host trickles bytes


class ImageUnavailable(GatewayError):
    """The message's image host did not give the image (down, refused, too large, not an image)."""

    status = 502
    code = "image_unavailable"


def message_image_url(*, chat_id: str, message_id: str) -> str:
    """The largest-size URL stored with an image message of this chat (NotFound otherwise)."""
    message = Message.objects.filter(id=message_id, chat_id=chat_id, type="image").only("content").first()
    content = message.content if message is not None and isinstance(message.content, dict) else {}
    url = largest_image_url(content)
    if not url:
        raise NotFound(f"No image message {message_id!r} stored in chat {chat_id!r}.")
    return url


def message_image_fetch(*, chat_id: str, message_id: str) -> FetchedImage:
    """The image of a stored message, from its host (NotFound, or ImageUnavailable)."""
    url = message_image_url(chat_id=chat_id, message_id=message_id)
    fetcher = ImageFetcher(timeout=min(settings.CONNECTION_TIMEOUT, MAX_SHOWN_TIMEOUT), max_bytes=MAX_SHOWN_BYTES,
                           deadline=MAX_SHOWN_DEADLINE,
                           allow_private=settings.IMAGE_URL_ALLOW_PRIVATE, allowed_hosts=settings.CALLBACK_ALLOWED_HOSTS,
                           content_types=SHOWN_CONTENT_TYPES)
    try:
        return fetcher.fetch(url)
    except ImageFetchError as exc:
        logger.warning("The image of message %s could not be fetched: %s", message_id, exc)
        raise ImageUnavailable(str(exc)) from None
