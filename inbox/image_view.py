"""A chat photo served by the gateway: `<img>` on a chat's page points here, never at Avito's servers.

Staff only (an active staff member with the view permission on chats), else 403: an `<img>`
cannot follow a redirect to the login page. The image is read into memory within the
service's size cap and sent whole, so that a host failing halfway still gets the
placeholder instead of a broken image. Browsers keep it privately for a day (a message's
photo never changes). A message that is not an image of this chat is a 404; a host that
does not give the image is the small placeholder, also a 404, kept by nobody, so that the
next look tries again.
"""
from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

from core.errors import NotFound
from inbox.chat_actions import chat_from_url
from messenger.services.chat_images import ImageUnavailable, message_image_fetch

CACHE_FOR = 24 * 3600
PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160" viewBox="0 0 240 160">'
    '<title>Image unavailable</title><rect width="240" height="160" fill="#eee"/>'
    '<text x="120" y="85" font-family="sans-serif" font-size="14" text-anchor="middle" fill="#666">'
    'Image unavailable</text></svg>'
).encode()


@require_safe
def image_view(request, object_id: str, message_id: str, *, model_admin):
    if not (model_admin.admin_site.has_permission(request) and model_admin.has_view_permission(request)):
        raise PermissionDenied
    chat = chat_from_url(object_id)
    try:
        image = message_image_fetch(chat_id=chat.pk, message_id=unquote(message_id))
    except NotFound as exc:
        raise Http404(exc.message) from None
    except ImageUnavailable:
        response = HttpResponse(PLACEHOLDER, status=404, content_type="image/svg+xml")
        response["Cache-Control"] = "no-store"
        return _contained(response)
    response = HttpResponse(image.content, content_type=image.content_type)
    response["Cache-Control"] = f"private, max-age={CACHE_FOR}"
    response["Content-Disposition"] = "inline"
    return _contained(response)


def _contained(response: HttpResponse) -> HttpResponse:
    """Opened on its own, the answer may run nothing and load nothing."""
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
