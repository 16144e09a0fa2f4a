"""Celery beat's token refresh and the token service behind /api/token."""
from __future__ import annotations

import time

import pytest

from messenger.services import token as token_service
from messenger.avito import get_client
from messenger.avito.token_store import Token
from messenger.tasks import token_refresh
from tests.conftest import AVITO

pytestmark = pytest.mark.django_db


def token_calls(avito) -> int:
    return sum(1 for call in avito.calls if call.request.url == f"{AVITO}/token")


def store_token(seconds_left: float) -> None:
    get_client().transport.token_store.backend.write(Token("stored", time.time() + seconds_left))


def test_beat_fetches_a_token_when_there_is_none(avito):
    token_refresh.apply()

    assert token_calls(avito) == 1
    assert get_client().transport.token_store.current().access_token == "tok-1"


def test_beat_leaves_a_token_with_more_than_an_hour_left(avito):
    store_token(3 * 3600)

    token_refresh.apply()

    assert token_calls(avito) == 0
    assert get_client().transport.token_store.current().access_token == "stored"


@pytest.mark.parametrize("seconds_left", [3000, 30, -100], ids=["within-the-hour", "in-the-margin", "expired"])
def test_beat_renews_a_token_expiring_within_the_hour(avito, seconds_left):
    store_token(seconds_left)

    token_refresh.apply()

    assert token_calls(avito) == 1
    assert get_client().transport.token_store.current().access_token == "tok-1"


def test_beat_does_nothing_without_credentials(avito, settings):
    settings.AVITO_CLIENT_ID = ""

    token_refresh.apply()

    assert token_calls(avito) == 0


def test_token_get_describes_the_shared_token(avito):
    described = token_service.token_get()

    assert described["access_token"] == "tok-1" and described["token_type"] == "Bearer"
    assert 86390 <= described["expires_in"] <= 86400
    assert described["expires_at"].endswith("+00:00")
    token_service.token_get()
    assert token_calls(avito) == 1


def test_token_refresh_always_asks_avito_for_a_new_one(avito):
    avito.post(f"{AVITO}/token", json={"access_token": "tok-2", "expires_in": 3600})
    token_service.token_get()

    described = token_service.token_refresh()

    assert described["access_token"] == "tok-2" and 3590 <= described["expires_in"] <= 3600
    assert token_calls(avito) == 2
