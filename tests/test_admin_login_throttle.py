"""The admin's sign-in is throttled per username and per client address (avitogw.login_throttle).

Past 10 failures for a username, or 30 from one address, within 5 minutes, a sign-in gets a
429 page and its password is not even checked: the right one is refused too, until the
window ends (the clock django-ratelimit reads is moved here). Counts live in the Django
cache: each process's memory without Redis, Redis when set.
"""
from __future__ import annotations

import time

import pytest
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", password="right", is_staff=True)


@pytest.fixture
def checked(monkeypatch):
    """The usernames whose password was checked, in order."""
    calls = []
    check = ModelBackend.authenticate

    def counting(backend, request, username=None, password=None, **kwargs):
        calls.append(username)
        return check(backend, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    return calls


@pytest.fixture
def later(monkeypatch):
    """Moves django-ratelimit's clock forward by some seconds."""
    from django_ratelimit import core

    class Clock:
        offset = 0.0

        def time(self) -> float:
            return time.time() + self.offset

    clock = Clock()
    monkeypatch.setattr(core, "time", clock)

    def move(seconds: float) -> None:
        clock.offset += seconds

    return move


def sign_in(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_the_right_password_is_refused_unchecked_past_ten_failures_and_works_after_the_window(
        client, staff, checked, later):
    for _ in range(10):
        assert sign_in(client, "staff", "wrong").status_code == 200  # the form again, with its error
    checked.clear()

    refused = sign_in(client, "staff", "right")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many failed sign-ins" in refused.content.decode()
    assert checked == []  # the password was not even looked at
    assert client.get("/admin/").status_code == 302  # not signed in

    later(5 * 60 + 1)
    assert signed_in(sign_in(client, "staff", "right"))


def test_fewer_failures_do_not_stand_in_the_way(client, staff):
    for _ in range(9):
        sign_in(client, "staff", "wrong")
    assert signed_in(sign_in(client, "staff", "right"))


def test_a_throttled_username_is_refused_from_every_address(client, staff):
    for index in range(10):
        sign_in(client, "Staff", "wrong", address=f"10.0.0.{index}")  # the same username, however written
    assert sign_in(client, "staff", "right", address="10.0.1.1").status_code == 429


def test_one_address_trying_many_usernames_is_throttled_there_only(client, staff, checked):
    for index in range(30):
        sign_in(client, f"guess-{index}", "wrong", address="203.0.113.9")
    checked.clear()
    assert sign_in(client, "staff", "right", address="203.0.113.9").status_code == 429
    assert checked == []
    assert signed_in(sign_in(client, "staff", "right", address="198.51.100.7"))


def test_counts_are_shared_through_redis(client, staff, settings, redis_url):
    import redis

    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url,
                                   "KEY_PREFIX": "avitogw"}}
    for _ in range(10):
        sign_in(client, "staff", "wrong")
    assert redis.Redis.from_url(redis_url).keys("avitogw:*rl:*")  # django-ratelimit's counters, in Redis
    assert sign_in(client, "staff", "right").status_code == 429
