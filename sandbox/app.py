"""The sandbox as a plain WSGI application: routing, then the checks Avito makes before any handler.

Per API call, in order: count it, apply the configured delay, the rate limit (not for
``/token``), the bearer token (401 missing/unknown, 403 expired), the account id in the
path (403 for another account), injected failures, then the handler. ``/_sandbox/*``
control hooks skip all of that. No framework sits in the request path, so it stays fast.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Callable

from sandbox.errors import ApiError, error_body
from sandbox.faults import FailRule, FaultPlan
from sandbox.http import Request, Response
from sandbox.options import SandboxOptions
from sandbox.rate_limiter import SlidingWindowLimiter
from sandbox.records import Chat, Message
from sandbox.render import notification_json
from sandbox.routes import ROUTES, Route, match_route
from sandbox.seed import seed_state
from sandbox.state import SandboxState
from sandbox.stats import Stats
from sandbox.tokens import TokenStore, random_token
from sandbox.webhooks import WebhookNotifier

log = logging.getLogger("sandbox")

STATUS_TEXT = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
               404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large", 429: "Too Many Requests",
               500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class SandboxApp:
    def __init__(self, options: SandboxOptions, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, token_factory: Callable[[], str] = random_token,
                 notifier: WebhookNotifier | None = None):
        self.startup_options = copy.deepcopy(options)
        self.options = options
        self.clock, self.sleep = clock, sleep
        self.stats = Stats()
        self.state = SandboxState(account_id=options.user_id, base_url=options.base_url, clock=clock)
        self.tokens = TokenStore(ttl=options.token_ttl, clock=clock, token_factory=token_factory)
        self.faults = FaultPlan()
        self.drop_notifications = 0  # the next N notifications Avito "forgets" to send
        self.notifier = notifier or WebhookNotifier(self.stats, clock=clock)
        self.set_rate(options.rate)
        seed_state(self.state, chats=options.chats, seed=options.seed)

    def set_rate(self, rate: tuple[int, float] | None) -> None:
        self.options.rate = rate
        self.limiter = SlidingWindowLimiter(rate[0], rate[1], clock=self.clock) if rate else None

    def reset(self, *, seed: int | None = None, chats: int | None = None) -> None:
        """Data, counters, faults and settings back to start-up (or to a new seed); tokens survive."""
        self.options = copy.deepcopy(self.startup_options)
        self.options.seed = self.options.seed if seed is None else seed
        self.options.chats = self.options.chats if chats is None else chats
        self.tokens.ttl = self.options.token_ttl
        self.faults.clear()
        self.drop_notifications = 0
        self.stats.reset()
        self.set_rate(self.options.rate)
        with self.state.lock:
            self.state.clear()
            seed_state(self.state, chats=self.options.chats, seed=self.options.seed)

    def publish(self, chat: Chat, message: Message, *, notify: bool = True) -> int:
        """Send the v3 notification of ``message`` to every subscriber; returns how many.

        Avito sometimes never sends one: ``notify=False``, or a pending ``drop_notifications``
        (POST /_sandbox/config), drops it (counted in ``notifications_dropped``).
        """
        with self.state.lock:
            body = notification_json(self.state, chat, message, event_id=self.state.new_event_id())
            urls = list(self.state.subscriptions)
            if urls and notify and self.drop_notifications:
                self.drop_notifications -= 1
                notify = False
        if urls and not notify:
            self.stats.incr("notifications_dropped")
            return 0
        return self.notifier.notify(urls, body) if urls else 0

    # --- WSGI -----------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response):
        request = Request(environ)
        try:
            route = match_route(ROUTES, request)
            response = route.handler(self, request) if route.kind == "control" else self._api(route, request)
        except ApiError as exc:
            response = Response(exc.status, exc.body, exc.headers)
        except Exception:  # an emulator bug must still answer in Avito's shape
            log.exception("sandbox failed on %s %s", request.method, request.path)
            response = Response(500, error_body(500))
        payload = response.encoded()
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(payload))),
                   *response.headers]
        start_response(f"{response.status} {STATUS_TEXT.get(response.status, 'Error')}", headers)
        return [payload]

    def _api(self, route: Route, request: Request) -> Response:
        self.stats.request(route.operation)
        if self.faults.delay_ms:
            self.sleep(self.faults.delay_ms / 1000)
        rate_headers: list[tuple[str, str]] = []
        if route.kind == "api":
            rate_headers = self._check_rate()
            self._check_token(request)
            self._check_account(request)
        try:
            self._maybe_fail(route.operation, after_commit=False)
            late = self.faults.take(route.operation, after_commit=True, late=True)
            if late:  # Avito still working on it while the client times out
                self.stats.incr("faults_injected")
                self.sleep(late.store_after_ms / 1000)
            response = route.handler(self, request)
            if response.status < 400 and late:
                raise ApiError(late.status, late.message)
            if response.status < 400:  # the call took effect; now it may still "fail"
                self._maybe_fail(route.operation, after_commit=True)
        except ApiError as exc:
            exc.headers = [*exc.headers, *rate_headers]
            raise
        response.headers.extend(rate_headers)
        return response

    def _check_rate(self) -> list[tuple[str, str]]:
        if self.limiter is None:
            return []
        decision = self.limiter.acquire()
        headers = [("X-RateLimit-Limit", str(decision.limit)), ("X-RateLimit-Remaining", str(decision.remaining))]
        if not decision.allowed:
            self.stats.incr("rate_limited")
            raise ApiError(429, headers=[("Retry-After", str(decision.retry_after)), *headers])
        return headers

    def _check_token(self, request: Request) -> None:
        scheme, _, token = request.header("Authorization").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Unauthorized: an Authorization: Bearer <access_token> header is required")
        status = self.tokens.status(token.strip())
        if status == "unknown":
            raise ApiError(401, "Unauthorized: unknown access token")
        if status == "expired":  # Avito answers an expired token with 403, not 401
            raise ApiError(403, "Forbidden: the access token has expired, get a new one at /token")

    def _check_account(self, request: Request) -> None:
        user_id = request.path_params.get("user_id")
        if user_id is None:
            return
        if not user_id.isdigit():
            raise ApiError(400, "Validation error", fields={"user_id": "must be an integer"})
        if int(user_id) != self.state.account_id:
            raise ApiError(403, f"Forbidden: this token has no access to account {user_id}")

    def _maybe_fail(self, operation: str, *, after_commit: bool) -> None:
        rule: FailRule | None = self.faults.take(operation, after_commit=after_commit)
        if rule is None:
            return
        self.stats.incr("faults_injected")
        if rule.hang_ms:
            self.sleep(rule.hang_ms / 1000)
        headers = [("Retry-After", "1")] if rule.status in (429, 503) else []
        raise ApiError(rule.status, rule.message, headers=headers)
