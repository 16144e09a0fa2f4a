"""One "JSON a database can store" for the API's bodies, Avito's webhook and Avito's answers (core.json_input)."""
from __future__ import annotations

import io

import pytest
from rest_framework.exceptions import ParseError

from core.json_input import StorableJSONParser, UnstorableJSON, storable_loads
from messenger.avito.errors import AvitoUnavailable
from webhooks.notification_checks import NotificationInvalid, json_loads_storable

HUGE = b'{"n": 1e400, "m": -2.5e999}'
UNSTORABLE = [b'{"t": "\\ud800"}', b'{"n": NaN}', b'{"n": -Infinity}', b"[" * 10000 + b"]" * 10000]


def _api(body: bytes):
    return StorableJSONParser().parse(io.BytesIO(body), parser_context={"encoding": "utf-8"})


def _avito(body: bytes):
    from messenger.avito.transport import AvitoTransport

    return AvitoTransport._decode(type("Answer", (), {"content": body, "status_code": 200})())


@pytest.mark.parametrize("read", [storable_loads, json_loads_storable, _api, _avito])
def test_a_number_beyond_any_float_stays_an_exact_integer_on_every_path(read):
    assert read(HUGE) == {"n": 10**400, "m": -25 * 10**998}


@pytest.mark.parametrize("body", UNSTORABLE)
def test_what_no_database_stores_is_refused_on_every_path(body):
    with pytest.raises(UnstorableJSON):
        storable_loads(body)
    with pytest.raises(NotificationInvalid):
        json_loads_storable(body)
    with pytest.raises(ParseError):
        _api(body)
    with pytest.raises(AvitoUnavailable):
        _avito(body)


def test_an_escaped_surrogate_pair_is_text():
    assert storable_loads(b'{"t": "\\ud83d\\ude00"}') == {"t": "\U0001F600"}
