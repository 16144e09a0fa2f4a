"""Avito's JSON answers decoded into values the gateway can store and answer with.

Python's `json` turns `NaN`/`Infinity` (not JSON) into floats that no database and no
strict JSON encoder accepts, and a number too large for a float (`1e400`) into `inf`.
Here the constants make the answer invalid (Avito's fault: AvitoUnavailable, a 502), and
a huge number stays exact as an integer, which storage then treats as out of range.
"""
from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON value")


def _finite(text: str) -> float | int:
    value = float(text)
    return value if math.isfinite(value) else int(Decimal(text))


def avito_json(content: bytes) -> Any:
    """The decoded answer; ValueError when it is not JSON (RecursionError included)."""
    try:
        return json.loads(content, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise ValueError("Avito's answer is nested too deeply") from None
