"""What staff do on a chat's page: reply, mark read, block the client, open a voice message.

Each view checks its permission, calls one service (the same the REST API calls), records
what it did in the admin log, and comes back to the chat with the outcome as an admin
message. Any refusal (Avito's, a limit, the rate limit, a timeout) is such a message,
never an error page.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import GatewayError, refusal_text
from messenger.avito.errors import AvitoError
from inbox.forms import BLOCK_REASONS, BlockForm, ReplyForm
from messenger.models import Chat
from messenger.services.blacklist import blacklist_add
from messenger.services.chats import chat_mark_read
from messenger.services.messages import message_voice_url
from messenger.services.staff_replies import StaffImage, staff_reply_send

REPLY_PERMISSION = "messenger.reply_chat"
BLOCK_PERMISSION = "messenger.add_blacklistentry"
REFUSALS = (GatewayError, AvitoError)


def _back(chat: Chat) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:messenger_chat_change", args=[quote(chat.pk)]))


def chat_from_url(object_id: str) -> Chat:
    """The chat of an admin URL: its id as the admin quotes it, or as Avito wrote it (contract §6)."""
    return Chat.objects.filter(pk=unquote(object_id)).first() or get_object_or_404(Chat, pk=object_id)


def _chat(model_admin, request, object_id: str, permission: str) -> Chat:
    chat = chat_from_url(object_id)
    if not (model_admin.has_view_permission(request, chat) and request.user.has_perm(permission)):
        raise PermissionDenied
    return chat


@require_POST
def reply_view(request, object_id: str, *, model_admin):
    chat = _chat(model_admin, request, object_id, REPLY_PERMISSION)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        for field, errors in form.errors.items():
            model_admin.message_user(request, f"Not sent: {field}: {' '.join(errors)}", messages.ERROR)
        return _back(chat)
    upload = form.cleaned_data["image"]
    image = StaffImage(upload.read(), upload.name or "image", upload.content_type or "") if upload else None
    try:
        outcome = staff_reply_send(chat_id=chat.pk, staff_user_id=request.user.pk, text=form.cleaned_data["text"],
                                   image=image, form_key=form.cleaned_data["idempotency_key"] or None)
    except REFUSALS as exc:
        if getattr(exc, "code", "") == "idempotency_conflict":
            # The first click of a double click is still sending: this one must not, and it is not a failure.
            model_admin.message_user(request, "This form is already being sent; reload the page in a moment to "
                                              "see the reply in the thread.", messages.WARNING)
        else:
            model_admin.message_user(request, f"Not sent: {refusal_text(exc)}", messages.ERROR)
        return _back(chat)
    ids = ", ".join(outcome.message_ids)
    if outcome.sent:
        model_admin.log_change(request, chat, f"Replied to the client (Avito message {ids}).")
        model_admin.message_user(request, f"Sent to Avito: message {ids}.", messages.SUCCESS)
    else:
        model_admin.message_user(request, f"This form was already sent (Avito message {ids}); not sent again.",
                                 messages.WARNING)
    return _back(chat)


@require_POST
def mark_read_view(request, object_id: str, *, model_admin):
    chat = _chat(model_admin, request, object_id, REPLY_PERMISSION)
    try:
        chat_mark_read(chat_id=chat.pk)
    except REFUSALS as exc:
        model_admin.message_user(request, f"Not marked read: {refusal_text(exc)}", messages.ERROR)
        return _back(chat)
    model_admin.log_change(request, chat, "Marked read at Avito.")
    model_admin.message_user(request, "Marked read at Avito.", messages.SUCCESS)
    return _back(chat)


@require_POST
def block_view(request, object_id: str, *, model_admin):
    chat = _chat(model_admin, request, object_id, BLOCK_PERMISSION)
    form = BlockForm(request.POST)
    if not form.is_valid():
        model_admin.message_user(request, "Not blocked: choose a reason (1 to 4).", messages.ERROR)
        return _back(chat)
    if chat.client_user_id is None:
        model_admin.message_user(request, "Not blocked: the client's Avito id is not known yet.", messages.ERROR)
        return _back(chat)
    reason = form.cleaned_data["reason_id"]
    try:
        blacklist_add(user_id=chat.client_user_id, item_id=chat.item_id, reason_id=reason)
    except REFUSALS as exc:
        model_admin.message_user(request, f"Not blocked: {refusal_text(exc)}", messages.ERROR)
        return _back(chat)
    done = f"Blocked user {chat.client_user_id} at Avito (reason: {BLOCK_REASONS[reason]})."
    model_admin.log_change(request, chat, done)
    model_admin.message_user(request, done, messages.SUCCESS)
    return _back(chat)


def voice_view(request, object_id: str, voice_id: str, *, model_admin):
    chat = chat_from_url(object_id)
    if not model_admin.has_view_permission(request, chat):
        raise PermissionDenied
    try:
        return HttpResponseRedirect(message_voice_url(voice_id=voice_id))
    except REFUSALS as exc:
        model_admin.message_user(request, f"Voice message unavailable: {refusal_text(exc)}", messages.ERROR)
        return _back(chat)
