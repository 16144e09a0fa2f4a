"""JSON request bodies the gateway can store: the API's parser and the check the webhook shares.

Python's `json` accepts what no database column holds: `NaN` and `Infinity` (DRF already
refuses those) and unpaired UTF-16 surrogates such as `"\\ud800"` (valid JSON escapes, but
not text: PostgreSQL's jsonb and SQLite's UTF-8 both refuse them). Deep nesting exhausts
Python's recursion (`RecursionError`) before any size limit helps. All of these are the
caller's mistake, so each is a 400 `parse_error`, never a 500 at the first write.
"""
from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
LONE_SURROGATE = "The body holds an unpaired UTF-16 surrogate (\\ud800-\\udfff), which is not text."
TOO_DEEP = "The JSON is nested too deeply."


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


class StorableJSONParser(JSONParser):
    """DRF's JSON parser (NaN and Infinity refused), plus deep nesting and lone surrogates refused."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        try:
            unstorable = has_lone_surrogate(data)
        except RecursionError:  # cannot happen after a successful parse, but never a 500
            raise ParseError(TOO_DEEP) from None
        if unstorable:
            raise ParseError(LONE_SURROGATE)
        return data
