"""Every request gets an id: the caller's `X-Request-ID` when it is a sane one, else a new one.

It is on every log line written while the request is handled (core.logs), Django's own
"Forbidden: /api/..." and gunicorn's access line included, and goes back in the answer's
`X-Request-ID`, so a caller (n8n, a proxy) and the operator can find the same request. The
id is a log field, never trusted for anything else.

Django logs a 4xx/5xx answer after the middleware has returned, and gunicorn its access line
later still, so the id stays in the log context until the request is finished (the
`request_finished` signal, sent when the server closes the response, in the same thread).
"""
from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

from django.core.signals import request_finished

from core.logs import log_context_reset, log_context_set

HEADER = "X-Request-ID"
ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_request_scope: ContextVar[Token | None] = ContextVar("avitogw_request_scope", default=None)


def request_id_of(request) -> str:
    offered = request.headers.get(HEADER, "")
    return offered if ACCEPTED.fullmatch(offered) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_scope_end()  # a request whose end was never signalled leaves nothing behind
        request.request_id = request_id_of(request)
        _request_scope.set(log_context_set(request_id=request.request_id))
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response


def request_scope_end(**_kwargs) -> None:
    token = _request_scope.get()
    if token is not None:
        _request_scope.set(None)
        try:
            log_context_reset(token)
        except ValueError:  # set in another context (a server that ends requests elsewhere): nothing to undo here
            pass


request_finished.connect(request_scope_end, dispatch_uid="core.request_id")
