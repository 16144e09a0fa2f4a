"""Typed, validated reading of the environment (and the optional `.env` file).

Every variable of the contract is read through one `env = environ.Env(...)` object, but
django-environ quietly turns an unknown boolean word into False and lets a bad number
surface as a bare ValueError. Start-up must instead stop with a message naming the
variable, so each typed read here wraps django-environ and re-raises with the name.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable, TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

from core.url_guard import allowed_host_parse

BOOL_WORDS = {
    "true": True, "1": True, "yes": True, "on": True, "y": True,
    "false": False, "0": False, "no": False, "off": False, "n": False,
}

env = environ.Env()
T = TypeVar("T")


class SettingRenamed(FutureWarning):
    """An older variable still sets a renamed setting, for one release (FutureWarning: shown by default)."""


def read_renamed(name: str, old: str, read: Callable[..., T], default: T, **limits) -> T:
    """`name`; while it is unset, the older variable `old` that used to govern the same thing, with a warning.

    The warning says what to set instead. The old variable may keep a meaning of its own
    (N8N_FORWARD_MAX_ATTEMPTS still counts delivery attempts to n8n).
    """
    if _raw(name) or not _raw(old):
        return read(name, default, **limits)
    warnings.warn(f"{old} also sets {name} for one more release only: set {name} (see .env.example).",
                  SettingRenamed, stacklevel=2)
    return read(old, default, **limits)


def load_env_file(path: Path) -> None:
    """Read `.env` if it exists; real environment variables win over the file."""
    if path.is_file():
        environ.Env.read_env(str(path), overwrite=False)


def _fail(name: str, raw: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}={raw!r} is not valid: expected {expected}.")


def read_str(name: str, default: str = "") -> str:
    return _raw(name) or default


def _raw(name: str) -> str:
    """The variable's text; empty (as `.env.example` leaves most lines) means "use the default"."""
    return env.str(name, default="").strip()


def read_bool(name: str, default: bool) -> bool:
    raw = _raw(name)
    if not raw:
        return default
    try:
        return BOOL_WORDS[raw.lower()]
    except KeyError:
        raise _fail(name, raw, "a boolean (true/false, 1/0, yes/no, on/off)") from None


def read_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = _raw(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _fail(name, raw, "a whole number") from None
    if minimum is not None and value < minimum:
        raise _fail(name, raw, f"a whole number of at least {minimum}")
    return value


def read_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = _raw(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _fail(name, raw, "a number") from None
    if minimum is not None and value < minimum:
        raise _fail(name, raw, f"a number of at least {minimum}")
    return value


def read_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in read_str(name, default).split(",") if part.strip()]


def read_url(name: str, default: str = "") -> str:
    raw = read_str(name, default)
    if raw and not raw.startswith(("http://", "https://")):
        raise _fail(name, raw, "an http:// or https:// URL")
    return raw.rstrip("/") if raw else raw


def read_origins(name: str) -> list[str]:
    """A comma list of web origins (`https://host[:port]`, no path), as Django's CSRF_TRUSTED_ORIGINS wants them."""
    origins = read_list(name)
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest:
            raise _fail(name, origin, "origins such as https://gw.example.com (scheme and host, no path)")
    return origins


def read_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of a few words (case-insensitive), such as LOG_FORMAT's text or json."""
    raw = read_str(name, default).lower()
    if raw not in choices:
        raise _fail(name, raw, "one of " + ", ".join(choices))
    return raw


def read_rate(name: str, default: str) -> str:
    """A django-ratelimit rate such as `600/m`, checked here so a typo stops start-up."""
    raw = read_str(name, default)
    count, _, period = raw.partition("/")
    if not count.isdigit() or int(count) < 1 or not period or period[-1] not in "smhd":
        raise _fail(name, raw, "a rate such as 600/m (count/s, m, h or d)")
    return raw


def read_host_ports(name: str) -> list[str]:
    """A comma list of `host[:port]` entries (core.url_guard), each checked now rather than at the first call."""
    entries = read_list(name)
    for entry in entries:
        try:
            allowed_host_parse(entry)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} is not valid: {exc}.") from None
    return entries
