"""The sandbox as a plain WSGI application: routing, then the checks Avito makes before any handler.

Per API call, in order: count it, apply the configured delay, the rate limit of the token's
account (not for ``/token``), the bearer token (401 missing/unknown/revoked, 403 expired),
the account id in the path (403 for another account than the token's), injected failures,
then the handler, which works on ``request.account``. ``/_sandbox/*`` control hooks skip
all of that. No framework sits in the request path, so it stays fast.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Callable

from sandbox.account_table import AccountTable
from sandbox.accounts import Account, AccountSpec, account_seed, default_name
from sandbox.errors import ApiError, error_body
from sandbox.faults import FailRule, FaultPlan
from sandbox.http import Request, Response
from sandbox.options import SandboxOptions
from sandbox.records import Chat, Message
from sandbox.render import notification_json
from sandbox.routes import ROUTES, Route, match_route
from sandbox.state import SandboxState
from sandbox.stats import Stats
from sandbox.tokens import TokenStore, random_token
from sandbox.webhooks import WebhookNotifier

log = logging.getLogger("sandbox")
INHERIT = object()  # add_account's rate when the caller gives none: the sandbox-wide --rate

STATUS_TEXT = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
               404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
               429: "Too Many Requests",
               500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class SandboxApp:
    def __init__(self, options: SandboxOptions, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, token_factory: Callable[[], str] = random_token,
                 notifier: WebhookNotifier | None = None):
        self.startup_options = copy.deepcopy(options)
        self.options = options
        self.clock, self.sleep = clock, sleep
        self.stats = Stats()
        self.tokens = TokenStore(ttl=options.token_ttl, clock=clock, token_factory=token_factory)
        self.faults = FaultPlan()
        self.drop_notifications = 0  # the next N notifications Avito "forgets" to send
        self.notifier = notifier or WebhookNotifier(self.stats, clock=clock)
        self.accounts = self._start_up_accounts()

    # --- accounts -------------------------------------------------------------------------
    @property
    def primary(self) -> Account:
        return self.accounts.primary

    @property
    def state(self) -> SandboxState:
        """The primary account's store: all there is in one-account use."""
        return self.accounts.primary.state

    def _new_account(self, spec: AccountSpec, index: int, *, chats: int | None = None, seed: int | None = None,
                     rate=INHERIT) -> Account:
        return Account(spec, name=spec.name or default_name(index), base_url=self.options.base_url,
                       clock=self.clock, chats=self.options.chats if chats is None else chats,
                       seed=account_seed(self.options.seed, spec.user_id, primary=index == 0) if seed is None else seed,
                       rate=self.options.rate if rate is INHERIT else rate)

    def _start_up_accounts(self) -> AccountTable:
        return AccountTable([self._new_account(spec, index) for index, spec in enumerate(self.options.accounts())])

    def add_account(self, spec: AccountSpec, *, chats: int | None = None, seed: int | None = None,
                    rate=INHERIT) -> Account:
        """Serve one more account; ``rate`` defaults to the sandbox's (each account its own window)."""
        account = self._new_account(spec, len(self.accounts), chats=chats, seed=seed, rate=rate)
        self.accounts.add(account)
        return account

    def set_rate(self, rate: tuple[int, float] | None) -> None:
        """A new rate limit for every account, each counted in its own window from now."""
        self.options.rate = rate
        for account in self.accounts.values():
            account.set_rate(rate)

    def reset(self, *, seed: int | None = None, chats: int | None = None) -> None:
        """Data, counters, faults, accounts and settings back to start-up (or to a new seed); tokens survive."""
        self.options = copy.deepcopy(self.startup_options)
        self.options.seed = self.options.seed if seed is None else seed
        self.options.chats = self.options.chats if chats is None else chats
        self.tokens.ttl = self.options.token_ttl
        self.faults.clear()
        self.drop_notifications = 0
        self.stats.reset()
        self.accounts = self._start_up_accounts()

    def publish(self, account: Account, chat: Chat, message: Message, *, notify: bool = True) -> int:
        """Send the v3 notification of ``message`` to every subscriber of ``account``; returns how many.

        Avito sometimes never sends one: ``notify=False``, or a pending ``drop_notifications``
        (POST /_sandbox/config), drops it (counted in ``notifications_dropped``).
        """
        state = account.state
        with state.lock:
            body = notification_json(state, chat, message, event_id=state.new_event_id())
            urls = list(state.subscriptions)
            if urls and notify and self.drop_notifications:
                self.drop_notifications -= 1
                notify = False
        if urls and not notify:
            self.stats.incr("notifications_dropped", account=account.user_id)
            return 0
        return self.notifier.notify(urls, body, account_id=account.user_id) if urls else 0

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
        token = self._bearer(request)
        owner = self.accounts.get(self.tokens.owner(token)) if token else None
        self.stats.request(route.operation, account=owner.user_id if owner else None)
        if self.faults.delay_ms:
            self.sleep(self.faults.delay_ms / 1000)
        rate_headers: list[tuple[str, str]] = []
        if route.kind == "api":
            # A call with no usable token counts against the primary account's window, as it did alone.
            rate_headers = self._check_rate(owner or self.primary)
            request.account = self._check_token(token, owner)
            self._check_account(request)
        try:
            self._maybe_fail(route.operation, request, after_commit=False)
            late = self.faults.take(route.operation, after_commit=True, late=True, account=_user_id(request))
            if late:  # Avito still working on it while the client times out
                self.stats.incr("faults_injected")
                self.sleep(late.store_after_ms / 1000)
            response = route.handler(self, request)
            if response.status < 400 and late:
                raise ApiError(late.status, late.message)
            if response.status < 400:  # the call took effect; now it may still "fail"
                self._maybe_fail(route.operation, request, after_commit=True)
        except ApiError as exc:
            exc.headers = [*exc.headers, *rate_headers]
            raise
        response.headers.extend(rate_headers)
        return response

    def _check_rate(self, account: Account) -> list[tuple[str, str]]:
        if account.limiter is None:
            return []
        decision = account.limiter.acquire()
        headers = [("X-RateLimit-Limit", str(decision.limit)), ("X-RateLimit-Remaining", str(decision.remaining))]
        if not decision.allowed:
            self.stats.incr("rate_limited", account=account.user_id)
            raise ApiError(429, headers=[("Retry-After", str(decision.retry_after)), *headers])
        return headers

    @staticmethod
    def _bearer(request: Request) -> str:
        scheme, _, token = request.header("Authorization").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def _check_token(self, token: str, owner: Account | None) -> Account:
        if not token:
            raise ApiError(401, "Unauthorized: an Authorization: Bearer <access_token> header is required")
        status = self.tokens.status(token)
        if status == "unknown" or owner is None:  # never issued, or its account is gone
            raise ApiError(401, "Unauthorized: unknown access token")
        if owner.revoked:  # the account's credentials were revoked: its tokens stop working too
            raise ApiError(401, "Unauthorized: the access token was revoked")
        if status == "expired":  # Avito answers an expired token with 403, not 401
            raise ApiError(403, "Forbidden: the access token has expired, get a new one at /token")
        return owner

    def _check_account(self, request: Request) -> None:
        user_id = request.path_params.get("user_id")
        if user_id is None:
            return
        if not user_id.isdigit():
            raise ApiError(400, "Validation error", fields={"user_id": "must be an integer"})
        if int(user_id) != request.account.user_id:
            raise ApiError(403, f"Forbidden: this token has no access to account {user_id}")

    def _maybe_fail(self, operation: str, request: Request, *, after_commit: bool) -> None:
        rule: FailRule | None = self.faults.take(operation, after_commit=after_commit, account=_user_id(request))
        if rule is None:
            return
        self.stats.incr("faults_injected")
        if rule.hang_ms:
            self.sleep(rule.hang_ms / 1000)
        headers = [("Retry-After", "1")] if rule.status in (429, 503) else []
        raise ApiError(rule.status, rule.message, headers=headers)


def _user_id(request: Request) -> int | None:
    account = request.account
    return account.user_id if account is not None else None
