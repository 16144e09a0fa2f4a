"""Message text shortened for a list column: cut at a word, marked with an ellipsis."""
from __future__ import annotations

ELLIPSIS = "…"


def shorten(text: str, width: int = 80) -> str:
    """At most `width` characters on one line; cut after the last whole word that fits.

    A single word longer than half the width (a URL) is cut inside the word rather than
    leaving a column of bare ellipses.
    """
    flat = " ".join((text or "").split())
    if len(flat) <= width:
        return flat
    cut = flat[:width - 1]
    space = cut.rfind(" ")
    if space > width // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + ELLIPSIS
