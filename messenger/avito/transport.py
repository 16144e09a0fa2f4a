"""The one chokepoint for every call to Avito: `AvitoTransport.request`.

It applies the base URL, the bearer token (refreshed once on 401/403: Avito answers 403
to an expired token), the per-process concurrency cap, the shared rate limit, the timeout,
retries with exponential backoff and jitter (honouring Retry-After), and the mapping of
Avito's answers to typed errors. This is the only module that imports `requests`.

A call that is not idempotent (a send) is never repeated blindly: when a failure leaves
it unknown whether Avito stored the message (a read timeout, a dropped connection, a
5xx), the caller's `verify` looks at the chat first and its finding is the answer.
"""
from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from typing import Any, Callable

import requests
from requests.adapters import HTTPAdapter

from messenger.avito import errors
from messenger.avito.rate_limiter import RateLimiter
from messenger.avito.token_store import TokenStore

logger = logging.getLogger(__name__)

# Failures that happen before a request reaches Avito: always safe to repeat.
NEVER_SENT = (requests.exceptions.ConnectTimeout,)


def pooled_session(max_connections: int) -> requests.Session:
    """One Session per process: keep-alive connections, at most `max_connections` of them."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max_connections, pool_block=True, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "avitogw"
    return session


def avito_message(response: requests.Response) -> tuple[str, dict | None]:
    """Avito's own words from an error body: `{"error":{"code","message","fields"?}}` or OAuth's."""
    try:
        body = response.json()
    except ValueError:
        return (response.text.strip()[:300] or response.reason or f"HTTP {response.status_code}"), None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        fields = error.get("fields")
        return str(error.get("message") or response.reason), fields if isinstance(fields, dict) else None
    if isinstance(error, str):  # OAuth token endpoint
        return str(body.get("error_description") or error), None
    return response.reason or f"HTTP {response.status_code}", None


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _was_never_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """A refused or unresolvable connection never carried our request."""
    text = repr(exc)
    return any(mark in text for mark in ("NewConnectionError", "NameResolutionError", "Connection refused"))


class AvitoTransport:
    def __init__(self, *, base_url: str, session: requests.Session, token_store: TokenStore | None,
                 rate_limiter: RateLimiter, max_connections: int, timeout: float, max_retries: int,
                 backoff_base: float, sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random):
        self.base_url = base_url.rstrip("/")
        self.session, self.token_store, self.rate_limiter = session, token_store, rate_limiter
        self.in_flight = threading.BoundedSemaphore(max_connections)
        self.timeout, self.max_retries, self.backoff_base = timeout, max_retries, backoff_base
        self.sleep, self.jitter = sleep, jitter

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential backoff with jitter; Avito's Retry-After, when given, wins."""
        if retry_after is not None:
            return retry_after + self.jitter() * 0.1
        delay = self.backoff_base * (2 ** attempt)
        return delay / 2 + self.jitter() * delay / 2

    def request(self, method: str, path: str, *, auth: bool = True, limited: bool = True,
                idempotent: bool = True, verify: Callable[[], Any] | None = None, **kwargs) -> Any:
        """Call Avito and return the decoded JSON body (or {} for an empty one)."""
        url = self.base_url + path
        refreshed = False
        attempt = 0
        while True:
            token = self.token_store.get().access_token if auth else None
            try:
                response = self._send_once(method, url, token, limited, **kwargs)
            except requests.exceptions.Timeout as exc:
                failure: errors.AvitoError = errors.AvitoTimeout(f"Avito did not answer in {self.timeout:g} s.")
                unsure = not isinstance(exc, NEVER_SENT)
                retry_after = None
            except requests.exceptions.ConnectionError as exc:
                failure = errors.AvitoUnavailable(f"Could not reach Avito: {exc.__class__.__name__}.")
                unsure = not _was_never_sent(exc)
                retry_after = None
            else:
                status = response.status_code
                if status < 300:
                    return response.json() if response.content.strip() else {}
                message, details = avito_message(response)
                if status in (401, 403) and auth and not refreshed:
                    logger.info("Avito answered %s; refreshing the token once", status)
                    self.token_store.refresh(stale=token)
                    refreshed = True
                    continue
                retry_after = retry_after_seconds(response) if status == 429 else None
                if status == 429:
                    failure, unsure = errors.AvitoRateLimited(message, status=status, retry_after=retry_after), False
                elif status >= 500:
                    failure, unsure = errors.AvitoUnavailable(message, status=status, details=details), True
                else:
                    raise self._permanent(status, message, details)
            if unsure and not idempotent:
                found = self._verify(verify, failure)
                if found is not None:
                    logger.warning("%s %s failed (%s) but Avito has the message; not sending again",
                                   method, path, failure.message)
                    return found
                if verify is None:
                    raise failure
            if attempt >= self.max_retries:
                raise failure
            delay = self.backoff(attempt, retry_after)
            if delay > self.timeout * 2:
                raise failure  # Avito asks for a longer pause than a caller should wait
            logger.info("%s %s failed (%s); retry %d in %.2f s", method, path, failure.message, attempt + 1, delay)
            self.sleep(delay)
            attempt += 1

    @staticmethod
    def _verify(verify: Callable[[], Any] | None, failure: errors.AvitoError) -> Any:
        """Ask the caller whether Avito has the message; if even that fails, we cannot know: give up."""
        if verify is None:
            return None
        try:
            return verify()
        except errors.AvitoError as exc:
            raise failure from exc

    def _send_once(self, method: str, url: str, token: str | None, limited: bool, *, headers=None,
                   **kwargs) -> requests.Response:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if limited:
            self.rate_limiter.acquire(self.timeout)
        with self.in_flight:
            return self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)

    @staticmethod
    def _permanent(status: int, message: str, details: dict | None) -> errors.AvitoError:
        if status in (401, 403):
            return errors.AvitoAuthError(message, status=status, details=details)
        if status == 404:
            return errors.AvitoNotFound(message, status=status, details=details)
        return errors.AvitoRejected(message, status=status, details=details)
