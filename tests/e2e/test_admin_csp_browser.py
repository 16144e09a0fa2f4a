"""The admin under its Content-Security-Policy in a real browser: it works, and nothing is refused.

gunicorn alone (SQLite, as production starts the web process) and headless Chromium through
Playwright. A staff member signs in, opens the front page, the chat list and a chat; the
reply form's script (a static file now, no inline script) still disables the button on
sending; the API consoles (/docs, /redoc) render under their own policy. Every page records
the browser's `securitypolicyviolation` events and the console: none may be a CSP refusal.
"""
from __future__ import annotations

import pytest

from tests.e2e.test_admin_browser import CHROMIUM, _browser_or_skip
from tests.gunicorn_alone import gunicorn_alone, manage

pytestmark = pytest.mark.e2e

PASSWORD = "csp-" + "k3y" * 4
CHAT = "u2i-csp0000000000000000"
SEED = f"""
from django.contrib.auth.models import User
from messenger.models import Chat, Message
User.objects.create_superuser("staff", "staff@example.com", {PASSWORD!r})
chat = Chat.objects.create(id={CHAT!r}, chat_type="u2i", client_name="Анна", is_unread=True)
Message.objects.create(id="m-1", chat=chat, direction="in", type="text", text="Велосипед ещё продаётся?",
                       created="2026-12-01T10:00:00Z")
"""
REDOCLY_BADGE = "https://cdn.redoc.ly/redoc/logo-mini.svg"
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) =>
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline")));
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    playwright = _browser_or_skip()
    with gunicorn_alone(tmp_path_factory.mktemp("csp") / "data") as (url, env):
        manage(env, "shell", "-c", SEED)
        with playwright.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
            try:
                yield url, browser
            finally:
                browser.close()


class Watched:
    """A page whose CSP violations (events and console lines) are kept across navigations."""

    def __init__(self, browser):
        self.page = browser.new_page()
        self.page.set_default_timeout(60_000)
        self.page.add_init_script(RECORD_VIOLATIONS)
        self.console: list[str] = []
        self.violations: list[str] = []
        self.page.on("console", lambda message: self.console.append(message.text))

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        self.collect()

    def collect(self) -> None:
        self.violations += self.page.evaluate("window.__cspViolations")

    def refusals(self) -> list[str]:
        return self.violations + [line for line in self.console if "Content Security Policy" in line]


@pytest.mark.timeout(240)
def test_the_chat_page_works_under_the_policy_with_no_violation(site):
    url, browser = site
    watched = Watched(browser)
    page = watched.page
    watched.visit(f"{url}/admin/login/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/admin/")
    watched.collect()
    assert page.locator(".status-board").count() == 1

    watched.visit(f"{url}/admin/messenger/chat/")
    assert page.locator("select[name=action]").count() == 1  # the list with its actions (and Django's inline style)
    watched.visit(f"{url}/admin/messenger/chat/{CHAT}/change/")
    assert "Велосипед ещё продаётся?" in page.inner_text("#thread")

    # The reply form's script, a static file: sending disables the button. The send itself is held back.
    page.evaluate("document.getElementById('reply-form').addEventListener('submit', (e) => e.preventDefault())")
    page.fill("#id_text", "Да, продаётся")
    assert not page.is_disabled("#send-reply")
    page.click("#send-reply")
    assert page.is_disabled("#send-reply")
    watched.collect()

    assert watched.refusals() == []


@pytest.mark.timeout(240)
def test_the_api_consoles_render_under_their_policy(site):
    url, browser = site
    watched = Watched(browser)
    watched.visit(f"{url}/docs")
    watched.page.wait_for_selector(".swagger-ui .info")
    watched.visit(f"{url}/redoc")
    watched.page.wait_for_selector(".api-content")
    watched.collect()
    # ReDoc's "powered by Redocly" badge is an image on Redocly's CDN: refused, as the policy means
    # (no page loads anything from another origin); the page itself renders without it.
    assert [line for line in watched.refusals() if REDOCLY_BADGE not in line] == []
