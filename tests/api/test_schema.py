"""The OpenAPI schema: valid, complete for the contract, and no generated request makes the gateway fail.

The schemathesis runs call the real WSGI application with requests generated from
`/openapi.json` (valid and invalid ones, and stateful sequences over inferred links); Avito
is mocked with `responses` so nothing reaches the network. They are bounded (a few
examples per operation, short sequences) so together they stay under two minutes.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager

import pytest
import responses
import schemathesis
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.api.conftest import chat_obj, message_obj, sent_obj
from tests.conftest import AVITO

pytestmark = pytest.mark.django_db

CONTRACT_OPERATIONS = {
    ("get", "/api/token"), ("post", "/api/token/refresh"), ("get", "/api/chats"), ("get", "/api/chats/{chat_id}"),
    ("post", "/api/chats/{chat_id}/read"), ("get", "/api/chats/unread/count"), ("get", "/api/chats/search"),
    ("get", "/api/chats/{chat_id}/messages"), ("delete", "/api/chats/{chat_id}/messages/{message_id}"),
    ("post", "/api/messages/send"), ("post", "/api/messages/send/image"), ("post", "/api/messages/send/link"),
    ("get", "/api/messages/unread/all"), ("post", "/api/webhook/subscribe"), ("post", "/api/webhook/unsubscribe"),
    ("get", "/api/webhook/subscriptions"), ("post", "/api/blacklist"), ("get", "/health"), ("get", "/info"),
    ("get", "/api/reconcile/runs"), ("get", "/api/accounts"), ("post", "/api/accounts"),
    ("get", "/api/accounts/{slug}"), ("patch", "/api/accounts/{slug}"), ("delete", "/api/accounts/{slug}"),
    ("post", "/api/accounts/{slug}/check"), ("post", "/api/accounts/{slug}/pause"),
    ("post", "/api/accounts/{slug}/resume"),
}
SENDS = ["/api/messages/send", "/api/messages/send/image", "/api/messages/send/link"]


@pytest.fixture
def openapi(api) -> dict:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_valid_openapi(openapi):
    validate_schema(openapi)  # raises on an invalid document


def test_schema_has_every_contract_operation_with_tags_and_schemas(openapi):
    found = {(method, path) for path, item in openapi["paths"].items() for method in item}
    assert CONTRACT_OPERATIONS <= found
    for method, path in CONTRACT_OPERATIONS:
        operation = openapi["paths"][path][method]
        assert operation["tags"], path
        success = operation["responses"].get("200") or operation["responses"]["201"]  # 201: POST /api/accounts
        assert "$ref" in success["content"]["application/json"]["schema"], path
        if path.startswith("/api/"):
            assert operation["security"] == [{"ApiKeyAuth": []}], path
            assert "ErrorEnvelope" in json.dumps(operation["responses"].get("401")), path
        else:
            assert "security" not in operation, path


def test_every_send_has_a_request_schema_an_example_and_the_idempotency_header(openapi):
    for path in SENDS:
        operation = openapi["paths"][path]["post"]
        body = operation["requestBody"]["content"]["application/json"]
        assert "$ref" in body["schema"] and body["examples"], path
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"]), path
    image = openapi["paths"]["/api/messages/send/image"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in image


def test_docs_pages_are_served(api):
    assert b"swagger-ui" in api.get("/docs").content
    assert b"redoc" in api.get("/redoc").content


def test_the_api_console_keeps_no_key_in_the_browser(api):
    """Swagger UI's persistAuthorization would write the key typed into "Authorize" to localStorage, where any
    script of the origin reads it for ever; the page's settings leave it off, and storage an earlier version
    filled is cleared."""
    response = api.get("/docs")
    page = response.content.decode()
    found = re.search(r"const swaggerSettings = (\{.*?\});", page, re.S)
    assert found, "the page no longer carries its Swagger UI settings where this test looks"
    swagger_settings = json.loads(found.group(1))
    assert swagger_settings["deepLinking"] is True  # the settings parsed are the ones in force
    assert not swagger_settings.get("persistAuthorization")
    assert response["Clear-Site-Data"] == '"storage"'



# --- schemathesis -------------------------------------------------------------------------------
def _avito_answer(request) -> tuple[int, dict, str]:
    """A plausible Avito answer for any Messenger call, by path."""
    path = request.path_url.split("?")[0]
    routes = [
        (r"^/token/?$", {"access_token": "tok-1", "expires_in": 86400, "token_type": "Bearer"}),
        (r"/v2/accounts/\d+/chats$", {"chats": [chat_obj()], "meta": {"has_more": False}}),
        (r"/v2/accounts/\d+/chats/[^/]+$", chat_obj()),
        (r"/v3/accounts/\d+/chats/[^/]+/messages/$",
         {"messages": [message_obj("m-1", created=100)], "meta": {"has_more": False}}),
        (r"/chats/[^/]+/read$", {"ok": True}),
        (r"/chats/[^/]+/messages$", sent_obj()),
        (r"/chats/[^/]+/messages/image$", {**sent_obj("img-1"), "type": "image", "content": {"image": {"sizes": {}}}}),
        (r"/chats/[^/]+/messages/[^/]+$", {}),
        (r"/uploadImages$", {"1.abc": {"32x32": "https://img.avito.st/1.png"}}),
        (r"/getVoiceFiles$", {"voices_urls": {}}),
        (r"/subscriptions$", {"subscriptions": [{"url": "https://gw.example.com/webhook/avito", "version": "3"}]}),
        (r"/webhook(/unsubscribe)?$", {"ok": True}),
        (r"/blacklist$", {}),
        (r"^/core/v1/accounts/self$", {"id": 4242, "name": "Shop", "email": "", "phone": "", "profile_url": ""}),
    ]
    for pattern, body in routes:
        if re.search(pattern, path):
            return 200, {}, json.dumps(body)
    return 404, {}, json.dumps({"error": {"code": 404, "message": "Not found"}})


API_KEY = "schema-test-key"
# Positive and negative data (every request must be answered as the document says, and a request
# the document forbids must be refused), and the stateful phase over the links schemathesis infers
# (a chat listed, then read; a bulk job accepted, then polled). Bounded: well under two minutes.
CONFIG = SchemathesisConfig.from_dict({"auth": {"openapi": {"ApiKeyAuth": {"api_key": API_KEY}}},
                                       "generation": {"mode": "all"}})
schema = schemathesis.openapi.from_wsgi("/openapi.json", get_wsgi_application(), config=CONFIG)
CHECKS = [not_a_server_error, content_type_conformance, status_code_conformance, response_schema_conformance,
          negative_data_rejection]
# Validation is no stricter than the document (valid data is accepted), except where acceptance depends on
# more than the request: the image is fetched, a callback's host resolved (no DNS here), a link's text and
# URL together must fit Avito's 1000 characters (a rule across two fields no schema states), an account is
# added only if no account has its slug or Avito user id yet (409).
DEPENDS_ON_MORE = {"POST /api/messages/send/image", "POST /api/messages/send/link", "POST /api/messages/send/bulk",
                   "POST /api/accounts", "PATCH /api/accounts/{slug}"}


def checks_for(case) -> list:
    return CHECKS if case.operation.label in DEPENDS_ON_MORE else [*CHECKS, positive_data_acceptance]
BOUNDED = {"deadline": None, "derandomize": True, "suppress_health_check": list(HealthCheck)}


@contextmanager
def gateway_under_test(settings):
    settings.API_KEY = API_KEY
    settings.API_RATE_LIMIT = "100000/m"
    settings.RATE_LIMIT_REQUESTS = 100000
    settings.PUBLIC_BASE_URL = "https://gw.example.com"
    settings.ENCRYPTION_KEYS = ["lZ3Q4FbVdXgQh0p1xXc1rJ8Zs3u0zX9kq3b8v3JrK0E="]  # accounts' secrets can be stored
    cache.clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as avito:
        avito.add_callback(responses.GET, re.compile(re.escape(AVITO) + ".*"), callback=_avito_answer)
        avito.add_callback(responses.POST, re.compile(re.escape(AVITO) + ".*"), callback=_avito_answer)
        yield


@schema.parametrize()
@hypothesis_settings(max_examples=12, **BOUNDED)
def test_no_generated_request_makes_the_gateway_fail_or_stray_from_the_document(case, settings,
                                                                                keep_test_connection):
    with gateway_under_test(settings):
        case.call_and_validate(checks=checks_for(case))


class GatewayWorkflows(schema.as_state_machine()):
    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(response, checks=checks_for(case))


def test_stateful_workflows_keep_to_the_document(settings, keep_test_connection):
    with gateway_under_test(settings):
        GatewayWorkflows.run(settings=hypothesis_settings(max_examples=25, stateful_step_count=4, **BOUNDED))


def test_every_keyed_operation_documents_401_and_every_parameterized_one_414(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            answers = operation["responses"]
            if path.startswith("/api/"):
                assert {"401", "429"} <= set(answers), (method, path)
            if "{" in path or any(p["in"] == "query" for p in operation.get("parameters", [])):
                assert "414" in answers, (method, path)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and not parameter.get("required"):
                    assert parameter.get("allowEmptyValue") is True, (method, path, parameter["name"])


@pytest.mark.parametrize("query", ["limit=", "offset=", "status=", "limit=&offset=&status="])
def test_empty_query_values_count_as_absent(api, settings, query):
    response = api.get(f"/api/deliveries?{query}")
    assert response.status_code == 200, response.content


def test_only_the_image_send_takes_a_form(api, avito):
    response = api.post("/api/messages/send", {"chat_id": "u2i-a", "text": "hi"}, format="multipart")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
