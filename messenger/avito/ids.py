"""Avito's id shapes, and the one way an id becomes part of an Avito URL.

Chat, message, image and voice ids are strings that Avito makes up; the ones seen in
Avito's spec and in real accounts are letters, digits and `-`, `_`, `~`, `.`
(`u2i-YvRiaEtf8Qn~N4sh3mMKkA`, `bdcc5bac2d00345f1cc66fa657813958`,
`12345.12345abcdefghijklm`). All four are RFC 3986 "unreserved" characters, so such an id
is one path segment as it stands. Anything else (`/`, `?`, `#`, `%`, `,`, spaces, a
leading `.` that could make `.` or `..`) could change which Avito path the bearer token
is sent to, so the client refuses it before any call, whatever the id's source: the
API, a webhook, or Avito's own answer. The account id is a positive int64.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from messenger.avito.errors import AvitoIdInvalid

ID_MAX_LENGTH = 128
AVITO_ID_RE = re.compile(r"^[A-Za-z0-9_~-][A-Za-z0-9_.~-]{0,%d}$" % (ID_MAX_LENGTH - 1))
ID_RULE = "letters, digits, '-', '_', '~' and '.' (not first), at most 128 characters"
INT64_MAX = 2**63 - 1


def avito_id_valid(value) -> bool:
    return isinstance(value, str) and AVITO_ID_RE.fullmatch(value) is not None


def account_id_valid(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= INT64_MAX


def path_segment(value, *, kind: str = "id") -> str:
    """`value` as one percent-encoded path segment; AvitoIdInvalid when it is not an Avito id."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not account_id_valid(value):
            raise AvitoIdInvalid(f"The {kind} {value!r} is not an Avito account id (a positive number).")
        return str(value)
    if not avito_id_valid(value):
        raise AvitoIdInvalid(f"The {kind} {str(value)[:80]!r} is not an Avito id ({ID_RULE}); Avito was not called.")
    return quote(value, safe="")


def id_list(values, *, kind: str = "id") -> str:
    """Ids for a comma-separated query parameter (voice_ids), each checked like a path segment."""
    return ",".join(path_segment(value, kind=kind) for value in values)
