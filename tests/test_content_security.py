"""Every page carries a Content-Security-Policy that runs no inline script (avitogw.content_security).

The header and the pages that must live with it: the chat page (the staff inbox) has no
inline script left. That the pages still work under the policy in a real browser, without
a violation, is tests/e2e/test_admin_csp_browser.py.
"""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from messenger.models import Chat, Message
from tests.api.conftest import CHAT

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


@pytest.fixture
def replier(client, django_user_model):
    user = django_user_model.objects.create_user("replier", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_chat", "view_message", "reply_chat"]))
    client.force_login(user)
    Message.objects.create(id="m1", chat=Chat.objects.create(id=CHAT, chat_type="u2i"), direction="in",
                           type="text", text="<script>alert(1)</script>")
    return client


@pytest.mark.parametrize("path", ["/admin/login/", "/admin/", "/health", "/api/chats", "/no/such/page"])
def test_pages_run_only_the_gateways_own_script_files_and_are_never_framed(client, path):
    response = client.get(path)
    policy = directives(response)
    assert policy["script-src"] == "'self'"
    assert (policy["default-src"], policy["object-src"], policy["base-uri"]) == ("'self'", "'none'", "'none'")
    assert (policy["frame-ancestors"], policy["form-action"]) == ("'none'", "'self'")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_the_chat_page_has_no_inline_script(replier):
    response = replier.get(reverse("admin:messenger_chat_change", args=[CHAT]))
    assert response.status_code == 200 and directives(response)["script-src"] == "'self'"
    page = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all(" src=" in tag for tag in scripts), scripts
    assert "messenger/reply_form.js" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_consoles_may_run_their_inline_start_but_load_nothing_from_elsewhere(client, path):
    policy = directives(client.get(path))
    assert policy["script-src"] == "'self' 'unsafe-inline'"
    assert (policy["default-src"], policy["frame-ancestors"]) == ("'self'", "'none'")


def test_a_view_with_its_own_policy_keeps_it(rf):
    from django.http import HttpResponse

    from avitogw.content_security import ContentSecurityPolicyMiddleware

    own = "default-src 'none'; sandbox"  # the chat image view's
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse(headers={"Content-Security-Policy": own}))
    assert middleware(rf.get("/admin/messenger/chat/x/image/y/"))["Content-Security-Policy"] == own
