"""Query-string parameters read the way Avito validates them.

Bad values raise a 400 validation error naming the parameter, like Avito's
``validatingError``. Array parameters (``item_ids``, ``chat_types``, ``voice_ids``)
accept both a comma list and repeated parameters: Avito's examples use the former,
some clients send the latter (avito-api.md §3.1).
"""

from __future__ import annotations

from typing import Callable

from sandbox.errors import ApiError, validation_error

TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}


def last_value(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def int_param(query: dict[str, list[str]], name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = last_value(query, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation_error({name: f"must be an integer, got {raw!r}"})
    if not minimum <= value <= maximum:
        raise validation_error({name: f"must be between {minimum} and {maximum}, got {value}"})
    return value


def bool_param(query: dict[str, list[str]], name: str, *, default: bool) -> bool:
    raw = last_value(query, name)
    if raw is None or raw == "":
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise validation_error({name: f"must be a boolean (true or false), got {raw!r}"})


def list_param(query: dict[str, list[str]], name: str) -> list[str]:
    """Every value of an array parameter, from ``a,b`` and from ``x=a&x=b`` alike."""
    names = (name, name + "[]")  # PHP-style clients append brackets
    values: list[str] = []
    for key in names:
        for raw in query.get(key, []):
            values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def int_list_param(query: dict[str, list[str]], name: str) -> list[int]:
    values = list_param(query, name)
    try:
        return [int(value) for value in values]
    except ValueError:
        raise validation_error({name: "must be a list of integers"})


def enum_list_param(query: dict[str, list[str]], name: str, *, allowed: tuple[str, ...],
                    default: list[str]) -> list[str]:
    values = list_param(query, name)
    if not values:
        return list(default)
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise validation_error({name: f"unknown value {unknown[0]!r}; allowed: {', '.join(allowed)}"})
    return values


def read_params(**readers: Callable[[], object]) -> dict[str, object]:
    """Run every reader; one 400 then names every bad parameter, not just the first."""
    values, problems = {}, {}
    for name, read in readers.items():
        try:
            values[name] = read()
        except ApiError as exc:
            problems.update(exc.body["error"].get("fields") or {name: exc.body["error"]["message"]})
    if problems:
        raise validation_error(problems)
    return values
