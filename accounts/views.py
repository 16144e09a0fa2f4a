"""AccountViewSet: the accounts API of contract §8, each action one service call."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from accounts import selectors, services
from accounts.serializers import AccountAnswer, AccountCreate, AccountList, AccountWrite
from core.api.responses import errors
from core.api.validation import validated

TAG = ["accounts"]


def _answer(account, code: int = status.HTTP_200_OK) -> Response:
    return Response(AccountAnswer(account).data, status=code)


class AccountViewSet(viewsets.ViewSet):
    @extend_schema(operation_id="accounts_list", tags=TAG, summary="The accounts, without their secrets",
                   responses={200: AccountList})
    def list_accounts(self, request):
        return Response({"accounts": AccountAnswer(selectors.account_list(), many=True).data})

    @extend_schema(
        operation_id="accounts_create", tags=TAG, summary="Add an Avito account",
        description="The credentials are checked with Avito first (a token, then `/core/v1/accounts/self`, which "
                    "also gives `avito_user_id` and `name` when not given). Refused: 400 `credentials_refused` with "
                    "Avito's message, nothing saved. A slug or Avito user id that exists: 409 `conflict`.",
        request=AccountCreate, responses={201: AccountAnswer, **errors(400, 409, 429, 502, 503, 504)},
        examples=[OpenApiExample("add", request_only=True, value={
            "slug": "moscow", "client_id": "abc", "client_secret": "xyz", "metadata": {"city": "Moscow"}})],
    )
    def create(self, request):
        return _answer(services.account_create(**validated(AccountCreate, request.data)), status.HTTP_201_CREATED)

    @extend_schema(operation_id="accounts_retrieve", tags=TAG, summary="One account",
                   responses={200: AccountAnswer, **errors(404)})
    def retrieve(self, request, slug: str):
        return _answer(selectors.account_get(slug=slug))

    @extend_schema(operation_id="accounts_update", tags=TAG, summary="Change an account's writable fields",
                   description="`client_secret` is write-only. The account `default` takes its credentials and "
                               "call limit from the environment: changing those answers 400.",
                   request=AccountWrite, responses={200: AccountAnswer, **errors(400, 404, 409, 503)})
    def partial_update(self, request, slug: str):
        account = selectors.account_get(slug=slug)
        return _answer(services.account_update(account=account, changes=validated(AccountWrite, request.data)))

    @extend_schema(operation_id="accounts_delete", tags=TAG, summary="Disable an account (its history stays)",
                   description="Unsubscribes its webhook at Avito (best effort; the outcome is in `state_reason`) "
                               "and sets `disabled`. `default` answers 409 while the environment defines it.",
                   responses={200: AccountAnswer, **errors(404, 409)})
    def destroy(self, request, slug: str):
        return _answer(services.account_delete(account=selectors.account_get(slug=slug)))

    @extend_schema(operation_id="accounts_check", tags=TAG, summary="Check the credentials with Avito",
                   description="A new token and `/core/v1/accounts/self`: `active` (and `last_ok_at`) when accepted, "
                               "`failing` with reason `credentials_refused` when refused.",
                   request=None, responses={200: AccountAnswer, **errors(404, 429, 502, 503, 504)})
    def check(self, request, slug: str):
        return _answer(services.account_check(account=selectors.account_get(slug=slug)))

    @extend_schema(operation_id="accounts_pause", tags=TAG, summary="Pause an account",
                   description="Sets the state `paused`. Sends and deliveries honouring it come next "
                               "(docs/accounts.md, \"Not yet\").",
                   request=None, responses={200: AccountAnswer, **errors(404, 409)})
    def pause(self, request, slug: str):
        return _answer(services.account_pause(account=selectors.account_get(slug=slug)))

    @extend_schema(operation_id="accounts_resume", tags=TAG, summary="Resume a paused account",
                   request=None, responses={200: AccountAnswer, **errors(404, 409)})
    def resume(self, request, slug: str):
        return _answer(services.account_resume(account=selectors.account_get(slug=slug)))
