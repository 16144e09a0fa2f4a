"""JSON a database can store: one decoder, one policy, for the API's bodies, Avito's webhook and Avito's answers.

Python's `json` accepts what no database column holds: `NaN` and `Infinity` (not JSON at
all), unpaired UTF-16 surrogates such as `"\\ud800"` (valid JSON escapes, but not text:
PostgreSQL's jsonb and SQLite's UTF-8 both refuse them) and nesting deep enough to exhaust
Python's recursion. `storable_loads` refuses all three (UnstorableJSON, a ValueError naming
why). A number too large for a float (`1e400`) is kept exact as an integer, never `inf`:
every column stores it, and the code reading it treats it as out of range (an id, a time).
Each caller decides what a refusal means: a 400 `parse_error` for the API
(`StorableJSONParser`) and the webhook, an Avito failure (502) for an Avito answer.
PostgreSQL's jsonb also refuses the NUL character; `without_nul` drops it where a body is
stored as it came (the webhook's raw notification).
"""
from __future__ import annotations

import codecs
import json
import math
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
LONE_SURROGATE = "The body holds an unpaired UTF-16 surrogate (\\ud800-\\udfff), which is not text."
TOO_DEEP = "The JSON is nested too deeply."


class UnstorableJSON(ValueError):
    """Valid for Python's `json`, but not JSON a database can store."""


def _not_json(constant: str):
    raise UnstorableJSON(f"{constant} is not a JSON value.")


def _exact(text: str) -> float | int:
    value = float(text)
    return value if math.isfinite(value) else int(Decimal(text))


def has_lone_surrogate(value: Any) -> bool:
    """True when a string anywhere in the parsed JSON (keys too) is not encodable text."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, list):
        return any(has_lone_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(key) or has_lone_surrogate(item) for key, item in value.items())
    return False


def storable_loads(text: str | bytes) -> Any:
    """The decoded JSON; ValueError when it is not JSON, UnstorableJSON when no database could store it."""
    try:
        value = json.loads(text, parse_constant=_not_json, parse_float=_exact)
    except RecursionError:
        raise UnstorableJSON(TOO_DEEP) from None
    escaped = text if isinstance(text, str) else text.decode("utf-8", "replace")
    if not SURROGATE_ESCAPE.search(escaped):  # a lone surrogate can only come escaped: most bodies skip the walk
        return value
    try:
        unstorable = has_lone_surrogate(value)
    except RecursionError:  # as deep as the parser allows, and a surrogate escape somewhere in it
        raise UnstorableJSON(TOO_DEEP) from None
    if unstorable:
        raise UnstorableJSON(LONE_SURROGATE)
    return value


def without_nul(value: Any) -> Any:
    """JSON minus NUL characters, which PostgreSQL's jsonb refuses."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


class StorableJSONParser(JSONParser):
    """The API's JSON parser: `storable_loads`, each refusal a 400 `parse_error`."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return storable_loads(codecs.getreader(encoding)(stream).read())
        except UnstorableJSON as exc:
            raise ParseError(str(exc)) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
