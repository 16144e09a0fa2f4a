"""Throttling of the admin's sign-in: failed passwords counted per username and per client address.

Both counts live in the Django cache through django-ratelimit (the library the API's rate
limit uses): Redis when REDIS_URL is set, shared by every web process; without it each
process's memory, so each web process counts on its own. Past ADMIN_LOGIN_FAILURES_PER_USERNAME
for a username, or ADMIN_LOGIN_FAILURES_PER_ADDRESS from one address, a sign-in is refused
before its password is even checked, until that count's window (the rate's period) ends.

Counted per username so that guessing one account's password from many addresses stops, and
per address so that one address cannot try many accounts. The address is REMOTE_ADDR: behind
a reverse proxy every client shares the proxy's, so the per-address count then holds for
everyone together. If the cache cannot be reached, sign-in is not throttled (and the log says
so) rather than closed to every staff member.
"""
from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)

USERNAME_GROUP = "avitogw-admin-login-username"
ADDRESS_GROUP = "avitogw-admin-login-address"


def _counts(request, username: str) -> list[tuple[str, str, str]]:
    """(group, key, rate) of each count a sign-in with `username` falls under."""
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    address = request.META.get("REMOTE_ADDR") or "unknown"
    return [(USERNAME_GROUP, name, settings.ADMIN_LOGIN_FAILURES_PER_USERNAME),
            (ADDRESS_GROUP, address, settings.ADMIN_LOGIN_FAILURES_PER_ADDRESS)]


def _usage(request, group: str, key: str, rate: str, *, increment: bool) -> dict | None:
    try:
        usage = get_usage(request, group=group, key=lambda _group, _request: key, rate=rate, increment=increment)
    except Exception:  # noqa: BLE001 - a cache outage must not lock every staff member out
        logger.warning("Admin sign-in failures could not be counted; not throttling", exc_info=True)
        return None
    if usage and usage["limit"] == 0 and usage["time_left"] == -1:  # django-ratelimit's "the cache failed"
        logger.warning("Admin sign-in failures could not be counted; not throttling")
        return None
    return usage


def login_wait(request, *, username: str) -> int | None:
    """Seconds until a sign-in as `username` from this address may be tried again; None when it may now."""
    waits = []
    for group, key, rate in _counts(request, username):
        usage = _usage(request, group, key, rate, increment=False)
        if usage and usage["count"] >= usage["limit"]:
            waits.append(max(1, int(usage["time_left"])))
    return max(waits) if waits else None


def login_failed(request, *, username: str) -> None:
    """One more failed sign-in, in every count it falls under."""
    for group, key, rate in _counts(request, username):
        _usage(request, group, key, rate, increment=True)
