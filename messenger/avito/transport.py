"""The one chokepoint for every call to Avito: `AvitoTransport.request`.

It applies the base URL, the bearer token (refreshed once on 401/403: Avito answers 403
to an expired token), the per-process cap on calls in flight, the shared rate limit, the
timeout, retries with exponential backoff and jitter (honouring Retry-After), and the
mapping of Avito's answers to typed errors. This package is the only code that imports
`requests`. The retry and dedupe decisions are explained in docs/avito-client.md.

A call that is not idempotent (a send) is never repeated after an ambiguous failure (a
read timeout, a dropped connection, a 5xx): Avito may still be storing it. The caller's
`verify` polls the chat over a settle window of one more CONNECTION_TIMEOUT; if the
message appears, that is the answer, and if not, `OutcomeUnknown` says so honestly.
"""
from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from typing import Any, Callable

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from core.errors import OutcomeUnknown
from core.json_input import storable_loads
from core.metrics import avito_call_metered, avito_wait_metered
from core.work.backoff import backoff_delay
from messenger.avito import errors
from messenger.avito.rate_limiter import RateLimiter
from messenger.avito.token_store import TokenStore

logger = logging.getLogger(__name__)

MIN_PAUSE = 1.0  # seconds every process waits after a 429 that named no Retry-After
# Mistakes in our own configuration: repeating them cannot help.
CONFIG_ERRORS = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                 requests.exceptions.InvalidSchema, requests.exceptions.InvalidHeader)
# Pauses between looks at the chat while a send's outcome settles: doubling from the first.
SETTLE_FIRST_LOOK, SETTLE_LONGEST_PAUSE = 0.5, 5.0


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


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - now()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def never_sent(exc: requests.exceptions.RequestException) -> bool:
    """True when the failure proves the request never reached Avito (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", cause), NewConnectionError)


class AvitoTransport:
    def __init__(self, *, base_url: str, session: requests.Session, token_store: TokenStore | None,
                 rate_limiter: RateLimiter, max_connections: int, timeout: float, max_retries: int,
                 backoff_base: float, sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random, clock: Callable[[], float] = time.monotonic,
                 settle_window: float | None = None):
        self.base_url = base_url.rstrip("/")
        self.session, self.token_store, self.rate_limiter = session, token_store, rate_limiter
        self.max_connections = max_connections
        self.in_flight = threading.BoundedSemaphore(max_connections)
        self.timeout, self.max_retries, self.backoff_base = timeout, max_retries, backoff_base
        self.sleep, self.jitter, self.clock = sleep, jitter, clock
        # How long after an ambiguous send failure the first attempt may still land.
        self.settle_window = timeout if settle_window is None else settle_window

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Pause before retry `attempt + 1`: Avito's Retry-After when given, else the engine's one
        backoff policy (core.work.backoff: between base * 2^attempt and twice that).

        Exponential pauses stop growing at one call's timeout; a longer Retry-After makes the
        caller give up (with Avito's Retry-After) rather than hold a request that long.
        """
        if retry_after is not None:
            return retry_after + self.jitter() * 0.1  # a little spread so processes do not return together
        return backoff_delay(attempt=attempt + 1, base=self.backoff_base, cap=self.timeout, rand=self.jitter)

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
            except requests.exceptions.RequestException as exc:
                failure, unsure, retry_after = self._unreachable(exc), not never_sent(exc), None
            else:
                if response.status_code < 300:
                    return self._decode(response)
                if response.status_code in (401, 403) and auth and not refreshed:
                    logger.info("Avito answered %s; refreshing the token once", response.status_code)
                    self.token_store.refresh(stale=token)
                    refreshed = True
                    continue
                failure = self._failure(response)  # raises at once for a permanent refusal
                unsure = response.status_code >= 500
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if unsure and not idempotent:
                if verify is None:
                    raise failure  # Avito may have it and we cannot look: repeating could duplicate it
                return self._await_outcome(method, path, verify, failure)
            delay = self.backoff(attempt, retry_after)
            if attempt >= self.max_retries or delay > self.timeout:
                raise failure
            logger.info("%s %s failed (%s); retry %d in %.2f s", method, path, failure.message, attempt + 1, delay)
            self.sleep(delay)
            attempt += 1

    def _await_outcome(self, method: str, path: str, verify: Callable[[], Any], failure: errors.AvitoError) -> Any:
        """Wait for a send that may have reached Avito to show up in the chat; never send it again.

        A look right after the failure cannot prove the message absent (Avito may still be
        storing it), so the chat is polled, with doubling pauses, until `settle_window`
        seconds after the failure. A look that fails only means "not seen yet".
        """
        deadline = self.clock() + self.settle_window
        pause = SETTLE_FIRST_LOOK
        looks = 0
        while True:
            self.sleep(max(0.0, min(pause, deadline - self.clock())))
            looks += 1
            try:
                found = verify()
            except errors.AvitoError as exc:
                logger.warning("%s %s: could not look for the message in the chat (%s)", method, path, exc.message)
                found = None
            if found is not None:
                logger.warning("%s %s failed (%s) but Avito has the message; not sending again",
                               method, path, failure.message)
                return found
            if self.clock() >= deadline:
                break
            pause = min(pause * 2, SETTLE_LONGEST_PAUSE)
        logger.warning("%s %s failed (%s) and the message is not in the chat after %g s (%d looks); "
                       "outcome unknown, not sending again", method, path, failure.message, self.settle_window, looks)
        raise OutcomeUnknown(
            f"Avito did not confirm the send ({failure.message}) and the message has not appeared in the chat "
            f"within {self.settle_window:g} s. It may or may not have been delivered; it was not sent again.",
            details={"outcome": "unknown", "cause": failure.message, "waited_seconds": self.settle_window,
                     "advice": "Check the chat's newest messages before sending it again. A retry with the same "
                               "Idempotency-Key looks in the chat first and sends only if the message is not there."},
        ) from failure

    def _send_once(self, method: str, url: str, token: str | None, limited: bool, *, headers=None,
                   **kwargs) -> requests.Response:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # The in-flight slot comes first: a rate-limit slot taken while queueing here could be
        # spent later, bunching calls into the next window.
        if not self.in_flight.acquire(timeout=self.timeout):
            raise errors.AvitoRateLimited(
                f"{self.max_connections} Avito calls already in flight in this process; none ended "
                f"within {self.timeout:g} s.", retry_after=1)
        try:
            granted_at = avito_wait_metered(self.rate_limiter.acquire, self.timeout) if limited else None
            response = None
            try:
                response = avito_call_metered(self.session.request, method, url, headers=headers,
                                              timeout=self.timeout, **kwargs)
                return response
            finally:
                if granted_at is not None:
                    self._report_to_limiter(granted_at, response)
        finally:
            self.in_flight.release()

    def _report_to_limiter(self, granted_at: float, response: requests.Response | None) -> None:
        """Tell the shared limiter how the call ended. A 429 pauses every process for Avito's
        Retry-After (or a backoff) and gives the refused call's slot back."""
        if response is not None and response.status_code == 429:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            pause = retry_after if retry_after is not None else max(MIN_PAUSE, self.backoff(0))
            self.rate_limiter.refused(granted_at, pause)
        else:
            self.rate_limiter.settle(granted_at, answered=response is not None)

    def _unreachable(self, exc: requests.exceptions.RequestException) -> errors.AvitoError:
        if isinstance(exc, CONFIG_ERRORS):
            raise errors.AvitoUnavailable(f"Cannot call Avito at {self.base_url}: {exc}") from exc
        if isinstance(exc, requests.exceptions.Timeout):
            return errors.AvitoTimeout(f"Avito did not answer in {self.timeout:g} s.")
        return errors.AvitoUnavailable(f"Could not reach Avito: {exc.__class__.__name__}.")

    @staticmethod
    def _failure(response: requests.Response) -> errors.AvitoError:
        status = response.status_code
        message, details = avito_message(response)
        if status == 429:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            return errors.AvitoRateLimited(message, status=status, details=details, retry_after=retry_after)
        if status >= 500:
            return errors.AvitoUnavailable(message, status=status, details=details)
        if status in (401, 403):
            raise errors.AvitoAuthError(message, status=status, details=details)
        if status == 404:
            raise errors.AvitoNotFound(message, status=status, details=details)
        raise errors.AvitoRejected(message, status=status, details=details)

    @staticmethod
    def _decode(response: requests.Response) -> Any:
        if not response.content.strip():
            return {}
        try:
            return storable_loads(response.content)
        except ValueError:
            raise errors.AvitoUnavailable(f"Avito answered {response.status_code} with a body that is not JSON.",
                                          status=response.status_code) from None
