"""ChatViewSet: list, fetch, mark read, count unread and search chats (each action calls one service)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from core.api.validation import validated
from messenger.api.responses import ChatSearchAnswer, ChatsPage, AvitoChat, OkAnswer, UnreadCountAnswer
from core.api.responses import errors
from messenger.api.serializers import ChatListQuery, ChatSearchQuery
from messenger.services.chats import chat_get, chat_list, chat_mark_read, chat_search, chat_unread_count

CHAT_ID = OpenApiParameter("chat_id", str, OpenApiParameter.PATH, description="Avito chat id, e.g. u2i-y9ykWR1EkNOJJMaE9i9m8w")
CAP_NOTE = ("Walks every page of Avito's chat list. Avito serves no chat past offset 1000, so at most 1100 chats "
            "can be seen; when Avito still reports more there, the answer has `truncated: true`.")


class ChatViewSet(viewsets.ViewSet):
    @extend_schema(
        operation_id="chats_list", tags=["chats"], summary="List chats (one page)",
        description="`chat_types` defaults to `u2i,u2u` (Avito's own default, u2i, would miss customers "
                    "writing in user-to-user chats). Every chat returned is stored.",
        parameters=[ChatListQuery], responses={200: ChatsPage, **errors(400, 401, 429, 502, 504)},
    )
    def list_chats(self, request):
        return Response(chat_list(**validated(ChatListQuery, request.query_params)))

    @extend_schema(
        operation_id="chats_retrieve", tags=["chats"], summary="One chat", parameters=[CHAT_ID],
        responses={200: AvitoChat, **errors(401, 404, 429, 502, 504)},
    )
    def retrieve(self, request, chat_id: str):
        return Response(chat_get(chat_id=chat_id))

    @extend_schema(
        operation_id="chats_read", tags=["chats"], summary="Mark a chat read", request=None,
        parameters=[CHAT_ID], responses={200: OkAnswer, **errors(401, 404, 429, 502, 504)},
    )
    def read(self, request, chat_id: str):
        return Response(chat_mark_read(chat_id=chat_id))

    @extend_schema(
        operation_id="chats_unread_count", tags=["chats"], summary="Count unread chats (u2i and u2u)",
        description=CAP_NOTE, responses={200: UnreadCountAnswer, **errors(401, 429, 502, 504)},
    )
    def unread_count(self, request):
        return Response(chat_unread_count())

    @extend_schema(
        operation_id="chats_search", tags=["chats"], summary="Every chat about one item",
        description=CAP_NOTE, parameters=[ChatSearchQuery],
        responses={200: ChatSearchAnswer, **errors(400, 401, 429, 502, 504)},
    )
    def search(self, request):
        return Response(chat_search(**validated(ChatSearchQuery, request.query_params)))
