"""The OpenAPI document says what the gateway does on every path, not only what each view declares.

drf-spectacular documents each view's own answers. Some answers come from layers in front
of every view, and this postprocessing hook adds them where they can happen:
- the API guard's 401 `unauthorized`, 403 `forbidden` and 429 `rate_limited` on every operation
  it guards (avitogw.api_guard: `/api/*` and `/metrics`), worded as in the one table of error
  meanings (core/api/responses.py, which `errors()` reads too);
- 414 `uri_too_long` (gunicorn refuses a request line over its limit, in the same
  envelope: gunicorn.conf.py) on every operation with path or query parameters.
It also states two rules of the views that drf-spectacular cannot see: a request body
refuses fields it does not declare (`StrictSerializer`: `additionalProperties: false`),
and an optional query parameter given empty (`?limit=`) counts as absent (DRF's rule for
query strings: `allowEmptyValue: true`).
"""
from __future__ import annotations

from avitogw.api_guard import is_guarded
from core.api.fields import StrictSerializer
from core.api.responses import ERROR_MEANINGS, FRONT_ANSWERS

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}
URI_TOO_LONG = "uri_too_long: the request line is longer than the web server accepts (8190 bytes)"


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ENVELOPE}}}


def _strict_components() -> set[str]:
    found, todo = set(), [StrictSerializer]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub.__name__)
            todo.append(sub)
    return found


def add_front_answers(result: dict, generator, request, public) -> dict:
    """drf-spectacular POSTPROCESSING_HOOKS entry: the answers of the layers in front of the views."""
    strict = _strict_components()
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name in strict or name.removesuffix("Request") in strict:
            component["additionalProperties"] = False
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if is_guarded(path):
                for status in FRONT_ANSWERS:
                    responses.setdefault(str(status), _error(ERROR_MEANINGS[status]))
            if "{" in path or any(p.get("in") == "query" for p in operation.get("parameters", [])):
                responses.setdefault("414", _error(URI_TOO_LONG))
            if path.startswith("/webhook/avito") and "requestBody" in operation:
                operation["requestBody"]["required"] = True  # an empty body is not JSON: 400
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result
