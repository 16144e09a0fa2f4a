"""The sandbox's start-up options, shared by the management command and ``python -m sandbox.server``.

One argparse definition serves both entry points so their flags never drift apart.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

from sandbox.accounts import AccountSpec, account_specs, parse_account_spec

DEFAULT_ACCOUNT_ID = 1234567


@dataclass
class SandboxOptions:
    host: str = "127.0.0.1"
    port: int = 8766
    chats: int = 30
    rate: tuple[int, float] | None = None  # (requests, window seconds); None = no limit
    seed: int = 1
    token_ttl: int = 86400
    messages_wrapper: str = "object"  # "object" -> {"messages": [...], "meta": ...}; "array" -> [...]
    user_id: int = DEFAULT_ACCOUNT_ID
    client_id: str | None = None
    client_secret: str | None = None
    probe_webhooks: bool = False
    public_url: str | None = None  # how media links are built; defaults to http://host:port
    threads: int = 16
    access_log: bool = False
    account_specs: list[AccountSpec] | None = field(default=None)  # --account, repeatable
    account_count: int | None = None  # --accounts N

    def accounts(self) -> list[AccountSpec]:
        """The accounts to serve at start; one (``user_id``) unless --account/--accounts say more."""
        return account_specs(user_id=self.user_id, client_id=self.client_id, client_secret=self.client_secret,
                             listed=list(self.account_specs or []), count=self.account_count)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


def parse_rate(text: str | None) -> tuple[int, float] | None:
    """``"100/60"`` -> (100, 60.0): at most 100 calls in any 60 seconds. Empty/"none"/"0" -> no limit."""
    if text is None:
        return None
    text = str(text).strip().lower()
    if text in ("", "none", "off", "0"):
        return None
    count, sep, window = text.partition("/")
    try:
        requests, seconds = int(count), float(window if sep else 60)
    except ValueError:
        raise ValueError(f"rate must look like N/W (e.g. 100/60), got {text!r}")
    if requests <= 0 or seconds <= 0:
        raise ValueError(f"rate must have positive N and W, got {text!r}")
    return requests, seconds


def _rate_arg(text: str) -> tuple[int, float] | None:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def _account_arg(text: str) -> AccountSpec:
    try:
        return parse_account_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def default_account_id() -> int:
    """The gateway's AVITO_USER_ID when the environment has one, so both agree without flags."""
    env_user = os.environ.get("AVITO_USER_ID", "").strip()
    return int(env_user) if env_user.isdigit() else DEFAULT_ACCOUNT_ID


def add_arguments(parser: argparse.ArgumentParser, *, default_user: int | None = None) -> None:
    default_user = default_account_id() if default_user is None else default_user
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8766, help="port to listen on (default 8766)")
    parser.add_argument("--chats", type=int, default=30, help="how many chats to seed (default 30)")
    parser.add_argument("--rate", type=_rate_arg, default=None, metavar="N/W",
                        help="answer 429 past N API calls in any W seconds, e.g. 100/60 (default: no limit)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated data (default 1)")
    parser.add_argument("--token-ttl", type=int, default=86400, help="access token lifetime in seconds")
    parser.add_argument("--messages-wrapper", choices=("array", "object"), default="object",
                        help="messages v3 body: {\"messages\":[...],\"meta\":...} (object) or a bare array")
    parser.add_argument("--user-id", type=int, default=default_user,
                        help="the Avito account id served; other ids in paths get 403 "
                             f"(default: the gateway's AVITO_USER_ID when set, else {DEFAULT_ACCOUNT_ID}; "
                             f"now {default_user})")
    parser.add_argument("--client-id", default=None, help="accept only this client_id (default: any)")
    parser.add_argument("--client-secret", default=None, help="accept only this client_secret (default: any)")
    parser.add_argument("--account", dest="account_specs", action="append", type=_account_arg, default=None,
                        metavar="USER_ID[:CLIENT_ID:CLIENT_SECRET[:NAME]]",
                        help="serve this account (repeat for several; the first is the default of the "
                             "/_sandbox hooks); without credentials they are client-USER_ID/secret-USER_ID")
    parser.add_argument("--accounts", dest="account_count", type=int, default=None, metavar="N",
                        help="serve N accounts: the --account ones, else --user-id, then generated ids "
                             "(next ids up) with generated credentials, printed at start")
    parser.add_argument("--probe-webhooks", action="store_true",
                        help="POST {} to a URL when it is subscribed, like a reachability probe")
    parser.add_argument("--public-url", default=None,
                        help="base URL used in media links (default http://HOST:PORT)")
    parser.add_argument("--threads", type=int, default=16, help="gunicorn gthread threads (default 16)")
    parser.add_argument("--access-log", action="store_true", help="log every request to stdout")


def options_from(namespace: dict) -> SandboxOptions:
    """Build options from parsed arguments (argparse namespace vars or Django's options dict)."""
    fields = SandboxOptions.__dataclass_fields__
    values = {name: namespace[name] for name in fields if name in namespace}
    options = SandboxOptions(**values)
    if options.chats < 0:
        raise ValueError("--chats must be 0 or more")
    if options.token_ttl <= 0:
        raise ValueError("--token-ttl must be positive")
    options.accounts()  # refuses contradictory or duplicate accounts now, not in the worker
    return options
